"""Taobao and Tmall through TOP (the Taobao Open Platform): the seller's refunds and Tmall's
reverse disputes (逆向纠纷, with exchanges), read by modified time, and the seller's answers.

One gateway, one signature: every call is a form POST of the system parameters (``method``,
``app_key``, ``session``, ``timestamp`` in Beijing time, ``format=json``, ``v=2.0``,
``sign_method``) and the call's own, signed with ``md5(secret + k1v1k2v2… + secret)`` over the
parameters sorted by name (or HMAC-MD5 keyed by the secret, ``sign_method=hmac``), upper-case hex;
files (evidence images) are sent as multipart and are not signed. An answer is
``{"<method>_response": {...}}`` or ``{"error_response": {code, msg, sub_code, sub_msg}}``.

Taobao has no kind axis: ``has_good_return`` says refund only or return; Tmall's disputes carry
``dispute_request`` (仅退款 / 退货退款 / 换货) and statuses Taobao lacks (the exchange's steps).
Writes carry ``refund_version`` (and on Tmall ``refund_phase``); amounts are yuan on reads and fen
in ``refund_infos``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import re
import urllib.request
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, ClassVar

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
    StateRefused,
    Unreachable,
    VersionConflict,
    Window,
    WriteResult,
)
from aftersales.connectors.platforms.wire import beijing_text, post_form, yuan
from aftersales.connectors.platforms.wire import fen_from_yuan as fen
from aftersales.connectors.platforms.wire import from_beijing_text as parse_time

GATEWAY = "https://eco.taobao.com/router/rest"

# The fields asked of a refund (taobao.refunds.receive.get and taobao.refund.get).
REFUND_FIELDS = (
    "refund_id,tid,oid,title,num,price,total_fee,refund_fee,payment,status,good_status,"
    "has_good_return,order_status,created,modified,reason,desc,sid,company_name,cs_status,"
    "refund_phase,refund_version,refund_remind_timeout,operation_contraint,outer_id,sku,"
    "attribute,special_refund_type,advance_status"
)
# The fields asked of a Tmall dispute (tmall.dispute.receive.get).
DISPUTE_FIELDS = (
    "refund_id,alipay_no,tid,biz_order_id,oid,buyer_nick,seller_nick,status,created,modified,"
    "order_status,refund_fee,good_status,has_good_return,show_return_logistic,"
    "show_exchange_logistic,time_out,refund_version,refund_phase,title,num,dispute_request,"
    "reason,desc,cs_status"
)

# TOP's platform error codes that mean the keys or the session are at fault.
CREDENTIAL_CODES = frozenset({"11", "12", "25", "26", "27", "28", "29", "53"})
BAN_SECONDS = re.compile(r"(\d+)\s*more\s*seconds")

REFUND_ONLY = "仅退款"
RETURN = "退货退款"
EXCHANGE = "换货"


def sign(params: dict[str, str], secret: str, sign_method: str = "md5") -> str:
    """TOP's signature of ``params`` (without ``sign`` and without files)."""
    joined = "".join(f"{key}{params[key]}" for key in sorted(params) if key != "sign")
    if sign_method == "hmac":
        digest = hmac.new(secret.encode(), joined.encode(), hashlib.md5).hexdigest()
    elif sign_method == "hmac-sha256":
        digest = hmac.new(secret.encode(), joined.encode(), hashlib.sha256).hexdigest()
    else:
        digest = hashlib.md5(f"{secret}{joined}{secret}".encode()).hexdigest()
    return digest.upper()


def response_key(method: str) -> str:
    """``taobao.rp.refunds.agree`` answers in ``rp_refunds_agree_response``; ``tmall.*`` keeps
    its prefix."""
    name = method.removeprefix("taobao.")
    return name.replace(".", "_") + "_response"


def _download(url: str) -> bytes:
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"evidence must be an http(s) image URL: {url!r}")
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read(5 * 1024 * 1024 + 1)


