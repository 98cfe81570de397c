"""Real servers for the delivery tests, each on a free local port in a thread of the test process,
started and stopped by a fixture: an SMTP server (aiosmtpd), a webhook receiver that checks the
signature, and a fake Tencent Cloud SMS endpoint that checks TC3-HMAC-SHA256 and answers like the
provider."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import email
import email.policy
import hashlib
import hmac
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- SMTP ----------------------------------------------------------------------------------------


@dataclass
class Mailbox:
    """What the SMTP server accepted; ``stall_first`` holds the first message's DATA unanswered
    (until ``release`` or a minute) and then refuses it, as a server that hangs would."""

    messages: list[email.message.EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    stall_first: bool = False
    data_commands: int = 0
    stalled: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server, session, envelope):
        self.data_commands += 1
        if self.stall_first and self.data_commands == 1:
            self.stalled.set()
            give_up = time.monotonic() + 60
            while not self.release.is_set() and time.monotonic() < give_up:
                await asyncio.sleep(0.05)
            return "451 Requested action aborted: try again later"
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(
            email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        )
        return "250 Message accepted for delivery"


@contextlib.contextmanager
def smtp_server(mailbox: Mailbox):
    threads_before = set(threading.enumerate())
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller
    finally:
        mailbox.release.set()
        controller.stop()
        leftover = [t for t in threading.enumerate() if t not in threads_before and t.is_alive()]
        assert not leftover, f"the SMTP server left threads running: {leftover}"


# --- HTTP ----------------------------------------------------------------------------------------


@contextlib.contextmanager
def http_server(handler_class):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="test-http-server")
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        assert not thread.is_alive()


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    signature_valid: bool


class WebhookReceiver:
    """Answers each POST with the next status of ``statuses`` (the last one repeats) and keeps
    what arrived, with whether its signature was right for ``secret``."""

    def __init__(self):
        self.secret = ""
        self.statuses = [200]
        self.received: list[Received] = []

    def check(self, headers, body: bytes) -> bool:
        timestamp = headers.get("X-Aftersales-Timestamp", "")
        given = headers.get("X-Aftersales-Signature", "")
        expected = hmac.new(
            self.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
        ).hexdigest()
        return hmac.compare_digest(given, f"sha256={expected}")

    def handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.received.append(
                    Received(dict(self.headers), body, receiver.check(self.headers, body))
                )
                index = min(len(receiver.received), len(receiver.statuses)) - 1
                self.send_response(receiver.statuses[index])
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        return Handler


# --- Tencent Cloud SMS ---------------------------------------------------------------------------


def tc3_expected(secret_key: str, headers, body: bytes) -> str:
    """The signature the provider computes for a request, written from its documentation
    (independently of the product's signer)."""
    authorization = headers["Authorization"]
    credential = authorization.split("Credential=", 1)[1].split(",", 1)[0]
    _secret_id, date, service, _terminator = credential.split("/")
    signed_headers = authorization.split("SignedHeaders=", 1)[1].split(",", 1)[0]
    canonical_headers = "".join(
        f"{name}:{headers[name].strip().lower()}\n" for name in signed_headers.split(";")
    )
    canonical = (
        f"POST\n/\n\n{canonical_headers}\n{signed_headers}\n{hashlib.sha256(body).hexdigest()}"
    )
    timestamp = headers["X-TC-Timestamp"]
    assert dt.datetime.fromtimestamp(int(timestamp), dt.UTC).strftime("%Y-%m-%d") == date
    to_sign = (
        f"TC3-HMAC-SHA256\n{timestamp}\n{date}/{service}/tc3_request\n"
        f"{hashlib.sha256(canonical.encode()).hexdigest()}"
    )
    key = ("TC3" + secret_key).encode()
    for part in (date, service, "tc3_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


class FakeTencentSms:
    """``sms.tencentcloudapi.com`` as far as ``SendSms`` goes: a wrong signature is refused with
    ``AuthFailure.SignatureFailure``; a number in ``refused_numbers`` gets
    ``InvalidParameterValue.IncorrectPhoneNumber`` in its send status; any other number ``Ok``."""

    def __init__(self, secret_key: str):
        self.secret_key = secret_key
        self.refused_numbers: set[str] = set()
        self.requests: list[tuple[dict[str, str], dict]] = []

    def answer(self, headers, body: bytes) -> dict:
        request_id = f"req-{len(self.requests)}"
        given = headers.get("Authorization", "").rsplit("Signature=", 1)[-1]
        if headers.get("X-TC-Action") != "SendSms" or not hmac.compare_digest(
            given, tc3_expected(self.secret_key, headers, body)
        ):
            return {
                "Response": {
                    "Error": {
                        "Code": "AuthFailure.SignatureFailure",
                        "Message": "The provided credentials could not be validated.",
                    },
                    "RequestId": request_id,
                }
            }
        data = json.loads(body)
        statuses = []
        for number in data["PhoneNumberSet"]:
            refused = number in self.refused_numbers
            statuses.append(
                {
                    "SerialNo": "" if refused else f"2028:{len(self.requests)}",
                    "PhoneNumber": number,
                    "Fee": 0 if refused else 1,
                    "SessionContext": data.get("SessionContext", ""),
                    "Code": "InvalidParameterValue.IncorrectPhoneNumber" if refused else "Ok",
                    "Message": "incorrect number" if refused else "send success",
                    "IsoCode": "CN",
                }
            )
        return {"Response": {"SendStatusSet": statuses, "RequestId": request_id}}

    def handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {
                    "Authorization": self.headers.get("Authorization", ""),
                    "content-type": self.headers.get("Content-Type", ""),
                    "host": self.headers.get("Host", ""),
                    "X-TC-Action": self.headers.get("X-TC-Action", ""),
                    "X-TC-Timestamp": self.headers.get("X-TC-Timestamp", "0"),
                    "X-TC-Version": self.headers.get("X-TC-Version", ""),
                }
                answer = fake.answer(headers, body)
                fake.requests.append((headers, json.loads(body or b"{}")))
                payload = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        return Handler
