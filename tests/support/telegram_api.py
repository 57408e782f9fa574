"""A Telegram Bot API on 127.0.0.1 for the telegram channel's tests.

A real HTTP server in a thread, answering as the Bot API documents
(https://core.telegram.org/bots/api#making-requests): `POST /bot<token>/<method>`
with a JSON body (or multipart/form-data for files), answered `{"ok": true, "result"}`
or `{"ok": false, "error_code", "description", "parameters"}`. Every request is
checked (HTTP method, the token in the path, the body's required fields) and kept in
`calls`; what did not pass is in `problems`, which every test expects empty.
Answers can be scripted per method (`fail_next`), updates queued for getUpdates.
"""

from __future__ import annotations

import http.server
import itertools
import json
import threading
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

REQUIRED = {
    "getMe": (),
    "setWebhook": ("url", "secret_token"),
    "deleteWebhook": (),
    "getUpdates": (),
    "getFile": ("file_id",),
    "sendMessage": ("chat_id", "text"),
    "sendPhoto": ("chat_id", "photo"),
    "sendDocument": ("chat_id", "document"),
    "sendChatAction": ("chat_id", "action"),
}


@dataclass
class Call:
    method: str
    body: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    accepted: bool = False  # answered ok


class BotApi:
    def __init__(self, token: str, username: str = "pasticceria_rossi_bot", https_only: bool = True) -> None:
        self.token = token
        self.username = username
        # Telegram refuses a webhook URL that is not https ("bad webhook"); an acceptance
        # checker's stand-in may take any URL (https_only=False).
        self.https_only = https_only
        self.bot_id = int(token.split(":", 1)[0])
        self.calls: list[Call] = []
        self.problems: list[str] = []
        self.scripted: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self.updates: list[dict[str, Any]] = []
        self.files: dict[str, bytes] = {}
        self._ids = itertools.count(500)
        self._lock = threading.Lock()
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                status, answer = api._handle(self)
                self._answer(status, json.dumps(answer).encode(), "application/json")

            def do_GET(self) -> None:
                prefix = f"/file/bot{api.token}/"
                content = api.files.get(self.path.removeprefix(prefix)) if self.path.startswith(prefix) else None
                if content is None:
                    self._answer(404, b"Not Found", "text/plain")
                else:
                    self._answer(200, content, "application/octet-stream")

            def _answer(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- what tests use ----------------------------------------------------------------

    def fail_next(self, method: str, status: int, description: str, **parameters: Any) -> None:
        """The next call of `method` answers this error (then the usual answer again)."""
        answer: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            answer["parameters"] = parameters
        self.scripted.setdefault(method, []).append((status, answer))

    def sent(self, method: str = "sendMessage") -> list[Call]:
        """The calls of `method` that the API accepted."""
        return [c for c in self.calls if c.method == method and c.accepted]

    def methods(self) -> list[str]:
        return [c.method for c in self.calls]

    # -- the server side ----------------------------------------------------------------

    def _handle(self, request: http.server.BaseHTTPRequestHandler) -> tuple[int, dict[str, Any]]:
        token, _, method = request.path.removeprefix("/bot").partition("/")
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length)
        body, files = self._body(request.headers.get("Content-Type", ""), raw)
        call = Call(method, body, files)
        with self._lock:
            self.calls.append(call)
        if not request.path.startswith("/bot"):
            self.problems.append(f"path {request.path!r} is not /bot<token>/<method>")
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        if token != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        if method not in REQUIRED:
            self.problems.append(f"unexpected method {method}")
            return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
        missing = [name for name in REQUIRED[method] if name not in body and name not in files]
        if missing:
            self.problems.append(f"{method} without {', '.join(missing)}")
            return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {missing[0]} is empty"}
        with self._lock:
            scripted = self.scripted.get(method)
            if scripted:
                return scripted.pop(0)
        if method == "setWebhook" and self.https_only and not str(body["url"]).startswith("https://"):
            description = "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            return 400, {"ok": False, "error_code": 400, "description": description}
        call.accepted = True
        return 200, {"ok": True, "result": self._result(method, body, files)}

    def _body(self, content_type: str, raw: bytes) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
        if content_type.startswith("application/json"):
            try:
                data = json.loads(raw or b"{}")
            except ValueError:
                self.problems.append("a body that is not JSON")
                return {}, {}
            return (data, {}) if isinstance(data, dict) else ({}, {})
        if content_type.startswith("multipart/form-data"):
            message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
            body: dict[str, Any] = {}
            files: dict[str, tuple[str, bytes]] = {}
            for part in message.iter_parts():  # type: ignore[attr-defined]
                name = part.get_param("name", header="content-disposition")
                filename = part.get_filename()
                content = part.get_payload(decode=True) or b""
                if filename:
                    files[name] = (filename, content)
                else:
                    body[name] = content.decode()
            return body, files
        self.problems.append(f"content type {content_type!r}")
        return {}, {}

    def _result(self, method: str, body: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
        if method == "getMe":
            return {"id": self.bot_id, "is_bot": True, "first_name": "Pasticceria Rossi", "username": self.username}
        if method in ("setWebhook", "deleteWebhook"):
            return True
        if method == "getUpdates":
            offset = int(body.get("offset") or 0)
            with self._lock:
                # Telegram forgets the updates below the offset: they are confirmed.
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
                return list(self.updates)
        if method == "sendChatAction":
            return True
        if method == "getFile":
            return {
                "file_id": body["file_id"],
                "file_unique_id": "u" + body["file_id"],
                "file_path": f"files/{body['file_id']}",
            }
        chat = {"id": int(body["chat_id"]), "type": "private"}
        return {"message_id": next(self._ids), "date": 1764856800, "chat": chat, "text": body.get("text", "")}