class TaobaoAdapter:
    """Taobao's refunds (``taobao.refunds.receive.get``) and the seller's writes. TOP documents no
    longest window for the list; one day keeps a window's pages few. Reads by modified time reach
    as far back as the platform keeps refunds."""

    platform: ClassVar[str] = "taobao"
    tmall: ClassVar[bool] = False
    list_method: ClassVar[str] = "taobao.refunds.receive.get"
    max_window: ClassVar[dt.timedelta] = dt.timedelta(days=1)
    max_lookback: ClassVar[dt.timedelta | None] = None
    overlap: ClassVar[dt.timedelta] = dt.timedelta(minutes=5)
    page_size: ClassVar[int] = 100
    # Where a person handles a refund the API may not (operation_contraint=refund_onweb).
    back_office_url: ClassVar[str] = "https://refund2.taobao.com/dispute/detail.htm?disputeId={id}"

    def __init__(
        self,
        credentials: Credentials,
        base_url: str = GATEWAY,
        *,
        timeout: float = 15.0,
        sign_method: str = "md5",
        fetch_image: Callable[[str], bytes] = _download,
    ):
        self.credentials = credentials
        self.base_url = base_url
        self.timeout = timeout
        self.sign_method = sign_method
        self.fetch_image = fetch_image

    # --- the gateway -----------------------------------------------------------------------------

    def call(
        self,
        method: str,
        params: dict[str, Any],
        *,
        write: bool,
        files: dict[str, tuple[str, bytes]] | None = None,
    ) -> dict[str, Any]:
        """One TOP call; the body of ``<method>_response``, or the failure it answered."""
        fields = {
            "method": method,
            "app_key": self.credentials.app_key,
            "session": self.credentials.access_token,
            "timestamp": beijing_text(dt.datetime.now(dt.UTC)),
            "format": "json",
            "v": "2.0",
            "sign_method": self.sign_method,
        }
        fields.update({key: str(value) for key, value in params.items() if value not in ("", None)})
        fields["sign"] = sign(fields, self.credentials.app_secret, self.sign_method)
        answer = post_form(self.base_url, fields, timeout=self.timeout, write=write, files=files)
        if "error_response" in answer:
            raise self.failure(answer["error_response"], write=write)
        body = answer.get(response_key(method))
        if not isinstance(body, dict):
            failed = OutcomeUnknown if write else Unreachable
            raise failed(f"no {response_key(method)} in the answer", raw=answer)
        return body

    @staticmethod
    def failure(error: dict[str, Any], *, write: bool) -> ConnectorError:
        """TOP's ``error_response`` as the failure a caller tells apart."""
        code = str(error.get("code", ""))
        sub_code = str(error.get("sub_code", ""))
        detail = str(error.get("sub_msg") or error.get("msg") or "")
        platform_code = f"{code}:{sub_code}" if sub_code else code
        kwargs = {"platform_code": platform_code, "raw": error}
        if code == "7" or sub_code.startswith("accesscontrol.limited"):
            found = BAN_SECONDS.search(detail)
            wait = float(found.group(1)) if found else 1.0
            return RateLimited(detail, retry_after=wait, **kwargs)
        if code in CREDENTIAL_CODES or sub_code.startswith(("isv.invalid-session", "invalid-")):
            return CredentialRejected(detail, **kwargs)
        if "version" in sub_code:
            return VersionConflict(detail, **kwargs)
        if "status" in sub_code:
            return StateRefused(detail, **kwargs)
        if sub_code.startswith("isp."):
            # the platform failed inside (its backend timed out or broke): a write may have
            # happened there, a read may be made again
            return (OutcomeUnknown if write else Unreachable)(detail, **kwargs)
        return PlatformRefused(detail, **kwargs)

    # --- reads -----------------------------------------------------------------------------------

    def check_window(self, window: Window) -> None:
        if window.end <= window.start:
            raise ValueError("a window ends after it starts")
        if window.end - window.start > self.max_window:
            raise ValueError(f"{self.platform} windows are at most {self.max_window}")
        lookback = self.max_lookback
        if lookback is not None and window.start < dt.datetime.now(dt.UTC) - lookback:
            raise ValueError(f"{self.platform} reaches at most {self.max_lookback} back")

    def window_params(self, window: Window) -> dict[str, str]:
        """TOP's bounds are whole seconds, both included: the window's end is excluded, so the
        last second asked is the one before it."""
        start = window.start.replace(microsecond=0)
        end_second = math.ceil(window.end.timestamp()) - 1
        end = dt.datetime.fromtimestamp(end_second, dt.UTC)
        return {"start_modified": beijing_text(start), "end_modified": beijing_text(end)}

    def changed(self, window: Window, cursor: str | None = None) -> Page:
        self.check_window(window)
        page_no = int(cursor or "1")
        body = self.call(
            self.list_method,
            {
                **self.window_params(window),
                "fields": self.list_fields(),
                "page_no": page_no,
                "page_size": self.page_size,
                "use_has_next": "true",
            },
            write=False,
        )
        body = self.list_body(body)
        items = tuple(self.to_request(raw) for raw in self.list_items(body))
        if "has_next" in body:
            more = bool(body["has_next"])
        else:
            more = page_no * self.page_size < int(body.get("total_results") or 0)
        return Page(items, str(page_no + 1) if more else None)

    def list_fields(self) -> str:
        return REFUND_FIELDS

    @staticmethod
    def list_body(body: dict[str, Any]) -> dict[str, Any]:
        return body

    @staticmethod
    def list_items(body: dict[str, Any]) -> list[dict[str, Any]]:
        refunds = body.get("refunds") or {}
        return list(refunds.get("refund") or []) if isinstance(refunds, dict) else list(refunds)

    def read(self, request_id: str, *, order_id: str = "") -> RemoteRequest:
        body = self.call(
            "taobao.refund.get", {"refund_id": request_id, "fields": REFUND_FIELDS}, write=False
        )
        return self.to_request(body.get("refund") or {})

    def kind_of(self, raw: dict[str, Any]) -> str:
        return ""  # Taobao: no kind axis (has_good_return, in raw)

    def deadline_of(self, raw: dict[str, Any]) -> dt.datetime | None:
        remind = raw.get("refund_remind_timeout") or {}
        if remind.get("exist_timeout") in (True, "true"):
            return parse_time(remind.get("timeout"))
        return None

    def to_request(self, raw: dict[str, Any]) -> RemoteRequest:
        amount = yuan(raw.get("refund_fee"))
        modified = parse_time(raw.get("modified"))
        return RemoteRequest(
            platform=self.platform,
            request_id=str(raw["refund_id"]),
            order_id=str(raw.get("tid") or raw.get("biz_order_id") or ""),
            status=str(raw.get("status", "")),
            kind=self.kind_of(raw),
            version=str(raw.get("refund_version") or raw.get("modified") or ""),
            created_at=parse_time(raw.get("created")) or modified,
            modified_at=modified,
            amount=amount,
            reason=str(raw.get("reason") or ""),
            buyer_note=str(raw.get("desc") or ""),
            handling=int(raw.get("cs_status") or 1) in (2, 3, 4, 5),
            deadline_at=self.deadline_of(raw),
            tracking_number=str(raw.get("sid") or ""),
            lines=(
                RemoteLine(
                    line_id=str(raw.get("oid") or ""),
                    sku=str(raw.get("outer_id") or raw.get("sku") or ""),
                    title=str(raw.get("title") or ""),
                    quantity=int(raw.get("num") or 1),
                    amount=amount,
                ),
            ),
            raw=raw,
        )

    # --- writes ----------------------------------------------------------------------------------

    def phase(self, request: RemoteRequest) -> str:
        return str(request.raw.get("refund_phase") or "aftersale")

    def allowed(self, request: RemoteRequest) -> None:
        """TOP marks a refund the API may not touch (``operation_contraint=refund_onweb``)."""
        if request.raw.get("operation_contraint") == "refund_onweb":
            raise HandleOnPlatform(
                "this refund must be handled on the platform's web pages",
                url=self.back_office_url.format(id=request.request_id),
                platform_code="refund_onweb",
            )

    def is_exchange(self, request: RemoteRequest) -> bool:
        return False

    def agree_refund(self, request: RemoteRequest, amount: Decimal) -> WriteResult:
        if not Decimal("0") < amount <= request.amount:
            raise ValueError("the amount agreed is more than nothing and at most the one asked")
        self.allowed(request)
        infos = f"{request.request_id}|{fen(amount)}|{request.version}"
        if self.tmall:
            infos += f"|{self.phase(request)}"
        body = self.call("taobao.rp.refunds.agree", {"refund_infos": infos}, write=True)
        if not body.get("succ") or body.get("msg_code") not in (None, "OP_SUCC"):
            results = (body.get("results") or {}).get("refund_mapping_result") or []
            detail = next((r.get("message", "") for r in results if not r.get("succ")), "")
            raise PlatformRefused(
                detail or body.get("message", ""), platform_code=str(body.get("msg_code")), raw=body
            )
        return WriteResult(raw=body)

    def agree_return(self, request: RemoteRequest, address: ReturnAddress) -> WriteResult:
        self.allowed(request)
        if self.is_exchange(request):
            body = self.call(
                "tmall.exchange.agree",
                {
                    "dispute_id": request.request_id,
                    "address_id": address.platform_address_id,
                    "complete_address": address.address,
                    "mobile": address.phone,
                    "fields": "dispute_id,bizorder_id,modified,status",
                },
                write=True,
            )
            return self.exchange_result(body)
        body = self.call(
            "taobao.rp.returngoods.agree",
            {
                "refund_id": request.request_id,
                "name": address.name,
                "address": address.address,
                "mobile": address.phone,
                "seller_address_id": address.platform_address_id,
                "refund_phase": self.phase(request),
                "refund_version": request.version,
            },
            write=True,
        )
        return self.plain_result(body)

    def evidence_files(self, evidence: Sequence[str], name: str) -> dict[str, tuple[str, bytes]]:
        # TOP takes one image per call (refuse_proof, image): the first is sent.
        if not evidence:
            return {}
        return {name: ("evidence.jpg", self.fetch_image(evidence[0]))}

    def refuse(
        self, request: RemoteRequest, reason_code: str, reason: str, evidence: Sequence[str] = ()
    ) -> WriteResult:
        self.allowed(request)
        if request.raw.get("operation_contraint") == "cannot_refuse":
            raise StateRefused("the platform does not let this refund be refused")
        if self.is_exchange(request):
            raise HandleOnPlatform(
                "an exchange is refused on the platform's pages",
                url=self.back_office_url.format(id=request.request_id),
            )
        common = {
            "refund_id": request.request_id,
            "refund_phase": self.phase(request),
            "refund_version": request.version,
            "refuse_reason_id": reason_code,
        }
        if request.status == "WAIT_SELLER_CONFIRM_GOODS":
            body = self.call(
                "taobao.rp.returngoods.refuse",
                common,
                write=True,
                files=self.evidence_files(evidence, "refuse_proof"),
            )
        else:
            body = self.call(
                "taobao.refund.refuse",
                {**common, "refuse_message": reason},
                write=True,
                files=self.evidence_files(evidence, "refuse_proof"),
            )
        return self.plain_result(body)

    def confirm_receipt(self, request: RemoteRequest) -> WriteResult:
        """The goods came back: for a refund TOP joins receipt and refund (the full amount asked
        is agreed); an exchange's receipt is ``tmall.exchange.returngoods.agree``."""
        if self.is_exchange(request):
            self.allowed(request)
            body = self.call(
                "tmall.exchange.returngoods.agree",
                {"dispute_id": request.request_id, "fields": "dispute_id,modified,status"},
                write=True,
            )
            return self.exchange_result(body)
        return self.agree_refund(request, request.amount)

    def ship_exchange(
        self, request: RemoteRequest, carrier: str, tracking_number: str
    ) -> WriteResult:
        if not self.is_exchange(request):
            raise HandleOnPlatform(
                "only a Tmall exchange ships its replacement through the API",
                url=self.back_office_url.format(id=request.request_id),
            )
        self.allowed(request)
        body = self.call(
            "tmall.exchange.consigngoods",
            {
                "dispute_id": request.request_id,
                "logistics_no": tracking_number,
                "logistics_type": 200,  # 200 express, 100 surface mail
                "logistics_company_name": carrier,
                "fields": "dispute_id,modified,status",
            },
            write=True,
        )
        return self.exchange_result(body)

    def message(self, request: RemoteRequest, text: str, images: Sequence[str] = ()) -> WriteResult:
        body = self.call(
            "taobao.refund.message.add",
            {"refund_id": request.request_id, "content": text},
            write=True,
            files=self.evidence_files(images, "image"),
        )
        return WriteResult(raw=body)

    @staticmethod
    def plain_result(body: dict[str, Any]) -> WriteResult:
        if body.get("is_success") in (False, "false"):
            raise PlatformRefused(str(body.get("msg") or body.get("message") or ""), raw=body)
        return WriteResult(raw=body)

    @staticmethod
    def exchange_result(body: dict[str, Any]) -> WriteResult:
        result = body.get("result") or {}
        if result.get("success") in (False, "false"):
            raise PlatformRefused(
                str(result.get("msg") or ""), platform_code=str(result.get("code") or ""), raw=body
            )
        modified = (result.get("result") or {}).get("modified") or ""
        return WriteResult(version=str(modified), raw=body)


