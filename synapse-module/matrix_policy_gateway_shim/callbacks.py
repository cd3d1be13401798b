"""Every callback of every category in the Synapse module docs, as data: its Python
parameters and how each becomes JSON, its result type, and what failing closed means for it.

Parameter names and order are Synapse's: Synapse calls callbacks positionally and, for a
few, counts their parameters to decide which arguments to pass.
"""

from __future__ import annotations

import enum
from typing import Any, Callable, Dict, Optional, Tuple

import attr

from . import answers as a
from . import convert as c


class FailurePolicy(enum.Enum):
    """How a callback reacts when the gateway gives no usable answer. The values finish the
    sentence "<callback> ..." in configuration errors."""

    CONFIGURABLE = "follows on_failure"
    NOTIFICATION = "is a notification: a failure is logged, and Synapse never waits for it"
    NO_OPINION = "answers as if no module decided: there is nothing to fail open or closed"


@attr.s(frozen=True, auto_attribs=True)
class Param:
    name: str
    """Synapse's parameter name."""
    to_json: Callable[[Any, Any], Any] = c.as_is
    """(value, SynapseApi) to JSON; may return an awaitable (the media file is hashed)."""
    field: Optional[str] = None
    """The JSON field, where it differs from the parameter name."""
    added_later: bool = False
    """Passed only by Synapse versions that find it in the callback's signature."""
    materialise: Optional[Callable[[Any], Any]] = None
    """Applied first, when Synapse may pass a one-shot iterable that is read twice."""

    @property
    def json_field(self) -> str:
        return self.field or self.name


RAISE = None
"""Failing closed raises ``SynapseError(503)``: Synapse fails the operation, records
nothing, and the user can try again."""


@attr.s(frozen=True, auto_attribs=True)
class Callback:
    category: str
    name: str
    params: Tuple[Param, ...]
    result: a.ResultType
    failure: FailurePolicy = FailurePolicy.CONFIGURABLE
    refuse: Optional[Callable[[a.Call], Any]] = RAISE
    """What failing closed answers, where Synapse would swallow an exception (and so let
    the operation through) or where a refusing answer has no lasting effect."""
    context_manager: bool = False
    """``on_update`` is synchronous and returns an async context manager."""
    keyword: Optional[str] = None
    """The keyword of ``register_<category>_callbacks``, where Synapse's code names it
    differently from its docs."""
    batched: Optional[str] = None
    """The parameter, a list, that may be sent in several requests when the call's body is too
    large for one; ``result.merge`` joins their answers. Only for a callback whose failure has no
    opinion to fail to (``NO_OPINION``): a batch that fails is left out of the answer."""

    @property
    def register_as(self) -> str:
        return self.keyword or self.name

    @property
    def path(self) -> str:
        return f"/v1/{self.category}/{self.name}"


def _p(*names: str) -> Tuple[Param, ...]:
    return tuple(Param(name) for name in names)


def _always(value: Any) -> Callable[[a.Call], Any]:
    return lambda call: value


SPAM = "spam_checker"
RULES = "third_party_rules"
AUTH = "password_auth_provider"
VALIDITY = "account_validity"
PRESENCE = "presence_router"
ACCOUNT_DATA = "account_data"
UPDATES = "background_update_controller"
UNSIGNED = "add_extra_fields_to_unsigned_client_event"
MEDIA = "media_repository"
RATELIMIT = "ratelimit"

CATEGORIES = (SPAM, RULES, AUTH, VALIDITY, PRESENCE, ACCOUNT_DATA, UPDATES, UNSIGNED, MEDIA, RATELIMIT)

_EVENT = Param("event", c.event)
_STATE = Param("state_events", c.state_map)
_VERDICT = a.SpamVerdict()
_ALLOWED = a.Boolean(when_nobody_decides=True)
_SPAMMY = a.Boolean(when_nobody_decides=False)
_NOTHING = a.Nothing()
_NOTIFY = FailurePolicy.NOTIFICATION
_NO_OPINION = FailurePolicy.NO_OPINION
_REFUSE = _always(False)
# A user's 3PID: Synapse checks the medium ("email" or "msisdn"), and stores the address the user admin
# API's threepids give as it is given, a JSON number included, before it announces it.
_THREEPID = (Param("user_id"), Param("medium"), Param("address", c.client_text))
_UPDATE = _p("update_name", "database_name")
# A 3PID invite's (and a 3PID login's) medium and address: the client's values, whatever their JSON
# type (Synapse checks only that the keys are there).
_CLIENT_THREEPID = (Param("medium", c.client_text), Param("address", c.client_text))

