"""Pinduoduo (拼多多) after-sales through its open gateway: the list of requests changed in a
window of at most 30 minutes, one request's detail, and the seller's writes the platform opens
(agree to refund, agree to a return to one of the shop's return addresses, ship an exchange).

Every call is a form POST of ``type`` (the method), ``client_id``, ``access_token``,
``timestamp`` (Unix seconds), ``data_type=JSON``, ``version=V1`` and the call's parameters —
the writes' own in one ``request`` parameter holding JSON — signed with
``md5(client_secret + k1v1k2v2… + client_secret)`` over the parameters sorted by name, upper-case
hex. An answer is ``{"<name>_response": {...}}`` or ``{"error_response": {error_code, error_msg,
sub_code, sub_msg}}``.

The kind is its own axis (``after_sales_type``), encoded differently by the list (2 refund only,
3 return, 4 exchange, 5 resend, 6 repair, 9 intercept) and by the detail (1 refund only …
5 repair): requests here always carry the list's code. Pinduoduo's writes carry no version: the
adapter reads the request just before a write and refuses it (``VersionConflict``) if its status
or amount moved since the caller read it. Refusing and leaving a message have no open API: they
are done in the merchant back office (``HandleOnPlatform``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from aftersales.cases.choices import CaseKind, CaseState
from aftersales.connectors.base import (
    UNMODELLED,
    ConnectorError,
    CredentialRejected,
    Credentials,
    HandleOnPlatform,
    Mapped,
    OutcomeUnknown,
    Page,
    PlatformRefused,
    RateLimited,
    RemoteLine,
    RemoteRequest,
    ReturnAddress,
    Unreachable,
    VersionConflict,
    Window,
    WriteResult,
)
from aftersales.connectors.platforms.wire import post_form

GATEWAY = "https://gw-api.pinduoduo.com/api/router"
BEIJING = ZoneInfo("Asia/Shanghai")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

ALL = 1  # after_sales_status and after_sales_type: every status, every kind
REFUND_ONLY, RETURN, EXCHANGE, RESEND, REPAIR, INTERCEPT = "2", "3", "4", "5", "6", "9"
# The detail's kind code → the list's.
DETAIL_KIND = {"1": REFUND_ONLY, "2": RETURN, "3": EXCHANGE, "4": RESEND, "5": REPAIR}

RATE_LIMIT_CODES = frozenset({"70031", "70032", "70033"})
CREDENTIAL_CODES = frozenset({"10019", "20004", "20005", "20031", "20032"})
SYSTEM_ERROR_CODES = frozenset({"50000", "50001", "50002"})


def sign(params: dict[str, str], secret: str) -> str:
    joined = "".join(f"{key}{params[key]}" for key in sorted(params) if key != "sign")
    return hashlib.md5(f"{secret}{joined}{secret}".encode()).hexdigest().upper()


def parse_time(value: Any) -> dt.datetime | None:
    """A Pinduoduo time: Unix seconds, or Beijing text ``yyyy-MM-dd HH:mm:ss``; aware UTC."""
    if value in (None, "", 0):
        return None
    if isinstance(value, int | float) or str(value).isdigit():
        return dt.datetime.fromtimestamp(int(value), dt.UTC)
    return dt.datetime.strptime(str(value), TIME_FORMAT).replace(tzinfo=BEIJING).astimezone(dt.UTC)


def fen_of(value: Any, *, in_yuan: bool) -> int:
    if in_yuan:
        return int((Decimal(str(value or "0")) * 100).to_integral_value())
    return int(value or 0)


class PinduoduoAdapter:
    """``pdd.refund.list.increment.get`` walks windows of at most 30 minutes (the platform's
    limit), 100 a page; ``pdd.refund.information.get`` reads one request by its id and order."""

    platform: ClassVar[str] = "pinduoduo"
    max_window: ClassVar[dt.timedelta] = dt.timedelta(minutes=30)
    max_lookback: ClassVar[dt.timedelta | None] = None
    overlap: ClassVar[dt.timedelta] = dt.timedelta(minutes=5)
    page_size: ClassVar[int] = 100
    back_office_url: ClassVar[str] = (
        "https://mms.pinduoduo.com/aftersales/aftersale_list?orderSn={order_id}"
    )

    def __init__(self, credentials: Credentials, base_url: str = GATEWAY, *, timeout=15.0):
        self.credentials = credentials
        self.base_url = base_url
        self.timeout = timeout

    # --- the gateway -----------------------------------------------------------------------------

    def call(self, method: str, params: dict[str, Any], *, write: bool) -> dict[str, Any]:
        fields = {
            "type": method,
            "client_id": self.credentials.app_key,
            "access_token": self.credentials.access_token,
            "timestamp": str(int(dt.datetime.now(dt.UTC).timestamp())),
            "data_type": "JSON",
            "version": "V1",
        }
        for key, value in params.items():
            if isinstance(value, dict):
                fields[key] = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
            elif value not in ("", None):
                fields[key] = str(value)
        fields["sign"] = sign(fields, self.credentials.app_secret)
        answer = post_form(self.base_url, fields, timeout=self.timeout, write=write)
        if "error_response" in answer:
            raise self.failure(answer["error_response"], write=write)
        bodies = [value for key, value in answer.items() if key.endswith("response")]
        if len(bodies) != 1 or not isinstance(bodies[0], dict):
            raise (OutcomeUnknown if write else Unreachable)(
                "no response in the answer", raw=answer
            )
        return bodies[0]

    @staticmethod
    def failure(error: dict[str, Any], *, write: bool) -> ConnectorError:
        code = str(error.get("error_code", ""))
        detail = str(error.get("sub_msg") or error.get("error_msg") or "")
        sub_code = str(error.get("sub_code") or "")
        kwargs = {"platform_code": f"{code}:{sub_code}" if sub_code else code, "raw": error}
        if code in RATE_LIMIT_CODES:
            return RateLimited(detail, retry_after=1.0, **kwargs)  # the platform gives no time
        if code in CREDENTIAL_CODES:
            return CredentialRejected(detail, **kwargs)
        if code in SYSTEM_ERROR_CODES:
            return (OutcomeUnknown if write else Unreachable)(detail, **kwargs)
        return PlatformRefused(detail, **kwargs)

    # --- reads -----------------------------------------------------------------------------------

    def check_window(self, window: Window) -> None:
        if window.end <= window.start:
            raise ValueError("a window ends after it starts")
        if window.end - window.start > self.max_window:
            raise ValueError(f"Pinduoduo windows are at most {self.max_window}")

    def changed(self, window: Window, cursor: str | None = None) -> Page:
        """The bounds are whole seconds, both included: the last second asked is the one before
        the window's (excluded) end."""
        self.check_window(window)
        page = int(cursor or "1")
        body = self.call(
            "pdd.refund.list.increment.get",
            {
                "after_sales_status": ALL,
                "after_sales_type": ALL,
                "start_updated_at": int(window.start.timestamp()),
                "end_updated_at": math.ceil(window.end.timestamp()) - 1,
                "page": page,
                "page_size": self.page_size,
            },
            write=False,
        )
        items = tuple(self.from_list(raw) for raw in body.get("refund_list") or [])
        more = page * self.page_size < int(body.get("total_count") or 0)
        return Page(items, str(page + 1) if more else None)

    def read(self, request_id: str, *, order_id: str = "") -> RemoteRequest:
        """One request: Pinduoduo's detail call needs the order number beside the id."""
        if not order_id:
            raise ValueError("Pinduoduo reads a request by its id and its order number")
        body = self.call(
            "pdd.refund.information.get",
            {"after_sales_id": request_id, "order_sn": order_id},
            write=False,
        )
        return self.from_detail(body)

    def build(self, raw: dict[str, Any], *, kind: str, amount_fen: int, **fields) -> RemoteRequest:
        status = str(raw.get("after_sales_status", ""))
        amount = (Decimal(amount_fen) / 100).quantize(Decimal("0.01"))
        quantity = int(raw.get("goods_number") or 1)
        return RemoteRequest(
            platform=self.platform,
            request_id=str(raw["id"]),
            order_id=str(raw.get("order_sn") or ""),
            status=status,
            kind=kind,
            # no version on the platform: what a write must not miss is the status and amount
            version=f"{status}:{amount_fen}",
            amount=amount,
            handling=status == "8" or str(raw.get("dispute_refund_status") or "0") == "1",
            lines=(
                RemoteLine(
                    line_id=f"{raw.get('goods_id', '')}:{raw.get('sku_id', '')}",
                    sku=str(raw.get("outer_id") or raw.get("outer_goods_id") or ""),
                    title=str(raw.get("goods_name") or ""),
                    quantity=quantity,
                    amount=amount,
                ),
            ),
            raw=raw,
            **fields,
        )

    def from_list(self, raw: dict[str, Any]) -> RemoteRequest:
        """A list item: amounts in yuan text, times as Beijing text."""
        modified = parse_time(raw.get("updated_time"))
        return self.build(
            raw,
            kind=str(raw.get("after_sales_type", "")),
            amount_fen=fen_of(raw.get("refund_amount"), in_yuan=True),
            created_at=parse_time(raw.get("created_time")) or modified,
            modified_at=modified,
            reason=str(raw.get("after_sale_reason") or ""),
            tracking_number=str(raw.get("tracking_number") or ""),
        )

    def from_detail(self, raw: dict[str, Any]) -> RemoteRequest:
        """The detail: amounts in fen, times as Unix seconds, the kind in its own code, and the
        merchant's deadline (``expire_time``, while the request waits for the merchant). It has
        no modified time: the (re-)application time stands in."""
        created = parse_time(raw.get("recreated_at")) or parse_time(raw.get("created_time"))
        return self.build(
            raw,
            kind=DETAIL_KIND.get(str(raw.get("after_sales_type", "")), ""),
            amount_fen=fen_of(raw.get("refund_amount"), in_yuan=False),
            created_at=created,
            modified_at=parse_time(raw.get("updated_time")) or created,
            reason=str(raw.get("after_sales_reason") or ""),
            tracking_number=str(raw.get("express_no") or ""),
            deadline_at=parse_time(raw.get("expire_time")),
        )

    # --- writes ----------------------------------------------------------------------------------

    def unchanged(self, request: RemoteRequest) -> None:
        fresh = self.read(request.request_id, order_id=request.order_id)
        if fresh.version != request.version:
            raise VersionConflict(
                f"the request moved from {request.version} to {fresh.version} (status:fen)",
                platform_code="changed_since_read",
            )

    def elsewhere(self, request: RemoteRequest, what: str) -> HandleOnPlatform:
        return HandleOnPlatform(
            f"Pinduoduo has no open API to {what}",
            url=self.back_office_url.format(order_id=request.order_id, id=request.request_id),
        )

    def write(self, method: str, request: RemoteRequest, **fields) -> WriteResult:
        body = self.call(
            method,
            {
                "request": {
                    "after_sales_id": int(request.request_id),
                    "order_sn": request.order_id,
                    **fields,
                }
            },
            write=True,
        )
        result = body.get("result") or body
        if not (result.get("succ") or result.get("success")):
            raise PlatformRefused(str(result.get("message") or ""), raw=body)
        return WriteResult(raw=body)

    def agree_refund(self, request: RemoteRequest, amount: Decimal) -> WriteResult:
        """Pinduoduo agrees the amount the buyer asked for; another amount is negotiated with
        the buyer, who changes the request."""
        if amount != request.amount:
            raise ValueError("Pinduoduo agrees only the amount the buyer asked for")
        self.unchanged(request)
        return self.write("pdd.refund.agree", request, operate_desc="")

    def agree_return(self, request: RemoteRequest, address: ReturnAddress) -> WriteResult:
        if not address.platform_address_id:
            raise ValueError("Pinduoduo returns go to one of the shop's return addresses (its id)")
        self.unchanged(request)
        return self.write(
            "pdd.refund.returngoods.agree",
            request,
            return_address_id=address.platform_address_id,
            operate_desc="",
        )

    def refuse(
        self, request: RemoteRequest, reason_code: str, reason: str, evidence: Sequence[str] = ()
    ) -> WriteResult:
        raise self.elsewhere(request, "refuse a request")

    def confirm_receipt(self, request: RemoteRequest) -> WriteResult:
        """The returned goods came: the refund is agreed (``pdd.refund.agree``)."""
        if request.kind != RETURN:
            raise self.elsewhere(request, "confirm the receipt of this kind")
        return self.agree_refund(request, request.amount)

    def ship_exchange(
        self, request: RemoteRequest, carrier: str, tracking_number: str
    ) -> WriteResult:
        """``carrier`` is Pinduoduo's logistics company id (``pdd.logistics.companies.get``),
        optionally with its name: ``"115"`` or ``"115:中通快递"``."""
        shipping_id, _, shipping_name = carrier.partition(":")
        if not shipping_id.isdigit():
            raise ValueError("Pinduoduo names the carrier by its logistics company id")
        self.unchanged(request)
        return self.write(
            "pdd.refund.exchange.shipping",
            request,
            shipping_id=int(shipping_id),
            shipping_name=shipping_name,
            tracking_number=tracking_number,
        )

    def message(self, request: RemoteRequest, text: str, images: Sequence[str] = ()) -> WriteResult:
        raise self.elsewhere(request, "leave a message on a request")


