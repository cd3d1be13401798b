"""HTTP to the gateway: one Twisted connection pool for the callbacks, and a blocking
request for the discovery at startup (module constructors are synchronous).

Keep-alive is safe by construction. The gateway keeps idle connections for 180 s; this
pool closes its own after ``idle_connection_timeout`` (60 s by default), so a request is
never sent on a connection the gateway is closing. Should it happen anyway (the gateway
restarted, a proxy in between closed it), a request whose connection closed before any
answer came back is sent once more on a fresh connection, within the same deadline:
Synapse's own HTTP client does not retry POSTs, and the user would see an instant failure.
"""

from __future__ import annotations

import io
import json
import logging
import socket
import time
import urllib.error
import urllib.request
from typing import Any, Callable, FrozenSet, List, Mapping, NamedTuple, Optional, Tuple

from twisted.internet import defer, protocol
from twisted.internet.error import ConnectError, ConnectionDone, ConnectionLost
from twisted.web.client import (
    Agent,
    FileBodyProducer,
    HTTPConnectionPool,
    RequestNotSent,
    RequestTransmissionFailed,
    ResponseFailed,
    ResponseDone,
    ResponseNeverReceived,
)
from twisted.web.http import PotentialDataLoss
from twisted.web.http_headers import Headers

from .failures import TimedOut, UnexpectedReply, Unreachable

logger = logging.getLogger(__name__)

USER_AGENT = b"matrix-policy-gateway-shim/0.1"
CALLBACKS_PATH = "/v1/callbacks"
AUTH_CHECKERS_PATH = "/v1/password_auth_provider/auth_checkers"


class Reply(NamedTuple):
    status: int
    body: Any
    """The parsed JSON, or None when the body is not JSON."""


class Discovery(NamedTuple):
    """What the gateway has chains for."""

    callbacks: FrozenSet[str]
    auth_checkers: Tuple[Tuple[str, Tuple[str, ...]], ...]


class _ClosedBeforeAnswer(Exception):
    """The connection closed before any of the answer arrived: the gateway never
    processed the request, so sending it again is safe."""


