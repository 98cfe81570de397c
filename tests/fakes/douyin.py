"""A fake 抖店 open platform gateway: checks the HMAC-SHA256 sign over ``param_json`` exactly as
the platform does, lists after-sales by update time in pages (``page`` from 0, ``has_more``),
answers the detail, and applies ``/afterSale/operate`` one case at a time, checking the case's
``update_time`` and state; errors in the platform's shape (``code``, ``sub_code``, ``sub_msg``)."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json

from tests.fakes.fakegateway import Call, FakeGateway, recorded

APP_KEY = "7012345678901234567"
APP_SECRET = "douyin-app-secret-8f3a"
ACCESS_TOKEN = "douyin-token-1"

# (operate type, aftersale_types, status before) → status after
MOVES = {
    ("101", ("0", "8"), "6"): "7",
    ("102", ("0", "8"), "6"): "27",
    ("111", ("0", "8"), "11"): "12",
    ("112", ("0", "8"), "11"): "29",
    ("201", ("1", "2"), "6"): "12",
    ("202", ("1", "2"), "6"): "27",
    ("301", ("3",), "6"): "7",
    ("302", ("3",), "6"): "27",
    ("311", ("3",), "11"): "13",
}


def business_failure(number: str, message: str) -> dict:
    return {
        "code": 50002,
        "msg": "业务处理失败",
        "sub_code": f"isv.business-failed:{number}",
        "sub_msg": message,
        "data": {},
    }


class FakeDouyin(FakeGateway):
    def __init__(self):
        super().__init__()
        self.records = {
            str(record["aftersale_info"]["aftersale_id"]): record
            for record in copy.deepcopy(recorded("douyin", "aftersales")["records"])
        }
        self.only_in_back_office: set[str] = set()
        self.evidence: dict[str, list] = {}

    def touch(self, aftersale_id: str) -> None:
        """The buyer changed the case on the platform: a newer ``update_time``."""
        self.records[aftersale_id]["aftersale_info"]["update_time"] += 60

    def respond(self, path, query, headers, body):
        params = json.loads(body or b"{}")
        self.calls.append(Call(query.get("method", ""), params))
        expected = hmac.new(
            APP_SECRET.encode(),
            (
                f"{APP_SECRET}app_key{query.get('app_key')}method{query.get('method')}"
                f"param_json{body.decode()}timestamp{query.get('timestamp')}v{query.get('v')}"
                f"{APP_SECRET}"
            ).encode(),
            hashlib.sha256,
        ).hexdigest()
        if query.get("sign_method") != "hmac-sha256" or not hmac.compare_digest(
            query.get("sign", ""), expected
        ):
            return {
                "code": 40003,
                "msg": "非法的参数",
                "sub_code": "isv.signature-invalid",
                "sub_msg": "签名校验失败",
                "data": {},
            }
        if query.get("access_token") != ACCESS_TOKEN:
            return {
                "code": 40003,
                "msg": "非法的参数",
                "sub_code": "isv.access-token-no-existed",
                "sub_msg": "access_token不存在，请使用最新的access_token访问",
                "data": {},
            }
        if self.take_rate_limit():
            return {
                "code": 60000,
                "msg": "触发限流，请稍后重试",
                "sub_code": "isv.traffic-limited",
                "sub_msg": "请求太频繁，请稍后重试",
                "data": {},
            }
        method = query.get("method")
        if path.strip("/").replace("/", ".") != method:
            return {
                "code": 70000,
                "msg": "接口服务已下线",
                "sub_code": "isp.api-service-off",
                "sub_msg": "API不存在或API已下线",
                "data": {},
            }
        handler = {
            "afterSale.List": self.listing,
            "afterSale.Detail": self.detail,
            "afterSale.operate": self.operate,
            "afterSale.submitEvidence": self.submit_evidence,
        }.get(method)
        if handler is None:
            return {
                "code": 70000,
                "msg": "接口服务已下线",
                "sub_code": "isp.api-service-off",
                "sub_msg": "API不存在或API已下线",
                "data": {},
            }
        return handler(params)

    @staticmethod
    def ok(data: dict) -> dict:
        return {
            "code": 10000,
            "msg": "success",
            "sub_code": "",
            "sub_msg": "",
            "data": data,
            "log_id": "20260302000000010203040506",
        }

    def listing(self, params):
        start, end = int(params["update_start_time"]), int(params["update_end_time"])
        page, size = int(params.get("page", 0)), int(params.get("size", 10))
        if size > 100:
            return {
                "code": 40003,
                "msg": "非法的参数",
                "sub_code": "isv.parameter-invalid",
                "sub_msg": "size不能超过100",
                "data": {},
            }
        found = sorted(
            (
                r
                for r in self.records.values()
                if start <= r["aftersale_info"]["update_time"] <= end
            ),
            key=lambda r: (r["aftersale_info"]["update_time"], r["aftersale_info"]["aftersale_id"]),
        )
        items = found[page * size : (page + 1) * size]
        return self.ok(
            {
                "items": copy.deepcopy(items),
                "has_more": (page + 1) * size < len(found),
                "total": len(found),
                "page": page,
                "size": size,
            }
        )

    def detail(self, params):
        record = self.records.get(str(params.get("after_sale_id")))
        if record is None:
            return business_failure("20309501", "售后单不存在")
        info = copy.deepcopy(record["aftersale_info"])
        arbitrate = {"status": info.pop("arbitrate_status")}
        return self.ok(
            {
                "process_info": {"after_sale_info": info, "arbitrate_info": arbitrate},
                "order_info": copy.deepcopy(record["order_info"]),
            }
        )

    def operate(self, params):
        items = params.get("items") or []
        if not 1 <= len(items) <= 20:
            return {
                "code": 40003,
                "msg": "非法的参数",
                "sub_code": "isv.parameter-invalid",
                "sub_msg": "items数量须在1到20之间",
                "data": {},
            }
        results = []
        for item in items:
            aftersale_id = str(item["aftersale_id"])
            record = self.records.get(aftersale_id)
            if record is None:
                return business_failure("20309501", "售后单不存在")
            info = record["aftersale_info"]
            if aftersale_id in self.only_in_back_office:
                return business_failure("11001", "该售后单不支持通过OPEN操作，请到抖店后台人工审核")
            if str(item.get("update_time")) != str(info["update_time"]):
                return business_failure("20309542", "售后单已更新，请刷新后重试")
            move = next(
                (
                    after
                    for (kind, types, before), after in MOVES.items()
                    if kind == str(params["type"])
                    and str(info["aftersale_type"]) in types
                    and str(info["aftersale_status"]) == before
                ),
                None,
            )
            if move is None:
                return business_failure("20309541", "售后状态错误，请同步最新售后状态")
            if str(params["type"]) in ("101", "301") and not (item.get("logistics") or {}).get(
                "receiver_address_id"
            ):
                return {
                    "code": 40001,
                    "msg": "缺少必选参数",
                    "sub_code": "isv.parameter-missing",
                    "sub_msg": "缺少receiver_address_id",
                    "data": {},
                }
            if str(params["type"]) in ("102", "112", "202", "302") and not item.get(
                "reject_reason_code"
            ):
                return {
                    "code": 40001,
                    "msg": "缺少必选参数",
                    "sub_code": "isv.parameter-missing",
                    "sub_msg": "缺少reject_reason_code",
                    "data": {},
                }
            info["aftersale_status"] = int(move)
            info["update_time"] += 60
            results.append({"aftersale_id": aftersale_id, "status_code": 0, "status_msg": "成功"})
        return self.ok({"items": results})

    def submit_evidence(self, params):
        self.evidence.setdefault(str(params["aftersale_id"]), []).append(params)
        return self.ok({})