# --- the mapping ---------------------------------------------------------------------------------

_AS, _AR, _RT = CaseState.AWAITING_SELLER, CaseState.AWAITING_RETURN, CaseState.RETURN_IN_TRANSIT
_RP, _REJ, _CL = CaseState.REFUND_PENDING, CaseState.REJECTED, CaseState.CLOSED
_SHIPPED, _DONE = CaseState.SHIPPED_TO_CUSTOMER, CaseState.COMPLETED


def _rows(kind, states: dict[int, Mapped]) -> dict[tuple[str, str], Mapped]:
    return {(str(status), kind): mapped for status, mapped in states.items()}


def _closed(case_kind) -> dict[int, Mapped]:
    # 9 platform refused, 11 buyer cancelled, 12/13 the buyer let a deadline pass
    return {status: Mapped(case_kind, _CL) for status in (9, 11, 12, 13)}


# (after_sales_status, after_sales_type in the list's code) → meaning
MAPPING: dict[tuple[str, str], Mapped] = {
    **_rows(
        REFUND_ONLY,
        {
            2: Mapped(CaseKind.REFUND_ONLY, _AS),
            4: Mapped(CaseKind.REFUND_ONLY, _RP),
            5: Mapped(CaseKind.REFUND_ONLY, _RP),
            6: Mapped(CaseKind.REFUND_ONLY, _REJ),
            8: Mapped(CaseKind.REFUND_ONLY, _REJ, handling=True),
            10: Mapped(CaseKind.REFUND_ONLY, CaseState.REFUNDED, money_out=True),
            31: Mapped(CaseKind.REFUND_ONLY, _RP),  # agreed: refunded once the parcel is refused
            33: Mapped(CaseKind.REFUND_ONLY, _AS),  # the merchant is to recall the parcel
            **_closed(CaseKind.REFUND_ONLY),
        },
    ),
    **_rows(
        RETURN,
        {
            3: Mapped(CaseKind.RETURN_REFUND, _AS),
            7: Mapped(CaseKind.RETURN_REFUND, _AR),  # with a tracking number: in transit
            4: Mapped(CaseKind.RETURN_REFUND, _RP),
            5: Mapped(CaseKind.RETURN_REFUND, _RP),
            6: Mapped(CaseKind.RETURN_REFUND, _REJ),
            8: Mapped(CaseKind.RETURN_REFUND, _REJ, handling=True),
            10: Mapped(CaseKind.RETURN_REFUND, CaseState.REFUNDED, money_out=True),
            **_closed(CaseKind.RETURN_REFUND),
        },
    ),
    **_rows(
        EXCHANGE,
        {
            14: Mapped(CaseKind.EXCHANGE, _AS),
            15: Mapped(CaseKind.EXCHANGE, _AR),  # waiting for the buyer (to send the goods)
            16: Mapped(CaseKind.EXCHANGE, _DONE, money_out=False),
            17: Mapped(CaseKind.EXCHANGE, _CL),
            18: Mapped(CaseKind.EXCHANGE, _SHIPPED),
            6: Mapped(CaseKind.EXCHANGE, _REJ),
            8: Mapped(CaseKind.EXCHANGE, _REJ, handling=True),
            11: Mapped(CaseKind.EXCHANGE, _CL),
        },
    ),
    **_rows(
        RESEND,
        {
            14: Mapped(UNMODELLED, _AS),
            32: Mapped(UNMODELLED, CaseState.REPLACEMENT_PENDING),
            15: Mapped(UNMODELLED, _AS),
            18: Mapped(UNMODELLED, _SHIPPED),
            16: Mapped(UNMODELLED, _DONE),
            17: Mapped(UNMODELLED, _CL),
            11: Mapped(UNMODELLED, _CL),
        },
    ),
    **_rows(
        REPAIR,
        {
            21: Mapped(CaseKind.REPAIR, _AS),
            22: Mapped(CaseKind.REPAIR, _AR),
            27: Mapped(CaseKind.REPAIR, _SHIPPED),
            25: Mapped(CaseKind.REPAIR, _DONE, money_out=False),
            24: Mapped(CaseKind.REPAIR, _CL),
            8: Mapped(CaseKind.REPAIR, _REJ, handling=True),
            11: Mapped(CaseKind.REPAIR, _CL),
        },
    ),
    **_rows(
        INTERCEPT,
        {
            33: Mapped(UNMODELLED, _AS),
            10: Mapped(UNMODELLED, CaseState.REFUNDED, money_out=True),
            11: Mapped(UNMODELLED, _CL),
        },
    ),
}


def map_request(request: RemoteRequest) -> Mapped | None:
    """The request's case kind and state, or ``None`` for a status or kind not in the table. A
    return the buyer has sent (status 7 with a tracking number) is in transit."""
    mapped = MAPPING.get((request.status, request.kind))
    if mapped is None:
        return None
    if request.status == "7" and request.tracking_number:
        return Mapped(mapped.kind, _RT, mapped.money_out, mapped.handling)
    return mapped
