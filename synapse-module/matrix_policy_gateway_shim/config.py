"""The module's configuration: the ``config:`` block of its ``modules:`` entry in homeserver.yaml."""

from __future__ import annotations

import re
import urllib.parse
from typing import Any, Dict, FrozenSet, Iterable, Mapping, Optional, Tuple

import attr

from . import _synapse
from .callbacks import BY_NAME, CATEGORIES, LONGEST_LOGIN_NAME, FailurePolicy, is_login_name
from .failures import shown

FAIL_OPEN = "fail-open"
FAIL_CLOSED = "fail-closed"
REGISTER_ALL = "register_all"
RETRY = "retry"
DEFAULT_TIMEOUT = "10s"
# Registered when the gateway cannot be asked at startup. Synapse reads auth checkers once, at
# startup: without this one, password logins handled by the gateway (password_file) would fail
# until Synapse restarts. It costs nothing when no module checks passwords: once the gateway
# answers, the module answers "not mine" locally and Synapse checks its own password database.
DEFAULT_AUTH_CHECKERS = [{"login_type": "m.login.password", "fields": ["password"]}]
# Fail open unless on_failure names them: the default (fail-closed, or on_failure's) does not apply.
# is_user_expired is asked on every authenticated request, and registered even without a module
# when the gateway cannot be asked at startup (register_all): failing closed by default would lock
# every user out of a homeserver whose gateway started after it, whatever its modules.
OPEN_UNLESS_NAMED = frozenset({"is_user_expired"})

SHORTEST_DURATION = 0.001
LONGEST_DURATION = 86_400.0
"""No setting has a use beyond a day, and Python's sockets and timers refuse a timeout past
about 9.2e9 seconds (OverflowError, not a config error); a duration below a millisecond would
ask the gateway again without pause."""
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$")
_KEYS = {
    "base_url", "token", "token_file", "categories", "timeout", "on_failure", "startup",
    "idle_connection_timeout", "max_idle_connections", "max_connections", "max_pending_notifications",
}
_STARTUP_KEYS = {"discovery_timeout", "if_unreachable", "retry_interval", "auth_checkers"}


@attr.s(frozen=True, auto_attribs=True)
class ShimConfig:
    """The parsed settings; their defaults are in :func:`parse`."""

    base_url: str
    token: Optional[str]
    categories: FrozenSet[str]
    timeouts: Mapping[str, float]
    """Seconds per callback name; ``"default"`` for the rest."""
    policies: Mapping[str, str]
    """fail-open or fail-closed per callback name; ``"default"`` for the rest."""
    discovery_timeout: float
    if_unreachable: str
    retry_interval: float
    fallback_auth_checkers: Tuple[Tuple[str, Tuple[str, ...]], ...]
    idle_connection_timeout: float
    max_idle_connections: int
    max_connections: int
    max_pending_notifications: int

    def timeout(self, callback: str) -> float:
        return self.timeouts.get(callback, self.timeouts["default"])

    def fails_open(self, callback: str) -> bool:
        if callback not in self.policies and callback in OPEN_UNLESS_NAMED:
            return True
        return self.policies.get(callback, self.policies["default"]) == FAIL_OPEN


