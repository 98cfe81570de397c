"""A fake 快手小店 open platform gateway: checks the HMAC-SHA256 sign keyed by the **sign
secret** over the sorted form fields, lists refunds by update time with ``pcursor`` until
``"nomore"`` (refusing a window over one day or reaching over 90 days back), answers the detail
with ``refundVersion``, and applies the seller's writes, checking the version and the state.
Errors in the platform's shape: ``{"result": <code>, "error_msg": …}``."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import hmac
import json
import urllib.parse

from tests.fakes.fakegateway import Call, FakeGateway, recorded

APP_KEY = "ks688912345678901234"
APP_SECRET = "kuaishou-app-secret-oauth"
SIGN_SECRET = "kuaishou-sign-secret-71c2"
ACCESS_TOKEN = "ChFvYXV0aC5hY2Nlc3NUb2tlbhJg-kuaishou"
DAY_MS = 24 * 3600 * 1000

SIGN_FAILED = 25
TOKEN_EXPIRED = 28
RATE_LIMITED = 1017
PARAMETER_INVALID = 22
VERSION_CHANGED = 803001
WRONG_STATE = 803002


def failure(result: int, message: str) -> dict:
    return {"result": result, "error_msg": message}


class FakeKuaishou(FakeGateway):
    def __init__(self, now: dt.datetime):
        super().__init__()
        self.now = now
        self.refunds = {
            int(row["refundId"]): row
            for row in copy.deepcopy(recorded("kuaishou", "refunds")["refunds"])
        }
        self.evidence: dict[int, list] = {}

    def touch(self, refund_id: int) -> None:
        """The buyer changed the refund on the platform: a new ``refundVersion``."""
        self.refunds[refund_id]["refundVersion"] += 1
        self.refunds[refund_id]["updateTime"] += 60_000

    def respond(self, path, query, headers, body):
        fields = dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
        params = json.loads(fields.get("param") or "{}")
        self.calls.append(Call(fields.get("method", ""), params))
        signed = {key: value for key, value in fields.items() if key != "sign"}
        text = "&".join(f"{key}={signed[key]}" for key in sorted(signed))
        text += f"&signSecret={SIGN_SECRET}"
        expected = base64.b64encode(
            hmac.new(SIGN_SECRET.encode(), text.encode(), hashlib.sha256).digest()
        ).decode()
        if fields.get("signMethod") != "HMAC_SHA256" or not hmac.compare_digest(
            fields.get("sign", ""), expected
        ):
            return failure(SIGN_FAILED, "签名校验失败")
        if fields.get("access_token") != ACCESS_TOKEN or fields.get("appkey") != APP_KEY:
            return failure(TOKEN_EXPIRED, "鉴权失败，access_token已过期")
        if self.take_rate_limit():
            return failure(
                RATE_LIMITED,
                f"Exceed qps limit, KEY [apiId:{fields['method']};appkey:{APP_KEY}], "
                "MAX_QPS [20.0]",
            )
        method = fields.get("method", "")
        if path != "/open/" + method.replace(".", "/"):
            return failure(PARAMETER_INVALID, "method与请求路径不一致")
        handler = {
            "open.seller.order.refund.pcursor.list": self.listing,
            "open.seller.order.refund.detail": self.detail,
            "open.refund.direct.refund": self.direct_refund,
            "open.seller.order.refund.returngoods.approve": self.approve_return,
            "open.refund.reject": self.reject,
            "open.seller.order.refund.confirm.receipt": self.confirm_receipt,
            "open.refund.confirm.and.send": self.confirm_and_send,
            "open.refund.evidence.add": self.evidence_add,
        }.get(method)
        if handler is None:
            return failure(PARAMETER_INVALID, "API不存在")
        return handler(params)

    @staticmethod
    def ok(data) -> dict:
        return {"result": 1, "host": "fake", "data": data}

    def listing(self, params):
        begin, end = int(params["beginTime"]), int(params["endTime"])
        if end - begin > DAY_MS:
            return failure(PARAMETER_INVALID, "开始时间和结束时间的范围不能大于1天")
        if begin < (self.now - dt.timedelta(days=90)).timestamp() * 1000:
            return failure(PARAMETER_INVALID, "开始时间须在当前时间的近90天内")
        size = int(params.get("pageSize", 20))
        if size > 100:
            return failure(PARAMETER_INVALID, "pageSize最大为100")
        field = "updateTime" if params.get("queryType") == 2 else "createTime"
        found = sorted(
            (r for r in self.refunds.values() if begin <= r[field] <= end),
            key=lambda r: (r[field], r["refundId"]),
            reverse=params.get("sort") != 2,
        )
        if params.get("pcursor") == "nomore":
            return failure(PARAMETER_INVALID, "pcursor已到底")
        offset = int(base64.b64decode(params["pcursor"]).decode()) if params.get("pcursor") else 0
        page = found[offset : offset + size]
        following = offset + size
        cursor = (
            base64.b64encode(str(following).encode()).decode()
            if following < len(found)
            else "nomore"
        )
        rows = [{k: v for k, v in row.items() if k != "refundVersion"} for row in page]
        return self.ok(
            {
                "currentPage": 1,
                "pageSize": size,
                "totalPage": -(-len(found) // size),
                "totalSize": len(found),
                "beginTime": begin,
                "endTime": end,
                "pcursor": cursor,
                "refundOrderInfoList": copy.deepcopy(rows),
            }
        )

    def detail(self, params):
        row = self.refunds.get(int(params["refundId"]))
        if row is None:
            return failure(PARAMETER_INVALID, "退款单不存在")
        return self.ok(copy.deepcopy(row))

    def move(self, params, allowed: dict[tuple[int, int], int], *, versioned: bool):
        row = self.refunds.get(int(params["refundId"]))
        if row is None:
            return failure(PARAMETER_INVALID, "退款单不存在")
        if versioned and int(params.get("refundVersion", -1)) != row["refundVersion"]:
            return failure(VERSION_CHANGED, "退款单已发生变化，请刷新后重试")
        after = allowed.get((row["handlingWay"], row["status"]))
        if after is None:
            return failure(WRONG_STATE, "当前退款状态不允许该操作")
        row["status"] = after
        row["refundVersion"] += 1
        row["updateTime"] += 60_000
        return self.ok({})

    def direct_refund(self, params):
        return self.move(params, {(10, 10): 60, (10, 12): 60, (1, 40): 60}, versioned=True)

    def approve_return(self, params):
        row = self.refunds.get(int(params["refundId"]))
        if row is not None and int(params.get("refundAmount", -1)) != row["refundFee"]:
            return failure(PARAMETER_INVALID, "退款金额与申请金额不一致")
        return self.move(params, {(1, 11): 30, (3, 11): 30}, versioned=False)

    def reject(self, params):
        if not params.get("reasonCode"):
            return failure(PARAMETER_INVALID, "拒绝原因不能为空")
        return self.move(
            params, {(10, 10): 12, (1, 11): 12, (3, 11): 12, (1, 40): 12}, versioned=True
        )

    def confirm_receipt(self, params):
        return self.move(params, {(1, 40): 50}, versioned=False)

    def confirm_and_send(self, params):
        return self.move(params, {(3, 40): 45}, versioned=False)

    def evidence_add(self, params):
        self.evidence.setdefault(int(params["refundId"]), []).append(params)
        return self.ok({})
