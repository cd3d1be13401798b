"""Stand-ins for the Synapse objects the shim meets, shaped like Synapse's own (Synapse is
not installable here), a ModuleApi that records registrations, and a scripted gateway."""

from __future__ import annotations

import ast
import enum
import json
import types
from typing import Any, Dict, List, Optional, Tuple

import attr
from twisted.internet import defer, task

from matrix_policy_gateway_shim._synapse import SynapseApi, format_event_for_client_fallback, run_detached
from matrix_policy_gateway_shim.callbacks import BY_NAME
from matrix_policy_gateway_shim.client import Discovery, Reply


class _Constant(str):
    """A string constant that is its own object: like Synapse's NOT_SPAM, which Synapse
    checks with ``is``. A string decoded from JSON is equal to it but is not it."""


NOT_SPAM = _Constant("NOT_SPAM")
PRESENCE_ALL_USERS = _Constant("ALL")


class Codes(str, enum.Enum):
    UNKNOWN = "M_UNKNOWN"
    FORBIDDEN = "M_FORBIDDEN"
    LIMIT_EXCEEDED = "M_LIMIT_EXCEEDED"
    RESOURCE_LIMIT_EXCEEDED = "M_RESOURCE_LIMIT_EXCEEDED"
    INVALID_PARAM = "M_INVALID_PARAM"
    TOO_LARGE = "M_TOO_LARGE"


class SynapseError(Exception):
    def __init__(self, code: int, msg: str, errcode: str = Codes.UNKNOWN, additional_fields: Optional[dict] = None):
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg
        self.errcode = errcode


class RegistrationBehaviour(enum.Enum):
    ALLOW = "allow"
    SHADOW_BAN = "shadow_ban"
    DENY = "deny"


@attr.s(slots=True, frozen=True, auto_attribs=True)
class UserPresenceState:
    user_id: str
    state: str
    last_active_ts: int
    last_federation_update_ts: int
    last_user_sync_ts: int
    status_msg: Optional[str]
    currently_active: bool

    def as_dict(self) -> Dict[str, Any]:
        return attr.asdict(self)

    def copy_and_replace(self, **kwargs: Any) -> "UserPresenceState":
        return attr.evolve(self, **kwargs)

    @classmethod
    def default(cls, user_id: str) -> "UserPresenceState":
        return cls(user_id, "offline", 0, 0, 0, None, False)


@attr.s(auto_attribs=True, slots=True, frozen=True)
class MediaUploadLimit:
    """Like ``synapse.config.repository.MediaUploadLimit`` (exported by ``synapse.module_api``)."""

    max_bytes: int
    time_period_ms: int


@attr.s(auto_attribs=True)
class RatelimitOverride:
    """Like ``synapse.module_api.callbacks.ratelimit_callbacks.RatelimitOverride``."""

    per_second: float
    burst_count: int


