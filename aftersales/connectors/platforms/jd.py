"""JD POP (京东开放平台 JOS): after-sale service tickets (``jingdong.asc.*``) and refund
applications before shipping (``jingdong.pop.afs.soa.refundapply.*``), two kinds of request behind
one adapter.

The gateway: ``POST {base}/routerjson`` with the form fields ``method``, ``app_key``,
``access_token``, ``timestamp`` (``yyyy-MM-dd HH:mm:ss``, Beijing time), ``v=2.0``,
``360buy_param_json`` (the business JSON) and ``sign``: MD5 of ``secret + k1v1k2v2… + secret``
over the fields sorted by name, upper-case hex. The answer is keyed by the method
(``jingdong_asc_query_list_responce``: JD's spelling) or ``error_response`` with ``code`` and
``zh_desc``.

A request's id tells which it is: ``service:<serviceId>`` or ``refund:<id>``. A service ticket's
writes carry its ``sysVersion``; a refund application has no version (its check time stands for
one).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, ClassVar

from aftersales.cases.choices import CaseKind, CaseState
from aftersales.connectors import base
from aftersales.connectors.base import (
    UNMODELLED,
    Credentials,
    Mapped,
    NotOffered,
    Page,
    RemoteLine,
    RemoteRequest,
    ReturnAddress,
    Window,
    WriteResult,
)
from aftersales.connectors.platforms import wire
from aftersales.core import clock

GATEWAY = "https://api.jd.com"
SERVICE = "service"
REFUND = "refund"
# A refund application has no kind axis: it is always a refund before shipping.
REFUND_APPLICATION = "refundapply"

# ``customerExpect`` (the service ticket's kind)
RETURN = "10"
REFUND_ONLY = "11"
EXCHANGE = "20"
REPAIR = "30"
RESEND = "80"
FRESH_COMPENSATION = "90"  # 优鲜赔

# ``replyRefund`` ``status``
REPLY_AGREE = 1
REPLY_REFUSE = 2
REJECT_OTHER = 5  # ``rejectType`` "other"

# Gateway ``error_response.code``s (JOS's system errors) and the service tickets' ``msgCode``s:
# 19 (access_token invalid or expired) is JOS's; the others are those our recorded answers use.
CREDENTIAL_CODES = frozenset({"14", "19", "67"})
RATE_LIMITED_CODES = frozenset({"68"})
VERSION_CODES = frozenset({"ASC_VERSION_CHANGED"})
STATE_CODES = frozenset({"ASC_STATUS_ERROR", "REFUND_STATUS_ERROR"})


class JdAdapter:
    platform: ClassVar[str] = "jd"
    # Neither listing states a limit; a day keeps each walk small (the adapter's choice).
    max_window: ClassVar[dt.timedelta] = dt.timedelta(days=1)
    max_lookback: ClassVar[dt.timedelta | None] = None
    overlap: ClassVar[dt.timedelta] = dt.timedelta(minutes=5)
    page_size: ClassVar[int] = 50
    retry_after: ClassVar[float] = 1.0

    def __init__(
        self,
        credentials: Credentials,
        base_url: str = GATEWAY,
        *,
        timeout: float = wire.TIMEOUT_SECONDS,
        now: Callable[[], dt.datetime] = clock.now,
        operator: str = "aftersales",
    ):
        self.credentials = credentials
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.now = now
        # Who the ticket's history names as the shop's operator (``operatePin``/``operateNick``).
        self.operator = operator

    # --- the gateway -----------------------------------------------------------------------------

    @staticmethod
    def sign(fields: dict[str, str], secret: str) -> str:
        text = secret + "".join(f"{key}{fields[key]}" for key in sorted(fields)) + secret
        return hashlib.md5(text.encode()).hexdigest().upper()

    def call(self, method: str, params: dict[str, Any], *, write: bool) -> dict[str, Any]:
        fields = {
            "method": method,
            "app_key": self.credentials.app_key,
            "access_token": self.credentials.access_token,
            "timestamp": wire.beijing_text(self.now()),
            "v": "2.0",
            "360buy_param_json": json.dumps(params, ensure_ascii=False, separators=(",", ":")),
        }
        fields["sign"] = self.sign(fields, self.credentials.app_secret)
        answer = wire.post(
            f"{self.base_url}/routerjson", form=fields, write=write, timeout=self.timeout
        )
        if "error_response" in answer:
            error = answer["error_response"]
            code = str(error.get("code", ""))
            detail = str(error.get("zh_desc") or error.get("en_desc") or "")
            kwargs = {"platform_code": code, "raw": answer}
            if code in RATE_LIMITED_CODES:
                raise base.RateLimited(detail, retry_after=self.retry_after, **kwargs)
            if code in CREDENTIAL_CODES:
                raise base.CredentialRejected(detail, **kwargs)
            raise base.PlatformRefused(detail, **kwargs)
        return answer.get(method.replace(".", "_") + "_responce") or {}

    def asc_call(self, method: str, params: dict[str, Any], *, write: bool) -> dict[str, Any]:
        """A service-ticket call: the ticket API's own ``result`` says whether it succeeded."""
        answer = self.call(
            method,
            {
                "buId": self.credentials.seller_id,
                "operatePin": self.operator,
                "operateNick": self.operator,
                **params,
            },
            write=write,
        )
        result = answer.get("result") or {}
        if result.get("success", True) is False:
            self.refused(str(result.get("msgCode", "")), str(result.get("msg", "")), answer)
        return result

    @staticmethod
    def refused(code: str, detail: str, raw: Any) -> None:
        if code in VERSION_CODES:
            raise base.VersionConflict(detail, platform_code=code, raw=raw)
        if code in STATE_CODES:
            raise base.StateRefused(detail, platform_code=code, raw=raw)
        raise base.PlatformRefused(detail, platform_code=code, raw=raw)

    # --- reads -----------------------------------------------------------------------------------

    # ``changed`` walks three listings in turn; the cursor is ``<listing>:<page>``: service
    # tickets by update time, then refund applications by apply time and by check time (that
    # listing has no update time, so an application applied and checked in the same window comes
    # twice, alike).
    PHASES: ClassVar[tuple[str, ...]] = ("service", "applied", "checked")

    def changed(self, window: Window, cursor: str | None = None) -> Page:
        wire.check_window(
            window, max_window=self.max_window, max_lookback=self.max_lookback, now=self.now
        )
        phase, _, page_text = (cursor or "service:1").partition(":")
        page = int(page_text or 1)
        # The listings' ends are inclusive, to the second; ours is not.
        start = wire.beijing_text(window.start)
        end = wire.beijing_text(window.end - dt.timedelta(seconds=1))
        if phase == "service":
            result = (
                self.call(
                    "jingdong.asc.query.list",
                    {
                        "buId": self.credentials.seller_id,
                        "updateTimeBegin": start,
                        "updateTimeEnd": end,
                        "pageNumber": page,
                        "pageSize": self.page_size,
                    },
                    write=False,
                ).get("pageResult")
                or {}
            )
            items = tuple(self.service_from(row) for row in result.get("data") or [])
            total = int(result.get("totalCount") or 0)
        else:
            prefix = "apply" if phase == "applied" else "check"
            result = (
                self.call(
                    "jingdong.pop.afs.soa.refundapply.queryPageList",
                    {
                        f"{prefix}TimeStart": start,
                        f"{prefix}TimeEnd": end,
                        "pageIndex": page,
                        "pageSize": self.page_size,
                    },
                    write=False,
                ).get("queryResult")
                or {}
            )
            items = tuple(self.refund_from(row) for row in result.get("result") or [])
            total = int(result.get("totalCount") or 0)
        if page * self.page_size < total:
            return Page(items=items, cursor=f"{phase}:{page + 1}")
        following = self.PHASES.index(phase) + 1
        next_cursor = f"{self.PHASES[following]}:1" if following < len(self.PHASES) else None
        return Page(items=items, cursor=next_cursor)

    def read(self, request_id: str, *, order_id: str = "") -> RemoteRequest:
        family, _, number = request_id.partition(":")
        if family == SERVICE:
            result = self.asc_call(
                "jingdong.asc.query.view", {"serviceId": int(number)}, write=False
            )
            return self.service_from(result.get("data") or {})
        if family == REFUND:
            answer = self.call(
                "jingdong.pop.afs.soa.refundapply.queryById", {"id": int(number)}, write=False
            )
            rows = (answer.get("queryResult") or {}).get("result") or []
            if not rows:
                raise base.PlatformRefused("no such refund application", platform_code="empty")
            return self.refund_from(rows[0])
        raise ValueError(f"not a JD request id: {request_id!r}")

    def service_from(self, row: dict[str, Any]) -> RemoteRequest:
        status = str(row.get("serviceStatus", ""))
        if status == "10010" and row.get("processResult") not in (None, ""):
            # "Done" says nothing of the outcome: the processing result does.
            status = f"10010:{row['processResult']}"
        amount = wire.yuan(row.get("refundAmount"))
        return RemoteRequest(
            platform=self.platform,
            request_id=f"{SERVICE}:{row['serviceId']}",
            order_id=str(row.get("orderId", "")),
            status=status,
            kind=str(row.get("customerExpect", "")),
            version=str(row.get("sysVersion", "")),
            created_at=wire.from_beijing_text(row.get("applyTime")),
            modified_at=wire.from_beijing_text(row.get("updateTime") or row.get("applyTime")),
            amount=amount,
            reason=str(row.get("questionDesc") or row.get("applyReasonName") or ""),
            buyer_note=str(row.get("customerRemark") or ""),
            # JD's own customer service took the ticket over (``jingdong.asc.process.JdIntervene``).
            handling=bool(row.get("jdIntervene")),
            tracking_number=str(row.get("expressCode") or ""),
            lines=(
                RemoteLine(
                    line_id=str(row.get("skuId", "")),
                    sku=str(row.get("outerSkuId") or ""),
                    title=str(row.get("wareName") or ""),
                    quantity=int(row.get("wareNum") or 1),
                    amount=amount,
                ),
            ),
            raw=row,
        )

    def refund_from(self, row: dict[str, Any]) -> RemoteRequest:
        checked = wire.from_beijing_text(row.get("checkTime"))
        applied = wire.from_beijing_text(row.get("applyTime"))
        return RemoteRequest(
            platform=self.platform,
            request_id=f"{REFUND}:{row['id']}",
            order_id=str(row.get("orderId", "")),
            status=str(row.get("status", "")),
            kind=REFUND_APPLICATION,
            version=row.get("checkTime") or row.get("applyTime") or "",
            created_at=applied,
            modified_at=checked or applied,
            amount=wire.yuan(row.get("applyRefundSum")),
            reason=str(row.get("reason") or ""),
            buyer_note=str(row.get("applyRemark") or ""),
            raw=row,
        )

    # --- writes ----------------------------------------------------------------------------------

    @staticmethod
    def family(request: RemoteRequest) -> str:
        return request.request_id.partition(":")[0]

    def ticket(self, request: RemoteRequest) -> dict[str, Any]:
        return {
            "serviceId": int(request.request_id.partition(":")[2]),
            "orderId": int(request.order_id),
            "sysVersion": int(request.version),
        }

    def reply(self, request: RemoteRequest, status: int, remark: str, **more: Any) -> WriteResult:
        answer = self.call(
            "jingdong.pop.afs.soa.refundapply.replyRefund",
            {
                "id": int(request.request_id.partition(":")[2]),
                "status": status,
                "checkUserName": self.operator,
                "remark": remark,
                **more,
            },
            write=True,
        )
        result = answer.get("replyResult") or {}
        if result.get("success") is False:
            self.refused(
                str(result.get("errorCode", "")), str(result.get("errorMessage", "")), answer
            )
        return WriteResult(raw=answer)

    def agree_refund(self, request: RemoteRequest, amount: Decimal) -> WriteResult:
        if self.family(request) != REFUND:
            # A ticket's money goes through the refund application JD opens for it (10041).
            raise NotOffered("a JD service ticket is refunded through its refund application")
        if wire.fen_from_yuan(amount) != wire.fen_from_yuan(request.amount):
            raise ValueError("JD refunds the amount of the application: agree to it or refuse")
        return self.reply(request, REPLY_AGREE, "同意退款")

    def agree_return(self, request: RemoteRequest, address: ReturnAddress) -> WriteResult:
        if self.family(request) != SERVICE:
            raise NotOffered("a refund before shipping has no return")
        result = self.asc_call(
            "jingdong.asc.audit.send",
            {
                **self.ticket(request),
                "approveNotes": "同意退货",
                "returnContactName": address.name,
                "returnContactTel": address.phone,
                "returnDetailAddress": address.address,
            },
            write=True,
        )
        return WriteResult(raw=result)

    def refuse(
        self, request: RemoteRequest, reason_code: str, reason: str, evidence: Sequence[str] = ()
    ) -> WriteResult:
        if self.family(request) == REFUND:
            # ``rejectType``: 1 in transit (refusal possible) … 5 other; evidence has no field.
            return self.reply(request, REPLY_REFUSE, reason, rejectType=int(reason_code))
        result = self.asc_call(
            "jingdong.asc.audit.refuse",
            {
                **self.ticket(request),
                "approveNotes": reason,
                "approveReasonCid1": int(reason_code),
                "operateRemark": " ".join(evidence),
            },
            write=True,
        )
        return WriteResult(raw=result)

    def confirm_receipt(self, request: RemoteRequest) -> WriteResult:
        if self.family(request) != SERVICE:
            raise NotOffered("a refund before shipping has no goods to receive")
        result = self.asc_call(
            "jingdong.asc.receive.register",
            {
                "serviceId": int(request.request_id.partition(":")[2]),
                "orderId": int(request.order_id),
                "receiveName": self.operator,
                "receiveRemark": "已收到退回商品",
            },
            write=True,
        )
        return WriteResult(raw=result)

    def ship_exchange(
        self, request: RemoteRequest, carrier: str, tracking_number: str
    ) -> WriteResult:
        if self.family(request) != SERVICE:
            raise NotOffered("a refund before shipping has nothing to send")
        result = self.asc_call(
            "jingdong.asc.audit.reissue",
            {
                **self.ticket(request),
                "approveNotes": "换新发货",
                "shipWayName": carrier,
                "expressCode": tracking_number,
            },
            write=True,
        )
        return WriteResult(raw=result)

    def message(self, request: RemoteRequest, text: str, images: Sequence[str] = ()) -> WriteResult:
        raise NotOffered("JD has no call to leave a message on an after-sale request")


