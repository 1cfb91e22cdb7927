"""A provider on loopback that replays documents: per-path answers, slow drips, request log.

Tests register answers per path (``server.answer(path, body)``) or a function of the request
(``server.route(path, fn)``); ``fn(request)`` returns a :class:`Reply`. Every request is logged
with its method, path, query and body, so tests can assert what a harvester asked for.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]


@dataclass
class Reply:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    # Slow answers: send ``drip`` bytes every ``pause`` seconds.
    drip: int = 0
    pause: float = 0.0
    # Claimed Content-Length (None: the real one; -1: none, the body is streamed until close).
    length: int | None = None


Handler = Callable[[Request], Reply]


class Replay:
    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.log: list[Request] = []
        self.lock = threading.Lock()
        # Set on stop: a slow drip ends instead of holding a client's thread after the test.
        self.stopped = threading.Event()
        handler = type("H", (_Handler,), {"replay": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def route(self, path: str, handler: Handler) -> None:
        """Answer ``path`` with ``handler``; a path ending in ``*`` answers every path below it."""
        self.routes[path] = handler

    def prefixed(self, path: str) -> Handler | None:
        for pattern, handler in self.routes.items():
            if pattern.endswith("*") and path.startswith(pattern[:-1]):
                return handler
        return None

    def answer(self, path: str, body: bytes | str | dict[str, Any], **kw: Any) -> None:
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        data = data.encode() if isinstance(data, str) else data
        self.routes[path] = lambda _request: Reply(data, **kw)

    def requests(self, path: str) -> list[Request]:
        with self.lock:
            return [r for r in self.log if r.path == path]

    def stop(self) -> None:
        self.stopped.set()
        self.server.shutdown()
        self.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    replay: Replay
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        self._handle(None)

    def do_POST(self) -> None:
        size = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(size) if size else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        self._handle(body)

    def _handle(self, body: Any) -> None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        request = Request(self.command, parts.path, query, body, dict(self.headers))
        with self.replay.lock:
            self.replay.log.append(request)
        handler = self.replay.routes.get(parts.path) or self.replay.prefixed(parts.path)
        reply = handler(request) if handler else Reply(b"not found", status=404)
        try:
            self._send(reply)
        except (BrokenPipeError, ConnectionResetError):
            return

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.length == -1:
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            size = len(reply.body) if reply.length is None else reply.length
            self.send_header("Content-Length", str(size))
        self.end_headers()
        if not reply.drip:
            self.wfile.write(reply.body)
            return
        for start in range(0, len(reply.body), reply.drip):
            if self.replay.stopped.is_set():
                return
            self.wfile.write(reply.body[start : start + reply.drip])
            self.wfile.flush()
            time.sleep(reply.pause)


@pytest.fixture
def replay() -> Iterator[Replay]:
    server = Replay()
    try:
        yield server
    finally:
        server.stop()
