"""What the JD, Douyin and Kuaishou fake gateways share: a ThreadingHTTPServer on a free local
port (``tests.servers.http_server``), the calls it received, and the levers a test pulls: answer
the next calls with the platform's rate-limit error, hold the next answer (or every answer to the
methods in ``stall``) past the client's timeout (the call is recorded and carried out first: it
reached the platform), or change a request's version between a read and a write."""

from __future__ import annotations

import contextlib
import json
import threading
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from tests.servers import http_server

DATA = Path(__file__).parent / "data"


@dataclass
class Call:
    method: str
    params: dict[str, Any]


def recorded(platform: str, name: str) -> Any:
    """A recorded answer (or its data) from ``tests/fakes/data/<platform>/<name>.json``."""
    return json.loads((DATA / platform / f"{name}.json").read_text(encoding="utf-8"))


class FakeGateway:
    """Subclasses answer ``respond(path, query, headers, body) -> dict`` and record each call
    with ``self.calls.append``; the base class runs the server and the levers."""

    def __init__(self):
        self.calls: list[Call] = []
        self.rate_limited = 0  # answer this many next calls with the rate-limit error
        self.hold_next = False  # hold the next answer until the test ends (past any timeout)
        self.stall: set[str] = set()  # hold the answers to these methods, as ``hold_next`` does
        self.released = threading.Event()
        self.url = ""

    def methods(self) -> list[str]:
        return [call.method for call in self.calls]

    def respond(self, path: str, query: dict[str, str], headers, body: bytes) -> dict:
        raise NotImplementedError

    def take_rate_limit(self) -> bool:
        if self.rate_limited > 0:
            self.rate_limited -= 1
            return True
        return False

    def take_hold(self, method: str) -> bool:
        held, self.hold_next = self.hold_next, False
        return held or method in self.stall

    def handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                parts = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
                recorded_before = len(fake.calls)
                answer = fake.respond(parts.path, query, self.headers, body)
                method = fake.calls[-1].method if len(fake.calls) > recorded_before else ""
                if fake.take_hold(method):
                    # The call reached the platform (it is recorded); the answer never comes in
                    # time. Released when the server stops.
                    fake.released.wait(timeout=30)
                    return
                payload = json.dumps(answer, ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        return Handler


@contextlib.contextmanager
def running(fake: FakeGateway):
    with http_server(fake.handler()) as server:
        fake.url = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            yield fake
        finally:
            fake.released.set()
