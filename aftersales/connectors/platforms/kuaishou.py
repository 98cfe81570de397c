"""Kuaishou 快手小店 (open.kwaixiaodian.com): refunds listed by cursor, read, and written.

The gateway: ``POST {base}/open/<method with dots as slashes>``, form fields ``method``,
``appkey``, ``access_token``, ``version=1``, ``timestamp`` (ms), ``signMethod=HMAC_SHA256``,
``param`` (the business JSON) and ``sign``: the other fields sorted by name as ``k=v`` joined by
``&``, then ``&signSecret=<signSecret>``, HMAC-SHA256 keyed by the **sign secret** (not the OAuth
app secret; ``Credentials.extra["sign_secret"]``), base64. The answer: ``{"result": 1, "data"}``
or ``{"result": <code>, "error_msg"}``.

``open.seller.order.refund.pcursor.list`` takes a window of at most one day, at most 90 days
back, and pages by ``pcursor`` until it answers ``"nomore"``. The detail carries
``refundVersion``, which a direct refund and a refusal must send back.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, ClassVar

from aftersales.cases.choices import CaseKind, CaseState
from aftersales.connectors import base
from aftersales.connectors.base import (
    Credentials,
    Mapped,
    Page,
    RemoteLine,
    RemoteRequest,
    ReturnAddress,
    Window,
    WriteResult,
)
from aftersales.connectors.platforms import wire
from aftersales.core import clock

GATEWAY = "https://openapi.kwaixiaodian.com"
NO_MORE = "nomore"

# ``handlingWay``
RETURN_REFUND = "1"
EXCHANGE = "3"
REFUND_ONLY = "10"

# ``result`` codes. 24 (AUTHORIZATION_REVOKED) and 1017 (exceed quota / qps limit) are the
# platform's, as its help pages quote them; the others are those our recorded answers use for a
# bad sign, an expired token, a stale refundVersion and a refund in the wrong state.
SUCCESS = 1
CREDENTIAL_CODES = frozenset({24, 25, 28})
RATE_LIMITED = 1017
VERSION_CHANGED = 803001
WRONG_STATE = 803002


class SignSecretMissing(base.CredentialRejected):
    """The store's keys lack Kuaishou's ``sign_secret`` (it differs from the app secret)."""


class KuaishouAdapter:
    platform: ClassVar[str] = "kuaishou"
    max_window: ClassVar[dt.timedelta] = dt.timedelta(days=1)
    max_lookback: ClassVar[dt.timedelta | None] = dt.timedelta(days=90)
    overlap: ClassVar[dt.timedelta] = dt.timedelta(minutes=5)
    page_size: ClassVar[int] = 100
    # The platform's qps limits are per second.
    retry_after: ClassVar[float] = 1.0

    def __init__(
        self,
        credentials: Credentials,
        base_url: str = GATEWAY,
        *,
        timeout: float = wire.TIMEOUT_SECONDS,
        now: Callable[[], dt.datetime] = clock.now,
    ):
        self.credentials = credentials
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.now = now

    # --- the gateway -----------------------------------------------------------------------------

    @staticmethod
    def sign(fields: dict[str, str], sign_secret: str) -> str:
        text = "&".join(f"{key}={fields[key]}" for key in sorted(fields))
        text += f"&signSecret={sign_secret}"
        digest = hmac.new(sign_secret.encode(), text.encode(), hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    def call(self, method: str, params: dict[str, Any], *, write: bool) -> dict[str, Any]:
        sign_secret = self.credentials.extra.get("sign_secret", "")
        if not sign_secret:
            raise SignSecretMissing("the store's Kuaishou keys have no sign secret")
        fields = {
            "method": method,
            "appkey": self.credentials.app_key,
            "access_token": self.credentials.access_token,
            "version": "1",
            "timestamp": str(wire.millis(self.now())),
            "signMethod": "HMAC_SHA256",
            "param": json.dumps(params, ensure_ascii=False, separators=(",", ":")),
        }
        fields["sign"] = self.sign(fields, sign_secret)
        answer = wire.post(
            f"{self.base_url}/open/{method.replace('.', '/')}",
            form=fields,
            write=write,
            timeout=self.timeout,
        )
        result = int(answer.get("result", 0) or 0)
        if result == SUCCESS:
            return answer.get("data") or {}
        detail = str(answer.get("error_msg") or "")
        kwargs = {"platform_code": str(result), "raw": answer}
        if result == RATE_LIMITED:
            raise base.RateLimited(detail, retry_after=self.retry_after, **kwargs)
        if result in CREDENTIAL_CODES:
            raise base.CredentialRejected(detail, **kwargs)
        if result == VERSION_CHANGED:
            raise base.VersionConflict(detail, **kwargs)
        if result == WRONG_STATE:
            raise base.StateRefused(detail, **kwargs)
        raise base.PlatformRefused(detail, **kwargs)

    # --- reads -----------------------------------------------------------------------------------

    def changed(self, window: Window, cursor: str | None = None) -> Page:
        wire.check_window(
            window, max_window=self.max_window, max_lookback=self.max_lookback, now=self.now
        )
        data = self.call(
            "open.seller.order.refund.pcursor.list",
            {
                "beginTime": wire.millis(window.start),
                # The platform's end is inclusive; ours is not.
                "endTime": wire.millis(window.end) - 1,
                "type": 9,  # all refunds, not only those awaiting the shop
                "pageSize": self.page_size,
                "currentPage": 1,
                "sort": 2,  # oldest first
                "queryType": 2,  # by update time
                "pcursor": cursor or "",
            },
            write=False,
        )
        items = tuple(self.request_from(item) for item in data.get("refundOrderInfoList") or [])
        next_cursor = str(data.get("pcursor") or "")
        return Page(items=items, cursor=None if next_cursor in ("", NO_MORE) else next_cursor)

    def read(self, request_id: str, *, order_id: str = "") -> RemoteRequest:
        data = self.call(
            "open.seller.order.refund.detail", {"refundId": int(request_id)}, write=False
        )
        return self.request_from(data)

    def request_from(self, info: dict[str, Any]) -> RemoteRequest:
        amount = wire.yuan_from_fen(info.get("refundFee"))
        return RemoteRequest(
            platform=self.platform,
            request_id=str(info["refundId"]),
            order_id=str(info.get("oid") or info.get("orderId") or ""),
            status=str(info.get("status", "")),
            kind=str(info.get("handlingWay", "")),
            # The listing does not carry refundVersion: only a read does.
            version=str(info.get("refundVersion") or ""),
            created_at=wire.from_millis(info.get("createTime") or info.get("submitTime")),
            modified_at=wire.from_millis(info.get("updateTime")),
            amount=amount,
            reason=str(info.get("refundReasonDesc") or ""),
            buyer_note=str(info.get("refundDesc") or ""),
            handling=str(info.get("status", "")) in ("20", "21", "22"),
            deadline_at=wire.from_millis(info.get("expireTime")),
            tracking_number=str(info.get("expressNo") or ""),
            lines=(
                RemoteLine(
                    line_id=str(info.get("itemId") or info.get("relItemId") or ""),
                    sku=str(info.get("skuNick") or ""),
                    title=str(info.get("itemTitle") or ""),
                    quantity=int(info.get("refundCount") or 1),
                    amount=amount,
                ),
            ),
            raw=info,
        )

    # --- writes ----------------------------------------------------------------------------------

    @staticmethod
    def version_of(request: RemoteRequest) -> int:
        if not request.version:
            raise ValueError("read the request first: the listing carries no refundVersion")
        return int(request.version)

    def agree_refund(self, request: RemoteRequest, amount: Decimal) -> WriteResult:
        # A direct refund pays what the buyer asked; it takes no amount.
        if wire.fen_from_yuan(amount) != wire.fen_from_yuan(request.amount):
            raise ValueError("快手 refunds the amount the buyer asked: agree to it or refuse")
        data = self.call(
            "open.refund.direct.refund",
            {"refundId": int(request.request_id), "refundVersion": self.version_of(request)},
            write=True,
        )
        return WriteResult(raw=data)

    def agree_return(self, request: RemoteRequest, address: ReturnAddress) -> WriteResult:
        data = self.call(
            "open.seller.order.refund.returngoods.approve",
            {
                "refundId": int(request.request_id),
                "refundAmount": wire.fen_from_yuan(request.amount),
                "addressId": int(address.platform_address_id),
            },
            write=True,
        )
        return WriteResult(raw=data)

    def refuse(
        self, request: RemoteRequest, reason_code: str, reason: str, evidence: Sequence[str] = ()
    ) -> WriteResult:
        data = self.call(
            "open.refund.reject",
            {
                "refundId": int(request.request_id),
                "reasonCode": int(reason_code),
                "rejectDesc": reason,
                "rejectImages": list(evidence),
                "refundVersion": self.version_of(request),
            },
            write=True,
        )
        return WriteResult(raw=data)

    def confirm_receipt(self, request: RemoteRequest) -> WriteResult:
        data = self.call(
            "open.seller.order.refund.confirm.receipt",
            {"refundId": int(request.request_id), "status": int(request.status)},
            write=True,
        )
        return WriteResult(raw=data)

    def ship_exchange(
        self, request: RemoteRequest, carrier: str, tracking_number: str
    ) -> WriteResult:
        """Receive the old item and send the new one: ``carrier`` is Kuaishou's express code."""
        data = self.call(
            "open.refund.confirm.and.send",
            {
                "refundId": int(request.request_id),
                "expressNo": tracking_number,
                "expressCode": int(carrier),
            },
            write=True,
        )
        return WriteResult(raw=data)

    def message(self, request: RemoteRequest, text: str, images: Sequence[str] = ()) -> WriteResult:
        data = self.call(
            "open.refund.evidence.add",
            {"refundId": int(request.request_id), "content": text, "imageData": list(images)},
            write=True,
        )
        return WriteResult(raw=data)