class TmallAdapter(TaobaoAdapter):
    """Tmall's reverse disputes (``tmall.dispute.receive.get``, read one by its ``refund_id``):
    the kind in ``dispute_request``, the exchange's own statuses, ``refund_phase`` on writes, the
    step's timeout in ``time_out``."""

    platform: ClassVar[str] = "tmall"
    tmall: ClassVar[bool] = True
    list_method: ClassVar[str] = "tmall.dispute.receive.get"
    back_office_url: ClassVar[str] = "https://refund2.tmall.com/dispute/detail.htm?disputeId={id}"

    def list_fields(self) -> str:
        return DISPUTE_FIELDS

    @staticmethod
    def list_body(body: dict[str, Any]) -> dict[str, Any]:
        """The dispute list answers in ``result`` (with its own ``error_code`` and
        ``error_msg`` beside the page)."""
        result = body.get("result") or {}
        if result.get("error_code"):
            raise PlatformRefused(
                str(result.get("error_msg") or ""),
                platform_code=str(result["error_code"]),
                raw=result,
            )
        return result

    @staticmethod
    def list_items(body: dict[str, Any]) -> list[dict[str, Any]]:
        disputes = body.get("results") or {}
        return list(disputes.get("dispute") or []) if isinstance(disputes, dict) else list(disputes)

    def read(self, request_id: str, *, order_id: str = "") -> RemoteRequest:
        body = self.call(
            self.list_method,
            {"refund_id": request_id, "fields": DISPUTE_FIELDS, "use_has_next": "true"},
            write=False,
        )
        items = self.list_items(self.list_body(body))
        if not items:
            raise PlatformRefused(f"no dispute {request_id}", platform_code="not_found", raw=body)
        return self.to_request(items[0])

    def kind_of(self, raw: dict[str, Any]) -> str:
        return str(raw.get("dispute_request") or "")

    def deadline_of(self, raw: dict[str, Any]) -> dt.datetime | None:
        return parse_time(raw.get("time_out"))

    def is_exchange(self, request: RemoteRequest) -> bool:
        return request.kind == EXCHANGE


