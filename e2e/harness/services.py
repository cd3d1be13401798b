"""The real HTTP services the gateway's built-in modules and Synapse talk to, in one local
server: the ``http`` module's policy service, the ``event_censor`` censor, the
``threepid_checker`` directory, the ``audit_webhook`` receiver, and a minimal identity server
for third-party invites (Synapse looks 3PIDs up there; Sydent cannot run here).

Every request is recorded, so a test can say what reached which service.
"""

from __future__ import annotations

import base64
import json
import ssl
import threading
import time
import urllib.parse
from pathlib import Path
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Set, Tuple

Answer = Tuple[int, Any]


class Services:
    def __init__(self, certificate: Path, key: Path) -> None:
        self.lock = threading.Lock()
        self.requests: List[Tuple[str, Dict[str, Any]]] = []
        self.audit: List[Dict[str, Any]] = []
        self.server_name = ""  # the homeserver the 3PID directory binds addresses to
        self.banned_media: Set[str] = set()
        self.protected_rooms: Set[str] = set()
        self.threepid_logins: Dict[Tuple[str, str, str], str] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        # Synapse asks identity servers over HTTPS only (and does not check their certificate
        # under use_insecure_ssl_client_just_for_testing_do_not_use).
        self._identity = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._identity.daemon_threads = True
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(certificate, key)
        self._identity.socket = tls.wrap_socket(self._identity.socket, server_side=True)
        self.identity_server = f"127.0.0.1:{self._identity.server_address[1]}"
        for name, server in (("e2e-services", self._server), ("e2e-identity", self._identity)):
            threading.Thread(target=server.serve_forever, name=name, daemon=True).start()

    def close(self) -> None:
        for server in (self._server, self._identity):
            server.shutdown()
            server.server_close()

    # ---- what tests read

    def calls(self, path: str) -> List[Dict[str, Any]]:
        with self.lock:
            return [body for seen, body in self.requests if seen == path]

    def audit_records(self, callback: str) -> List[Dict[str, Any]]:
        with self.lock:
            return [record for record in self.audit if record.get("callback") == callback]

    def wait_for_audit(self, callback: str, matches: Callable[[Dict[str, Any]], bool],
                       timeout: float = 20) -> Dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for record in self.audit_records(callback):
                if matches(record):
                    return record
            time.sleep(0.1)
        raise AssertionError(f"no {callback} record matching the test reached the audit webhook in {timeout}s; "
                             f"received: {[r.get('callback') for r in self.audit]}")

    # ---- the policy service (the http module's contract)

    def policy(self, callback: str, args: Dict[str, Any]) -> Answer:
        rule = getattr(self, "_" + callback, None)
        if rule is None:
            return 404, {"errcode": "M_UNRECOGNIZED", "error": f"no rule for {callback}"}
        return rule(args)

    @staticmethod
    def _verdict(refused: bool, errcode: str = "M_FORBIDDEN") -> Answer:
        return (403, {"errcode": errcode, "error": "refused by the e2e policy service"}) if refused \
            else (200, {"result": "NOT_SPAM"})

    def _user_may_send_3pid_invite(self, args: Dict[str, Any]) -> Answer:
        return self._verdict(args["address"].startswith("spam"))

    def _user_may_create_room_alias(self, args: Dict[str, Any]) -> Answer:
        return self._verdict(args["room_alias"].startswith("#forbidden"))

    def _user_may_publish_room(self, args: Dict[str, Any]) -> Answer:
        return self._verdict(_localpart(args["user_id"]).startswith("quiet-"))

    def _check_username_for_spam(self, args: Dict[str, Any]) -> Answer:
        return 200, {"result": "hidden" in (args["user_profile"].get("display_name") or "")}

    def _check_registration_for_spam(self, args: Dict[str, Any]) -> Answer:
        username = args.get("username") or ""
        return 200, {"result": "SHADOW_BAN" if username.startswith("shadow-")
                     else "DENY" if username.startswith("denied-") else "ALLOW"}

    def _check_media_file_for_spam(self, args: Dict[str, Any]) -> Answer:
        return self._verdict(args["file"]["sha256"] in self.banned_media)

    def _should_drop_federated_event(self, args: Dict[str, Any]) -> Answer:
        return 200, {"result": "drop-me" in json.dumps(args["event"].get("content", {}))}

    def _check_threepid_can_be_invited(self, args: Dict[str, Any]) -> Answer:
        return 200, {"result": not args["address"].startswith("blocked")}

    def _check_visibility_can_be_modified(self, args: Dict[str, Any]) -> Answer:
        names = [e["content"].get("name", "") for e in args["state_events"] if e["type"] == "m.room.name"]
        return 200, {"result": not any("secret" in name for name in names)}

    def _check_can_shutdown_room(self, args: Dict[str, Any]) -> Answer:
        return 200, {"result": args["room_id"] not in self.protected_rooms}

    def _check_can_deactivate_user(self, args: Dict[str, Any]) -> Answer:
        return 200, {"result": not _localpart(args["user_id"]).startswith("keep-")}

    def _on_create_room(self, args: Dict[str, Any]) -> Answer:
        content = dict(args["request_content"])
        name = content.get("name", "")
        if "no-rooms" in name:
            return 403, {"errcode": "M_FORBIDDEN", "error": "This kind of room is not allowed here"}
        if "rewrite-me" in name:
            content["topic"] = "Set by the policy service"
            return 200, {"result": {"request_content": content}}
        return 200, {"result": {"request_content": None}}

    def _get_username_for_registration(self, args: Dict[str, Any]) -> Answer:
        username = (args.get("params") or {}).get("username") or ""
        return 200, {"result": "renamed-" + username[len("rename-"):] if username.startswith("rename-") else None}

    def _get_displayname_for_registration(self, args: Dict[str, Any]) -> Answer:
        username = (args.get("params") or {}).get("username") or ""
        return 200, {"result": "Named by policy" if username.startswith("rename-") else None}

    def _is_user_expired(self, args: Dict[str, Any]) -> Answer:
        return 200, {"result": True if _localpart(args["user"]).startswith("expired-") else None}

    def _check_3pid_auth(self, args: Dict[str, Any]) -> Answer:
        return 200, {"result": self.threepid_logins.get((args["medium"], args["address"], args["password"]))}

    # ---- the other backends

    def threepid_directory(self, query: Dict[str, str]) -> Answer:
        """synapse-3pid-checker's contract: bound here, except addresses that say "denied" and
        phone numbers ending in 0000, which belong elsewhere."""
        address = query.get("address", "")
        elsewhere = "denied" in address or (query.get("medium") == "msisdn" and address.endswith("0000"))
        return 200, {"hs": "elsewhere.example" if elsewhere else self.server_name}

    @staticmethod
    def censor(event: Dict[str, Any]) -> Answer:
        body = (event.get("content") or {}).get("body", "")
        if "forbidden-word" in body:
            return 200, {"allowed": False}
        if "censor-me" in body:
            return 200, {"content": dict(event["content"], body=body.replace("censor-me", "[censored]"))}
        return 200, {}

    # ---- identity server (lookups find nobody; invites are stored)

    def identity(self, method: str, path: str, body: Dict[str, Any]) -> Answer:
        if path == "/_matrix/identity/v2/hash_details":
            return 200, {"algorithms": ["none"], "lookup_pepper": "e2e"}
        if path == "/_matrix/identity/v2/lookup":
            return 200, {"mappings": {}}
        if path == "/_matrix/identity/v2/store-invite":
            key = base64.b64encode(b"\x01" * 32).decode().rstrip("=")
            return 200, {"token": "invite-" + str(len(self.requests)), "display_name": "a...@e...",
                         "public_key": key,
                         "public_keys": [{"public_key": key, "key_validity_url": f"https://{self.identity_server}/isvalid"}]}
        return 404, {"errcode": "M_UNRECOGNIZED", "error": "not served here"}

    # ---- HTTP

    def _handler(self) -> type:
        services = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # the test report says what matters
                pass

            def _answer(self, answer: Answer) -> None:
                send_json(self, answer)

            def _body(self) -> Dict[str, Any]:
                length = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(length) or b"{}")

            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                with services.lock:
                    services.requests.append((url.path, query))
                if url.path == "/3pid":
                    self._answer(services.threepid_directory(query))
                else:
                    self._answer(services.identity("GET", url.path, query))

            def do_POST(self) -> None:
                path = urllib.parse.urlsplit(self.path).path
                body = self._body()
                with services.lock:
                    services.requests.append((path, body))
                    if path == "/audit":
                        services.audit.append(body)
                if path == "/audit":
                    self._answer((200, {}))
                elif path == "/censor":
                    self._answer(services.censor(body))
                elif path.startswith("/policy/"):
                    self._answer(services.policy(path.rsplit("/", 1)[1], body))
                else:
                    self._answer(services.identity("POST", path, body))

        return Handler


def send_json(handler: BaseHTTPRequestHandler, answer: Answer) -> None:
    """Answers ``handler``'s request with ``answer``, a status and its JSON body."""
    status, body = answer
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def _localpart(user_id: str) -> str:
    return user_id[1:].split(":", 1)[0]
