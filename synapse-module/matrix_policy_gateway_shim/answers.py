"""The gateway's answers back to exactly what Synapse expects from each callback.

A result type reads ``{"result": ...}`` (:meth:`ResultType.read`), a 403 rejection
(:meth:`ResultType.rejected`, only where Synapse has a way to refuse with an error code),
and knows the answer that means "no module decided" (:meth:`ResultType.abstain`), which is
also what a fail-open callback answers when the gateway fails.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Set, Tuple

from .convert import presence_state
from .failures import (BUSY, LONGEST_ERRCODE, LONGEST_ERROR, GatewayBusy, PolicyFailed, TooLarge, TooManyRoutes, UnexpectedReply,
                       printable, shown)

if TYPE_CHECKING:
    from ._synapse import SynapseApi

logger = logging.getLogger(__name__)

_ABSENT = object()
"""A field a request does not have: unequal to any value."""


class Call:
    """One invocation of a callback: Synapse's arguments by parameter name, and the module's
    warnings of a kind logged once a minute (``QuietRepeats``), or None to log each."""

    def __init__(self, name: str, args: Dict[str, Any], synapse: "SynapseApi", quiet: Any = None) -> None:
        self.name = name
        self.args = args
        self.synapse = synapse
        self._quiet = quiet

    def warning(self, kind: str, message: str, *args: Any) -> None:
        """A warning about an answer that every call may give alike: logged once a minute for each kind."""
        if self._quiet is None:
            logger.warning(message, *args)
        else:
            self._quiet.warning(f"{self.name} {kind}", message, *args)


class ResultType:
    ASKS: Mapping[str, Any] = {}
    """Fields added to each request's body: how a type asks the gateway for a form of answer it
    reads. A gateway that does not know them ignores them, so ``read`` takes the older form too."""

    def read(self, value: Any, call: Call) -> Any:
        raise NotImplementedError

    def rejected(self, errcode: str, error: Optional[str], call: Call, extra: Mapping[str, Any]) -> Any:
        """``extra``: the rejection's fields Synapse may add to the client's error (``retry_after_ms``)."""
        raise UnexpectedReply(f"a 403 {shown(errcode)} rejection, but {call.name} cannot be refused with an error code")

    def abstain(self, call: Call) -> Any:
        raise NotImplementedError

    async def confirm(self, answer: Any, call: Call) -> Any:
        """What Synapse gets of a read answer, once Synapse has been asked what only it knows (an
        answer Synapse would take, then fail on, is an :class:`UnexpectedReply` here too)."""
        return answer

    def count(self, answer: Any) -> int:
        """How many routes a read answer of a ``batched`` callback names, which ``MOST_ROUTES``
        bounds for one batch."""
        raise NotImplementedError

    def merge(self, answers: List[Any]) -> Any:
        """One answer from the answers to the batches of a ``batched`` callback."""
        raise NotImplementedError


def _unexpected(call: Call, expected: str, value: Any) -> UnexpectedReply:
    shown = json.dumps(value)
    return UnexpectedReply(f"{call.name} answered {shown[:80]}, expected {expected}")


class SpamVerdict(ResultType):
    """``NOT_SPAM`` or a ``Codes`` member. Synapse compares ``NOT_SPAM`` by identity, so
    the answer is Synapse's own constant, never the string from the JSON."""

    def read(self, value: Any, call: Call) -> Any:
        if value != "NOT_SPAM":
            raise _unexpected(call, '"NOT_SPAM" (rejections are 403s)', value)
        return call.synapse.NOT_SPAM

    def rejected(self, errcode: str, error: Optional[str], call: Call, extra: Mapping[str, Any]) -> Any:
        code = error_code(call, errcode)
        if extra and call.name in PASSES_EXTRA_FIELDS:
            return code, dict(extra)
        return code

    def abstain(self, call: Call) -> Any:
        return call.synapse.NOT_SPAM


PASSES_EXTRA_FIELDS = frozenset({
    "check_event_for_spam", "user_may_join_room", "user_may_invite", "user_may_create_room",
    "user_may_send_3pid_invite", "user_may_create_room_alias", "user_may_publish_room",
    "federated_user_may_invite", "check_login_for_spam"})
