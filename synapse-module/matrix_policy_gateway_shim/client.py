"""HTTP to the gateway: one Twisted connection pool for the callbacks, and a blocking
request for the discovery at startup (module constructors are synchronous).

Keep-alive is safe by construction. The gateway keeps idle connections for 180 s; this
pool closes its own after ``idle_connection_timeout`` (60 s by default), so a request is
never sent on a connection the gateway is closing. Should it happen anyway (the gateway
restarted, a proxy in between closed it), a request on a *reused* connection that closed
before any answer came back is sent once more on another, within the same deadline: the
gateway closed the idle connection as the request went out, and never read it. Synapse's own
HTTP client does not retry POSTs, and the user would see an instant failure. A new connection
closed the same way is not retried: the gateway may have read the request (and crashed).
"""

from __future__ import annotations

import http.client
import io
import json
import logging
import socket
import threading
import time
import urllib.parse
from typing import Any, Callable, FrozenSet, List, Mapping, NamedTuple, Optional, Tuple

from twisted.internet import defer, protocol
from twisted.internet.error import ConnectError, ConnectionDone, ConnectionLost, DNSLookupError
from twisted.python.failure import Failure
from twisted.web.client import (
    Agent,
    FileBodyProducer,
    HTTP11ClientProtocol,
    HTTPConnectionPool,
    RequestNotSent,
    RequestTransmissionFailed,
    ResponseFailed,
    ResponseDone,
    ResponseNeverReceived,
    _HTTP11ClientFactory,
)
from twisted.web.http import PotentialDataLoss
from twisted.web.http_headers import Headers

from .failures import AnswerTooLarge, TimedOut, UnexpectedReply, Unreachable, shown

logger = logging.getLogger(__name__)

USER_AGENT = b"matrix-policy-gateway-shim/0.1"
CALLBACKS_PATH = "/v1/callbacks"
AUTH_CHECKERS_PATH = "/v1/password_auth_provider/auth_checkers"


class Reply(NamedTuple):
    status: int
    body: Any
    """The parsed JSON, or None when the body is not JSON."""
    size: int = 0
    """The body's length in bytes, as read."""


class Discovery(NamedTuple):
    """What the gateway has chains for, and the largest request body it reads."""

    callbacks: FrozenSet[str]
    auth_checkers: Tuple[Tuple[str, Tuple[str, ...]], ...]
    max_body_size: Optional[int] = None
    """In bytes; None from a gateway too old to announce it."""


class _ClosedBeforeAnswer(Exception):
    """A reused connection closed before any of the answer arrived: the gateway closed it
    while idle, as the request went out, so sending the request again is safe."""


class _Reused:
    """A pooled connection handed out again: a request it closes on before any answer is
    :class:`_ClosedBeforeAnswer`."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def request(self, request: Any) -> "defer.Deferred[Any]":
        def closed_before_answer(failure: Any) -> Any:
            if failure.check(ResponseNeverReceived, RequestTransmissionFailed, RequestNotSent) and _closed(failure.value):
                raise _ClosedBeforeAnswer() from failure.value
            return failure

        return self._connection.request(request).addErrback(closed_before_answer)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


class _HeadLimited(HTTP11ClientProtocol):
    """Ends an answer whose status line and headers pass MAX_HEAD_BYTES. Twisted reads any number
    of header lines (up to 16 KB each) and keeps them all, parsing each on Synapse's reactor: a
    gateway sending headers without end held the reactor's CPU and grew Synapse's memory until the
    callback's timeout. The body has its own limit (:class:`_BodyReader`)."""

    _counted: Any = None
    _head_bytes = 0

    def dataReceived(self, data: bytes) -> None:
        parser = self._parser
        if parser is not None and parser.line_mode:  # the head is still coming: LineReceiver reads the body raw
            if self._counted is not parser:
                self._counted, self._head_bytes = parser, 0
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._giveUp(Failure(UnexpectedReply(f"an answer whose head passes {MAX_HEAD_BYTES} bytes")))
                return
        super().dataReceived(data)


