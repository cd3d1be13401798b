"""A Matrix client over the client-server API, as an app would use it: plain HTTP and JSON."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any, Dict, Optional


class MatrixError(Exception):
    """A non-2xx answer from the homeserver."""

    def __init__(self, status: int, body: Any, method: str, path: str) -> None:
        self.status = status
        self.body = body if isinstance(body, dict) else {"raw": body}
        self.errcode = self.body.get("errcode")
        super().__init__(f"{method} {path}: HTTP {status} {body}")


class Homeserver:
    """Unauthenticated calls to one homeserver's client API."""

    def __init__(self, url: str, server_name: str) -> None:
        self.url = url
        self.server_name = server_name

    def request(self, method: str, path: str, body: Any = None, token: Optional[str] = None,
                raw: Optional[bytes] = None, content_type: str = "application/json", timeout: float = 60) -> Any:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", content_type)
        if token:
            request.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                text = response.read()
                return json.loads(text) if text else {}
        except urllib.error.HTTPError as error:
            text = error.read()
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = text.decode(errors="replace")
            raise MatrixError(error.code, parsed, method, path) from None

    def register(self, localpart: str, password: str = "correct horse battery staple", **extra: Any) -> "User":
        body = {"username": localpart, "password": password, "auth": {"type": "m.login.dummy"},
                "initial_device_display_name": "e2e"}
        body.update(extra)
        answer = self.request("POST", "/_matrix/client/v3/register", body)
        return User(self, answer["user_id"], answer["access_token"], answer.get("device_id"))

    def register_admin(self, localpart: str, shared_secret: str, password: str = "admin password") -> "User":
        """The admin API's shared-secret registration, as ``register_new_matrix_user`` does it."""
        nonce = self.request("GET", "/_synapse/admin/v1/register")["nonce"]
        mac = hmac.new(shared_secret.encode(), digestmod=hashlib.sha1)
        mac.update(b"\x00".join([nonce.encode(), localpart.encode(), password.encode(), b"admin"]))
        answer = self.request("POST", "/_synapse/admin/v1/register", {
            "nonce": nonce, "username": localpart, "password": password, "admin": True, "mac": mac.hexdigest()})
        return User(self, answer["user_id"], answer["access_token"], answer.get("device_id"))

    def login(self, identifier: Dict[str, Any], password: str, **extra: Any) -> "User":
        body = {"type": "m.login.password", "identifier": identifier, "password": password}
        body.update(extra)
        answer = self.request("POST", "/_matrix/client/v3/login", body)
        return User(self, answer["user_id"], answer["access_token"], answer.get("device_id"))

    def login_user(self, user: str, password: str) -> "User":
        return self.login({"type": "m.id.user", "user": user}, password)


class User:
    """A logged-in device."""

    def __init__(self, server: Homeserver, user_id: str, token: str, device_id: Optional[str]) -> None:
        self.server = server
        self.user_id = user_id
        self.token = token
        self.device_id = device_id

    @property
    def localpart(self) -> str:
        return self.user_id[1:].split(":", 1)[0]

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.server.request(method, path, body, token=self.token, **kwargs)

    def create_room(self, **body: Any) -> str:
        return self.call("POST", "/_matrix/client/v3/createRoom", body)["room_id"]

    def invite(self, room_id: str, user_id: str) -> Any:
        return self.call("POST", f"/_matrix/client/v3/rooms/{q(room_id)}/invite", {"user_id": user_id})

    def join(self, room_id_or_alias: str) -> str:
        return self.call("POST", f"/_matrix/client/v3/join/{q(room_id_or_alias)}", {})["room_id"]

    def send(self, room_id: str, content: Dict[str, Any], event_type: str = "m.room.message") -> str:
        path = f"/_matrix/client/v3/rooms/{q(room_id)}/send/{q(event_type)}/{uuid.uuid4().hex}"
        return self.call("PUT", path, content)["event_id"]

    def say(self, room_id: str, text: str) -> str:
        return self.send(room_id, {"msgtype": "m.text", "body": text})

    def set_state(self, room_id: str, event_type: str, content: Dict[str, Any], state_key: str = "") -> str:
        path = f"/_matrix/client/v3/rooms/{q(room_id)}/state/{q(event_type)}/{q(state_key)}"
        return self.call("PUT", path, content)["event_id"]

    def redact(self, room_id: str, event_id: str, reason: Optional[str] = None) -> str:
        path = f"/_matrix/client/v3/rooms/{q(room_id)}/redact/{q(event_id)}/{uuid.uuid4().hex}"
        return self.call("PUT", path, {} if reason is None else {"reason": reason})["event_id"]

    def event(self, room_id: str, event_id: str) -> Dict[str, Any]:
        return self.call("GET", f"/_matrix/client/v3/rooms/{q(room_id)}/event/{q(event_id)}")

    def state(self, room_id: str, event_type: str, state_key: str = "") -> Dict[str, Any]:
        return self.call("GET", f"/_matrix/client/v3/rooms/{q(room_id)}/state/{q(event_type)}/{q(state_key)}")

    def messages(self, room_id: str, limit: int = 50) -> list:
        answer = self.call("GET", f"/_matrix/client/v3/rooms/{q(room_id)}/messages?dir=b&limit={limit}")
        return answer["chunk"]

    def sync(self, since: Optional[str] = None, timeout_ms: int = 0, **params: str) -> Dict[str, Any]:
        query = {"timeout": str(timeout_ms), **params}
        if since:
            query["since"] = since
        return self.call("GET", "/_matrix/client/v3/sync?" + urllib.parse.urlencode(query))

    def upload(self, data: bytes, content_type: str, filename: str = "file") -> str:
        return self.call("POST", f"/_matrix/media/v3/upload?filename={q(filename)}", raw=data,
                         content_type=content_type)["content_uri"]

    def logout(self) -> None:
        self.call("POST", "/_matrix/client/v3/logout", {})

    def whoami(self) -> Dict[str, Any]:
        return self.call("GET", "/_matrix/client/v3/account/whoami")


def q(value: str) -> str:
    return urllib.parse.quote(value, safe="")