"""The spam-checker callbacks whose ``(Codes, dict)`` answer Synapse raises as the client's error
with the dict's fields added (``SynapseError(403, ..., additional_fields=...)``), over its own: so
the gateway's ``error`` message replaces Synapse's generic one, as synapse-http-antispam's does.
Any other callback gets the bare code, and the client Synapse's message. For ``federated_user_may_invite`` (Synapse 1.134, handlers/federation.py
``on_invite_request``) that error is the 403 answered to the inviting server; for
``check_login_for_spam`` (Synapse 1.87, rest/client/login.py) it is the refused login's. ``user_may_send_state_event``
counts a pair as invalid, and a federated event's ``check_event_for_spam`` refusal reaches no client at all."""

EXTRA_FIELDS = ("error", "retry_after_ms")
"""The fields of a gateway rejection passed on to Synapse, besides errcode: the message for the
user (a module's own, or the rule's reason where a ``policy_list`` shows it) and when to retry."""


def error_code(call: Call, errcode: str) -> Any:
    """Synapse accepts only members of its ``Codes`` enum; an error code it does not know
    (a newer spec's, or a custom one) becomes M_FORBIDDEN, which still refuses. A module's own code
    comes with each of its refusals: logged once a minute."""
    try:
        return call.synapse.Codes(errcode)
    except ValueError:
        call.warning("unknown errcode", "The gateway refused %s with %s, which this Synapse does not know; "
                                        "refusing with M_FORBIDDEN", call.name, shown(errcode))
        return call.synapse.Codes.FORBIDDEN


class Boolean(ResultType):
    def __init__(self, when_nobody_decides: bool) -> None:
        self._abstain = when_nobody_decides

    def read(self, value: Any, call: Call) -> Any:
        if not isinstance(value, bool):
            raise _unexpected(call, "true or false", value)
        return value

    def abstain(self, call: Call) -> Any:
        return self._abstain


class Registration(ResultType):
    """``RegistrationBehaviour``, by member name: ALLOW, SHADOW_BAN or DENY."""

    def read(self, value: Any, call: Call) -> Any:
        if value not in ("ALLOW", "SHADOW_BAN", "DENY"):
            raise _unexpected(call, "ALLOW, SHADOW_BAN or DENY", value)
        return call.synapse.RegistrationBehaviour[value]

    def abstain(self, call: Call) -> Any:
        return call.synapse.RegistrationBehaviour.ALLOW


class Optional_(ResultType):
    """A value of one JSON type, or null for "no opinion"."""

    def __init__(self, kind: type, expected: str) -> None:
        self._kind = kind
        self._expected = expected

    def read(self, value: Any, call: Call) -> Any:
        if value is not None and type(value) is not self._kind:
            raise _unexpected(call, self._expected + " or null", value)
        return value

    def abstain(self, call: Call) -> Any:
        return None


class DisplayName(Optional_):
    """A new user's display name, or null. Synapse stores it as it comes, then refuses each of the
    user's joins with one over MOST_CHARACTERS (its ``MAX_DISPLAYNAME_LEN``, the bound on one a user
    sets), and fails the registration with a 500 on half a surrogate pair, which it cannot store."""

    MOST_CHARACTERS = 256

    def __init__(self) -> None:
        super().__init__(str, "a display name")

    def read(self, value: Any, call: Call) -> Any:
        if super().read(value, call) is not None and (len(value) > self.MOST_CHARACTERS or not _whole_pairs(value)):
            raise _unexpected(call, f"a display name of at most {self.MOST_CHARACTERS} characters, without half a "
                                    "surrogate pair, or null", value)
        return value