# --- the mapping: (status, kind) → our kind and state -------------------------------------------

AS = CaseState.AWAITING_SELLER
# Service tickets: 10000 awaiting claim for review, 10001 under review, 10002 awaiting the
# customer's feedback (the shop refused or asked), 10004 closed at review, 10005 awaiting the
# goods, 10006/10007 awaiting/under processing (goods received), 10009 awaiting the customer's
# confirmation, 10010 done (with ``processResult``: 70 sent back as it came, 80 exchanged,
# 100 compensated, 2 repaired), 10011 cancelled, 10012 the customer replied, 10041 refund
# requested, 12000 on-site repair, 13000 collection, 14000 on-site inspection.
_TICKET_COMMON = {
    "10000": AS,
    "10001": AS,
    "10002": CaseState.REJECTED,
    "10004": CaseState.CLOSED,
    "10011": CaseState.CLOSED,
    "10012": AS,
}
_GOODS_BACK = {
    "10005": CaseState.AWAITING_RETURN,
    "13000": CaseState.AWAITING_RETURN,
    "10006": CaseState.INSPECTING,
    "10007": CaseState.INSPECTING,
    "14000": CaseState.INSPECTING,
    "10010:70": CaseState.CLOSED,
}


def _ticket_rows(kind: str, our_kind: str, rows: dict[str, tuple[CaseState, bool]]):
    for status, state in _TICKET_COMMON.items():
        yield (status, kind), Mapped(kind=our_kind, state=state)
    for status, (state, money_out) in rows.items():
        yield (status, kind), Mapped(kind=our_kind, state=state, money_out=money_out)


