"""A fake TOP gateway (Taobao and Tmall after-sales) from recorded answers in ``data/taobao``.

It checks the signature as TOP does (md5 of secret + sorted k/v + secret, or HMAC-MD5; files not
signed) and answers TOP's own errors (25 Invalid signature, 27 Invalid session, 7 App Call
Limited with its ban time), pages by ``page_no``/``page_size`` with ``has_next``, filters by the
modified window (Beijing text times, both ends included), checks ``refund_version`` on writes and
moves a refund's status as the platform would. ``touch`` changes a refund (the buyer modified it)
so that a version read before no longer holds.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import hmac
import itertools
from zoneinfo import ZoneInfo

import pytest

from tests.fakes.form_gateway import FakeGateway, load

APP_KEY = "23817456"
APP_SECRET = "5f0c3b6a9e1d4c2b8a7f6e5d4c3b2a19"
SESSION = "6100e2140c6f7b0f9f3ad7c1e2b3a4d5c6e7f8091a2b3c4d2207713394"
BEIJING = ZoneInfo("Asia/Shanghai")
FORMAT = "%Y-%m-%d %H:%M:%S"
REMOTE = "Remote service error"


def top_sign(params: dict[str, str], secret: str) -> str:
    """TOP's signature, written from its documentation (not the adapter's code)."""
    text = "".join(k + params[k] for k in sorted(params) if k != "sign")
    if params.get("sign_method") == "hmac":
        return hmac.new(secret.encode(), text.encode(), hashlib.md5).hexdigest().upper()
    return hashlib.md5((secret + text + secret).encode()).hexdigest().upper()


def error(code: int, msg: str, sub_code: str = "", sub_msg: str = "") -> dict:
    body = {"code": code, "msg": msg, "request_id": "16xnm0pqz3k8d"}
    if sub_code:
        body.update(sub_code=sub_code, sub_msg=sub_msg)
    return {"error_response": body}


def local(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, FORMAT).replace(tzinfo=BEIJING)


class FakeTop(FakeGateway):
    def __init__(self):
        super().__init__()
        self.refunds = {r["refund_id"]: r for r in load("taobao", "refunds.json")}
        self.disputes = {d["refund_id"]: d for d in load("taobao", "disputes.json")}
        self.ban_seconds = 23
        self.versions = itertools.count(1)

    # --- a test's knobs --------------------------------------------------------------------------

    def touch(self, refund_id: str, **changes) -> None:
        """The buyer changed the request: new fields, a later version and modified time."""
        record = self.refunds.get(refund_id) or self.disputes[refund_id]
        record.update(changes)
        record["refund_version"] = int(record["refund_version"]) + 1000 * next(self.versions)
        modified = local(record["modified"]) + dt.timedelta(seconds=1)
        record["modified"] = modified.strftime(FORMAT)

    # --- the gateway -----------------------------------------------------------------------------

    def answer(self, params: dict[str, str], files: dict[str, bytes]) -> dict:
        if params.get("app_key") != APP_KEY:
            return error(29, "Invalid app Key")
        if params.get("sign") != top_sign(params, APP_SECRET):
            return error(25, "Invalid signature")
        if params.get("session") != SESSION:
            return error(27, "Invalid session", "invalid-sessionkey", "SessionKey非法")
        if self.limited():
            return error(
                7,
                "App Call Limited",
                "accesscontrol.limited-by-app-access-count",
                f"This ban will last for {self.ban_seconds} more seconds",
            )
        method = params["method"]
        handler = getattr(self, "do_" + method.replace(".", "_"), None)
        if handler is None:
            return error(22, "Invalid method")
        return handler(params, files)

    @staticmethod
    def page(records: list[dict], params: dict[str, str]) -> tuple[list[dict], bool, int]:
        start, end = local(params["start_modified"]), local(params["end_modified"])
        # fixed-width Beijing text: compared as text, no record's time parsed on each call
        low, high = start.strftime(FORMAT), end.strftime(FORMAT)
        chosen = sorted(
            (r for r in records if low <= r["modified"] <= high),
            key=lambda r: (r["modified"], r["refund_id"]),
        )
        page_no, size = int(params.get("page_no", "1")), int(params.get("page_size", "40"))
        if size > 100:
            size = 100
        items = chosen[(page_no - 1) * size : page_no * size]
        return copy.deepcopy(items), page_no * size < len(chosen), len(chosen)

    def do_taobao_refunds_receive_get(self, params, files):
        if not params.get("start_modified") or not params.get("end_modified"):
            return error(40, "Missing required arguments:start_modified")
        items, more, total = self.page(list(self.refunds.values()), params)
        body = {"refunds": {"refund": items}, "has_next": more}
        if params.get("use_has_next") != "true":
            body["total_results"] = total
        return {"refunds_receive_get_response": body}

    def do_tmall_dispute_receive_get(self, params, files):
        if params.get("refund_id"):
            found = self.disputes.get(params["refund_id"])
            items, more = ([copy.deepcopy(found)] if found else []), False
        else:
            items, more, _ = self.page(list(self.disputes.values()), params)
        result = {"results": {"dispute": items}, "has_next": more, "page_results": len(items)}
        return {"tmall_dispute_receive_get_response": {"result": result}}

    def do_taobao_refund_get(self, params, files):
        found = self.refunds.get(params.get("refund_id", ""))
        if found is None:
            return error(15, REMOTE, "isv.refund-not-exist", "退款单不存在")
        return {"refund_get_response": {"refund": copy.deepcopy(found)}}

    # --- writes ----------------------------------------------------------------------------------

    def find(self, refund_id: str) -> tuple[dict | None, bool]:
        if refund_id in self.disputes:
            return self.disputes[refund_id], True
        return self.refunds.get(refund_id), False

    def moved(self, record: dict, status: str) -> None:
        record["status"] = status
        record["refund_version"] = int(record["refund_version"]) + 1
        modified = local(record["modified"]) + dt.timedelta(minutes=1)
        record["modified"] = modified.strftime(FORMAT)

    def stale(self, record: dict, version: str) -> dict | None:
        if str(record["refund_version"]) != version:
            return error(15, REMOTE, "isv.refund-version-invalid", "退款版本号已变更")
        return None

    def do_taobao_rp_refunds_agree(self, params, files):
        results = []
        for info in params["refund_infos"].split(","):
            parts = info.split("|")
            record, tmall = self.find(parts[0])
            if record is None:
                return error(15, REMOTE, "isv.refund-not-exist", "退款单不存在")
            if tmall and len(parts) < 4:
                return error(15, REMOTE, "isv.missing-parameter:refund_phase")
            if refused := self.stale(record, parts[2]):
                return refused
            if record["status"] not in ("WAIT_SELLER_AGREE", "WAIT_SELLER_CONFIRM_GOODS"):
                return error(15, REMOTE, "isv.refund-status-not-allowed", "退款状态不允许")
            if int(parts[1]) > round(float(record["refund_fee"]) * 100):
                results.append({"refund_id": parts[0], "succ": False, "message": "退款金额错误"})
                continue
            self.moved(record, "SUCCESS")
            results.append({"refund_id": parts[0], "succ": True, "message": "操作成功"})
        succeeded = all(r["succ"] for r in results)
        return {
            "rp_refunds_agree_response": {
                "msg_code": "OP_SUCC" if succeeded else "OP_FAILURE_UE",
                "succ": succeeded,
                "message": "操作成功" if succeeded else "操作失败",
                "results": {"refund_mapping_result": results},
            }
        }

    def do_taobao_rp_returngoods_agree(self, params, files):
        record, _ = self.find(params.get("refund_id", ""))
        if record is None:
            return error(15, REMOTE, "isv.refund-not-exist", "退款单不存在")
        if not params.get("seller_address_id"):
            return error(15, REMOTE, "isv.missing-parameter:seller_address_id")
        if refused := self.stale(record, params.get("refund_version", "")):
            return refused
        if record["status"] != "WAIT_SELLER_AGREE" or not record["has_good_return"]:
            return error(15, REMOTE, "isv.refund-status-not-allowed", "退款状态不允许")
        self.moved(record, "WAIT_BUYER_RETURN_GOODS")
        return {"rp_returngoods_agree_response": {"is_success": True}}

    def do_taobao_refund_refuse(self, params, files):
        record, tmall = self.find(params.get("refund_id", ""))
        if record is None:
            return error(15, REMOTE, "isv.refund-not-exist", "退款单不存在")
        if not 2 <= len(params.get("refuse_message", "")) <= 200:
            return error(15, REMOTE, "isv.invalid-parameter:refuse_message")
        if tmall and "refuse_proof" not in files:
            return error(15, REMOTE, "isv.missing-parameter:refuse_proof")
        if refused := self.stale(record, params.get("refund_version", "")):
            return refused
        if record["status"] != "WAIT_SELLER_AGREE":
            return error(15, REMOTE, "isv.refund-status-not-allowed", "退款状态不允许")
        self.moved(record, "SELLER_REFUSE_BUYER")
        refund = {k: record[k] for k in ("refund_id", "status", "modified")}
        return {"refund_refuse_response": {"is_success": True, "refund": refund}}

    def do_taobao_rp_returngoods_refuse(self, params, files):
        record, _ = self.find(params.get("refund_id", ""))
        if record is None:
            return error(15, REMOTE, "isv.refund-not-exist", "退款单不存在")
        if "refuse_proof" not in files:
            return error(15, REMOTE, "isv.missing-parameter:refuse_proof")
        if refused := self.stale(record, params.get("refund_version", "")):
            return refused
        if record["status"] != "WAIT_SELLER_CONFIRM_GOODS":
            return error(15, REMOTE, "isv.refund-status-not-allowed", "退款状态不允许")
        self.moved(record, "SELLER_REFUSE_BUYER")
        return {"rp_returngoods_refuse_response": {"result": True}}

    def do_taobao_refund_message_add(self, params, files):
        record, _ = self.find(params.get("refund_id", ""))
        if record is None:
            return error(15, REMOTE, "isv.refund-not-exist", "退款单不存在")
        message = {
            "id": 90001 + len(self.calls),
            "refund_id": record["refund_id"],
            "content": params.get("content", ""),
            "created": record["modified"],
            "pic_urls": {"pic_url": [{"url": "https://img.alicdn.com/refund/1.jpg"}]}
            if "image" in files
            else {},
        }
        return {"refund_message_add_response": {"refund_message": message}}

    def exchange(self, params, expected: str, becomes: str, name: str) -> dict:
        record = self.disputes.get(params.get("dispute_id", ""))
        if record is None or record["dispute_request"] != "换货":
            return error(15, REMOTE, "isv.exchange-not-exist", "换货单不存在")
        if record["status"] != expected:
            return error(15, REMOTE, "isv.exchange-status-error", "换货状态不正确")
        self.moved(record, becomes)
        result = {
            "dispute_id": record["refund_id"],
            "bizorder_id": record["biz_order_id"],
            "modified": record["modified"],
            "status": becomes,
        }
        return {name: {"result": {"success": True, "result": result}}}

    def do_tmall_exchange_agree(self, params, files):
        if not params.get("address_id"):
            return error(15, REMOTE, "isv.missing-parameter:address_id")
        return self.exchange(
            params, "WAIT_SELLER_AGREE", "WAIT_BUYER_RETURN_GOODS", "tmall_exchange_agree_response"
        )

    def do_tmall_exchange_returngoods_agree(self, params, files):
        return self.exchange(
            params,
            "WAIT_SELLER_CONFIRM_GOODS",
            "WAIT_SELLER_CONSIGN_GOOGDS",
            "tmall_exchange_returngoods_agree_response",
        )

    def do_tmall_exchange_consigngoods(self, params, files):
        if not params.get("logistics_no") or params.get("logistics_type") not in ("100", "200"):
            return error(15, REMOTE, "isv.invalid-parameter:logistics")
        return self.exchange(
            params,
            "WAIT_SELLER_CONSIGN_GOOGDS",
            "EXCHANGE_WAIT_BUYER_CONFIRM_GOODS",
            "tmall_exchange_consigngoods_response",
        )


@pytest.fixture
def fake_top():
    fake = FakeTop()
    with fake.serve("/router/rest"):
        yield fake
