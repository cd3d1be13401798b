"""The HTTP client against tiny local servers: keep-alive that survives the server closing
idle connections, timeouts, refused connections, and the blocking discovery at startup."""

import contextlib
import gc
import http.server
import json
import logging
import socket
import threading
import time
import tracemalloc

import pytest
import pytest_twisted
from twisted.internet import defer, protocol, reactor, task

from calls import nested
from gateway_process import free_port
from matrix_policy_gateway_shim.client import MAX_ANSWER_BYTES, GatewayClient, parse_discovery
from matrix_policy_gateway_shim.failures import AnswerTooLarge, TimedOut, UnexpectedReply, Unreachable

ANSWER = json.dumps({"result": "NOT_SPAM"}).encode()


class KeepAliveHttp(protocol.Protocol):
    """Just enough HTTP/1.1: reads requests with a Content-Length, answers ANSWER and keeps
    the connection open. What it does with idle connections is the factory's ``mode``."""

    def connectionMade(self):
        self.factory.connections.append(self)
        self.buffer = b""
        self.answered_at = None
        self.idle_close = None

    def dataReceived(self, data):
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, rest = self.buffer.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
            length = int(headers.get("content-length", "0"))
            if len(rest) < length:
                return
            self.buffer = rest[length:]
            self.factory.requests.append((lines[0], headers, rest[:length]))
            if not self._answer():
                return

    def _answer(self):
        mode = self.factory.mode
        idle_for = None if self.answered_at is None else reactor.seconds() - self.answered_at
        if mode == "drop_every_request" or (
                mode == "drop_stale" and idle_for is not None and idle_for > self.factory.idle_limit):
            # The race Synapse loses: the server gives up on the connection just as a request arrives.
            self.factory.dropped += 1
            self.transport.loseConnection()
            return False
        if mode == "hang" or (mode == "hang_notifications" and "on_new_event" in self.factory.requests[-1][0]):
            return False
        answer = self.factory.answer
        self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                             % (len(answer), answer))
        self.answered_at = reactor.seconds()
        if mode == "close_idle":
            if self.idle_close is not None and self.idle_close.active():
                self.idle_close.cancel()
            self.idle_close = reactor.callLater(self.factory.idle_limit, self.transport.loseConnection)
        return True

    def connectionLost(self, reason):
        if self.idle_close is not None and self.idle_close.active():
            self.idle_close.cancel()


class Server(protocol.Factory):
    protocol = KeepAliveHttp

    def __init__(self, mode, idle_limit=0.3, answer=ANSWER):
        self.mode = mode
        self.answer = answer
        self.idle_limit = idle_limit
        self.connections = []
        self.requests = []
        self.dropped = 0


@pytest.fixture
def serve():
    started = []

    def start(mode, idle_limit=0.3, answer=ANSWER):
        server = Server(mode, idle_limit, answer)
        port = reactor.listenTCP(0, server, interface="127.0.0.1")
        started.append((server, port))
        return server, f"http://127.0.0.1:{port.getHost().port}"

    yield start
    for server, port in started:
        for connection in server.connections:
            connection.transport.abortConnection()
        port.stopListening()


@pytest.fixture
def clients():
    made = []

    def client(base_url, **settings):
        made.append(GatewayClient(base_url, "s3cret", **{"reactor": reactor, **settings}))
        return made[-1]

    yield client
    for client in made:
        client.close()


class _StillClock:
    """The reactor, whose clock stands still within :meth:`still`."""

    def __init__(self, real):
        self._real = real
        self._held = None

    @contextlib.contextmanager
    def still(self):
        self._held = self._real.seconds()
        try:
            yield
        finally:
            self._held = None

    def seconds(self):
        return self._real.seconds() if self._held is None else self._held

    def __getattr__(self, name):
        return getattr(self._real, name)


def sleep(seconds):
    return task.deferLater(reactor, seconds, lambda: None)


@pytest_twisted.ensureDeferred
async def test_a_connection_is_reused_while_it_is_fresh(serve, clients):
    server, url = serve("close_idle", idle_limit=5)
    client = clients(url)
    for _ in range(3):
        assert (await client.post("/v1/spam_checker/user_may_invite", b"{}", 2)).body == {"result": "NOT_SPAM"}
    assert len(server.connections) == 1


