"""Douyin 抖店 (jinritemai open platform): after-sales listing, detail and ``/afterSale/operate``.

The gateway: ``POST {base}/{path}?app_key&method&v=2&timestamp&access_token&sign&sign_method``
with the business parameters as the JSON body (``param_json``: keys sorted at every level, no
spaces, unescaped). The sign is HMAC-SHA256, keyed by the app secret, over
``secret + "app_key" + key + "method" + method + "param_json" + json + "timestamp" + ts + "v2" +
secret`` (hex). The answer: ``{"code": 10000, "msg", "sub_code", "sub_msg", "data"}``; a business
failure is ``code`` 50002 with ``sub_code`` ``isv.business-failed:<number>``.

Writes go through ``/afterSale/operate`` with one case per call (the platform takes 20 but fails
the whole batch when one fails) and carry the case's ``update_time`` as its version. Error 11001
("not supported through OPEN") means a person handles it in the 抖店 back office.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import urllib.parse
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, ClassVar

from aftersales.cases.choices import CaseKind, CaseState
from aftersales.connectors import base
from aftersales.connectors.base import (
    UNMODELLED,
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

GATEWAY = "https://openapi-fxg.jinritemai.com"
BACK_OFFICE = "https://fxg.jinritemai.com/ffa/maftersale/aftersale/detail?aftersale_id={request_id}"

# ``aftersale_type``
RETURN_REFUND = "0"
REFUND_AFTER_SHIPPING = "1"
REFUND_BEFORE_SHIPPING = "2"
EXCHANGE = "3"
PRICE_PROTECTION = "6"
RESEND = "7"
REPAIR = "8"

# ``/afterSale/operate`` ``type``
AGREE_RETURN = "101"  # needs logistics.receiver_address_id
REFUSE_RETURN = "102"
AGREE_AFTER_RECEIPT = "111"  # the second approval of a return: goods back, refund
REFUSE_AFTER_RECEIPT = "112"
AGREE_REFUND_ONLY = "201"
REFUSE_REFUND_ONLY = "202"
AGREE_EXCHANGE = "301"  # needs logistics.receiver_address_id
REFUSE_EXCHANGE = "302"
EXCHANGE_SHIPPED = "311"  # the new item's waybill

# Gateway codes.
SUCCESS = 10000
CREDENTIAL_CODES = frozenset({30001, 40001, 50001})
# 40003 is "illegal parameter": a credential failure only for these sub-codes.
CREDENTIAL_SUB_CODES = frozenset(
    {
        "isv.signature-invalid",
        "isv.access-token-expired",
        "isv.access-token-no-existed",
        "isv.access-token-invalid",
        "isv.app-id-invalid",
        "isv.app-id-expired",
        "isv.timestamp-invalid",
    }
)
RATE_LIMITED = 60000
BUSINESS_FAILED = "isv.business-failed:"
NOT_THROUGH_OPEN = "11001"
WRONG_STATE = "20309541"
# A stale ``update_time`` ("the case changed since you read it"): the number was not found in the
# public SDKs; it is the one our recorded answers use.
STALE_UPDATE_TIME = "20309542"


class DouyinAdapter:
    platform: ClassVar[str] = "douyin"
    # The listing takes any update window; a day keeps each walk small (the adapter's choice).
    max_window: ClassVar[dt.timedelta] = dt.timedelta(days=1)
    max_lookback: ClassVar[dt.timedelta | None] = None
    overlap: ClassVar[dt.timedelta] = dt.timedelta(minutes=5)
    page_size: ClassVar[int] = 50
    # The platform does not say how long to wait after 60000.
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
    def param_json(params: dict[str, Any]) -> str:
        return json.dumps(params, sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    @staticmethod
    def sign(app_key: str, secret: str, method: str, param_json: str, timestamp: str) -> str:
        pattern = (
            f"{secret}app_key{app_key}method{method}param_json{param_json}"
            f"timestamp{timestamp}v2{secret}"
        )
        return hmac.new(secret.encode(), pattern.encode(), hashlib.sha256).hexdigest()

    def call(self, path: str, params: dict[str, Any], *, write: bool) -> dict[str, Any]:
        method = path.strip("/").replace("/", ".")
        body = self.param_json(params)
        timestamp = str(wire.seconds(self.now()))
        query = {
            "app_key": self.credentials.app_key,
            "method": method,
            "v": "2",
            "timestamp": timestamp,
            "access_token": self.credentials.access_token,
            "sign_method": "hmac-sha256",
            "sign": self.sign(
                self.credentials.app_key, self.credentials.app_secret, method, body, timestamp
            ),
        }
        answer = wire.post(
            f"{self.base_url}/{path.strip('/')}?{urllib.parse.urlencode(query)}",
            body=body.encode(),
            content_type="application/json;charset=utf-8",
            write=write,
            timeout=self.timeout,
        )
        self.raise_for(answer, params)
        return answer.get("data") or {}

    def raise_for(self, answer: dict[str, Any], params: dict[str, Any]) -> None:
        code = int(answer.get("code", 0) or 0)
        if code == SUCCESS:
            return
        sub_code = str(answer.get("sub_code") or "")
        detail = str(answer.get("sub_msg") or answer.get("msg") or "")
        kwargs = {"platform_code": sub_code or str(code), "raw": answer}
        if code == RATE_LIMITED:
            raise base.RateLimited(detail, retry_after=self.retry_after, **kwargs)
        if code in CREDENTIAL_CODES or sub_code in CREDENTIAL_SUB_CODES:
            raise base.CredentialRejected(detail, **kwargs)
        if sub_code.startswith(BUSINESS_FAILED):
            number = sub_code.removeprefix(BUSINESS_FAILED)
            if number == NOT_THROUGH_OPEN:
                request_id = str((params.get("items") or [{}])[0].get("aftersale_id", ""))
                url = BACK_OFFICE.format(request_id=request_id)
                raise base.HandleOnPlatform(detail, url=url, **kwargs)
            if number == WRONG_STATE:
                raise base.StateRefused(detail, **kwargs)
            if number == STALE_UPDATE_TIME:
                raise base.VersionConflict(detail, **kwargs)
        raise base.PlatformRefused(detail, **kwargs)

    # --- reads -----------------------------------------------------------------------------------

    def changed(self, window: Window, cursor: str | None = None) -> Page:
        wire.check_window(
            window, max_window=self.max_window, max_lookback=self.max_lookback, now=self.now
        )
        page = int(cursor or 0)
        data = self.call(
            "/afterSale/List",
            {
                "update_start_time": str(wire.seconds(window.start)),
                # The platform's end is inclusive; ours is not.
                "update_end_time": str(wire.seconds(window.end) - 1),
                "order_by": ["update_time asc"],
                "page": str(page),
                "size": str(self.page_size),
            },
            write=False,
        )
        items = tuple(
            self.request_from(item["aftersale_info"], item.get("order_info") or {})
            for item in data.get("items") or []
        )
        return Page(items=items, cursor=str(page + 1) if data.get("has_more") else None)

    def read(self, request_id: str, *, order_id: str = "") -> RemoteRequest:
        data = self.call("/afterSale/Detail", {"after_sale_id": str(request_id)}, write=False)
        process = data.get("process_info") or {}
        info = dict(process.get("after_sale_info") or {})
        info.setdefault("arbitrate_status", (process.get("arbitrate_info") or {}).get("status", 0))
        return self.request_from(info, data.get("order_info") or {})

    def request_from(self, info: dict[str, Any], order: dict[str, Any]) -> RemoteRequest:
        amount = wire.yuan_from_fen(info.get("refund_amount"))
        related = order.get("related_order_info") or []
        lines = tuple(
            RemoteLine(
                line_id=str(line.get("sku_order_id", "")),
                sku=str(line.get("shop_sku_code") or ""),
                title=str(line.get("product_name") or ""),
                quantity=int(line.get("aftersale_item_num") or line.get("item_num") or 0),
                amount=wire.yuan_from_fen(line.get("refund_amount")),
            )
            for line in related
        )
        return RemoteRequest(
            platform=self.platform,
            request_id=str(info["aftersale_id"]),
            order_id=str(order.get("shop_order_id") or info.get("related_id") or ""),
            status=str(info.get("aftersale_status", "")),
            kind=str(info.get("aftersale_type", "")),
            version=str(info.get("update_time", "")),
            created_at=wire.from_seconds(info.get("apply_time") or info.get("create_time")),
            modified_at=wire.from_seconds(info.get("update_time")),
            amount=amount,
            reason=str(info.get("reason") or ""),
            buyer_note=str(info.get("apply_desc") or ""),
            # 1 arbitration under way, 2 awaiting the shop's proof, 3 awaiting review.
            handling=int(info.get("arbitrate_status") or 0) in (1, 2, 3),
            deadline_at=wire.from_seconds(info.get("status_deadline")),
            tracking_number=str(info.get("return_logistics_code") or ""),
            lines=lines,
            raw={"aftersale_info": info, "order_info": order},
        )

    # --- writes ----------------------------------------------------------------------------------

    def operate(self, operate_type: str, request: RemoteRequest, **item: Any) -> WriteResult:
        params = {
            "type": operate_type,
            # One case per call: a batch fails as a whole when one of its cases fails.
            "items": [{"aftersale_id": request.request_id, "update_time": request.version, **item}],
        }
        data = self.call("/afterSale/operate", params, write=True)
        results = data.get("items") or []
        for result in results:
            if str(result.get("status_code", 0)) not in ("0", ""):
                refusal = {
                    "code": 50002,
                    "sub_code": f"{BUSINESS_FAILED}{result['status_code']}",
                    "sub_msg": result.get("status_msg", ""),
                }
                self.raise_for(refusal, params)
        return WriteResult(raw=data)

    def agree_refund(self, request: RemoteRequest, amount: Decimal) -> WriteResult:
        # The platform pays what the buyer asked (``refund_amount``): it takes no other amount.
        if wire.fen_from_yuan(amount) != wire.fen_from_yuan(request.amount):
            raise ValueError("抖店 refunds the amount the buyer asked: agree to it or refuse")
        if request.kind == RETURN_REFUND:
            return self.operate(AGREE_AFTER_RECEIPT, request)
        return self.operate(AGREE_REFUND_ONLY, request)

    def agree_return(self, request: RemoteRequest, address: ReturnAddress) -> WriteResult:
        operate_type = AGREE_EXCHANGE if request.kind == EXCHANGE else AGREE_RETURN
        return self.operate(
            operate_type, request, logistics={"receiver_address_id": address.platform_address_id}
        )

    def refuse(
        self, request: RemoteRequest, reason_code: str, reason: str, evidence: Sequence[str] = ()
    ) -> WriteResult:
        if request.kind in (REFUND_AFTER_SHIPPING, REFUND_BEFORE_SHIPPING):
            operate_type = REFUSE_REFUND_ONLY
        elif request.kind == EXCHANGE:
            operate_type = REFUSE_EXCHANGE
        elif request.status == "11":
            operate_type = REFUSE_AFTER_RECEIPT
        else:
            operate_type = REFUSE_RETURN
        return self.operate(
            operate_type,
            request,
            reject_reason_code=str(reason_code),
            reason=reason,
            remark=reason,
            evidence=[{"type": 1, "url": url, "desc": reason} for url in evidence],
        )

    def confirm_receipt(self, request: RemoteRequest) -> WriteResult:
        return self.operate(AGREE_AFTER_RECEIPT, request)

    def ship_exchange(
        self, request: RemoteRequest, carrier: str, tracking_number: str
    ) -> WriteResult:
        return self.operate(
            EXCHANGE_SHIPPED,
            request,
            logistics={"company_code": carrier, "logistics_code": tracking_number},
        )

    def message(self, request: RemoteRequest, text: str, images: Sequence[str] = ()) -> WriteResult:
        data = self.call(
            "/afterSale/submitEvidence",
            {"aftersale_id": request.request_id, "comment": text, "evidence": list(images)},
            write=True,
        )
        return WriteResult(raw=data)


# --- the mapping: (aftersale_status, aftersale_type) → our kind and state ------------------------

AS = CaseState.AWAITING_SELLER
# status: 6 awaiting the shop, 7 awaiting the buyer's return, 11 awaiting the shop's second
# approval (the goods are on their way back), 12 succeeded, 13 exchange: awaiting the buyer's
# receipt, 14 exchange succeeded, 27 first refusal, 28 failed or closed, 29 second refusal.
_REFUND_ONLY = {
    "6": (AS, False),
    "12": (CaseState.REFUNDED, True),
    "27": (CaseState.REJECTED, False),
    "28": (CaseState.CLOSED, False),
}
_RETURN = {
    "6": (AS, False),
    "7": (CaseState.AWAITING_RETURN, False),
    "11": (CaseState.RETURN_IN_TRANSIT, False),
    "12": (CaseState.REFUNDED, True),
    "27": (CaseState.REJECTED, False),
    "28": (CaseState.CLOSED, False),
    "29": (CaseState.REJECTED, False),
}
_EXCHANGE = {
    **{status: row for status, row in _RETURN.items() if status != "12"},
    "12": (CaseState.COMPLETED, False),
    "13": (CaseState.SHIPPED_TO_CUSTOMER, False),
    "14": (CaseState.COMPLETED, False),
}
_REPAIR = {
    **{status: row for status, row in _RETURN.items() if status != "12"},
    "12": (CaseState.COMPLETED, False),
}
_KINDS: dict[str, tuple[str, dict[str, tuple[CaseState, bool]]]] = {
    RETURN_REFUND: (CaseKind.RETURN_REFUND, _RETURN),
    REFUND_AFTER_SHIPPING: (CaseKind.REFUND_ONLY, _REFUND_ONLY),
    REFUND_BEFORE_SHIPPING: (CaseKind.REFUND_ONLY, _REFUND_ONLY),
    EXCHANGE: (CaseKind.EXCHANGE, _EXCHANGE),
    REPAIR: (CaseKind.REPAIR, _REPAIR),
    # Price protection pays the buyer the difference; a resend sends the missing item again.
    PRICE_PROTECTION: (UNMODELLED, _REFUND_ONLY),
    RESEND: (UNMODELLED, {**_REFUND_ONLY, "12": (CaseState.COMPLETED, False)}),
}

MAPPING: dict[tuple[str, str], Mapped] = {
    (status, kind): Mapped(kind=our_kind, state=state, money_out=money_out)
    for kind, (our_kind, statuses) in _KINDS.items()
    for status, (state, money_out) in statuses.items()
}


def map_request(request: RemoteRequest) -> Mapped | None:
    """The request's kind and state here; ``None`` for a status or kind this table does not
    know (a person decides)."""
    return MAPPING.get((request.status, request.kind))
