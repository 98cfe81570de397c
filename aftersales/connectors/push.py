"""Push messages from the platforms, received at ``POST /connectors/push/<platform>/<store id>``:
a reason to read a request again, never its content.

A push is checked as its platform signs it, with the store's keys, before anything is read from
it. Each after-sales message it carries names a request (and its order); the request is read
again from the platform by a durable task (``tasks.refresh_request``) and kept as any read is
(``sync.land``: the platform's modified time and version decide, so duplicates and messages out of
order end in the platform's latest state). Other messages (orders, products) are acknowledged and
ignored, and so are messages about another account than the store's. A paused store acknowledges
its pushes and reads nothing (its next sync after it resumes reads every change). A read already
waiting in the queue for the same request is not queued twice.

How each platform signs (``docs/connectors.md``):

- Douyin (抖店) posts a JSON array of ``{tag, msg_id, data}`` with the header ``event-sign``:
  md5 of ``app_key + body + app_secret`` in hex (``sign-method: hmac-sha256``: HMAC-SHA256 of the
  same text keyed by the app secret). After-sales messages carry ``aftersale_id``. It wants
  ``{"code": 0, "msg": "success"}``.
- Kuaishou posts its message encrypted: base64 of AES-CBC (zero IV, PKCS#7) under the app's
  message secret (base64 in the store's keys, ``message_secret``). A body that does not open to
  the store's ``appKey`` is refused. After-sales events are ``kwaishop_aftersales_*``, their
  ``info`` naming ``refundId`` and ``oid``. It wants ``{"result": 1}``.
- Taobao and Tmall (TMC), Pinduoduo (its message service) and JD (JOS messages) deliver over a
  long connection that a consumer holds, not to a URL. Their messages are taken from a relay: the
  shop's consumer posts each one as a form — ``topic`` (Pinduoduo: ``type``), ``content`` (the
  message's JSON), and the platform's own system fields and signature over all of them with the
  store's app secret: TOP's ``app_key``, ``timestamp`` (Beijing time), ``sign_method``, ``sign``;
  Pinduoduo's ``client_id``, ``timestamp`` (Unix seconds), ``sign``; JD's ``app_key``,
  ``timestamp``, ``sign``. A timestamp more than ten minutes from now is refused (a replay).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from aftersales.connectors import keys, tasks
from aftersales.connectors.base import Credentials
from aftersales.connectors.models import Store, StorePlatform
from aftersales.connectors.platforms import pinduoduo, taobao, wire
from aftersales.connectors.platforms.jd import JdAdapter
from aftersales.core import clock
from aftersales.core.errors import (
    ApplicationError,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)

# A relayed message signed longer ago (or later) than this is refused as a replay.
RELAY_CLOCK_SKEW = dt.timedelta(minutes=10)
# Douyin batches messages; a body with more than this many is not a platform's.
MOST_MESSAGES = 500


@dataclass(frozen=True)
class Named:
    """A request a push message names: the platform's id of it, and of its order if given."""

    request_id: str
    order_id: str = ""


@dataclass(frozen=True)
class Incoming:
    """A push as it came: its body, headers (lower-case names) and form fields."""

    body: bytes
    headers: Mapping[str, str]
    form: Mapping[str, str]


class KeysUnavailable(ApplicationError):
    """The store's keys cannot be opened: nothing can be checked now (the platform retries)."""

    status = 503
    code = "keys_unreadable"


def _refused() -> Unauthenticated:
    return Unauthenticated(_("The push's signature does not match."), code="bad_signature")


def _malformed() -> ApplicationError:
    return ApplicationError(_("The push cannot be read."), code="malformed_push")


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.strip().lower().encode(), expected.lower().encode())


def _json(text: Any) -> Any:
    if isinstance(text, (dict, list)):
        return text
    try:
        return json.loads(text or "{}")
    except (TypeError, ValueError):
        raise _malformed() from None


def _id(value: Any) -> str:
    return "" if value is None or isinstance(value, (dict, list, bool)) else str(value).strip()


def _another_account(store: Store, *owners: Any) -> bool:
    """Whether a message names an account (the shop's id on the platform) that is not the
    store's; a message naming none is the store's."""
    named = {_id(owner) for owner in owners} - {""}
    return bool(named) and store.seller_id not in named


# --- Douyin -----------------------------------------------------------------------------------