@pytest_twisted.ensureDeferred
async def test_idle_connections_are_closed_before_the_server_would_close_them(serve, clients):
    server, url = serve("drop_stale", idle_limit=0.5)
    client = clients(url, idle_connection_timeout=0.2)
    await client.post("/v1/spam_checker/user_may_invite", b"{}", 2)
    await sleep(0.8)  # longer than the server keeps idle connections
    reply = await client.post("/v1/spam_checker/user_may_invite", b"{}", 2)
    assert reply.status == 200
    assert server.dropped == 0 and len(server.connections) == 2


@pytest_twisted.ensureDeferred
async def test_a_request_on_a_connection_closed_underneath_is_sent_again_on_a_new_one(serve, clients):
    server, url = serve("drop_stale", idle_limit=0.3)
    client = clients(url, idle_connection_timeout=60)  # as if the server had restarted
    await client.post("/v1/spam_checker/user_may_invite", b'{"n": 1}', 2)
    await sleep(0.5)
    reply = await client.post("/v1/spam_checker/user_may_invite", b'{"n": 2}', 2)
    assert reply.body == {"result": "NOT_SPAM"}
    assert server.dropped == 1 and len(server.connections) == 2
    assert [body for _, _, body in server.requests] == [b'{"n": 1}', b'{"n": 2}', b'{"n": 2}']


@pytest_twisted.ensureDeferred
async def test_a_connection_the_server_closed_while_idle_is_not_used(serve, clients):
    server, url = serve("close_idle", idle_limit=0.2)
    client = clients(url, idle_connection_timeout=60)
    await client.post("/v1/spam_checker/user_may_invite", b"{}", 2)
    await sleep(0.4)
    assert (await client.post("/v1/spam_checker/user_may_invite", b"{}", 2)).status == 200
    assert len(server.connections) == 2 and len(server.requests) == 2


@pytest_twisted.ensureDeferred
async def test_a_request_a_new_connection_closes_on_is_not_sent_again(serve, clients):
    # the gateway read it, and may have acted on it before it went down: once is enough
    server, url = serve("drop_every_request")
    with pytest.raises(Unreachable):
        await clients(url).post("/v1/spam_checker/user_may_invite", b"{}", 2)
    assert len(server.requests) == 1


@pytest_twisted.ensureDeferred
async def test_the_request_is_sent_again_only_once(serve, clients):
    server, url = serve("close_idle", idle_limit=5)
    client = clients(url)
    await client.post("/v1/spam_checker/user_may_invite", b"{}", 2)
    server.mode = "drop_every_request"  # the reused connection, then the new one
    with pytest.raises(Unreachable):
        await client.post("/v1/spam_checker/user_may_invite", b"{}", 2)
    assert len(server.requests) == 3


@pytest_twisted.ensureDeferred
async def test_a_gateway_name_that_does_not_resolve_is_a_failure_of_the_gateway(clients):
    # not Twisted's DNSLookupError escaping into Synapse: the callback's failure policy applies
    with pytest.raises((Unreachable, TimedOut)):
        await clients("http://policy-gateway.invalid:8090").post("/v1/spam_checker/user_may_invite", b"{}", 5)


class NotHttp(protocol.Protocol):
    """Whatever listens at a wrong base_url: a first line that is no HTTP status line."""

    def dataReceived(self, data):
        self.transport.write(b"HTTP/1.1 2x0 \x1b[2K" + b"A" * 10_000 + b"\r\n\r\n")
        self.transport.loseConnection()


@pytest_twisted.ensureDeferred
async def test_a_status_line_that_is_not_http_is_cut_short_in_the_failure_each_call_logs(clients):
    port = reactor.listenTCP(0, protocol.Factory.forProtocol(NotHttp), interface="127.0.0.1")
    try:
        with pytest.raises(Unreachable) as failure:
            await clients(f"http://127.0.0.1:{port.getHost().port}").post("/v1/spam_checker/user_may_invite", b"{}", 2)
    finally:
        await port.stopListening()
    assert "non-integer status code" in str(failure.value)
    assert str(failure.value).isprintable() and len(str(failure.value)) < 400