class _HeadLimitedFactory(_HTTP11ClientFactory):
    def buildProtocol(self, addr: Any) -> _HeadLimited:
        return _HeadLimited(self._quiescentCallback)


class _Pool(HTTPConnectionPool):
    """Tells a connection handed out again (:class:`_Reused`) from a new one, and limits the
    head of each answer (:class:`_HeadLimited`)."""

    _FRESH = "_policy_gateway_fresh"
    _factory = _HeadLimitedFactory

    def _newConnection(self, key: Any, endpoint: Any) -> "defer.Deferred[Any]":
        def fresh(connection: Any) -> Any:
            setattr(connection, self._FRESH, True)
            return connection

        return super()._newConnection(key, endpoint).addCallback(fresh)

    def getConnection(self, key: Any, endpoint: Any) -> "defer.Deferred[Any]":
        def hand_out(connection: Any) -> Any:
            if getattr(connection, self._FRESH, False):
                setattr(connection, self._FRESH, False)
                return connection
            return _Reused(connection)

        return super().getConnection(key, endpoint).addCallback(hand_out)


class GatewayClient:
    def __init__(
        self,
        base_url: str,
        token: Optional[str],
        *,
        reactor: Any,
        idle_connection_timeout: float = 60.0,
        max_idle_connections: int = 10,
        max_connections: int = 100,
        make_deferred_yieldable: Callable[[Any], Any] = lambda d: d,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._reactor = reactor
        self._yieldable = make_deferred_yieldable
        self._pool = _Pool(reactor, persistent=True)
        self._pool.maxPersistentPerHost = max_idle_connections
        self._pool.cachedConnectionTimeout = idle_connection_timeout
        self._pool.retryAutomatically = False  # Twisted retries idempotent methods only; we retry ourselves
        self._agent = Agent(reactor, pool=self._pool)
        # Requests in flight at once: a gateway that hangs must not cost Synapse a connection (and a file
        # descriptor) per waiting call. A call waits for its turn within its own deadline. Notifications
        # take turns of their own, so that a burst of them never queues a user's policy check behind it.
        self._slots = defer.DeferredSemaphore(max_connections)
        self._notification_slots = defer.DeferredSemaphore(max_connections)

    # ---- callbacks

    async def post(self, path: str, body: bytes, timeout: float, *, notification: bool = False) -> Reply:
        slots = self._notification_slots if notification else self._slots
        return await self._yieldable(defer.ensureDeferred(self._request(b"POST", path, body, timeout, slots)))

    async def discover(self, timeout: float) -> Discovery:
        """Asks the discovery endpoints without blocking the reactor (background retries, and a
        batch refused as too large), within one ``timeout`` for both."""
        async def ask() -> Discovery:
            deadline = self._reactor.seconds() + timeout
            callbacks = await self._request(b"GET", CALLBACKS_PATH, None, timeout, self._slots)
            checkers = await self._request(b"GET", AUTH_CHECKERS_PATH, None, deadline - self._reactor.seconds(),
                                           self._slots)
            return parse_discovery(_ok(callbacks, CALLBACKS_PATH), _ok(checkers, AUTH_CHECKERS_PATH))

        return await self._yieldable(defer.ensureDeferred(ask()))

    def close(self) -> "defer.Deferred[None]":
        return self._pool.closeCachedConnections()

    async def _request(self, method: bytes, path: str, body: Optional[bytes], timeout: float,
                       slots: "defer.DeferredSemaphore") -> Reply:
        deadline = self._reactor.seconds() + timeout
        await self._within(slots.acquire(), deadline, path)
        try:
            if deadline - self._reactor.seconds() < LEAST_TIME_TO_ASK:
                # a slot freed by a call that timed out comes a moment before this call's own deadline:
                # a connection opened now could only be cancelled, after the gateway accepted it
                raise TimedOut(f"{path}: no answer in time")
            try:
                return await self._exchange(method, path, body, deadline)
            except _ClosedBeforeAnswer:
                logger.info("The gateway closed a reused connection before answering %s; sending it again", path)
            try:
                return await self._exchange(method, path, body, deadline)
            except _ClosedBeforeAnswer as again:
                raise Unreachable(f"{path}: the gateway closed the connection twice before answering") from again
        finally:
            slots.release()

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
        except (ResponseNeverReceived, RequestTransmissionFailed, RequestNotSent, ResponseFailed) as failure:
            # cut short: Twisted's parse errors quote the gateway's line, up to 16 KB, once per call
            raise Unreachable(f"{path}: {shown(_reasons(failure))}") from failure
        except (ConnectError, DNSLookupError, OSError) as failure:  # a name that does not resolve is no ConnectError
            raise Unreachable(f"{path}: {type(failure).__name__}: {failure}") from failure
        return Reply(response.code, _json_or_none(data), len(data))

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
        """Synapse builds modules synchronously, on its reactor thread before its listeners
        open: a plain blocking request, within one deadline for both endpoints."""
        deadline = time.monotonic() + timeout
        callbacks = self._get_blocking(CALLBACKS_PATH, deadline)
        return parse_discovery(callbacks, self._get_blocking(AUTH_CHECKERS_PATH, deadline))

    def _get_blocking(self, path: str, deadline: float) -> Any:
        """One GET, ended at ``deadline`` however slowly the answer comes (a socket timeout holds
        for each read only), read up to MAX_ANSWER_BYTES, and never redirected: the token goes to
        the configured gateway only. No proxies from the environment: the gateway sits next to
        the homeserver."""
        timeout = deadline - time.monotonic()
        if timeout <= 0:
            raise TimedOut(f"{path}: no answer in time")
        url = urllib.parse.urlsplit(self._base_url + path)
        kind = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
        connection = kind(url.netloc, timeout=timeout)
        # http.client's hook for making the socket: the name is resolved within the deadline too
        connection._create_connection = \
            lambda address, _timeout, source=None: _connect_within(address, deadline, source)
        headers = {"User-Agent": USER_AGENT}
        if self._token is not None:
            headers["Authorization"] = b"Bearer " + self._token.encode("utf-8")  # as the callbacks send it
        expired = threading.Event()
        sockets: List[socket.socket] = []  # the connection lets go of its socket once an answer says it will close

        def expire() -> None:
            expired.set()
            for connected in sockets:
                try:
                    connected.shutdown(socket.SHUT_RDWR)  # ends a read blocked in another thread
                except OSError:
                    pass

        timer = threading.Timer(timeout, expire)
        timer.daemon = True
        timer.start()
        try:
            connection.connect()
            sockets.append(connection.sock)
            if expired.is_set():
                expire()
            connection.request("GET", url.path, headers=headers)
            response = connection.getresponse()
            try:
                data = response.read(MAX_ANSWER_BYTES + 1)
            finally:
                response.close()
        except (OSError, http.client.HTTPException) as failure:
            if expired.is_set() or isinstance(failure, socket.timeout):
                raise TimedOut(f"{path}: no answer in time") from failure
            # quoted: http.client's BadStatusLine is the first line the server sent, as it came
            raise Unreachable(f"{path}: {type(failure).__name__}: {shown(str(failure))}") from failure
        finally:
            timer.cancel()
            connection.close()
        if expired.is_set():
            raise TimedOut(f"{path}: no answer in time")
        if len(data) > MAX_ANSWER_BYTES:
            raise UnexpectedReply(f"{path}: an answer of more than {MAX_ANSWER_BYTES} bytes")
        return _ok(Reply(response.status, _json_or_none(data), len(data)), path)


MAX_ANSWER_BYTES = 8 * 1024 * 1024
LEAST_TIME_TO_ASK = 0.01
"""Seconds a call must have left to start a request: less is no time for a round trip."""
MAX_HEAD_BYTES = 256 * 1024
"""Far above any real status line and headers: the gateway's are a few hundred bytes."""


def _connect_within(address: Tuple[str, int], deadline: float, source: Optional[Tuple[str, int]]) -> socket.socket:
    """``socket.create_connection`` ended at ``deadline`` while the host name resolves as well:
    ``getaddrinfo`` has no timeout, and a resolver that does not answer (a DNS server down, tried
    5 s a time, several times) would otherwise hold Synapse's startup, and its reactor thread,
    past ``startup.discovery_timeout``. It runs in a thread of its own, left to finish alone."""
    host, port = address
    resolved: List[Any] = []

    def resolve() -> None:
        try:
            resolved.append(socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM))
        except OSError as failure:
            resolved.append(failure)

    resolver = threading.Thread(target=resolve, name="policy-gateway-resolve", daemon=True)
    resolver.start()
    resolver.join(max(deadline - time.monotonic(), 0))
    if not resolved:
        raise socket.timeout(f"{host} did not resolve in time")
    if isinstance(resolved[0], OSError):
        raise resolved[0]
    failure: Optional[OSError] = None
    for family, kind, proto, _, socket_address in resolved[0]:
        connected = socket.socket(family, kind, proto)
        try:
            connected.settimeout(max(deadline - time.monotonic(), 0.001))
            if source is not None:
                connected.bind(source)
            connected.connect(socket_address)
            return connected
        except OSError as error:
            connected.close()
            failure = error
    raise failure or OSError(f"{host} resolved to no address")


