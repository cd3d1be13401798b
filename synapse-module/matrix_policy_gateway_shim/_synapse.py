"""Everything the shim takes from Synapse, in one place.

Synapse is not a dependency of this package: the module runs inside Synapse's own
environment. Only :func:`load` imports it, so the rest of the package imports without
Synapse and the tests hand in stand-ins (``tests/fakes.py``).
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Dict, NamedTuple

from twisted.internet import defer

logger = logging.getLogger(__name__)

# Keys that format_event_for_client_v2 removes: they only matter between servers.
_SERVER_ONLY_KEYS = (
    "auth_events",
    "prev_events",
    "hashes",
    "signatures",
    "depth",
    "origin",
    "prev_state",
)


def format_event_for_client_fallback(event_dict: Dict[str, Any]) -> Dict[str, Any]:
    """What ``synapse.events.utils.format_event_for_client_v2`` does, for Synapse
    versions where it is missing or has moved."""
    for key in _SERVER_ONLY_KEYS:
        event_dict.pop(key, None)
    return event_dict


def run_detached(desc: str, func: Callable[..., Any], *args: Any) -> "defer.Deferred[Any]":
    """Starts ``func(*args)`` without waiting for it and logs its failure: the stand-in
    for Synapse's ``run_as_background_process`` when there is no Synapse."""
    d = defer.ensureDeferred(func(*args))
    d.addErrback(lambda failure: logger.error("Background task %s failed: %s", desc, failure.value))
    return d


class SynapseApi(NamedTuple):
    """The Synapse types and helpers the shim uses, loaded once per module instance."""

    NOT_SPAM: Any
    """``synapse.module_api.NOT_SPAM``: Synapse checks it by identity, so it must be this object."""
    Codes: Any
    """``synapse.module_api.errors.Codes``, the enum of Matrix error codes."""
    SynapseError: Any
    RegistrationBehaviour: Any
    PRESENCE_ALL_USERS: Any
    UserPresenceState: Any
    format_event_for_client: Callable[[Dict[str, Any]], Dict[str, Any]]
    make_deferred_yieldable: Callable[[Any], Any]
    """Waits for a plain Twisted Deferred without breaking Synapse's log contexts."""
    run_in_background_process: Callable[..., Any]
    """``(desc, async_func, *args)``: starts work that nobody waits for."""
    is_mine: Callable[[str], bool]
    """``ModuleApi.is_mine`` (Synapse 1.44): whether a user ID names this homeserver."""
    check_user_exists: Callable[[str], Any]
    """``ModuleApi.check_user_exists``: awaitable, the account's canonical (case-corrected) user ID, or
    None where this homeserver has no such account."""
    MediaUploadLimit: Any = None
    """``synapse.module_api.MediaUploadLimit`` (Synapse 1.139); None in older versions,
    which never call the callbacks that need it."""
    RatelimitOverride: Any = None
    """``synapse.module_api.RatelimitOverride`` (Synapse 1.132); None in older versions."""


def load(api: Any) -> SynapseApi:
    """Imports what the shim needs from the running Synapse."""
    import synapse.module_api as module_api
    from synapse.module_api.errors import Codes, SynapseError
    from synapse.spam_checker_api import RegistrationBehaviour

    try:
        from synapse.api.presence import UserPresenceState
    except ImportError:  # older Synapse versions kept it here
        from synapse.handlers.presence import UserPresenceState  # type: ignore[no-redef]

    try:
        from synapse.events.utils import format_event_for_client_v2 as format_event
    except ImportError:  # moved or renamed in some Synapse version
        logger.warning("synapse.events.utils.format_event_for_client_v2 not found; using the shim's copy")
        format_event = format_event_for_client_fallback

    # Newer Synapse versions want background processes started through the ModuleApi
    # (it knows the server name); older ones export a function.
    background = getattr(api, "run_as_background_process", None)
    if background is None:
        background = getattr(module_api, "run_as_background_process", None)
    if background is None:
        from synapse.metrics.background_process_metrics import run_as_background_process as background

    return SynapseApi(
        NOT_SPAM=module_api.NOT_SPAM,
        Codes=Codes,
        SynapseError=SynapseError,
        RegistrationBehaviour=RegistrationBehaviour,
        PRESENCE_ALL_USERS=module_api.PRESENCE_ALL_USERS,
        UserPresenceState=UserPresenceState,
        format_event_for_client=format_event,
        make_deferred_yieldable=module_api.make_deferred_yieldable,
        run_in_background_process=background,
        is_mine=api.is_mine,
        check_user_exists=api.check_user_exists,
        MediaUploadLimit=getattr(module_api, "MediaUploadLimit", None),
        RatelimitOverride=getattr(module_api, "RatelimitOverride", None),
    )


def config_error(message: str) -> Exception:
    """Synapse's ``ConfigError`` when running in Synapse (it prints the message and stops
    startup cleanly), a ``ValueError`` otherwise."""
    try:
        from synapse.module_api.errors import ConfigError
    except ImportError:
        return ValueError(message)
    return ConfigError(message)