_MONEY_BACK = {
    "10041": (CaseState.REFUND_PENDING, False),
    "10010": (CaseState.REFUNDED, True),
    "10010:100": (CaseState.REFUNDED, True),
}
_NO_MONEY = {
    "10009": (CaseState.SHIPPED_TO_CUSTOMER, False),
    "10010": (CaseState.COMPLETED, False),
    "10010:80": (CaseState.COMPLETED, False),
    "10010:2": (CaseState.COMPLETED, False),
}
_GOODS = {status: (state, False) for status, state in _GOODS_BACK.items()}

MAPPING: dict[tuple[str, str], Mapped] = {
    **dict(_ticket_rows(RETURN, CaseKind.RETURN_REFUND, {**_GOODS, **_MONEY_BACK})),
    **dict(_ticket_rows(REFUND_ONLY, CaseKind.REFUND_ONLY, _MONEY_BACK)),
    **dict(_ticket_rows(EXCHANGE, CaseKind.EXCHANGE, {**_GOODS, **_NO_MONEY})),
    **dict(
        _ticket_rows(
            REPAIR, CaseKind.REPAIR, {**_GOODS, **_NO_MONEY, "12000": (CaseState.REPAIRING, False)}
        )
    ),
    **dict(_ticket_rows(RESEND, UNMODELLED, _NO_MONEY)),
    **dict(_ticket_rows(FRESH_COMPENSATION, UNMODELLED, _MONEY_BACK)),
    # Refund applications before shipping (status 0–11).
    **{
        (status, REFUND_APPLICATION): Mapped(
            kind=CaseKind.REFUND_ONLY, state=state, money_out=state == CaseState.REFUNDED
        )
        for statuses, state in (
            (("0", "8"), AS),
            (("1", "5", "6", "10"), CaseState.REFUND_PENDING),
            (("2", "4", "11"), CaseState.REJECTED),
            (("3", "9"), CaseState.REFUNDED),
        )
        for status in statuses
    },
}


def map_request(request: RemoteRequest) -> Mapped | None:
    """The request's kind and state here; ``None`` for a status or kind this table does not know
    (a person decides)."""
    return MAPPING.get((request.status, request.kind))
