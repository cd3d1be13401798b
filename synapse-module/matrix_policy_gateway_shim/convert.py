"""Synapse's Python arguments to the JSON the gateway documents (the gateway README,
"Python types that have no JSON form")."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any, Callable, Collection, Dict, List, Mapping, Optional

import attr

if TYPE_CHECKING:
    from ._synapse import SynapseApi


def to_json_bytes(body: Mapping[str, Any]) -> bytes:
    """Synapse freezes events: their content is an immutable mapping and their lists are
    tuples. Both, sets and attrs classes are written as plain JSON.

    Text is sent as UTF-8, except text holding a lone surrogate, which UTF-8 cannot encode and
    Synapse's JSON reader takes from a client (``"\\ud800"`` in a createRoom body): then the
    whole body is written with JSON's escapes, so that the gateway still judges the request.
    Unsendable, it would follow the failure policy, and a client could pass a fail-open check
    at will."""
    written = json.dumps(body, default=_plain, separators=(",", ":"), ensure_ascii=False)
    try:
        return written.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(body, default=_plain, separators=(",", ":")).encode("ascii")


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    if attr.has(type(value)):
        return attr.asdict(value, recurse=False)
    raise TypeError(f"cannot send a {type(value).__name__} to the gateway")


def as_is(value: Any, synapse: "SynapseApi") -> Any:
    """Plain data (strings, booleans, JSON dicts): written as they are."""
    return value


def event(value: Any, synapse: "SynapseApi") -> Dict[str, Any]:
    """``EventBase``: the client format, with ``event_id`` (room versions 3 and later do
    not carry it in the event dict) and ``room_id`` (a room version 12 create event does not
    carry it: its event ID makes the room's, and Synapse's own client format adds it)."""
    formatted = synapse.format_event_for_client(value.get_dict())
    formatted["event_id"] = value.event_id
    if "room_id" not in formatted:
        formatted["room_id"] = value.room_id
    return formatted


def state_map(value: Mapping[Any, Any], synapse: "SynapseApi") -> List[Dict[str, Any]]:
    """``StateMap[EventBase]``, keyed by (type, state_key): a list of client-format state
    events, each of which carries its type and state_key."""
    return [event(state, synapse) for state in value.values() if hasattr(state, "get_dict")]


def client_text(value: Any, synapse: "SynapseApi") -> str:
    """A ``str`` parameter that Synapse takes from the client's JSON without checking its type (a
    3PID invite's ``medium`` and ``address``, a 3PID login's, the address of a threepid the user
    admin API adds, ``447700900000`` for a phone number): a string as it is, any other value,
    ``None`` included, as its JSON text. Sent as it is, a number, a list or ``null`` is a bad
    argument to the gateway, and the callback would follow its failure policy: a client could pass
    a fail-open check at will."""
    return value if isinstance(value, str) else json.dumps(value, default=_plain, separators=(",", ":"))


def optional_client_text(value: Any, synapse: "SynapseApi") -> Optional[str]:
    """As :func:`client_text`, for an optional parameter (a login's ``device_id`` and initial device
    display name): ``None`` is no value, and stays ``None``."""
    return None if value is None else client_text(value, synapse)


def room_alias(value: Any, synapse: "SynapseApi") -> str:
    """``RoomAlias``: its string form, ``#alias:server``."""
    return value.to_string() if hasattr(value, "to_string") else str(value)


def visibility(value: Any, synapse: "SynapseApi") -> str:
    """A room's new visibility. createRoom passes the client's value unchecked, and Synapse makes
    the room public for ``"public"`` only: anything else is the private room Synapse creates."""
    return "public" if value == "public" else "private"


def requester(value: Any, synapse: "SynapseApi") -> Dict[str, Any]:
    """``Requester``: who asks, whether as a guest, shadow-banned, through an appservice,
    or as an admin acting for them (``authenticated_entity``)."""
    # Synapse 1.155 made Requester a Rust class, which holds the appservice's ID (app_service_id)
    # and no longer the appservice itself (app_service)
    app_service_id = getattr(value, "app_service_id", None)
    if app_service_id is None:
        app_service_id = getattr(getattr(value, "app_service", None), "id", None)
    return {
        "user_id": _user_id(value.user),
        "device_id": getattr(value, "device_id", None),
        "is_guest": bool(getattr(value, "is_guest", False)),
        "shadow_banned": bool(getattr(value, "shadow_banned", False)),
        "app_service_id": app_service_id,
        "authenticated_entity": getattr(value, "authenticated_entity", None),
    }


def profile_info(value: Any, synapse: "SynapseApi") -> Dict[str, Any]:
    """``ProfileInfo`` (an attrs class in Synapse)."""
    if isinstance(value, Mapping):
        return {"display_name": value.get("display_name"), "avatar_url": value.get("avatar_url")}
    return {"display_name": value.display_name, "avatar_url": value.avatar_url}


def request_info(value: Collection[Any], synapse: "SynapseApi") -> List[List[Optional[str]]]:
    """``Collection[Tuple[user_agent, ip]]``: a list of two-element lists."""
    return [[user_agent, ip] for user_agent, ip in value]


def presence_state(value: Any) -> Dict[str, Any]:
    """``UserPresenceState``: all its fields; at least ``user_id`` and ``state``."""
    return dict(value.as_dict()) if hasattr(value, "as_dict") else attr.asdict(value)


def presence_states(value: Collection[Any], synapse: "SynapseApi") -> List[Dict[str, Any]]:
    return [presence_state(state) for state in value]


def file_info(value: Any, synapse: "SynapseApi") -> Dict[str, Any]:
    """``FileInfo``: server_name, file_id, url_cache and the thumbnail's details, as they are."""
    return attr.asdict(value) if attr.has(type(value)) else dict(vars(value))


async def media_file(file_wrapper: Any, synapse: "SynapseApi") -> Dict[str, Any]:
    """The file's SHA-256, size and media type, read through ``write_chunks_to`` one
    chunk at a time: the file is never held in memory and never sent."""
    digest = hashlib.sha256()
    size = 0
    head = bytearray()

    def consume(chunk: bytes) -> None:
        nonlocal size
        digest.update(chunk)
        size += len(chunk)
        if len(head) < _SNIFF_BYTES:
            head.extend(chunk[: _SNIFF_BYTES - len(head)])

    await file_wrapper.write_chunks_to(consume)
    return {"sha256": digest.hexdigest(), "size": size, "media_type": sniff_media_type(bytes(head))}


_SNIFF_BYTES = 16
# Magic numbers of common uploads. Synapse does not hand the spam checker the content type
# the uploader claimed (and a claim would prove nothing): the first bytes are the hint.
_SIGNATURES: List[Any] = [
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"OggS", "audio/ogg"),
    (b"\x1aE\xdf\xa3", "video/webm"),
]


def sniff_media_type(head: bytes) -> Optional[str]:
    for signature, media_type in _SIGNATURES:
        if head.startswith(signature):
            return media_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        return "video/mp4"
    return None


def media_upload_limit(value: Any, synapse: "SynapseApi") -> Dict[str, int]:
    """``MediaUploadLimit``: ``{max_bytes, time_period_ms}``."""
    return {"max_bytes": value.max_bytes, "time_period_ms": value.time_period_ms}


def _user_id(user: Any) -> str:
    return user.to_string() if hasattr(user, "to_string") else str(user)


Converter = Callable[[Any, "SynapseApi"], Any]