class EndlessHeaders(protocol.Protocol):
    """Two megabytes of header lines, and no end of the head."""

    def dataReceived(self, data):
        self.transport.write(b"HTTP/1.1 200 OK\r\n" + (b"X-Padding: " + b"a" * 1000 + b"\r\n") * 2000)


@pytest_twisted.ensureDeferred
async def test_an_answer_whose_headers_do_not_end_fails_before_its_deadline(clients):
    port = reactor.listenTCP(0, protocol.Factory.forProtocol(EndlessHeaders), interface="127.0.0.1")
    started = reactor.seconds()
    try:
        with pytest.raises(Unreachable, match="an answer whose head passes 262144 bytes"):
            await clients(f"http://127.0.0.1:{port.getHost().port}").post("/v1/spam_checker/user_may_invite", b"{}", 3)
    finally:
        await port.stopListening()
    assert reactor.seconds() - started < 2  # not held, growing, until the deadline


@pytest.mark.parametrize("answer", [b"[" * 100_000 + b"]" * 100_000, b'{"result": NaN}', b'{"result": Infinity}'])
@pytest_twisted.ensureDeferred
async def test_an_answer_python_reads_but_json_has_not_is_no_json(answer, serve, clients):
    server, url = serve("close_idle", idle_limit=5, answer=answer)
    reply = await clients(url).post("/v1/spam_checker/user_may_invite", b"{}", 2)
    assert (reply.status, reply.body) == (200, None)


@pytest_twisted.ensureDeferred
async def test_an_answer_too_large_to_read_is_let_go_of_at_once_not_when_the_garbage_collector_runs(clients):
    # Synapse collects garbage when it sees fit: each such answer's 8 MiB held until then grew a Synapse asked
    # 600 times (8 at once) from 103 MB to 1 GB, which it kept
    answer = _http(b"200 OK", b" " * (MAX_ANSWER_BYTES + 1))  # made before the count starts; sent without a copy
    with socket.create_server(("127.0.0.1", 0)) as listener:
        def serve_once():
            with listener.accept()[0] as connection:
                connection.recv(65536)
                with contextlib.suppress(OSError):
                    connection.sendall(answer)
        server = threading.Thread(target=serve_once, daemon=True)
        server.start()
        client = clients(f"http://127.0.0.1:{listener.getsockname()[1]}")
        gc.collect()
        gc.disable()
        tracemalloc.start()
        try:
            with pytest.raises(AnswerTooLarge):
                await client.post("/v1/spam_checker/user_may_invite", b"{}", 5)
            held, _ = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
            gc.enable()
        server.join(5)
    assert held < MAX_ANSWER_BYTES // 8


class Scripted(protocol.Protocol):
    """Answers the first request with the factory's ``script(protocol)``."""

    def dataReceived(self, data):
        if not getattr(self, "answered", False):
            self.answered = True
            self.factory.script(self)


def _http(status, body, headers=b""):
    return b"HTTP/1.1 %s\r\nContent-Length: %d\r\n%s\r\n%s" % (status, len(body), headers, body)


def _trickle(connection, data=_http(b"200 OK", ANSWER + b" " * 100)):
    """The whole answer, a byte every 50 ms: the head at once is no answer in time."""
    if data and connection.transport.connected:
        connection.transport.write(data[:1])
        reactor.callLater(0.05, _trickle, connection, data[1:])