ALL: Tuple[Callback, ...] = (
    # spam checker
    Callback(SPAM, "check_event_for_spam", (_EVENT,), _VERDICT),
    Callback(SPAM, "user_may_join_room", _p("user", "room", "is_invited"), _VERDICT),
    Callback(SPAM, "user_may_invite", _p("inviter", "invitee", "room_id"), _VERDICT),
    Callback(SPAM, "user_may_send_3pid_invite", (Param("inviter"), *_CLIENT_THREEPID, Param("room_id")), _VERDICT),
    Callback(SPAM, "user_may_create_room", (Param("user_id"), Param("room_config", added_later=True)), _VERDICT),
    Callback(SPAM, "user_may_create_room_alias", (Param("user_id"), Param("room_alias", c.room_alias)), _VERDICT),
    Callback(SPAM, "user_may_publish_room", _p("user_id", "room_id"), _VERDICT),
    # Failing closed hides the user from directory searches: nothing lasting.
    Callback(SPAM, "check_username_for_spam",
             (Param("user_profile", lambda profile, synapse: dict(profile)), Param("requester_id", added_later=True)),
             _SPAMMY, refuse=_always(True)),
    Callback(SPAM, "check_registration_for_spam",
             (Param("email_threepid"), Param("username"), Param("request_info", c.request_info),
              Param("auth_provider_id")),
             a.Registration()),
    Callback(SPAM, "check_media_file_for_spam",
             (Param("file_wrapper", c.media_file, field="file"), Param("file_info", c.file_info)), _VERDICT),
    # Failing closed raises: dropping a federated event cannot be undone.
    Callback(SPAM, "should_drop_federated_event", (_EVENT,), _SPAMMY),
    Callback(SPAM, "check_login_for_spam",
             (Param("user_id"), Param("device_id", c.optional_client_text),
              Param("initial_display_name", c.optional_client_text), Param("request_info", c.request_info),
              Param("auth_provider_id")),
             _VERDICT),
    # Synapse 1.132: state events a local user sends through the client API. Synapse accepts
    # NOT_SPAM or a bare Codes member here (a (Codes, dict) pair counts as invalid and refuses).
    Callback(SPAM, "user_may_send_state_event", _p("user_id", "room_id", "event_type", "state_key", "content"),
             _VERDICT),
    # Synapse 1.134: an invite from another server; when nobody refuses, Synapse asks
    # user_may_invite as well.
    Callback(SPAM, "federated_user_may_invite", (_EVENT,), _VERDICT),
    # third-party rules. Synapse swallows exceptions from the four check_* booleans
    # (and lets the operation through), so failing closed answers False there.
    Callback(RULES, "check_event_allowed", (_EVENT, _STATE), a.EventAllowed()),
    Callback(RULES, "on_create_room",
             (Param("requester", c.requester), Param("request_content"), Param("is_requester_admin")),
             a.RoomCreation()),
    Callback(RULES, "check_threepid_can_be_invited", (*_CLIENT_THREEPID, _STATE), _ALLOWED,
             refuse=_REFUSE),
    Callback(RULES, "check_visibility_can_be_modified",
             (Param("room_id"), _STATE, Param("new_visibility", c.visibility)),
             _ALLOWED, refuse=_REFUSE),
    Callback(RULES, "on_new_event", (_EVENT, _STATE), _NOTHING, _NOTIFY),
    Callback(RULES, "check_can_shutdown_room", _p("user_id", "room_id"), _ALLOWED, refuse=_REFUSE),
    Callback(RULES, "check_can_deactivate_user", _p("user_id", "by_admin"), _ALLOWED, refuse=_REFUSE),
    Callback(RULES, "on_profile_update",
             (Param("user_id"), Param("new_profile", c.profile_info), Param("by_admin"), Param("deactivation")),
             _NOTHING, _NOTIFY),
    Callback(RULES, "on_user_deactivation_status_changed", _p("user_id", "deactivated", "by_admin"),
             _NOTHING, _NOTIFY),
    Callback(RULES, "on_threepid_bind", _THREEPID, _NOTHING, _NOTIFY),
    Callback(RULES, "on_add_user_third_party_identifier", _THREEPID, _NOTHING, _NOTIFY),
    Callback(RULES, "on_remove_user_third_party_identifier", _THREEPID, _NOTHING, _NOTIFY),
    # password auth provider. A failed check is a failed login either way.
    Callback(AUTH, "check_auth", _p("user", "login_type", "login_dict"), a.Authenticated(), _NO_OPINION),
    Callback(AUTH, "check_3pid_auth", (*_CLIENT_THREEPID, Param("password")), a.Authenticated(), _NO_OPINION),
    Callback(AUTH, "on_logged_out", _p("user_id", "device_id", "access_token"), _NOTHING, _NOTIFY),
    # Synapse turns any exception from these two into a 500 for the registering user: a
    # failure keeps Synapse's own choice of name instead.
    Callback(AUTH, "get_username_for_registration", _p("uia_results", "params"),
             a.Optional_(str, "a username"), _NO_OPINION),
    Callback(AUTH, "get_displayname_for_registration", _p("uia_results", "params"),
             a.DisplayName(), _NO_OPINION),
    Callback(AUTH, "is_3pid_allowed", _p("medium", "address", "registration"), _ALLOWED, refuse=_REFUSE),
    # account validity
    Callback(VALIDITY, "is_user_expired", _p("user"), a.Optional_(bool, "true or false")),
    Callback(VALIDITY, "on_user_registration", _p("user"), _NOTHING, _NOTIFY),
    Callback(VALIDITY, "on_user_login", _p("user_id", "auth_provider_type", "auth_provider_id"), _NOTHING, _NOTIFY),
    # presence router: Synapse swallows its exceptions, so its default is all there is. A user
    # interested in ALL users syncs with get_users_for_states(every online user's state): in
    # batches, or a few thousand online users pass the gateway's max-body-size.
    Callback(PRESENCE, "get_users_for_states",
             (Param("state_updates", c.presence_states, materialise=list),), a.UsersForStates(), _NO_OPINION,
             batched="state_updates"),
    Callback(PRESENCE, "get_interested_users", _p("user_id"), a.InterestedUsers(), _NO_OPINION),
    # account data
    Callback(ACCOUNT_DATA, "on_account_data_updated", _p("user_id", "room_id", "account_data_type", "content"),
             _NOTHING, _NOTIFY),
    # background update controller: tuning only, so Synapse's defaults on failure.
    Callback(UPDATES, "on_update", _p("update_name", "database_name", "one_shot"), a.Integer(0, 100),
             _NO_OPINION, context_manager=True),
    Callback(UPDATES, "default_batch_size", _UPDATE, a.Integer(1, 100), _NO_OPINION),
    Callback(UPDATES, "min_batch_size", _UPDATE, a.Integer(1, 1), _NO_OPINION),
    # extra unsigned fields: called for every event sent to clients; never worth failing.
    # Synapse's docs call it add_field_to_unsigned; its register method takes add_field_to_unsigned_callback.
    Callback(UNSIGNED, "add_field_to_unsigned", (_EVENT,), a.Fields(), _NO_OPINION,
             keyword="add_field_to_unsigned_callback"),
    # media repository (Synapse 1.132; the limits pair 1.139). The get_* callbacks tune what
    # homeserver.yaml sets: on failure, None keeps its media config and upload limits (failing
    # GET /media/config or every upload over a tuning question would break clients).
    Callback(MEDIA, "get_media_config_for_user", _p("user_id"), a.MediaConfig(),
             _NO_OPINION),
    # Failing closed raises, so the uploader reads "try again later": a False would tell them
    # their file is too large (413 M_TOO_LARGE), which it is not.
    Callback(MEDIA, "is_user_allowed_to_upload_media_of_size", _p("user_id", "size"), _ALLOWED),
    # Synapse's docs add a size parameter; its code passes the user ID only.
    Callback(MEDIA, "get_media_upload_limits_for_user", _p("user_id"), a.UploadLimits(), _NO_OPINION),
    # Synapse awaits this one in the upload path, then refuses the upload (400) anyway: in the
    # background, like every notification, the refusal is not held up nor turned into a 500.
    Callback(MEDIA, "on_media_upload_limit_exceeded",
             (Param("user_id"), Param("limit", c.media_upload_limit), Param("sent_bytes"), Param("attempted_bytes")),
             _NOTHING, _NOTIFY),
    # ratelimit (Synapse 1.132), asked for the rc_invites.* limiters on every invite: a failure
    # keeps homeserver.yaml's rate limits rather than failing invites.
    Callback(RATELIMIT, "get_ratelimit_override_for_user", _p("user_id", "limiter_name"), a.RatelimitOverride(),
             _NO_OPINION),
)