# --- the mapping: (status, handlingWay) → our kind and state ------------------------------------

# status: 10 buyer asks a refund, 11 buyer asks a return, 12 the shop refused (the buyer may
# amend), 20/21/22 the platform intervened (refund only / return / return confirmed), 30 awaiting
# the buyer's return, 40 returned, awaiting the shop's receipt, 45 the shop sent the exchange,
# awaiting the buyer's receipt, 50 the refund is being paid, 60 succeeded, 70 closed.
AS = CaseState.AWAITING_SELLER
_REFUND_ONLY = {
    "10": (AS, False, False),
    "12": (CaseState.REJECTED, False, False),
    "20": (AS, False, True),
    "50": (CaseState.REFUND_PENDING, False, False),
    "60": (CaseState.REFUNDED, True, False),
    "70": (CaseState.CLOSED, False, False),
}
_RETURN = {
    "11": (AS, False, False),
    "12": (CaseState.REJECTED, False, False),
    "21": (AS, False, True),
    "22": (CaseState.RETURN_IN_TRANSIT, False, True),
    "30": (CaseState.AWAITING_RETURN, False, False),
    "40": (CaseState.RETURN_IN_TRANSIT, False, False),
    "50": (CaseState.REFUND_PENDING, False, False),
    "60": (CaseState.REFUNDED, True, False),
    "70": (CaseState.CLOSED, False, False),
}
_EXCHANGE = {
    **{status: row for status, row in _RETURN.items() if status not in ("50", "60")},
    "45": (CaseState.SHIPPED_TO_CUSTOMER, False, False),
    # An exchange that succeeds paid nothing.
    "60": (CaseState.COMPLETED, False, False),
}
_KINDS = {
    REFUND_ONLY: (CaseKind.REFUND_ONLY, _REFUND_ONLY),
    RETURN_REFUND: (CaseKind.RETURN_REFUND, _RETURN),
    EXCHANGE: (CaseKind.EXCHANGE, _EXCHANGE),
}

MAPPING: dict[tuple[str, str], Mapped] = {
    (status, kind): Mapped(kind=our_kind, state=state, money_out=money_out, handling=handling)
    for kind, (our_kind, statuses) in _KINDS.items()
    for status, (state, money_out, handling) in statuses.items()
}


def map_request(request: RemoteRequest) -> Mapped | None:
    """The request's kind and state here; ``None`` for a status or handling way this table does
    not know (a person decides)."""
    return MAPPING.get((request.status, request.kind))