class GatewayClient:
    def __init__(
        self,
        base_url: str,
        token: Optional[str],
        *,
        reactor: Any,
        idle_connection_timeout: float = 60.0,
        max_idle_connections: int = 10,
        make_deferred_yieldable: Callable[[Any], Any] = lambda d: d,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._reactor = reactor
        self._yieldable = make_deferred_yieldable
        self._pool = HTTPConnectionPool(reactor, persistent=True)
        self._pool.maxPersistentPerHost = max_idle_connections
        self._pool.cachedConnectionTimeout = idle_connection_timeout
        self._pool.retryAutomatically = False  # Twisted retries idempotent methods only; we retry ourselves
        self._agent = Agent(reactor, pool=self._pool)

    # ---- callbacks

    async def post(self, path: str, body: bytes, timeout: float) -> Reply:
        return await self._yieldable(defer.ensureDeferred(self._request(b"POST", path, body, timeout)))

    async def discover(self, timeout: float) -> Discovery:
        """Asks the discovery endpoints without blocking the reactor (background retries)."""
        async def ask() -> Discovery:
            callbacks = await self._request(b"GET", CALLBACKS_PATH, None, timeout)
            checkers = await self._request(b"GET", AUTH_CHECKERS_PATH, None, timeout)
            return parse_discovery(_ok(callbacks, CALLBACKS_PATH), _ok(checkers, AUTH_CHECKERS_PATH))

        return await self._yieldable(defer.ensureDeferred(ask()))

    def close(self) -> "defer.Deferred[None]":
        return self._pool.closeCachedConnections()

    async def _request(self, method: bytes, path: str, body: Optional[bytes], timeout: float) -> Reply:
        deadline = self._reactor.seconds() + timeout
        try:
            return await self._exchange(method, path, body, deadline)
        except _ClosedBeforeAnswer:
            logger.info("The gateway closed a connection before answering %s; sending it again on a new one", path)
        try:
            return await self._exchange(method, path, body, deadline)
        except _ClosedBeforeAnswer as again:
            raise Unreachable(f"{path}: the gateway closed the connection twice before answering") from again

    async def _exchange(self, method: bytes, path: str, body: Optional[bytes], deadline: float) -> Reply:
        headers = Headers({b"User-Agent": [USER_AGENT]})
        if self._token is not None:
            headers.addRawHeader(b"Authorization", b"Bearer " + self._token.encode("utf-8"))
        producer = None
        if body is not None:
            headers.addRawHeader(b"Content-Type", b"application/json")
            producer = FileBodyProducer(io.BytesIO(body))
        url = (self._base_url + path).encode("ascii")
        try:
            response = await self._within(self._agent.request(method, url, headers, producer), deadline, path)
            data = await self._within(_read_body(response), deadline, path)
        except (ResponseNeverReceived, RequestTransmissionFailed, RequestNotSent) as failure:
            if _closed(failure):
                raise _ClosedBeforeAnswer() from failure
            raise Unreachable(f"{path}: {_reasons(failure)}") from failure
        except (ConnectError, ResponseFailed) as failure:
            raise Unreachable(f"{path}: {_reasons(failure)}") from failure
        return Reply(response.code, _json_or_none(data))

    async def _within(self, d: "defer.Deferred[Any]", deadline: float, path: str) -> Any:
        """Waits for ``d`` until the deadline, then cancels it (which closes the connection).
        Twisted reports a cancelled request in several ways; the flag says which it was."""
        expired = []

        def expire() -> None:
            expired.append(True)
            d.cancel()

        timer = self._reactor.callLater(max(deadline - self._reactor.seconds(), 0), expire)
        try:
            return await d
        except Exception as failure:
            if expired:
                raise TimedOut(f"{path}: no answer in time") from failure
            raise
        finally:
            if timer.active():
                timer.cancel()

    # ---- discovery at startup

    def discover_blocking(self, timeout: float) -> Discovery:
        """Synapse builds modules synchronously, with its reactor stopped in the meantime:
        a plain blocking request with a short timeout, before any callback can run."""
        deadline = time.monotonic() + timeout
        callbacks = self._get_blocking(CALLBACKS_PATH, deadline)
        return parse_discovery(callbacks, self._get_blocking(AUTH_CHECKERS_PATH, deadline))

    def _get_blocking(self, path: str, deadline: float) -> Any:
        timeout = deadline - time.monotonic()
        if timeout <= 0:
            raise TimedOut(f"{path}: no answer in time")
        request = urllib.request.Request(self._base_url + path, headers={"User-Agent": USER_AGENT.decode()})
        if self._token is not None:
            request.add_header("Authorization", "Bearer " + self._token)
        # No proxies from the environment: the gateway sits next to the homeserver.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=timeout) as response:
                return _ok(Reply(response.status, _json_or_none(response.read())), path)
        except urllib.error.HTTPError as refused:
            raise UnexpectedReply(f"{path}: HTTP {refused.code}") from refused
        except (urllib.error.URLError, OSError) as failure:
            if isinstance(failure, socket.timeout) or isinstance(getattr(failure, "reason", None), socket.timeout):
                raise TimedOut(f"{path}: no answer in time") from failure
            raise Unreachable(f"{path}: {failure}") from failure


MAX_ANSWER_BYTES = 8 * 1024 * 1024


class _BodyReader(protocol.Protocol):
    """Collects an answer's body, up to MAX_ANSWER_BYTES (an answer is a small JSON object;
    a huge one is not worth holding in Synapse's memory)."""

    def __init__(self, finished: "defer.Deferred[bytes]") -> None:
        self._finished = finished
        self._parts: List[bytes] = []
        self._size = 0

    def dataReceived(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > MAX_ANSWER_BYTES:
            if not self._finished.called:
                self._finished.errback(UnexpectedReply(f"an answer of more than {MAX_ANSWER_BYTES} bytes"))
            self.transport.stopProducing()
            return
        self._parts.append(data)

    def connectionLost(self, reason: Any = None) -> None:
        if self._finished.called:
            return
        if reason.check(ResponseDone, PotentialDataLoss):
            self._finished.callback(b"".join(self._parts))
        else:
            self._finished.errback(reason)


def _read_body(response: Any) -> "defer.Deferred[bytes]":
    def cancel(_: Any) -> None:
        if reader.transport is not None:
            reader.transport.stopProducing()  # closes the connection: nothing else may read it

    finished: "defer.Deferred[bytes]" = defer.Deferred(cancel)
    reader = _BodyReader(finished)
    response.deliverBody(reader)
    return finished


def parse_discovery(callbacks: Any, auth_checkers: Any) -> Discovery:
    """The two discovery answers, validated. Callbacks this shim does not know (a newer
    gateway) are left out."""
    from .callbacks import BY_NAME

    entries = callbacks.get("callbacks") if isinstance(callbacks, Mapping) else None
    checkers = auth_checkers.get("auth_checkers") if isinstance(auth_checkers, Mapping) else None
    if not isinstance(entries, list) or not isinstance(checkers, list):
        raise UnexpectedReply("discovery: expected {\"callbacks\": [...]} and {\"auth_checkers\": [...]}")
    names = set()
    for entry in entries:
        name = entry.get("callback") if isinstance(entry, Mapping) else None
        if name in BY_NAME and BY_NAME[name].category == entry.get("category"):
            names.add(name)
        else:
            logger.info("The gateway serves %r, which this shim does not know; not registering it", entry)
    pairs = []
    for checker in checkers:
        login_type = checker.get("login_type") if isinstance(checker, Mapping) else None
        fields = checker.get("fields") if isinstance(checker, Mapping) else None
        if not isinstance(login_type, str) or not isinstance(fields, list) \
                or not all(isinstance(field, str) for field in fields):
            raise UnexpectedReply(f"discovery: bad auth checker {checker!r}")
        pairs.append((login_type, tuple(fields)))
    return Discovery(frozenset(names), tuple(pairs))


def _ok(reply: Reply, path: str) -> Any:
    if reply.status != 200 or reply.body is None:
        raise UnexpectedReply(f"{path}: HTTP {reply.status}")
    return reply.body


def _json_or_none(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None


def _closed(failure: Exception) -> bool:
    reasons = getattr(failure, "reasons", None) or []
    return bool(reasons) and all(reason.check(ConnectionDone, ConnectionLost) for reason in reasons)


def _reasons(failure: Exception) -> str:
    reasons = getattr(failure, "reasons", None)
    if reasons:
        return "; ".join(str(reason.value) for reason in reasons)
    return str(failure) or type(failure).__name__