BY_NAME: Dict[str, Callback] = {callback.name: callback for callback in ALL}

COMPANIONS: Dict[str, Tuple[str, ...]] = {
    # Synapse refuses one presence router callback without the other.
    "get_users_for_states": ("get_interested_users",),
    "get_interested_users": ("get_users_for_states",),
    # on_update is required when registering any background update controller callback.
    "default_batch_size": ("on_update",),
    "min_batch_size": ("on_update",),
}
"""Callbacks Synapse insists on registering together. A companion without a chain in the
gateway is answered locally, with the gateway's "no module decided" answer."""


LONGEST_LOGIN_NAME = 255
"""The most characters of a login type or of a field's name: the Matrix spec's bound on a namespaced
identifier (MSC2758's common grammar, 1 to 255 characters), which a login type such as
``m.login.password`` is. Synapse checks neither, and offers each login type to every client
(``GET /login``, each re-authentication's flows) and names the fields a login lacks in its error; the
gateway refuses others at startup (``LoginType.LONGEST_NAME``)."""


def is_login_name(name: Any) -> bool:
    """A login type, or the name of one of its fields, as Synapse can offer it to clients: text of 1 to
    LONGEST_LOGIN_NAME characters."""
    return isinstance(name, str) and 0 < len(name) <= LONGEST_LOGIN_NAME