class Authenticated(ResultType):
    """Auth checkers: the user ID becomes ``(user_id, None)``, Synapse's "authenticated,
    no callback for the login response"; null stays None (not authenticated). A user ID Synapse
    cannot parse (no ``:``) or store (half a surrogate pair) fails the login with a 500 and a
    traceback in Synapse's log: :func:`_user_id`.

    Nor does a user ID naming no account of this homeserver (:meth:`confirm`) log anyone in. Synapse
    does not register a user an auth checker vouches for (its module docs: "the user is not
    automatically registered"; a provider registers the user itself, as synapse-ldap3 does); it
    hands out an access token for the ID as it came (``rest/client/login.py``, ``_complete_login``
    without ``create_non_existent_users``), which Synapse 1.67 then refuses, 401, on its first use,
    and 1.157 fails the login with a 404 "No row found". The gateway vouches for a password; it creates
    no accounts. An account's own ID, as Synapse's case-insensitive look-up corrects it (what Synapse's
    own password check logs in as), is what Synapse gets."""

    def read(self, value: Any, call: Call) -> Any:
        if value is None:
            return None
        if not _user_id(value):
            raise _unexpected(call, "a user ID (@localpart:server) or null", value)
        return value, None

    async def confirm(self, answer: Any, call: Call) -> Any:
        if answer is None:
            return None
        user_id = answer[0]
        if not call.synapse.is_mine(user_id):
            raise UnexpectedReply(f"{call.name} answered {shown(user_id)}, a user of another server: Synapse logs "
                                  "in only its own users")
        account = await call.synapse.check_user_exists(user_id)
        if account is None:
            raise UnexpectedReply(f"{call.name} answered {shown(user_id)}, who has no account on this homeserver: "
                                  "Synapse registers no user an auth checker vouches for (create the account)")
        return account, None

    def abstain(self, call: Call) -> Any:
        return None


class EventAllowed(ResultType):
    """``{"allowed", "replacement"}`` to Synapse's ``(bool, Optional[dict])``. A room version 12
    create event was sent with the ``room_id`` it has none of (see ``convert.event``): its
    replacement goes back without it, as Synapse refuses one that changes ``room_id``."""

    def read(self, value: Any, call: Call) -> Any:
        if not isinstance(value, Mapping) or not isinstance(value.get("allowed"), bool):
            raise _unexpected(call, '{"allowed": true|false, "replacement": {...}|null}', value)
        replacement = value.get("replacement")
        if replacement is not None and (not isinstance(replacement, dict) or not value["allowed"]):
            raise _unexpected(call, "a replacement event only with allowed: true", value)
        if replacement is not None and "room_id" not in call.args["event"].get_dict():
            replacement.pop("room_id", None)
        return value["allowed"], replacement

    def abstain(self, call: Call) -> Any:
        return True, None


def _string(value: Any) -> bool:
    return isinstance(value, str)


def _object(value: Any) -> bool:
    return isinstance(value, dict)