class _BodyReader(protocol.Protocol):
    """Collects an answer's body, up to MAX_ANSWER_BYTES (an answer is a small JSON object;
    a huge one is not worth holding in Synapse's memory). It lets go of the parts as soon as the
    answer is done or too large: the reader and its Deferred refer to each other (the canceller),
    so the parts would otherwise stay until Synapse's garbage collector runs, each answer too large
    adding 8 MiB meanwhile."""

    def __init__(self, finished: "defer.Deferred[bytes]") -> None:
        self._finished = finished
        self._parts: List[bytes] = []
        self._size = 0

    def dataReceived(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > MAX_ANSWER_BYTES:
            self._parts.clear()
            if not self._finished.called:
                self._finished.errback(AnswerTooLarge(f"an answer of more than {MAX_ANSWER_BYTES} bytes"))
            self.transport.stopProducing()
            return
        self._parts.append(data)

    def connectionLost(self, reason: Any = None) -> None:
        data, self._parts = b"".join(self._parts), []
        if self._finished.called:
            return
        if reason.check(ResponseDone, PotentialDataLoss):
            self._finished.callback(data)
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
    from .callbacks import BY_NAME, is_login_name

    entries = callbacks.get("callbacks") if isinstance(callbacks, Mapping) else None
    checkers = auth_checkers.get("auth_checkers") if isinstance(auth_checkers, Mapping) else None
    if not isinstance(entries, list) or not isinstance(checkers, list):
        raise UnexpectedReply("discovery: expected {\"callbacks\": [...]} and {\"auth_checkers\": [...]}")
    names = set()
    unknown = []
    for entry in entries:
        name = entry.get("callback") if isinstance(entry, Mapping) else None
        if isinstance(name, str) and name in BY_NAME and BY_NAME[name].category == entry.get("category"):
            names.add(name)
        else:
            unknown.append(_label(entry, "category", "callback"))
    if unknown:
        # One line, cut short: the list can be as long as the answer, 8 MB.
        logger.info("The gateway serves %d callbacks this shim does not know; not registering them: %s",
                    len(unknown), shown(", ".join(unknown)))
    if len(checkers) > MOST_AUTH_CHECKERS:
        raise UnexpectedReply(f"discovery: {len(checkers)} auth checkers, more than the {MOST_AUTH_CHECKERS} taken")
    pairs = []
    for i, checker in enumerate(checkers):
        login_type = checker.get("login_type") if isinstance(checker, Mapping) else None
        fields = checker.get("fields") if isinstance(checker, Mapping) else None
        if not is_login_name(login_type) or not isinstance(fields, list) or len(fields) > MOST_AUTH_CHECKERS \
                or not all(is_login_name(field) for field in fields):
            raise UnexpectedReply(f"discovery: bad auth checker [{i}] {shown(_label(checker, 'login_type'))}")
        pairs.append((login_type, tuple(fields)))
    return Discovery(frozenset(names), tuple(pairs), _max_body_size(callbacks.get("max_body_size")))


MOST_AUTH_CHECKERS = 100
"""The most login types discovery registers, and the most fields of each. Synapse offers every login
type to every client (``GET /login``, and each user's re-authentication flows), and names the fields a
login lacks in its error: a hundred is far more than a server offers, where 8 MiB of them would be
registered at startup and sent with each of those answers."""
SMALLEST_MAX_BODY_SIZE = 4096
"""The smallest ``max_body_size`` the shim takes from the gateway. Below it a batch bound of a quarter
(:func:`module.batch_bytes`) would send each presence update on its own (thousands of requests for
one call, for 1 to 4 bytes); the shim keeps its own bound instead. A gateway below 64 KiB, the most
an event may hold, cannot be asked about every event, but its bound is still kept: presence batches
that fit it work, where batches of the shim's own bound would all be refused."""
LARGEST_MAX_BODY_SIZE = 2**63 - 1
"""The gateway announces its ``max-body-size`` as a Java long: a larger number is no gateway's."""


def _max_body_size(announced: Any) -> Optional[int]:
    """The announced limit; None when there is none (an older gateway), and for anything but a whole
    number from SMALLEST_MAX_BODY_SIZE to LARGEST_MAX_BODY_SIZE: the shim then keeps to its own bound."""
    if isinstance(announced, int) and not isinstance(announced, bool) \
            and SMALLEST_MAX_BODY_SIZE <= announced <= LARGEST_MAX_BODY_SIZE:
        return announced
    if announced is not None:
        logger.warning("The gateway announces max_body_size %s, not a whole number of bytes from %d to %d: "
                       "ignoring it", _named(announced), SMALLEST_MAX_BODY_SIZE, LARGEST_MAX_BODY_SIZE)
    return None


def _named(announced: Any) -> str:
    """A value announced as a number, as a log line shows it: text quoted and cut (:func:`shown`), a number
    cut to 40 characters (a whole number may have the 4,300 digits Python reads), anything else by its type
    (a list or an object could be megabytes, or too deep to write)."""
    if isinstance(announced, str):
        return shown(announced)
    if isinstance(announced, (int, float)):
        number = repr(announced)
        return number if len(number) <= 40 else f"{number[:40]}... ({len(number)} characters)"
    return type(announced).__name__


def _label(entry: Any, *keys: str) -> str:
    """An entry of a discovery answer by its names (``category/callback``), without writing the
    rest of it, which may be megabytes, or nested too deeply for ``repr`` to write again."""
    values = [entry.get(key) if isinstance(entry, Mapping) else None for key in keys]
    return "/".join(value if isinstance(value, str) else "?" for value in values)


def _ok(reply: Reply, path: str) -> Any:
    if reply.status != 200 or reply.body is None:
        raise UnexpectedReply(f"{path}: HTTP {reply.status}")
    return reply.body


def _json_or_none(data: bytes) -> Any:
    """The answer's JSON; None for one that is not JSON: malformed, nested past Python's
    recursion limit, or holding NaN or Infinity (which Python reads, and JSON has not)."""
    try:
        return json.loads(data, parse_constant=_not_json)
    except (ValueError, RecursionError):
        return None


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _closed(failure: Exception) -> bool:
    reasons = getattr(failure, "reasons", None) or []
    return bool(reasons) and all(reason.check(ConnectionDone, ConnectionLost) for reason in reasons)


def _reasons(failure: Exception) -> str:
    reasons = getattr(failure, "reasons", None)
    if reasons:
        return "; ".join(str(reason.value) for reason in reasons)
    return str(failure) or type(failure).__name__