class FakeEvent:
    """Like a frozen ``EventBase``: ``get_dict()`` is the federation form (hashes,
    signatures, prev_events...) with read-only content, and the event ID is not in it."""

    def __init__(self, event_id: str, type: str, sender: str, room_id: str, content: Dict[str, Any],
                 state_key: Optional[str] = None, unsigned: Optional[Dict[str, Any]] = None) -> None:
        self.event_id = event_id
        self.type = type
        self.sender = sender
        self.room_id = room_id
        self.state_key = state_key
        self._content = content
        self._unsigned = unsigned or {"age": 5}

    def get_dict(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {
            "type": self.type,
            "sender": self.sender,
            "room_id": self.room_id,
            "content": types.MappingProxyType(self._content),  # Synapse freezes content
            "origin_server_ts": 1700000000000,
            "auth_events": ("$a", "$b"),
            "prev_events": ("$p",),
            "hashes": {"sha256": "abc"},
            "signatures": {"example.com": {"ed25519:a": "sig"}},
            "depth": 7,
            "unsigned": dict(self._unsigned),
        }
        if self.state_key is not None:
            d["state_key"] = self.state_key
        return d


class RoomV12CreateEvent(FakeEvent):
    """The create event of a room version 12 room (MSC4291): the room ID is derived from its event ID,
    so ``EventBase.room_id`` answers it but the event's own JSON, ``get_dict()``, has no ``room_id``."""

    def __init__(self, event_id: str, sender: str) -> None:
        super().__init__(event_id, "m.room.create", sender, "!" + event_id[1:], {"room_version": "12"}, state_key="")

    def get_dict(self) -> Dict[str, Any]:
        d = super().get_dict()
        del d["room_id"]
        return d


class UserID:
    def __init__(self, user_id: str) -> None:
        self._user_id = user_id

    def to_string(self) -> str:
        return self._user_id


class RoomAlias(UserID):
    pass


@attr.s(auto_attribs=True)
class AppService:
    id: str


@attr.s(auto_attribs=True)
class Requester:
    user: UserID
    access_token_id: Optional[int]
    is_guest: bool
    scope: set
    shadow_banned: bool
    device_id: Optional[str]
    app_service: Optional[AppService]
    authenticated_entity: str


@attr.s(auto_attribs=True)
class RustRequester:
    """Synapse 1.155's Requester, a Rust class: the appservice's ID, not the appservice."""
    user: UserID
    access_token_id: Optional[int]
    is_guest: bool
    scope: set
    shadow_banned: bool
    device_id: Optional[str]
    app_service_id: Optional[str]
    authenticated_entity: str


@attr.s(auto_attribs=True)
class ProfileInfo:
    avatar_url: Optional[str]
    display_name: Optional[str]


@attr.s(auto_attribs=True)
class ThumbnailInfo:
    width: int
    height: int
    method: str
    type: str
    length: int


@attr.s(auto_attribs=True)
class FileInfo:
    server_name: Optional[str]
    file_id: str
    url_cache: bool = False
    thumbnail: Optional[ThumbnailInfo] = None


class ReadableFileWrapper:
    """Like Synapse's: hands the file to a callback chunk by chunk, yielding to the
    reactor between chunks. Counts the chunks and the biggest one."""

    CHUNK_SIZE = 2 ** 16

    def __init__(self, path: str, reactor: Any) -> None:
        self.path = path
        self._reactor = reactor
        self.chunks = 0
        self.largest_chunk = 0

    async def write_chunks_to(self, callback: Any) -> None:
        with open(self.path, "rb") as file:
            while True:
                chunk = file.read(self.CHUNK_SIZE)
                if not chunk:
                    break
                self.chunks += 1
                self.largest_chunk = max(self.largest_chunk, len(chunk))
                callback(chunk)
                await task.deferLater(self._reactor, 0, lambda: None)


async def reactor_turn() -> None:
    """Lets the reactor run once: the shim starts notifications' background work on its next turn."""
    from twisted.internet import reactor

    await task.deferLater(reactor, 0, lambda: None)


class BackgroundProcesses:
    """Records what the shim starts in the background, starts it, and keeps what escaped
    from it (the tests check that nothing did)."""

    def __init__(self) -> None:
        self.started: List[str] = []
        self.deferreds: List[defer.Deferred] = []
        self.escaped: List[Any] = []

    def __call__(self, desc: str, func: Any, *args: Any) -> defer.Deferred:
        self.started.append(desc)
        d = defer.ensureDeferred(func(*args))
        d.addErrback(self.escaped.append)
        self.deferreds.append(d)
        return d


SERVER_NAME = "example.com"
ACCOUNTS = ("@alice:example.com", "@bob:example.com", "@carol:example.com")
"""The accounts of the fake homeserver, ``example.com``."""


async def check_user_exists(user_id: str) -> Optional[str]:
    """``ModuleApi.check_user_exists``: the account's own ID, looked up case-insensitively, as Synapse does."""
    return next((account for account in ACCOUNTS if account.lower() == user_id.lower()), None)


def fake_synapse(background: Optional[BackgroundProcesses] = None) -> SynapseApi:
    return SynapseApi(
        NOT_SPAM=NOT_SPAM,
        Codes=Codes,
        SynapseError=SynapseError,
        RegistrationBehaviour=RegistrationBehaviour,
        PRESENCE_ALL_USERS=PRESENCE_ALL_USERS,
        UserPresenceState=UserPresenceState,
        format_event_for_client=format_event_for_client_fallback,
        make_deferred_yieldable=lambda d: d,
        run_in_background_process=background if background is not None else run_detached,
        is_mine=lambda user_id: user_id.split(":", 1)[1] == SERVER_NAME,
        check_user_exists=check_user_exists,
        MediaUploadLimit=MediaUploadLimit,
        RatelimitOverride=RatelimitOverride,
    )


class RecordingModuleApi:
    """Records what a ``ModuleApi``'s ``register_*_callbacks`` methods are given."""

    def __init__(self) -> None:
        self.calls: List[Tuple[str, Dict[str, Any]]] = []
        self.slept: List[float] = []

    async def sleep(self, seconds: float) -> None:
        """``ModuleApi.sleep``, recorded rather than slept."""
        self.slept.append(seconds)

    @property
    def registered(self) -> Dict[str, set]:
        names: Dict[str, set] = {}
        for category, callbacks in self.calls:
            names.setdefault(category, set()).update(callbacks)
        return names

    def callback(self, name: str) -> Any:
        """A registered callback by its name in the docs (or ``auth_checkers``)."""
        name = BY_NAME[name].register_as if name in BY_NAME else name
        found = [callbacks[name] for _, callbacks in self.calls if name in callbacks]
        assert len(found) == 1, f"{name} registered {len(found)} times"
        return found[0]

    def auth_checker(self, login_type: str, fields: Tuple[str, ...]) -> Any:
        return self.callback("auth_checkers")[(login_type, fields)]

    def _record(self, category: str, given: Dict[str, Any]) -> None:
        self.calls.append((category, {k: v for k, v in given.items() if v is not None}))


class FakeModuleApi(RecordingModuleApi):
    """The ``register_*_callbacks`` methods of the eight older categories, with Synapse
    v1.157's keyword-only parameters and the checks Synapse makes, recording every call.
    Like every Synapse before 1.132, it has no media repository or ratelimit category."""

    def register_spam_checker_callbacks(self, *, check_event_for_spam=None, should_drop_federated_event=None,
                                        user_may_join_room=None, user_may_invite=None,
                                        user_may_send_3pid_invite=None, user_may_create_room=None,
                                        user_may_create_room_alias=None, user_may_publish_room=None,
                                        check_username_for_spam=None, check_registration_for_spam=None,
                                        check_media_file_for_spam=None, check_login_for_spam=None,
                                        user_may_send_state_event=None, federated_user_may_invite=None):
        self._record("spam_checker", dict(locals(), self=None))

    def register_third_party_rules_callbacks(self, *, check_event_allowed=None, on_create_room=None,
                                             check_threepid_can_be_invited=None,
                                             check_visibility_can_be_modified=None, on_new_event=None,
                                             check_can_shutdown_room=None, check_can_deactivate_user=None,
                                             on_profile_update=None, on_user_deactivation_status_changed=None,
                                             on_threepid_bind=None, on_add_user_third_party_identifier=None,
                                             on_remove_user_third_party_identifier=None):
        self._record("third_party_rules", dict(locals(), self=None))

    def register_presence_router_callbacks(self, *, get_users_for_states=None, get_interested_users=None):
        if (get_users_for_states is None) != (get_interested_users is None):
            raise RuntimeError("PresenceRouter requires both get_users_for_states and get_interested_users")
        self._record("presence_router", dict(locals(), self=None))

    def register_password_auth_provider_callbacks(self, *, check_3pid_auth=None, on_logged_out=None,
                                                  auth_checkers=None, is_3pid_allowed=None,
                                                  get_username_for_registration=None,
                                                  get_displayname_for_registration=None):
        self._record("password_auth_provider", dict(locals(), self=None))

    def register_account_validity_callbacks(self, *, is_user_expired=None, on_user_registration=None,
                                            on_legacy_send_mail=None, on_legacy_renew=None,
                                            on_legacy_admin_request=None, on_user_login=None):
        self._record("account_validity", dict(locals(), self=None))

    def register_account_data_callbacks(self, *, on_account_data_updated=None):
        self._record("account_data", dict(locals(), self=None))

    def register_background_update_controller_callbacks(self, *, on_update, default_batch_size=None,
                                                        min_batch_size=None):
        self._record("background_update_controller", dict(locals(), self=None))

    def register_add_extra_fields_to_unsigned_client_event_callbacks(self, *, add_field_to_unsigned_callback=None):
        self._record("add_extra_fields_to_unsigned_client_event", dict(locals(), self=None))


class FakeModuleApiV1_157(FakeModuleApi):
    """Synapse v1.157's ModuleApi: the older one, and the media repository and ratelimit
    categories (Synapse 1.132, the upload limits pair 1.139)."""

    def register_media_repository_callbacks(self, *, get_media_config_for_user=None,
                                            is_user_allowed_to_upload_media_of_size=None,
                                            get_media_upload_limits_for_user=None,
                                            on_media_upload_limit_exceeded=None):
        self._record("media_repository", dict(locals(), self=None))

    def register_ratelimit_callbacks(self, *, get_ratelimit_override_for_user=None):
        self._record("ratelimit", dict(locals(), self=None))


def module_api_from_source(source: str, name: str) -> type:
    """A ModuleApi whose ``register_*_callbacks`` methods are those of the ``ModuleApi`` class
    in ``source`` (a Synapse release's ``synapse/module_api/__init__.py``): the same
    parameters, compiled from Synapse's own definitions with their annotations and bodies
    left out, so a keyword that release lacks is a ``TypeError`` as it would be in Synapse.
    Each hands what it is given to :class:`FakeModuleApiV1_157`'s method of the same name,
    which makes Synapse's checks and records the call."""
    module_api = next(node for node in ast.parse(source).body
                      if isinstance(node, ast.ClassDef) and node.name == "ModuleApi")
    registers = [node for node in module_api.body if isinstance(node, ast.FunctionDef)
                 and node.name.startswith("register_") and node.name.endswith("_callbacks")]
    for register in registers:
        for parameter in register.args.args + register.args.kwonlyargs:
            parameter.annotation = None
        register.returns = None
        register.decorator_list = []
        register.body = ast.parse(f"return _forward(self, {register.name!r}, locals())").body
    code = compile(ast.fix_missing_locations(ast.Module(body=registers, type_ignores=[])), f"<{name}>", "exec")
    methods: Dict[str, Any] = {}
    exec(code, {"_forward": _forward}, methods)
    return type(name, (RecordingModuleApi,), methods)


def _forward(api: RecordingModuleApi, register: str, given: Dict[str, Any]) -> None:
    given = {keyword: value for keyword, value in given.items() if keyword != "self"}
    getattr(FakeModuleApiV1_157, register)(api, **given)


class FakeGateway:
    """A scripted gateway client: records each request's path, JSON body and timeout and
    answers from ``replies`` (a Reply, an exception to raise, a Deferred to wait for, or a
    function returning one of those for each request)."""

    def __init__(self, callbacks: Any = (), auth_checkers: Any = ()) -> None:
        self.discovery: Any = Discovery(frozenset(callbacks), tuple(auth_checkers))
        self.later_discovery: Any = None
        """What ``discover`` answers (after startup): a Discovery, an exception to raise, a Deferred to
        wait for, or a function returning one of those."""
        self.discoveries: List[float] = []
        """The timeout of each ``discover``."""
        self.requests: List[Tuple[str, Any, float]] = []
        self.replies: Dict[str, Any] = {}
        self.closed = False

    def discover_blocking(self, timeout: float) -> Discovery:
        if isinstance(self.discovery, Exception):
            raise self.discovery
        return self.discovery

    async def discover(self, timeout: float) -> Discovery:
        self.discoveries.append(timeout)
        found = self.later_discovery
        if callable(found):
            found = found()
        if isinstance(found, defer.Deferred):
            found = await found
        if isinstance(found, Exception):
            raise found
        return found

    async def post(self, path: str, body: bytes, timeout: float, *, notification: bool = False) -> Reply:
        self.requests.append((path, json.loads(body), timeout))
        reply = self.replies.get(path, Reply(200, {"result": None}))
        if callable(reply) and not isinstance(reply, defer.Deferred):
            reply = reply()
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, defer.Deferred):
            reply = await reply
        if isinstance(reply, Reply) and not reply.size:  # as the real client reads it
            try:
                reply = reply._replace(size=len(json.dumps(reply.body, separators=(",", ":")).encode("utf-8")))
            except RecursionError:  # a body nested too deeply to write, which some tests answer: no size
                pass
        return reply

    def body(self, path: str) -> Any:
        bodies = [body for p, body, _ in self.requests if p == path]
        assert len(bodies) == 1, f"{len(bodies)} requests to {path}"
        return bodies[0]

    def close(self) -> defer.Deferred:
        self.closed = True
        return defer.succeed(None)
