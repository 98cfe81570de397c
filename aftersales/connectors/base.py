"""What every marketplace connector speaks: the platform's after-sales request in one shape, the
reads and writes of an adapter, and the failures a caller must tell apart.

An adapter (one per platform, in ``connectors.platforms``) knows its platform's protocol — the
gateway, signing, paging, rate limits, error codes — and nothing of the product's models: it takes
``Credentials`` and a base URL and returns ``RemoteRequest``s. Its mapping table (beside it) says
what each platform status and kind means in the product's case kinds and states; a code it does
not know maps to ``None`` and a person decides (it never guesses).

Writes carry the request's version token (``RemoteRequest.version``); a platform that refuses it
raises ``VersionConflict`` (read again, show what changed). A money write that times out raises
``OutcomeUnknown`` and is never retried by the adapter: the next read settles it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, Protocol

from aftersales.cases.choices import CaseKind, CaseState


@dataclass(frozen=True)
class Credentials:
    """A store's keys on its platform (stored encrypted; given to the adapter in the clear).
    ``seller_id`` is the platform's id of the shop (Taobao nick or seller id, PDD mall id, JD
    venderId, Douyin shop id, Kuaishou sellerId); ``extra`` holds what one platform needs more
    (Kuaishou's ``sign_secret``, distinct from its app secret)."""

    app_key: str
    app_secret: str
    access_token: str
    seller_id: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Window:
    """A time window of changes, both ends aware; ``start`` included, ``end`` excluded."""

    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class RemoteLine:
    """One item of a request: the platform's order line (``line_id``: Taobao oid, PDD goods id +
    sku id, JD skuId, Douyin sku order id, Kuaishou itemId), its SKU code as the shop knows it
    (outer id) where the platform gives one, and the units and money asked for."""

    line_id: str
    sku: str
    title: str
    quantity: int
    amount: Decimal


@dataclass(frozen=True)
class RemoteRequest:
    """A buyer's after-sales request as the platform has it now.

    ``status`` and ``kind`` are the platform's own codes, as text (``"WAIT_SELLER_AGREE"``,
    ``"3"``); ``kind`` is ``""`` where the platform has no separate kind axis (Taobao: the kind
    follows from ``has_good_return``, given in ``raw``). ``version`` is the token a write must
    carry (Taobao ``refund_version``, Douyin ``update_time``, Kuaishou ``refundVersion``…; the
    modified time where the platform has none). ``handling`` is true while the platform's customer
    service handles it (intervention, dispute). ``deadline_at`` is the platform's own timeout of
    the current step (Taobao ``refund_remind_timeout``, Kuaishou ``expireTime``), if it gives one.
    Amounts are in yuan (an adapter converts fen). ``raw`` keeps the platform's fields as read.
    """

    platform: str
    request_id: str
    order_id: str
    status: str
    kind: str
    version: str
    created_at: dt.datetime
    modified_at: dt.datetime
    amount: Decimal
    reason: str = ""
    buyer_note: str = ""
    handling: bool = False
    deadline_at: dt.datetime | None = None
    tracking_number: str = ""
    lines: tuple[RemoteLine, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Page:
    """One page of changed requests; ``cursor`` continues the same window (``None``: no more)."""

    items: tuple[RemoteRequest, ...]
    cursor: str | None = None


@dataclass(frozen=True)
class ReturnAddress:
    """Where the buyer sends the goods: the platform's address id where it keeps the shop's
    addresses (Taobao ``seller_address_id``, Douyin ``receiver_address_id``), else the address."""

    name: str
    phone: str
    address: str
    platform_address_id: str = ""


@dataclass(frozen=True)
class WriteResult:
    """A write the platform accepted; ``version`` is the request's new token if it returned one."""

    version: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict)


# --- what a caller must tell apart --------------------------------------------------------------


class ConnectorError(Exception):
    """A platform call that did not succeed. ``code`` is ours (stable, for logs and the desk's
    words); ``platform_code`` and ``detail`` are the platform's, as it sent them."""

    code = "platform_error"

    def __init__(self, detail: str = "", *, platform_code: str = "", raw: Any = None):
        super().__init__(detail or self.code)
        self.detail = detail
        self.platform_code = platform_code
        self.raw = raw


class RateLimited(ConnectorError):
    """The platform asks us to slow down; ``retry_after`` seconds (the adapter's estimate when the
    platform does not say)."""

    code = "rate_limited"

    def __init__(self, detail: str = "", *, retry_after: float = 1.0, **kwargs):
        super().__init__(detail, **kwargs)
        self.retry_after = retry_after


class CredentialRejected(ConnectorError):
    """The keys or the session are wrong, expired or lack the permission: a person must act."""

    code = "credential_rejected"


class VersionConflict(ConnectorError):
    """The request changed on the platform since it was read: read it again."""

    code = "version_conflict"


class OutcomeUnknown(ConnectorError):
    """A write got no answer (a timeout, a dropped connection): it may or may not have happened.
    Never retried; the next read of the request settles it."""

    code = "outcome_unknown"


class HandleOnPlatform(ConnectorError):
    """The platform does not let an API handle this request (Douyin 11001): a person does it in
    the platform's back office, at ``url``."""

    code = "handle_on_platform"

    def __init__(self, detail: str = "", *, url: str = "", **kwargs):
        super().__init__(detail, **kwargs)
        self.url = url


class StateRefused(ConnectorError):
    """The platform refused the write in the request's current state (Douyin 20309541, Taobao's
    "refund status not allowed"): read it again."""

    code = "state_refused"


class Unreachable(ConnectorError):
    """The platform could not be reached or gave no usable answer to a read (or to a write that
    was never sent: the connection was refused): nothing changed there; the call may be made
    again later."""

    code = "platform_unreachable"


class NotOffered(ConnectorError):
    """The platform has no API call for this write on this kind of request (JD's refund before
    shipping has no return step; Pinduoduo and JD have no message call): a person does it in the
    platform's back office. Raised before any call is made."""

    code = "not_offered"


class PlatformRefused(ConnectorError):
    """Any other refusal, with the platform's code and words."""

    code = "platform_refused"


# --- the adapter ---------------------------------------------------------------------------------


class Adapter(Protocol):
    """One platform's after-sales API. ``max_window`` is the longest window ``changed`` accepts
    (Pinduoduo 30 minutes, Kuaishou one day); ``max_lookback`` how far back it may reach
    (Kuaishou 90 days; ``None``: no limit); ``overlap`` how much each window re-reads of the one
    before (late-indexed changes)."""

    platform: ClassVar[str]
    max_window: ClassVar[dt.timedelta]
    max_lookback: ClassVar[dt.timedelta | None]
    overlap: ClassVar[dt.timedelta]

    def changed(self, window: Window, cursor: str | None = None) -> Page:
        """Requests modified within ``window`` (one page; pass ``Page.cursor`` for the next)."""

    def read(self, request_id: str, *, order_id: str = "") -> RemoteRequest:
        """One request as the platform has it now (``order_id``, the platform's order of the
        request, for a platform whose detail call needs it: Pinduoduo)."""

    def agree_refund(self, request: RemoteRequest, amount: Decimal) -> WriteResult:
        """Agree to pay ``amount`` (refund only, or the refund after the goods came back)."""

    def agree_return(self, request: RemoteRequest, address: ReturnAddress) -> WriteResult:
        """Agree that the buyer returns the goods to ``address``."""

    def refuse(
        self, request: RemoteRequest, reason_code: str, reason: str, evidence: Sequence[str] = ()
    ) -> WriteResult:
        """Refuse with the platform's reason code, words and evidence (image URLs)."""

    def confirm_receipt(self, request: RemoteRequest) -> WriteResult:
        """The returned goods arrived (and, where the platform joins them, agree to refund)."""

    def ship_exchange(
        self, request: RemoteRequest, carrier: str, tracking_number: str
    ) -> WriteResult:
        """The replacement of an exchange (or a resend) left, with its waybill."""

    def message(self, request: RemoteRequest, text: str, images: Sequence[str] = ()) -> WriteResult:
        """Leave a message (and evidence) on the request for the buyer and the platform."""


# --- the mapping ---------------------------------------------------------------------------------

# A kind the product's cases do not model (resend, price protection, compensation…): the request
# lands, and a person decides what to do with it.
UNMODELLED = "unmodelled"


@dataclass(frozen=True)
class Mapped:
    """What a platform status and kind mean here: the case kind (or ``UNMODELLED``) and state;
    ``money_out`` is true only when the platform paid the buyer (an exchange or a repair that
    "succeeds" is not money out); ``handling`` when the status itself says the platform handles
    it (PDD 8, Kuaishou 20–22)."""

    kind: CaseKind | str
    state: CaseState
    money_out: bool = False
    handling: bool = False
