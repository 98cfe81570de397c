"""Webhooks to shops: the event's JSON, its signature, the address check and the POST.

Every request carries ``X-Aftersales-Timestamp`` (Unix seconds), ``X-Aftersales-Signature:
sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`` and ``X-Aftersales-Delivery`` (the
delivery's id: the same on every retry and replay, so a receiver can drop what it already has).
A 2xx answer is delivered; anything else, a redirect included, is a failure to retry.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.utils.translation import gettext as _

from aftersales.core import clock
from aftersales.core.errors import InvalidInput
from aftersales.core.models import Notice

USER_AGENT = "aftersales-webhooks/1"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def event_payload(notice: Notice, shop_code: str) -> dict:
    """The event as the receiver reads it; built from the notice alone, so a retry or a replay
    sends the same event."""
    data = {key: value for key, value in notice.payload.items() if key != "number"}
    return {
        "id": notice.id,
        "type": notice.kind,
        "created_at": notice.created_at.isoformat().replace("+00:00", "Z"),
        "shop": shop_code,
        "subject": {"type": notice.subject_type.model, "number": notice.payload.get("number")},
        "data": data,
    }


def event_body(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _refuse(detail: str, code: str) -> InvalidInput:
    return InvalidInput(detail, code=code, field="url")


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return ip.is_global and not ip.is_multicast


def webhook_url_check(url: str) -> str:
    """``url`` if webhooks may go there: http or https, a host, and unless
    ``AFTERSALES_WEBHOOK_ALLOW_PRIVATE``, only public addresses (no loopback, private network,
    link-local or cloud metadata address), so a shop cannot make the server call inside its own
    network."""
    url = url.strip()
    try:
        parts = urllib.parse.urlsplit(url)
        hostname = parts.hostname
    except ValueError:
        hostname = None
    if (
        hostname is None
        or parts.scheme not in ("http", "https")
        or any(ch.isspace() or ord(ch) < 32 for ch in url)
    ):
        raise _refuse(_("A webhook URL must start with http:// or https://."), "invalid_url")
    if parts.username or parts.password:
        raise _refuse(_("A webhook URL may not carry a user name or password."), "invalid_url")
    if settings.AFTERSALES_WEBHOOK_ALLOW_PRIVATE:
        return url
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = {info[4][0] for info in socket.getaddrinfo(hostname, port)}
    except (OSError, ValueError, UnicodeError):
        raise _refuse(
            _("The webhook URL's host name cannot be resolved."), "webhook_url_unresolvable"
        ) from None
    if not addresses or not all(_is_public(address) for address in addresses):
        raise _refuse(
            _("Webhooks may only go to public internet addresses."), "webhook_url_private"
        )
    return url


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is answered as the failure it is


_opener = urllib.request.build_opener(_NoRedirects)


class WebhookFailed(Exception):
    """The receiver did not answer 2xx (or could not be reached)."""


def webhook_post(*, url: str, secret: str, delivery_id: int, body: bytes) -> int:
    """POST one event; returns the receiver's 2xx status or raises ``WebhookFailed``."""
    try:
        webhook_url_check(url)
    except InvalidInput as refusal:
        raise WebhookFailed(str(refusal.detail)) from None
    timestamp = str(int(clock.now().timestamp()))
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "X-Aftersales-Timestamp": timestamp,
            "X-Aftersales-Signature": signature(secret, timestamp, body),
            "X-Aftersales-Delivery": str(delivery_id),
        },
    )
    try:
        with _opener.open(request, timeout=settings.AFTERSALES_WEBHOOK_TIMEOUT) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        raise WebhookFailed(f"HTTP {error.code}") from None
    except (OSError, ValueError) as error:
        raise WebhookFailed(str(getattr(error, "reason", error))) from None
    if not 200 <= status < 300:
        raise WebhookFailed(f"HTTP {status}")
    return status