def _douyin(store: Store, credentials: Credentials, push: Incoming, now) -> list[Named]:
    text = credentials.app_key.encode() + push.body + credentials.app_secret.encode()
    if push.headers.get("sign-method", "md5").lower() == "hmac-sha256":
        expected = hmac.new(credentials.app_secret.encode(), text, hashlib.sha256).hexdigest()
    else:
        expected = hashlib.md5(text).hexdigest()
    signed = _same(push.headers.get("event-sign", ""), expected)
    if not signed or push.headers.get("app-id", "") not in ("", credentials.app_key):
        raise _refused()
    messages = _json(push.body.decode("utf-8", "replace"))
    if not isinstance(messages, list) or len(messages) > MOST_MESSAGES:
        raise _malformed()
    named = []
    for message in messages:
        data = _json(message.get("data")) if isinstance(message, dict) else None
        if not isinstance(data, dict) or not _id(data.get("aftersale_id")):
            continue  # an order's or a product's message, or the console's test
        if _another_account(store, data.get("shop_id")):
            continue
        named.append(Named(_id(data["aftersale_id"]), _id(data.get("p_id"))))
    return named


# --- Kuaishou ---------------------------------------------------------------------------------


def kuaishou_message_key(secret: str) -> bytes:
    """The AES key of a Kuaishou message secret (base64 of 16, 24 or 32 bytes); ``ValueError``
    for anything else."""
    try:
        key = base64.b64decode(secret, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not base64") from None
    if len(key) not in (16, 24, 32):
        raise ValueError("not an AES key")
    return key


def _kuaishou_open(key: bytes, body: bytes) -> dict:
    try:
        sealed = base64.b64decode(body.strip(), validate=True)
        decryptor = Cipher(algorithms.AES(key), modes.CBC(bytes(16))).decryptor()
        padded = decryptor.update(sealed) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        message = json.loads(unpadder.update(padded) + unpadder.finalize())
    except (binascii.Error, ValueError):
        raise _refused() from None
    if not isinstance(message, dict):
        raise _refused()
    return message


def _kuaishou(store: Store, credentials: Credentials, push: Incoming, now) -> list[Named]:
    try:
        key = kuaishou_message_key(credentials.extra.get("message_secret", ""))
    except ValueError:
        raise PermissionDenied(
            _("This store has no message secret: its pushes cannot be opened."),
            code="push_not_configured",
        ) from None
    message = _kuaishou_open(key, push.body)
    if _id(message.get("appKey")) != credentials.app_key:
        raise _refused()
    if not str(message.get("event", "")).startswith("kwaishop_aftersales"):
        return []
    info = _json(message.get("info"))
    if not isinstance(info, dict) or message.get("test") is True:
        return []
    if _another_account(store, info.get("sellerId"), message.get("userId")):
        return []
    request_id = _id(info.get("refundId")) or _id(message.get("bizId"))
    if not request_id:
        return []
    return [Named(request_id, _id(info.get("oid")) or _id(info.get("orderId")))]


# --- the relays of long-connection messages (TMC, Pinduoduo, JD) ------------------------------


def _relayed(
    push: Incoming,
    credentials: Credentials,
    now: dt.datetime,
    *,
    app_field: str,
    sign: Callable[[dict[str, str]], str],
    moment: Callable[[str], dt.datetime | None],
) -> dict[str, str]:
    """A relayed message's fields, once its app, its signature (``sign`` of the fields but
    ``sign``) and its timestamp (read by ``moment``) are checked."""
    fields = {name: str(value) for name, value in push.form.items()}
    given = fields.pop("sign", "")
    if not given or fields.get(app_field) != credentials.app_key or not _same(given, sign(fields)):
        raise _refused()
    signed_at = moment(fields.get("timestamp", ""))
    if signed_at is None or abs(now - signed_at) > RELAY_CLOCK_SKEW:
        raise Unauthenticated(
            _("The push's timestamp is missing or too far from now."), code="stale_push"
        )
    return fields


def _content(fields: dict[str, str]) -> dict:
    content = _json(fields.get("content"))
    if not isinstance(content, dict):
        raise _malformed()
    return content


def _beijing(text: str) -> dt.datetime | None:
    try:
        return wire.from_beijing_text(text)
    except ValueError:
        return None


def _seconds(text: str) -> dt.datetime | None:
    try:
        return wire.from_seconds(int(text))
    except (ValueError, OverflowError, OSError):
        return None


TOP_SIGN_METHODS = frozenset({"md5", "hmac", "hmac-sha256"})


def _top_sign(secret: str) -> Callable[[dict[str, str]], str]:
    def sign(fields: dict[str, str]) -> str:
        method = fields.get("sign_method", "md5")
        return taobao.sign(fields, secret, method) if method in TOP_SIGN_METHODS else ""

    return sign


def _taobao(store: Store, credentials: Credentials, push: Incoming, now) -> list[Named]:
    fields = _relayed(
        push,
        credentials,
        now,
        app_field="app_key",
        sign=_top_sign(credentials.app_secret),
        moment=_beijing,
    )
    topic = fields.get("topic", "")
    if not topic.startswith(("taobao_refund_", "tmall_refund_", "tmall_exchange_")):
        return []
    content = _content(fields)
    owners = (fields.get("user_nick"), fields.get("user_id"), content.get("seller_nick"))
    request_id = _id(content.get("refund_id")) or _id(content.get("dispute_id"))
    if not request_id or _another_account(store, *owners):
        return []
    return [Named(request_id, _id(content.get("tid")))]


def _pinduoduo(store: Store, credentials: Credentials, push: Incoming, now) -> list[Named]:
    fields = _relayed(
        push,
        credentials,
        now,
        app_field="client_id",
        sign=lambda signed: pinduoduo.sign(signed, credentials.app_secret),
        moment=_seconds,
    )
    if not fields.get("type", "").startswith("pdd_refund_"):
        return []
    content = _content(fields)
    request_id = _id(content.get("refund_id"))
    if not request_id or _another_account(store, content.get("mall_id"), fields.get("mall_id")):
        return []
    return [Named(request_id, _id(content.get("tid")))]


def _jd(store: Store, credentials: Credentials, push: Incoming, now) -> list[Named]:
    fields = _relayed(
        push,
        credentials,
        now,
        app_field="app_key",
        sign=lambda signed: JdAdapter.sign(signed, credentials.app_secret),
        moment=_beijing,
    )
    content = _content(fields)
    if _another_account(store, content.get("venderId")):
        return []
    order_id = _id(content.get("orderId"))
    if _id(content.get("serviceId")):
        return [Named(f"service:{_id(content['serviceId'])}", order_id)]
    if _id(content.get("refundApplyId")):
        return [Named(f"refund:{_id(content['refundApplyId'])}", order_id)]
    return []  # not an after-sales message


Reader = Callable[[Store, Credentials, Incoming, dt.datetime], list[Named]]

READERS: dict[str, Reader] = {
    StorePlatform.DOUYIN: _douyin,
    StorePlatform.KUAISHOU: _kuaishou,
    StorePlatform.TAOBAO: _taobao,
    StorePlatform.TMALL: _taobao,
    StorePlatform.PINDUODUO: _pinduoduo,
    StorePlatform.JD: _jd,
}

# What each platform wants to hear when a push was taken (else it sends it again).
ANSWERS: dict[str, dict[str, Any]] = {
    StorePlatform.KUAISHOU: {"result": 1},
}
DEFAULT_ANSWER = {"code": 0, "msg": "success"}


def answer_for(platform: str) -> dict[str, Any]:
    return dict(ANSWERS.get(platform, DEFAULT_ANSWER))


@dataclass(frozen=True)
class Received:
    """A push taken: the answer its platform expects, the requests it named, and how many reads
    were queued (none for a paused store, none for a read already waiting)."""

    answer: dict[str, Any]
    named: tuple[Named, ...]
    queued: int


@transaction.atomic
def push_receive(*, platform: str, store_id: int, push: Incoming) -> Received:
    """Check a push to a store as its platform signs it, and queue a read of each after-sales
    request it names. Refused (and nothing queued): no such store with API access on that
    platform (404), keys that cannot be opened (503), a signature that does not match or a stale
    relay (401), a Kuaishou store without its message secret (403), a body that is not the
    platform's (400)."""
    store = Store.objects.filter(pk=store_id, platform=platform, api_access=True).first()
    if store is None or platform not in READERS:
        raise NotFound(_("No such store."), code="store_not_found")
    try:
        credentials = keys.unseal(store.sealed_keys)
    except keys.KeysUnreadable:
        raise KeysUnavailable(
            _("The store's keys cannot be opened: the push cannot be checked.")
        ) from None
    now = clock.now()
    named = tuple(dict.fromkeys(READERS[platform](store, credentials, push, now)))
    queued = 0
    if named and not store.paused:
        waiting = tasks.waiting(tasks.refresh_request, now=now, running=False) or []
        already = {(args[0], args[1]) for args in waiting if len(args) >= 2}
        for request in named:
            if (store.pk, request.request_id) in already:
                continue
            tasks.enqueue(tasks.refresh_request, store.pk, request.request_id, request.order_id)
            queued += 1
    return Received(answer_for(platform), named, queued)


def push_url(store: Store) -> str | None:
    """Where a store's platform (or its relay) posts push messages; none without API access."""
    if not store.api_access:
        return None
    path = reverse("connectors_push", kwargs={"platform": store.platform, "store_id": store.pk})
    return f"{settings.AFTERSALES_BASE_URL}{path}"
