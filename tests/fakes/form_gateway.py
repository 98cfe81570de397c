"""What the form-POST gateways' fakes (TOP, Pinduoduo) share: a threaded HTTP server on a free
local port, every call recorded, and the knobs a test turns — refuse the next calls as rate
limited, hold a method's answer until the client has given up (the call still takes effect, as
on a real platform whose answer was lost)."""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from tests.servers import http_server

DATA = Path(__file__).parent / "data"


def load(platform: str, name: str) -> Any:
    return json.loads((DATA / platform / name).read_text(encoding="utf-8"))


@dataclass
class Call:
    method: str
    params: dict[str, str]
    files: dict[str, bytes] = field(default_factory=dict)


def parse_body(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, bytes]]:
    if content_type.startswith("multipart/form-data"):
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        params: dict[str, str] = {}
        files: dict[str, bytes] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            content = part.get_payload(decode=True) or b""
            if part.get_filename():
                files[name] = content
            else:
                params[name] = content.decode()
        return params, files
    pairs = urllib.parse.parse_qsl(body.decode(), keep_blank_values=True)
    return dict(pairs), {}


class FakeGateway:
    """Subclasses name the parameter that carries the method (``method_param``) and answer one
    call in ``answer``; ``rate_limited`` answers the next N calls with the platform's limit."""

    method_param = "method"

    def __init__(self):
        self.calls: list[Call] = []
        self.rate_limited = 0
        self.stall: set[str] = set()
        self.stalled = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.answered = threading.Condition()
        self.answers: list[str] = []
        self.url = ""

    def answer(self, params: dict[str, str], files: dict[str, bytes]) -> dict:
        raise NotImplementedError

    def limited(self) -> bool:
        if self.rate_limited > 0:
            self.rate_limited -= 1
            return True
        return False

    def methods(self) -> list[str]:
        return [call.method for call in self.calls]

    def wait_answered(self, method: str) -> None:
        """Until the fake has acted on a call of ``method`` (one held past the client's timeout
        takes effect when released)."""
        with self.answered:
            assert self.answered.wait_for(lambda: method in self.answers, timeout=10)

    def handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                params, files = parse_body(self.headers.get("Content-Type", ""), body)
                method = params.get(fake.method_param, "")
                with fake.lock:
                    fake.calls.append(Call(method, params, files))
                if method in fake.stall:
                    fake.stalled.set()
                    fake.release.wait(timeout=30)
                with fake.lock:
                    answer = fake.answer(params, files)
                with fake.answered:
                    fake.answers.append(method)
                    fake.answered.notify_all()
                payload = json.dumps(answer, ensure_ascii=False).encode()
                with contextlib.suppress(OSError):  # the client may have given up
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json;charset=UTF-8")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)

            def log_message(self, *args):
                pass

        return Handler

    @contextlib.contextmanager
    def serve(self, path: str):
        with http_server(self.handler()) as server:
            self.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
            try:
                yield self
            finally:
                self.release.set()
