"""A fake Pinduoduo gateway (``/api/router``) from recorded answers in ``data/pinduoduo``: each
request recorded twice, as the list returns it (yuan text, Beijing text times, the list's kind
code) and as the detail returns it (fen, Unix seconds, the detail's kind code). Both answer the
request's one update time (``updated_time``, Beijing text), which a change moves on.

It checks the md5 signature (answering its error for a bad one), the access token, the list's
30-minute window (both ends included, Unix seconds), pages by ``page``/``page_size`` with
``total_count``, answers ``70031`` when told to limit, and moves a request as the platform would
on the writes it opens. ``touch`` changes a request (the buyer edited it) between a read and a
write.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from zoneinfo import ZoneInfo

import pytest

from tests.fakes.form_gateway import FakeGateway, load

CLIENT_ID = "4b6e0c8a2f1d4e7a9c3b5d8f1a2e4c6b"
CLIENT_SECRET = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
ACCESS_TOKEN = "8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f70819"
BEIJING = ZoneInfo("Asia/Shanghai")
FORMAT = "%Y-%m-%d %H:%M:%S"


def pdd_sign(params: dict[str, str], secret: str) -> str:
    """Pinduoduo's signature, written from its documentation (not the adapter's code)."""
    text = "".join(k + params[k] for k in sorted(params) if k != "sign")
    return hashlib.md5((secret + text + secret).encode()).hexdigest().upper()


def error(code: int, msg: str, sub_msg: str = "") -> dict:
    body = {"error_code": code, "error_msg": msg, "request_id": "17102847369871234"}
    if sub_msg:
        body["sub_msg"] = sub_msg
    return {"error_response": body}


def updated_at(record: dict) -> int:
    text = record["list"]["updated_time"]
    moment = dt.datetime.strptime(text, FORMAT).replace(tzinfo=BEIJING)
    return int(moment.timestamp())


class FakePinduoduo(FakeGateway):
    method_param = "type"

    def __init__(self):
        super().__init__()
        self.records = {str(r["list"]["id"]): r for r in load("pinduoduo", "refunds.json")}

    def touch(self, after_sales_id: str, *, status: int | None = None, fen: int | None = None):
        """The buyer (or the platform) changed the request."""
        record = self.records[after_sales_id]
        if status is not None:
            record["list"]["after_sales_status"] = record["detail"]["after_sales_status"] = status
        if fen is not None:
            record["detail"]["refund_amount"] = fen
            record["list"]["refund_amount"] = f"{fen / 100:.2f}"
        self.moved(record)

    def moved(self, record: dict, status: int | None = None) -> None:
        if status is not None:
            record["list"]["after_sales_status"] = record["detail"]["after_sales_status"] = status
        later = updated_at(record) + 60
        moment = dt.datetime.fromtimestamp(later, BEIJING)
        record["list"]["updated_time"] = moment.strftime(FORMAT)

    # --- the gateway -----------------------------------------------------------------------------

    def answer(self, params: dict[str, str], files: dict[str, bytes]) -> dict:
        if params.get("client_id") != CLIENT_ID or params.get("sign") != pdd_sign(
            params, CLIENT_SECRET
        ):
            return error(20004, "签名验证错误")
        if params.get("access_token") != ACCESS_TOKEN:
            return error(10019, "access_token已过期")
        if self.limited():
            return error(70031, "调用过于频繁，请调整调用频率")
        handler = getattr(self, "do_" + params["type"].replace(".", "_"), None)
        if handler is None:
            return error(10000, "参数错误", "type不存在")
        return handler(params)

    def do_pdd_refund_list_increment_get(self, params):
        for required in ("after_sales_status", "after_sales_type", "start_updated_at"):
            if not params.get(required):
                return error(10000, "参数错误", f"{required}不能为空")
        start, end = int(params["start_updated_at"]), int(params["end_updated_at"])
        if end - start > 1800:
            return error(10000, "参数错误", "开始时间结束时间间距不超过30分钟")
        status, kind = int(params["after_sales_status"]), int(params["after_sales_type"])
        # fixed-width Beijing text: compared as text, no record's time parsed on each call
        low, high = (dt.datetime.fromtimestamp(t, BEIJING).strftime(FORMAT) for t in (start, end))
        chosen = sorted(
            (
                r["list"]
                for r in self.records.values()
                if low <= r["list"]["updated_time"] <= high
                and status in (1, r["list"]["after_sales_status"])
                and kind in (1, r["list"]["after_sales_type"])
            ),
            key=lambda item: (item["updated_time"], item["id"]),
        )
        page, size = int(params.get("page", "1")), min(int(params.get("page_size", "100")), 100)
        items = copy.deepcopy(chosen[(page - 1) * size : page * size])
        return {"refund_increment_get_response": {"refund_list": items, "total_count": len(chosen)}}

    def do_pdd_refund_information_get(self, params):
        record = self.records.get(params.get("after_sales_id", ""))
        if record is None or record["detail"]["order_sn"] != params.get("order_sn"):
            return error(10000, "参数错误", "售后单不存在")
        detail = {**copy.deepcopy(record["detail"]), "updated_time": record["list"]["updated_time"]}
        return {"refund_information_get_response": detail}

    def write(self, params, allowed: tuple[int, ...], becomes: int, name: str, **checks) -> dict:
        request = json.loads(params.get("request") or "{}")
        record = self.records.get(str(request.get("after_sales_id")))
        if record is None or record["detail"]["order_sn"] != request.get("order_sn"):
            return error(10000, "参数错误", "售后单不存在")
        for key in checks:
            if not request.get(key):
                return error(10000, "参数错误", f"{key}不能为空")
        result = {"after_sales_id": request["after_sales_id"], "order_sn": request["order_sn"]}
        if record["detail"]["after_sales_status"] not in allowed:
            return {
                name: {"result": {**result, "succ": False, "message": "售后单状态不允许该操作"}}
            }
        self.moved(record, becomes)
        return {name: {"result": {**result, "succ": True, "message": "操作成功"}}}

    def do_pdd_refund_agree(self, params):
        # a refund is agreed while the merchant decides, or once the return came back
        return self.write(params, (2, 3, 7), 4, "response")

    def do_pdd_refund_returngoods_agree(self, params):
        return self.write(params, (3,), 7, "response", return_address_id=True)

    def do_pdd_refund_exchange_shipping(self, params):
        return self.write(params, (14, 15), 18, "response", shipping_id=True, tracking_number=True)


@pytest.fixture
def fake_pinduoduo():
    fake = FakePinduoduo()
    with fake.serve("/api/router"):
        yield fake