@pytest.mark.parametrize("script, outcome", [
    (lambda c: c.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n" + _http(b"200 OK", ANSWER)), (200, "NOT_SPAM")),
    # never followed: the token goes to base_url only
    (lambda c: c.transport.write(_http(b"302 Found", b"", b"Location: http://192.0.2.1:9/v1/x\r\n")), (302, None)),
    (lambda c: c.transport.write(_http(b"200 OK", b"\xef\xbb\xbf" + ANSWER)), (200, "NOT_SPAM")),  # a BOM is read past
    (lambda c: c.transport.write(_http(b"200 OK", b'{"result": "NOT_SPAM\xff"}')), (200, None)),  # not UTF-8: no JSON
    (lambda c: (c.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"), c.transport.abortConnection()),
     Unreachable),
    (_trickle, TimedOut),
    (lambda c: c.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: " + b"9" * 30 + b"\r\n\r\n" + ANSWER), TimedOut),
], ids=["1xx skipped", "redirect", "bom", "invalid utf-8", "reset mid-body", "body trickled", "body shorter than said"])
@pytest_twisted.ensureDeferred
async def test_what_the_client_makes_of_answers_a_gateway_or_proxy_may_send(script, outcome, clients):
    factory = protocol.Factory.forProtocol(Scripted)
    factory.script = script
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")
    started = reactor.seconds()
    try:
        if isinstance(outcome, tuple):
            reply = await clients(f"http://127.0.0.1:{port.getHost().port}").post("/v1/spam_checker/user_may_invite",
                                                                                 b"{}", 0.5)
            assert (reply.status, reply.body and reply.body["result"]) == outcome
        else:
            with pytest.raises(outcome):
                await clients(f"http://127.0.0.1:{port.getHost().port}").post("/v1/spam_checker/user_may_invite",
                                                                             b"{}", 0.5)
    finally:
        await port.stopListening()
    assert reactor.seconds() - started < 1  # the deadline covers the body, however slowly it comes


@pytest_twisted.ensureDeferred
async def test_a_gateway_that_does_not_answer_times_out(serve, clients):
    server, url = serve("hang")
    started = reactor.seconds()
    with pytest.raises(TimedOut):
        await clients(url).post("/v1/spam_checker/user_may_invite", b"{}", 0.3)
    assert 0.25 <= reactor.seconds() - started < 2


@pytest_twisted.ensureDeferred
async def test_calls_to_a_hanging_gateway_hold_at_most_max_connections_and_each_ends_at_its_deadline(serve, clients):
    server, url = serve("hang")
    clock = _StillClock(reactor)
    client = clients(url, max_connections=2, reactor=clock)
    started = reactor.seconds()
    # made at one instant, as on a quiet machine: a loaded one taking over 10 ms to make them would give the
    # last ones a deadline past the first ones', and a slot with time enough to send a third request
    with clock.still():
        calls = [defer.ensureDeferred(client.post("/v1/spam_checker/user_may_invite", b"{}", 0.5)) for _ in range(5)]
    results = await defer.DeferredList(calls, consumeErrors=True)
    assert all(not ok and failure.check(TimedOut) for ok, failure in results)
    # two requests sent, one a slot: a loaded machine may see Twisted open a second attempt to the
    # same address while the first is still connecting (its happy eyeballs), so connections may be more
    assert len(server.requests) == 2
    assert reactor.seconds() - started < 2
    server.mode = "close_idle"
    assert (await client.post("/v1/spam_checker/user_may_invite", b"{}", 2)).status == 200  # every slot was given back


@pytest_twisted.ensureDeferred
async def test_notifications_waiting_for_a_connection_never_queue_a_policy_check_behind_them(serve, clients):
    server, url = serve("hang_notifications")
    client = clients(url, max_connections=1)
    notifications = [defer.ensureDeferred(client.post("/v1/third_party_rules/on_new_event", b"{}", 1, notification=True))
                     for _ in range(3)]
    check = await client.post("/v1/spam_checker/user_may_invite", b"{}", 0.5)
    assert check.status == 200
    results = await defer.DeferredList(notifications, consumeErrors=True)
    assert all(not ok and failure.check(TimedOut) for ok, failure in results)


@pytest_twisted.ensureDeferred
async def test_a_refused_connection_fails_at_once(clients):
    port = free_port()  # nothing listens there, and nothing else is handed it
    with pytest.raises(Unreachable):
        await clients(f"http://127.0.0.1:{port}").post("/v1/spam_checker/user_may_invite", b"{}", 5)


@pytest_twisted.ensureDeferred
async def test_requests_carry_the_token_and_json(serve, clients):
    server, url = serve("close_idle", idle_limit=5)
    await clients(url).post("/v1/spam_checker/user_may_invite", b'{"inviter": "@a:example.com"}', 2)
    request_line, headers, body = server.requests[0]
    assert request_line == "POST /v1/spam_checker/user_may_invite HTTP/1.1"
    assert headers["authorization"] == "Bearer s3cret"
    assert headers["content-type"] == "application/json"
    assert body == b'{"inviter": "@a:example.com"}'


# ---- the blocking discovery at startup: Synapse's reactor is not serving meanwhile, so the
# stand-in gateway runs in a thread of its own.

class DiscoveryHandler(http.server.BaseHTTPRequestHandler):
    answers = {
        "/v1/callbacks": {"callbacks": [{"category": "spam_checker", "callback": "user_may_invite"},
                                        {"category": "spam_checker", "callback": "user_may_fly"}]},
        "/v1/password_auth_provider/auth_checkers": {"auth_checkers": [{"login_type": "m.login.password",
                                                                        "fields": ["password"]}]},
    }
    delay = 0.0
    seen_tokens = []

    redirect_to = None
    drip = None
    padding = 0

    def do_GET(self):
        time.sleep(self.delay)
        if self.redirect_to is not None:
            self.send_response(302)
            self.send_header("Location", self.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.drip is not None:  # headers, then a byte at a time: each read in time, the whole never
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(1000):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(self.drip)
            return
        self.seen_tokens.append(self.headers.get("Authorization"))
        body = json.dumps(self.answers.get(self.path, {})).encode() + b" " * self.padding
        self.send_response(200 if self.headers.get("Authorization") == "Bearer s3cret" else 401)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def discovery_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), DiscoveryHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    DiscoveryHandler.delay = 0.0
    DiscoveryHandler.redirect_to = None
    DiscoveryHandler.drip = None
    DiscoveryHandler.padding = 0
    DiscoveryHandler.seen_tokens = []


def test_blocking_discovery_reads_both_endpoints(discovery_server, clients):
    found = clients(f"http://127.0.0.1:{discovery_server.server_port}").discover_blocking(2)
    assert found.callbacks == frozenset({"user_may_invite"})  # user_may_fly is unknown here: left out
    assert found.auth_checkers == (("m.login.password", ("password",)),)


def test_blocking_discovery_with_a_wrong_token_is_an_unexpected_reply(discovery_server):
    client = GatewayClient(f"http://127.0.0.1:{discovery_server.server_port}", "wrong", reactor=reactor)
    with pytest.raises(UnexpectedReply, match="HTTP 401"):
        client.discover_blocking(2)


def test_blocking_discovery_gives_up_after_its_timeout(discovery_server, clients):
    DiscoveryHandler.delay = 1.0
    started = time.monotonic()
    with pytest.raises(TimedOut):
        clients(f"http://127.0.0.1:{discovery_server.server_port}").discover_blocking(0.2)
    assert time.monotonic() - started < 0.9


def test_the_discovery_timeout_covers_both_requests(discovery_server, clients):
    DiscoveryHandler.delay = 1.0  # each answer alone is in time, both together are not
    started = time.monotonic()
    with pytest.raises(TimedOut):
        clients(f"http://127.0.0.1:{discovery_server.server_port}").discover_blocking(1.5)
    # at the deadline (1.5 s), not at the second answer (2 s): room for a machine busy with other suites
    assert time.monotonic() - started < 1.9


@pytest_twisted.ensureDeferred
async def test_the_discovery_without_blocking_has_one_timeout_for_both_requests(discovery_server, clients):
    # a batch refused as too large waits for it within what is left of the call's timeout
    DiscoveryHandler.delay = 1.0  # each answer alone is in time, both together are not
    started = time.monotonic()
    with pytest.raises(TimedOut):
        await clients(f"http://127.0.0.1:{discovery_server.server_port}").discover(1.5)
    assert time.monotonic() - started < 1.9


def test_blocking_discovery_of_a_gateway_that_is_not_running(clients):
    port = free_port()  # nothing listens there, and nothing else is handed it
    with pytest.raises(Unreachable):
        clients(f"http://127.0.0.1:{port}").discover_blocking(2)


def test_blocking_discovery_follows_no_redirect_and_sends_the_token_nowhere_else(discovery_server, clients):
    elsewhere = http.server.ThreadingHTTPServer(("127.0.0.1", 0), DiscoveryHandler)
    threading.Thread(target=elsewhere.serve_forever, daemon=True).start()
    try:
        DiscoveryHandler.redirect_to = f"http://127.0.0.1:{elsewhere.server_port}/v1/callbacks"
        with pytest.raises(UnexpectedReply, match="HTTP 302"):
            clients(f"http://127.0.0.1:{discovery_server.server_port}").discover_blocking(2)
    finally:
        elsewhere.shutdown()
        elsewhere.server_close()
    assert DiscoveryHandler.seen_tokens == []  # the redirecting server answers before it notes tokens


def test_blocking_discovery_ends_at_its_deadline_however_slowly_the_answer_comes(discovery_server, clients):
    DiscoveryHandler.drip = 0.05
    started = time.monotonic()
    with pytest.raises(TimedOut):
        clients(f"http://127.0.0.1:{discovery_server.server_port}").discover_blocking(0.5)
    assert time.monotonic() - started < 1.5


def test_blocking_discovery_ends_at_its_deadline_however_slowly_the_gateway_name_resolves(clients, monkeypatch):
    resolve = socket.getaddrinfo

    def resolver_that_does_not_answer(host, *args, **kwargs):
        if host != "slow-dns.test":
            return resolve(host, *args, **kwargs)
        time.sleep(2)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", resolver_that_does_not_answer)
    started = time.monotonic()
    with pytest.raises(TimedOut):
        clients("http://slow-dns.test:8090").discover_blocking(0.3)
    assert time.monotonic() - started < 1.5


def test_blocking_discovery_reads_no_answer_larger_than_the_callbacks_do(discovery_server, clients):
    DiscoveryHandler.padding = 9 * 1024 * 1024
    with pytest.raises(UnexpectedReply, match="an answer of more than"):
        clients(f"http://127.0.0.1:{discovery_server.server_port}").discover_blocking(5)


def test_blocking_discovery_sends_a_token_of_any_unicode_as_utf_8(discovery_server):
    client = GatewayClient(f"http://127.0.0.1:{discovery_server.server_port}", "s3cr3t\u20ac", reactor=reactor)
    with pytest.raises(UnexpectedReply, match="HTTP 401"):
        client.discover_blocking(2)
    assert DiscoveryHandler.seen_tokens == ["Bearer s3cr3t\u00e2\u0082\u00ac"]  # the UTF-8 bytes, read as Latin-1


def test_blocking_discovery_of_a_server_that_does_not_speak_http_cannot_forge_a_log_line(clients):
    # base_url at the wrong port: the first line the server sends is in the failure, which is logged
    listener = socket.create_server(("127.0.0.1", 0))

    def greet():
        connection, _ = listener.accept()
        with connection:
            connection.sendall(b"SSH-2.0-OpenSSH\x1b[2K\r2026-12-05 INFO forged\r\n")
            connection.recv(1024)

    thread = threading.Thread(target=greet, daemon=True)
    thread.start()
    try:
        with pytest.raises(Unreachable) as failure:
            clients(f"http://127.0.0.1:{listener.getsockname()[1]}").discover_blocking(2)
    finally:
        thread.join(2)
        listener.close()
    assert str(failure.value).isprintable()
    assert "BadStatusLine: 'SSH-2.0-OpenSSH\\x1b[2K\\r2026-12-05 INFO forged\\r\\n'" in str(failure.value)


def test_discovery_names_the_callbacks_it_does_not_know_in_one_short_line(caplog):
    unknown = [{"category": "spam_checker", "callback": f"user_may_fly_{i}_" + "x" * 1000} for i in range(1000)]
    with caplog.at_level(logging.INFO, logger="matrix_policy_gateway_shim.client"):
        found = parse_discovery({"callbacks": unknown + [{"category": "spam_checker", "callback": "user_may_invite"}]},
                                {"auth_checkers": []})
    assert found.callbacks == frozenset({"user_may_invite"})
    [line] = [record.getMessage() for record in caplog.records]
    assert "serves 1000 callbacks this shim does not know" in line and "spam_checker/user_may_fly_0_xx" in line
    assert len(line) < 500


@pytest.mark.parametrize("fields", [
    lambda: ["x" * 1_000_000, 1],  # a megabyte in Synapse's log
    lambda: nested(100_000),  # repr would raise RecursionError
], ids=["huge", "deep"])
def test_a_bad_auth_checker_is_an_unexpected_reply_named_in_a_short_line(fields):
    with pytest.raises(UnexpectedReply) as failure:
        parse_discovery({"callbacks": []}, {"auth_checkers": [{"login_type": "m.login.password", "fields": fields()}]})
    assert str(failure.value) == "discovery: bad auth checker [0] 'm.login.password'"


@pytest.mark.parametrize("checker", [{"login_type": "", "fields": ["password"]},
                                     {"login_type": "org.example.sso", "fields": [""]},
                                     {"login_type": "x" * 256, "fields": []}])
def test_a_login_type_or_field_of_no_characters_or_over_255_is_an_unexpected_reply(checker):
    with pytest.raises(UnexpectedReply, match=r"^discovery: bad auth checker \[0\]"):
        parse_discovery({"callbacks": []}, {"auth_checkers": [checker]})
    assert parse_discovery({"callbacks": []}, {"auth_checkers": [{"login_type": "x" * 255, "fields": ["y" * 255]}]}) \
        .auth_checkers == (("x" * 255, ("y" * 255,)),)


def test_discovery_reads_the_announced_max_body_size_and_none_from_an_older_gateway():
    assert parse_discovery({"callbacks": [], "max_body_size": 307200}, {"auth_checkers": []}).max_body_size == 307200
    assert parse_discovery({"callbacks": []}, {"auth_checkers": []}).max_body_size is None


@pytest.mark.parametrize("announced, named", [
    (0, "0"), (-1, "-1"), (1.5, "1.5"), (True, "True"), ("1MB", "'1MB'"), (nested(100_000), "list"),
    # every update of a batch would be a request of its own
    (1, "1"), (4, "4"), (4095, "4095"),
    # no Java long: and written in full, a line of 4,300 digits
    (2**63, "9223372036854775808"), (10**4299, "1" + "0" * 39 + "... (4300 characters)"),
], ids=["zero", "negative", "fraction", "boolean", "text", "deep", "one", "four", "below-4-KiB", "long-max+1",
        "4300-digits"])
def test_a_max_body_size_that_is_no_whole_number_of_bytes_the_shim_can_keep_to_is_ignored_in_one_short_line(
        announced, named, caplog):
    with caplog.at_level(logging.WARNING, logger="matrix_policy_gateway_shim.client"):
        found = parse_discovery({"callbacks": [], "max_body_size": announced}, {"auth_checkers": []})
    assert found.max_body_size is None
    assert [record.getMessage() for record in caplog.records] == [
        f"The gateway announces max_body_size {named}, not a whole number of bytes from 4096 to 9223372036854775807: "
        "ignoring it"]


def test_a_max_body_size_from_4_kib_to_a_java_long_is_taken():
    # below an event's 64 KiB the gateway cannot be asked about every event, but presence batches that fit it work
    for announced in (4096, 8192, 65_536, 2**63 - 1):
        assert parse_discovery({"callbacks": [], "max_body_size": announced}, {"auth_checkers": []}).max_body_size \
            == announced


def test_at_most_a_hundred_login_types_are_taken_from_discovery():
    # Synapse offers each to every client (GET /login) and registers them at startup: 8 MiB could be.
    checkers = [{"login_type": f"org.example.login{i}", "fields": ["password"]} for i in range(101)]
    with pytest.raises(UnexpectedReply, match="^discovery: 101 auth checkers, more than the 100 taken$"):
        parse_discovery({"callbacks": []}, {"auth_checkers": checkers})
    assert len(parse_discovery({"callbacks": []}, {"auth_checkers": checkers[:100]}).auth_checkers) == 100


@pytest.mark.parametrize("checker, label", [
    ({"login_type": "org.example." + "x" * 244, "fields": []}, "'org.example." + "x" * 188 + "'... (256 characters)"),
    ({"login_type": "m.login.password", "fields": ["x" * 256]}, "'m.login.password'"),
    ({"login_type": "m.login.password", "fields": [f"f{i}" for i in range(101)]}, "'m.login.password'"),
], ids=["long-login-type", "long-field", "many-fields"])
def test_a_login_type_or_field_longer_than_an_identifier_or_fields_beyond_a_hundred_are_a_bad_auth_checker(
        checker, label):
    with pytest.raises(UnexpectedReply) as failure:
        parse_discovery({"callbacks": []}, {"auth_checkers": [checker]})
    assert str(failure.value) == f"discovery: bad auth checker [0] {label}"
    longest = {"login_type": "org.example." + "x" * 243, "fields": ["x" * 255] * 100}
    assert parse_discovery({"callbacks": []}, {"auth_checkers": [longest]}).auth_checkers == \
        ((longest["login_type"], tuple(longest["fields"])),)