def _or_null(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """``check``, or null, for a field Synapse reads with ``config.get(...)`` and acts on only when true."""
    return lambda value: value is None or check(value)


def _list_of(item: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, list) and all(item(each) for each in value)


def _state_event(value: Any) -> bool:
    """An ``initial_state`` entry as Synapse reads it: ``val["type"]``, ``val.get("state_key", "")``,
    ``val["content"]``."""
    return _object(value) and _string(value.get("type")) and _string(value.get("state_key", "")) \
        and _object(value.get("content"))


class RoomCreation(ResultType):
    """Going ahead rewrites the dict Synapse passed, in place (Synapse reads its own
    dict afterwards); a rejection raises ``SynapseError``, the documented way to deny.

    A rewrite of a field Synapse reads to a value of another type (:data:`SYNAPSE_READS`) is an
    unexpected reply: Synapse (1.67 and 1.157, ``handlers/room.py``, ``create_room``) takes the request
    content as the client sent it, and reads these fields with no check of their own type, so such a
    rewrite fails the client's createRoom with a 500 and a traceback (``"initial_state": {"a": 1}``,
    ``"creation_content": []``, ``"room_alias_name": 5``, ``"preset": []``), or with a 400 that blames the
    client once the room is half made (``"name": 5``, ``"preset": 7``). Only what the gateway changed
    or added is checked: what the client sent itself is Synapse's to answer, as without the module."""

    SYNAPSE_READS: Mapping[str, Tuple[Callable[[Any], bool], str]] = {
        "visibility": (_string, "a string"),
        "room_alias_name": (_string, "a string"),
        "name": (_string, "a string"),
        "topic": (_string, "a string"),
        "invite": (_list_of(_string), "a list of user IDs"),
        "invite_3pid": (_list_of(_object), "a list of objects"),
        "room_version": (_string, "a string"),
        "creation_content": (_object, "an object"),
        "initial_state": (_list_of(_state_event), 'a list of {"type": string, "state_key": string, '
                                                  '"content": object}'),
        "preset": (_string, "a string"),
        # null is "none" to Synapse for these two (``config.get(...)``, then ``if is_direct`` and
        # ``if power_level_content_override``): a rewrite clearing either is one Synapse follows
        "is_direct": (_or_null(lambda value: isinstance(value, bool)), "true, false or null"),
        "power_level_content_override": (_or_null(_object), "an object or null"),
    }
    """The fields of the createRoom body Synapse reads, with the JSON type it reads each as (the
    client-server spec's, and null where Synapse reads null as the field's absence): the one place a
    rewrite is checked against."""

    def read(self, value: Any, call: Call) -> Any:
        if not isinstance(value, Mapping) or not isinstance(value.get("request_content"), (dict, type(None))):
            raise _unexpected(call, '{"request_content": {...}}', value)
        modified = value.get("request_content")
        request_content = call.args["request_content"]
        for field, (check, expected) in self.SYNAPSE_READS.items():
            if modified is not None and field in modified and not check(modified[field]) \
                    and modified[field] != request_content.get(field, _ABSENT):
                raise UnexpectedReply(f"{call.name} rewrote {field} to {json.dumps(modified[field])[:80]}, "
                                      f"expected {expected}, as Synapse reads it")
        if modified is not None and modified != request_content:
            request_content.clear()
            request_content.update(modified)
        return None

    def rejected(self, errcode: str, error: Optional[str], call: Call, extra: Mapping[str, Any]) -> Any:
        raise call.synapse.SynapseError(403, printable(error or "Room creation is not allowed", LONGEST_ERROR),
                                        printable(errcode, LONGEST_ERRCODE))

    def abstain(self, call: Call) -> Any:
        return None


class Nothing(ResultType):
    """Notifications: the answer carries nothing."""

    def read(self, value: Any, call: Call) -> Any:
        return None

    def abstain(self, call: Call) -> Any:
        return None


class UsersForStates(ResultType):
    """A map of user ID to presence states, back to ``Dict[str, Set[UserPresenceState]]``.
    A state the gateway returns unchanged is Synapse's own object; a state it made up is
    built from its JSON fields.

    The shim asks for the compact form, ``{"states": [...], "sets": [[0, 1], ...], "users":
    {"@a:x": 0}}``: each state once, each distinct set of them once by the states' indices, each
    user with the index of its set. The full form, a map of user ID to a list of states, names
    each state once for each user it goes to (40 times, for 40 receivers of ALL): an older
    gateway answers it, whatever is asked. The two are told apart by their keys: a user ID
    starts with ``@``.

    A router routes the updates it is asked about; it does not make up presence. A state of a user
    without an update in the batch is an unexpected reply: Synapse (1.157, ``get_interested_remotes``)
    sends the states to the receiver's server, asserting that each is a local user's (a remote user's
    fails the presence update there), and hands a receiver of ALL its states as its sync's presence
    (``_filter_all_presence_updates_for_user``), where a made-up one would be another user's presence
    forged. A state of a batch's user in a presence state none of its updates has is built from its fields."""

    ASKS = {"answer_form": "compact"}
    _COMPACT = frozenset({"states", "sets", "users"})
    _FIELDS = ("state", "last_active_ts", "last_federation_update_ts", "last_user_sync_ts",
               "status_msg", "currently_active")

    MOST_ROUTES = 1_000_000
    """The most (receiver, update) pairs a compact answer may name. Its sets are shared by index, so
    8 MiB of them can name billions of pairs, a set of its own for each receiver, which Synapse then
    copies into sets of its own: far more memory than Synapse has. A million is a full batch of
    updates (some 1,400 in 256 KiB) for about 700 receivers of ALL, and some 50 MB of sets. More
    receivers than that are served in smaller batches, as the full form's are (:meth:`count`)."""

    def read(self, value: Any, call: Call) -> Any:
        originals = list(call.args["state_updates"])
        by_json = {_canonical(presence_state(state)): state for state in originals}
        by_user_and_state: Dict[Any, Any] = {}
        for original in originals:
            user_id = original.user_id
            by_user_and_state.setdefault((user_id, original.state), original)
            by_user_and_state.setdefault((user_id, None), original)  # in any state: the users of the batch
        # a user ID starts with @: the compact form's fields, and any a later gateway adds, are no receivers
        if isinstance(value, Mapping) and self._COMPACT <= value.keys():
            states, sets, users = value["states"], value["sets"], value["users"]
            if not isinstance(states, list) or not isinstance(sets, list) or not isinstance(users, Mapping) \
                    or not all(isinstance(indices, list) and all(_whole(i, 0, len(states) - 1) for i in indices)
                               for indices in sets) \
                    or not all(_whole(index, 0, len(sets) - 1) for index in users.values()):
                raise _unexpected(call, '{"states": [...], "sets": [[indices of states], ...], '
                                        '"users": {user ID: index of a set}}', value)
            read = [self._state(state, by_json, by_user_and_state, call) for state in states]
            read_sets = [frozenset(read[i] for i in indices) for indices in sets]
            routes = sum(len(read_sets[index]) for index in users.values())
            if routes > self.MOST_ROUTES:
                raise TooManyRoutes(f"{call.name} answered {routes} (receiver, update) pairs, more than the "
                                    f"{self.MOST_ROUTES} taken", routes)
            return {_receiver(user_id, call): set(read_sets[index]) for user_id, index in users.items()}
        if not isinstance(value, Mapping) or not all(isinstance(states, list) for states in value.values()):
            raise _unexpected(call, "a map of user ID to a list of presence states", value)
        return {_receiver(user_id, call): {self._state(state, by_json, by_user_and_state, call) for state in states}
                for user_id, states in value.items()}

    _STATES = frozenset({"online", "unavailable", "offline", "org.matrix.msc3026.busy"})
    """Synapse's ``PresenceState`` values."""
    _CHECKS = {
        "last_active_ts": lambda value: _whole(value, 0),
        "last_federation_update_ts": lambda value: _whole(value, 0),
        "last_user_sync_ts": lambda value: _whole(value, 0),
        "status_msg": lambda value: value is None or isinstance(value, str),
        "currently_active": lambda value: isinstance(value, bool),
    }

    def _state(self, json_state: Any, by_json: Dict[str, Any], by_user_and_state: Dict[Any, Any], call: Call) -> Any:
        if not isinstance(json_state, Mapping) or not isinstance(json_state.get("user_id"), str) \
                or not isinstance(json_state.get("state"), str) or json_state["state"] not in self._STATES \
                or not all(check(json_state[field]) for field, check in self._CHECKS.items() if field in json_state):
            raise _unexpected(call, "presence states with user_id, a presence state of Synapse's, and fields of "
                                    "their types (timestamps whole numbers, status_msg a string or null, "
                                    "currently_active a boolean)", json_state)
        if (json_state["user_id"], None) not in by_user_and_state:
            raise UnexpectedReply(f"{call.name} answered a presence state of {shown(json_state['user_id'])}, who has no "
                                  "update in the batch asked about")
        same = by_json.get(_canonical(json_state))
        if same is None:  # looked up, never searched for: an answer of 8 MiB holds some 200,000 states
            same = by_user_and_state.get((json_state["user_id"], json_state["state"]))
        if same is not None:
            return same
        built = call.synapse.UserPresenceState.default(json_state["user_id"])
        return built.copy_and_replace(**{field: json_state[field] for field in self._FIELDS if field in json_state})

    def abstain(self, call: Call) -> Any:
        return {}

    def count(self, answer: Any) -> int:
        """The (receiver, update) pairs an answer names."""
        return sum(len(states) for states in answer.values())

    def merge(self, answers: List[Any]) -> Any:
        """Each user's states from every batch, as Synapse merges the answers of several modules."""
        merged: Dict[str, Set[Any]] = {}
        for routes in answers:
            for user_id, states in routes.items():
                merged.setdefault(user_id, set()).update(states)
        return merged


def _receiver(user_id: str, call: Call) -> str:
    """Synapse parses every receiver of presence (``UserID.from_string`` to wake its syncs,
    ``get_domain_from_id`` for the server to send it to), and either raises on one that is no
    :func:`_user_id`, which breaks off the fan-out of the whole update."""
    if not _user_id(user_id):
        raise UnexpectedReply(f"{call.name} answered a receiver {shown(user_id)}, expected a user ID (@localpart:server)")
    return user_id


def _user_id(text: Any) -> bool:
    """A user ID as Synapse takes one (``UserID.from_string``): ``@``, then text with a ``:`` in it, and
    no half of a surrogate pair, which a JSON escape carries and UTF-8 cannot write (the gateway's own
    check of its modules' answers)."""
    return isinstance(text, str) and text.startswith("@") and ":" in text[1:] and _whole_pairs(text)


def _whole_pairs(text: str) -> bool:
    """No half of a surrogate pair: a JSON escape carries one, and UTF-8 cannot write it."""
    return not any("\ud800" <= c <= "\udfff" for c in text)


def _canonical(state: Mapping[str, Any]) -> str:
    return json.dumps(state, sort_keys=True, default=str)


class InterestedUsers(ResultType):
    """``"ALL"`` to ``PRESENCE_ALL_USERS``; a list of user IDs to a set."""

    MOST_USERS = 100_000
    """The most users a list may name. Synapse asks on every sync of the user, and at an initial sync
    loads the presence of each user named (making up and keeping in memory an offline state for each it
    has none of) to send them all: as many as share rooms with a member of the largest public rooms,
    whose presence Synapse loads alike, not the hundreds of thousands an 8 MiB answer holds. For more,
    route ALL."""

    def read(self, value: Any, call: Call) -> Any:
        if value == "ALL":
            return call.synapse.PRESENCE_ALL_USERS
        if isinstance(value, list) and len(value) > self.MOST_USERS:
            raise UnexpectedReply(f"{call.name} answered {len(value)} users, more than the {self.MOST_USERS} taken")
        if not isinstance(value, list) or not all(_user_id(user) for user in value):
            raise _unexpected(call, '"ALL" or a list of user IDs (@localpart:server)', value)
        return set(value)

    def abstain(self, call: Call) -> Any:
        return set()


MOST_SERVED_BYTES = 65_536
"""The most UTF-8 bytes of compact JSON an answer Synapse serves to clients as it came may take:
Synapse's bound on a whole event (``MAX_PDU_SIZE``), so that an event served with its unsigned
fields is at most twice what Synapse serves without them. The gateway holds each module's answer to
it (its ``UNSIGNED_FIELDS`` and ``MEDIA_CONFIG``)."""


MOST_SERVED_DEPTH = 100
"""The deepest nesting of an answer Synapse serves to clients as it came, its own object being the
first level: Synapse writes it inside each response that serves it (``/sync`` adds some ten levels
around an event), and Python's JSON writer fails the whole response past about 1,000 levels on
Python 3.11, counted with the frames already on the stack. The gateway holds each module's answer to
it too."""


def _nested_within(value: Any, most: int) -> bool:
    """Whether ``value`` nests objects and lists at most ``most`` levels deep, walked without recursion."""
    waiting = [(value, 1)]
    while waiting:
        container, depth = waiting.pop()
        if depth > most:
            return False
        children = container.values() if isinstance(container, dict) else container
        waiting.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return True


def _servable(value: Any, call: Call) -> Any:
    """``value``, which Synapse will write to clients as it is, if it can: at most
    :data:`MOST_SERVED_BYTES` and :data:`MOST_SERVED_DEPTH`, and no half of a surrogate pair, which a
    JSON escape carries and Synapse cannot write as UTF-8 (its Rust event serializer and its JSON
    responses alike: each response holding it would fail with a 500)."""
    if not _nested_within(value, MOST_SERVED_DEPTH):
        raise UnexpectedReply(f"{call.name} answered JSON nested more than {MOST_SERVED_DEPTH} levels deep, more "
                              "than is served to clients")
    try:
        size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    except UnicodeEncodeError as unwritable:
        raise UnexpectedReply(f"{call.name} answered text holding half a surrogate pair") from unwritable
    if size > MOST_SERVED_BYTES:
        raise UnexpectedReply(f"{call.name} answered {size} bytes, more than the {MOST_SERVED_BYTES} "
                              "an event may hold")
    return value


class Fields(ResultType):
    """Extra fields for an event's ``unsigned`` section, which Synapse adds to the event each time it
    serves it to a client (every /sync, /messages, /context that holds it), in a response that fails
    as a whole if one event's fields cannot be written: :func:`_servable`."""

    def read(self, value: Any, call: Call) -> Any:
        if not isinstance(value, dict):
            raise _unexpected(call, "an object of fields", value)
        return _servable(value, call)

    def abstain(self, call: Call) -> Any:
        return {}


class MediaConfig(Optional_):
    """A user's media config, or null: the body Synapse answers the user's clients'
    ``GET /media/config`` with, as it came: :func:`_servable`."""

    def __init__(self) -> None:
        super().__init__(dict, "a media config object")

    def read(self, value: Any, call: Call) -> Any:
        return value if super().read(value, call) is None else _servable(value, call)


class Integer(ResultType):
    """Background update controller numbers, with Synapse's defaults for "no module", up to the
    gateway's documented maximum (a Java int): Synapse multiplies the duration by a float and puts
    the batch size in SQL, where a larger number overflows and fails the background update."""

    def __init__(self, minimum: int, default: int) -> None:
        self._minimum = minimum
        self._default = default

    def read(self, value: Any, call: Call) -> Any:
        if not _whole(value, self._minimum, JAVA_INT_MAX):
            raise _unexpected(call, f"a whole number from {self._minimum} to {JAVA_INT_MAX}", value)
        return value

    def abstain(self, call: Call) -> Any:
        return self._default


class UploadLimits(ResultType):
    """A list of ``{max_bytes, time_period_ms}`` to a new list of Synapse's own
    ``MediaUploadLimit``: Synapse sorts it in place. ``[]`` means "no limit" and stays
    ``[]``; null keeps the limits in homeserver.yaml. Neither number may pass the gateway's
    documented maximum (a Java long): Synapse subtracts ``time_period_ms`` from the time and hands
    the result to its database, which fails the upload on one below -2^63 (SQLite)."""

    _MINIMUM = {"max_bytes": 0, "time_period_ms": 1}

    def read(self, value: Any, call: Call) -> Any:
        if value is None:
            return None
        if not isinstance(value, list) or not all(self._valid(limit) for limit in value):
            raise _unexpected(call, 'a list of {"max_bytes": 0 or more, "time_period_ms": 1 or more}, each at most '
                                    f'{JAVA_LONG_MAX}, or null', value)
        return [call.synapse.MediaUploadLimit(**{field: limit[field] for field in self._MINIMUM}) for limit in value]

    def _valid(self, limit: Any) -> bool:
        return isinstance(limit, Mapping) and all(_whole(limit.get(field), least)
                                                  for field, least in self._MINIMUM.items())

    def abstain(self, call: Call) -> Any:
        return None


class RatelimitOverride(ResultType):
    """``{per_second, burst_count}`` to Synapse's own ``RatelimitOverride``, with a float
    and an int; null keeps the rate limit in homeserver.yaml. A rate of 0 is refused: Synapse's
    docs say it disables the limit, but Synapse divides by it when it records an action, and the
    user's request fails with a 500. So is a ``burst_count`` above the gateway's documented maximum
    (a Java int): Synapse divides it by the rate, as a float, on every action it checks, and one
    too large for a float fails every invite with a 500. Nor may the rate be so slow that a full
    burst (or the one action of a burst of 0) takes more than a day to drain, the gateway's documented
    minimum: Synapse's rate limiter keeps a timer slot for every 5 seconds until a user's actions
    have drained, all made at once (``WheelTimer.insert``), and a rate of 1e-9 is 200 million slots,
    which stalls Synapse and exhausts its memory."""

    LONGEST_DRAIN_SECONDS = 86_400

    def read(self, value: Any, call: Call) -> Any:
        if value is None:
            return None
        if not isinstance(value, Mapping) or not _whole(value.get("burst_count"), 0, JAVA_INT_MAX) \
                or not _rate(value.get("per_second")) \
                or value["per_second"] < max(value["burst_count"], 1) / self.LONGEST_DRAIN_SECONDS:
            raise _unexpected(call, '{"per_second": at least max(burst_count, 1) / '
                                    f'{self.LONGEST_DRAIN_SECONDS}, "burst_count": a whole number from 0 to '
                                    f'{JAVA_INT_MAX}}} or null', value)
        return call.synapse.RatelimitOverride(per_second=float(value["per_second"]), burst_count=value["burst_count"])

    def abstain(self, call: Call) -> Any:
        return None


JAVA_INT_MAX = 2**31 - 1
JAVA_LONG_MAX = 2**63 - 1
"""The gateway writes its numbers from Java ints and longs: a larger one is no answer of the
gateway's, and Synapse, whose database columns are 64-bit, may fail on it."""


def _whole(value: Any, minimum: int, maximum: int = JAVA_LONG_MAX) -> bool:
    """A JSON whole number from ``minimum`` to ``maximum``: not a boolean, which Python counts as an int."""
    return isinstance(value, int) and not isinstance(value, bool) and minimum <= value <= maximum


def _rate(value: Any) -> bool:
    """A JSON number above 0 that is a finite float: not NaN or Infinity, which Python's JSON reads,
    nor a whole number too large for a float (``float()`` would raise OverflowError)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= sys.float_info.max


def interpret(status: int, body: Any, result: ResultType, call: Call) -> Any:
    """The HTTP answer to the Python answer (or to a raised ``SynapseError``)."""
    error = body if isinstance(body, Mapping) and isinstance(body.get("errcode"), str) else None
    if status == 200 and isinstance(body, Mapping) and "result" in body:
        try:
            return result.read(body["result"], call)
        except RecursionError as too_deep:
            # JSON the client could read, nested nearly as deep as Python goes, cannot be written
            # again (to show it, or to compare presence states) from the deeper stack here.
            raise UnexpectedReply(f"{call.name} answered a value nested too deeply") from too_deep
    if status == 403 and error is not None:
        return result.rejected(error["errcode"], _message(error), call, _extra(error))
    if status == 503 and error is not None and error["errcode"] == BUSY:
        # the gateway holds as many requests as its heap allows: its state, not a module's verdict
        raise GatewayBusy(f"{call.name} got HTTP 503 {shown(BUSY)}: {shown(_message(error))}")
    if status == 503 and error is not None:
        raise PolicyFailed(error["errcode"], _message(error))
    detail = f" {shown(error['errcode'])}" if error is not None else ""
    raise (TooLarge if status == 413 else UnexpectedReply)(f"{call.name} got HTTP {status}{detail}")


def _extra(error: Mapping[str, Any]) -> Dict[str, Any]:
    """The extra fields of a rejection that are well-formed: ``error`` a string (as the client may be
    shown it, :func:`printable`), ``retry_after_ms`` a whole number, 0 or more."""
    valid = {"error": lambda value: isinstance(value, str), "retry_after_ms": lambda value: _whole(value, 0)}
    extra = {field: error[field] for field in EXTRA_FIELDS if valid[field](error.get(field))}
    if "error" in extra:
        extra["error"] = printable(extra["error"], LONGEST_ERROR)
    return extra


def _message(error: Mapping[str, Any]) -> Optional[str]:
    message = error.get("error")
    return message if isinstance(message, str) else None