def parse(raw: Any) -> ShimConfig:
    """Validates the config block; raises Synapse's ConfigError (a ValueError outside
    Synapse) naming the key at fault."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise _error("config", "must be a map of settings, e.g. {base_url: http://127.0.0.1:8090}")
    raw = dict(raw)
    _reject_unknown(raw, _KEYS, "")

    base_url = _base_url(raw.get("base_url"))

    startup = {} if raw.get("startup") is None else raw["startup"]
    if not isinstance(startup, Mapping):
        raise _error("startup", "must be a map")
    _reject_unknown(startup, _STARTUP_KEYS, "startup.")
    if_unreachable = startup.get("if_unreachable", REGISTER_ALL)
    if if_unreachable not in (REGISTER_ALL, RETRY):
        raise _error("startup.if_unreachable", f"must be {REGISTER_ALL} or {RETRY}")

    return ShimConfig(
        base_url=base_url.rstrip("/"),
        token=_token(raw),
        categories=_categories(raw.get("categories")),
        timeouts=_per_callback(raw.get("timeout", DEFAULT_TIMEOUT), "timeout", _duration, DEFAULT_TIMEOUT,
                               lambda name: True),
        policies=_per_callback(raw.get("on_failure", FAIL_CLOSED), "on_failure", _policy, FAIL_CLOSED,
                               lambda name: BY_NAME[name].failure is FailurePolicy.CONFIGURABLE),
        discovery_timeout=_duration(startup.get("discovery_timeout", "5s"), "startup.discovery_timeout"),
        if_unreachable=if_unreachable,
        retry_interval=_duration(startup.get("retry_interval", "30s"), "startup.retry_interval"),
        fallback_auth_checkers=_auth_checkers(
            DEFAULT_AUTH_CHECKERS if startup.get("auth_checkers") is None else startup["auth_checkers"]),
        idle_connection_timeout=_duration(raw.get("idle_connection_timeout", "60s"), "idle_connection_timeout"),
        max_idle_connections=_positive_int(raw.get("max_idle_connections", 10), "max_idle_connections"),
        max_connections=_positive_int(raw.get("max_connections", 100), "max_connections"),
        max_pending_notifications=_positive_int(raw.get("max_pending_notifications", 1000),
                                                "max_pending_notifications"),
    )


def _base_url(value: Any) -> str:
    """An http(s) URL of printable ASCII with a host, a valid port if any, and no user name or
    password: whatever passes here is a URL every request can be sent to."""
    example = "must be the gateway's http:// or https:// URL, e.g. http://127.0.0.1:8090"
    if not isinstance(value, str) or not re.match(r"^https?://[^/]+", value) \
            or not all("!" <= c <= "~" for c in value):
        raise _error("base_url", example + " (printable ASCII, no spaces)")
    try:
        parts = urllib.parse.urlsplit(value)  # raises for a bracketed host that is no IPv6 address
        port = parts.port  # raises for a port that is not a number, or out of range
    except ValueError as bad_part:
        raise _error("base_url", f"{example}: {bad_part}") from bad_part
    if port == 0:
        raise _error("base_url", f"{example}: port 0 is no port to connect to")
    if not parts.hostname:
        raise _error("base_url", example + ": it names no host")
    if parts.username is not None or parts.password is not None:
        raise _error("base_url", "must not hold a user name or password: the gateway takes a token (token or token_file)")
    if parts.query or parts.fragment:
        raise _error("base_url", example + ": without a query or fragment")
    return value


def _token(raw: Mapping[str, Any]) -> Optional[str]:
    token, token_file = raw.get("token"), raw.get("token_file")
    if token is not None and token_file is not None:
        raise _error("token", "set token or token_file, not both")
    if token is not None and not isinstance(token, str):
        raise _error("token", "must be a string: quote it in homeserver.yaml if it looks like a number")
    if token_file is not None:
        if not isinstance(token_file, str):
            raise _error("token_file", "must be the path of a file holding the token")
        try:
            with open(token_file, encoding="utf-8") as file:
                token = file.read()
        except OSError as unreadable:
            raise _error("token_file", f"cannot read {token_file}: {unreadable.strerror}") from unreadable
        except UnicodeDecodeError as misencoded:
            raise _error("token_file", f"{token_file} is not UTF-8 text: {misencoded.reason} at byte {misencoded.start}") \
                from misencoded
    if token is None:
        return None  # the gateway then answers loopback callers only
    if not token.strip():
        raise _error("token_file" if token_file is not None else "token", "must not be empty")
    # The gateway accepts every line of its token file, so that a token can be rotated; a file the
    # two share holds the new token first: the module sends the first line.
    return next(line.strip() for line in token.splitlines() if line.strip())


def _categories(value: Any) -> FrozenSet[str]:
    if value is None:
        return frozenset(CATEGORIES)
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        raise _error("categories", "must be a list of category names")
    unknown = sorted(set(value) - set(CATEGORIES))
    if unknown:
        raise _error("categories", f"unknown {', '.join(unknown)}; known: {', '.join(CATEGORIES)}")
    return frozenset(value)


def _per_callback(value: Any, key: str, read: Any, default: Any, applies: Any) -> Dict[str, Any]:
    """One value for every callback, or a map of ``default`` and callback names."""
    if not isinstance(value, Mapping):
        return {"default": read(value, key)}
    entries = dict(value)
    result = {"default": read(entries.pop("default", default), key + ".default")}
    for name, entry in entries.items():
        if name not in BY_NAME:
            raise _error(f"{key}.{name}", "is not a callback name")
        if not applies(name):
            raise _error(f"{key}.{name}", f"does not apply: {name} {BY_NAME[name].failure.value}")
        result[name] = read(entry, f"{key}.{name}")
    return result


def _policy(value: Any, key: str) -> str:
    if value not in (FAIL_OPEN, FAIL_CLOSED):
        raise _error(key, f"must be {FAIL_OPEN} or {FAIL_CLOSED}")
    return value


def _duration(value: Any, key: str) -> float:
    """Seconds from a number of seconds or a string such as 250ms, 5s, 2m."""
    if isinstance(value, bool):
        raise _error(key, "must be a duration such as 500ms, 5s or 1m")
    if isinstance(value, (int, float)):
        seconds = value  # compared before float(): YAML reads a whole number of any length, too large for one
    else:
        match = _DURATION.match(value) if isinstance(value, str) else None
        if not match:
            raise _error(key, "must be a duration such as 500ms, 5s or 1m")
        seconds = float(match.group(1)) * {"ms": 0.001, "s": 1.0, "m": 60.0, None: 1.0}[match.group(2)]
    if not SHORTEST_DURATION <= seconds <= LONGEST_DURATION:  # NaN too: a YAML .nan or .inf is no deadline
        raise _error(key, "must be from 1ms to a day (1440m)")
    return float(seconds)


def _positive_int(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _error(key, "must be a whole number of at least 1")
    return value


def _auth_checkers(value: Any) -> Tuple[Tuple[str, Tuple[str, ...]], ...]:
    if not isinstance(value, list):
        raise _error("startup.auth_checkers", "must be a list of {login_type, fields}")
    checkers = []
    for i, entry in enumerate(value):
        key = f"startup.auth_checkers[{i}]"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("login_type"), str):
            raise _error(key, "needs a login_type")
        _login_name(entry["login_type"], key + ".login_type")
        fields = entry.get("fields", [])
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            raise _error(key + ".fields", "must be a list of field names")
        for j, field in enumerate(fields):
            _login_name(field, f"{key}.fields[{j}]")
        checkers.append((entry["login_type"], tuple(fields)))
    return tuple(checkers)


def _login_name(name: str, key: str) -> None:
    if not is_login_name(name):
        raise _error(key, f"{shown(name)} is {len(name)} characters long: a login type or field name has 1 to "
                          f"{LONGEST_LOGIN_NAME}, as a Matrix namespaced identifier such as m.login.password")


def _reject_unknown(raw: Mapping[str, Any], known: Iterable[str], prefix: str) -> None:
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise _error(prefix + unknown[0], f"is not a setting of this module; known: {', '.join(sorted(known))}")


def _error(key: str, problem: str) -> Exception:
    return _synapse.config_error(f"matrix_policy_gateway_shim: '{key}' {problem}")