# --- the mapping ---------------------------------------------------------------------------------

_AS, _AR, _RT = CaseState.AWAITING_SELLER, CaseState.AWAITING_RETURN, CaseState.RETURN_IN_TRANSIT
_REJ, _CL = CaseState.REJECTED, CaseState.CLOSED

# (status, kind) → meaning. Kind is Tmall's dispute_request; for Taobao it follows from
# has_good_return (仅退款 without, 退货退款 with).
MAPPING: dict[tuple[str, str], Mapped] = {
    ("WAIT_SELLER_AGREE", REFUND_ONLY): Mapped(CaseKind.REFUND_ONLY, _AS),
    ("SELLER_REFUSE_BUYER", REFUND_ONLY): Mapped(CaseKind.REFUND_ONLY, _REJ),
    ("CLOSED", REFUND_ONLY): Mapped(CaseKind.REFUND_ONLY, _CL),
    ("SUCCESS", REFUND_ONLY): Mapped(CaseKind.REFUND_ONLY, CaseState.REFUNDED, money_out=True),
    ("WAIT_SELLER_AGREE", RETURN): Mapped(CaseKind.RETURN_REFUND, _AS),
    ("WAIT_SELLER_CONFIRM_RETURN_ADDRESS", RETURN): Mapped(CaseKind.RETURN_REFUND, _AS),
    ("WAIT_BUYER_RETURN_GOODS", RETURN): Mapped(CaseKind.RETURN_REFUND, _AR),
    ("WAIT_SELLER_CONFIRM_GOODS", RETURN): Mapped(CaseKind.RETURN_REFUND, _RT),
    ("SELLER_REFUSE_BUYER", RETURN): Mapped(CaseKind.RETURN_REFUND, _REJ),
    ("CLOSED", RETURN): Mapped(CaseKind.RETURN_REFUND, _CL),
    ("SUCCESS", RETURN): Mapped(CaseKind.RETURN_REFUND, CaseState.REFUNDED, money_out=True),
    # the seller sent the goods again and the buyer is to confirm them: a resend
    ("WAIT_BUYER_CONFIRM_REDO_SEND_GOODS", RETURN): Mapped(
        UNMODELLED, CaseState.SHIPPED_TO_CUSTOMER
    ),
    # a postage claim (邮费单) waiting to be activated: compensation
    ("POST_FEE_DISPUTE_WAIT_ACTIVATE", RETURN): Mapped(UNMODELLED, _AS),
    ("POST_FEE_DISPUTE_WAIT_ACTIVATE", REFUND_ONLY): Mapped(UNMODELLED, _AS),
    ("WAIT_SELLER_AGREE", EXCHANGE): Mapped(CaseKind.EXCHANGE, _AS),
    ("WAIT_BUYER_RETURN_GOODS", EXCHANGE): Mapped(CaseKind.EXCHANGE, _AR),
    ("WAIT_SELLER_CONFIRM_GOODS", EXCHANGE): Mapped(CaseKind.EXCHANGE, _RT),
    ("WAIT_SELLER_CONSIGN_GOOGDS", EXCHANGE): Mapped(
        CaseKind.EXCHANGE, CaseState.REPLACEMENT_PENDING
    ),
    ("EXCHANGE_WAIT_BUYER_CONFIRM_GOODS", EXCHANGE): Mapped(
        CaseKind.EXCHANGE, CaseState.SHIPPED_TO_CUSTOMER
    ),
    ("SUCCESS", EXCHANGE): Mapped(CaseKind.EXCHANGE, CaseState.COMPLETED, money_out=False),
    ("SELLER_REFUSE_BUYER", EXCHANGE): Mapped(CaseKind.EXCHANGE, _REJ),
    ("CLOSED", EXCHANGE): Mapped(CaseKind.EXCHANGE, _CL),
    # the exchange is closed and becomes a return with refund (out of stock, say)
    ("EXCHANGE_TRANSFORM_TO_REFUND", EXCHANGE): Mapped(
        CaseKind.RETURN_REFUND, CaseState.REFUND_PENDING
    ),
}


def kind_key(request: RemoteRequest) -> str:
    if request.kind:
        return request.kind
    has_return = request.raw.get("has_good_return")
    return RETURN if has_return in (True, "true") else REFUND_ONLY


def map_request(request: RemoteRequest) -> Mapped | None:
    """The request's case kind and state, or ``None`` for a status or kind not in the table.
    A special refund (price protection 价保, 退差返现) is a kind the cases do not model."""
    mapped = MAPPING.get((request.status, kind_key(request)))
    if mapped is None:
        return None
    if request.raw.get("special_refund_type"):
        return Mapped(UNMODELLED, mapped.state, mapped.money_out, mapped.handling)
    return mapped
