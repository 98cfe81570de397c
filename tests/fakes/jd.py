"""A fake JD JOS gateway (``/routerjson``): checks the MD5 sign over the sorted form fields as
JOS does, lists service tickets by update time (``pageNumber``) and refund applications by apply
or check time (``pageIndex``), answers the detail of each, and applies the shop's writes: a
ticket's audit calls check its ``sysVersion`` and state; a refund application's reply checks its
state. Errors in JOS's shapes: ``error_response`` for the gateway, ``result.success=false`` with
``msgCode`` for a ticket, ``replyResult.success=false`` for a reply."""

from __future__ import annotations

import copy
import hashlib
import json
import urllib.parse

from tests.fakes.fakegateway import Call, FakeGateway, recorded

APP_KEY = "8E1A6F0B2C3D4E5F"
APP_SECRET = "jd-app-secret-4c9d"
ACCESS_TOKEN = "jd-access-token-2b7e"
VENDER_ID = "10023456"


def gateway_error(code: str, zh: str, en: str) -> dict:
    return {"error_response": {"code": code, "zh_desc": zh, "en_desc": en}}


class FakeJd(FakeGateway):
    def __init__(self):
        super().__init__()
        data = copy.deepcopy(recorded("jd", "requests"))
        self.tickets = {int(row["serviceId"]): row for row in data["tickets"]}
        self.applications = {int(row["id"]): row for row in data["refund_applications"]}

    def touch(self, service_id: int) -> None:
        """The customer changed the ticket on the platform: a new ``sysVersion``."""
        self.tickets[service_id]["sysVersion"] += 1

    def respond(self, path, query, headers, body):
        fields = dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
        params = json.loads(fields.get("360buy_param_json") or "{}")
        method = fields.get("method", "")
        self.calls.append(Call(method, params))
        signed = {key: value for key, value in fields.items() if key != "sign"}
        text = APP_SECRET + "".join(f"{k}{signed[k]}" for k in sorted(signed)) + APP_SECRET
        if (
            path != "/routerjson"
            or fields.get("sign") != hashlib.md5(text.encode()).hexdigest().upper()
        ):
            return gateway_error("14", "签名无效", "Invalid signature")
        if fields.get("access_token") != ACCESS_TOKEN:
            return gateway_error("19", "access_token无效", "Invalid access_token")
        if self.take_rate_limit():
            return gateway_error("68", "调用次数超过限制", "Call limit exceeded")
        handler = {
            "jingdong.asc.query.list": self.ticket_list,
            "jingdong.asc.query.view": self.ticket_view,
            "jingdong.pop.afs.soa.refundapply.queryPageList": self.application_list,
            "jingdong.pop.afs.soa.refundapply.queryById": self.application_view,
            "jingdong.pop.afs.soa.refundapply.replyRefund": self.reply,
            "jingdong.asc.audit.send": self.audit({("10", 10001): 10005, ("20", 10001): 10005}),
            "jingdong.asc.audit.refuse": self.audit(
                {(k, 10001): 10002 for k in ("10", "20", "30", "80")}
            ),
            "jingdong.asc.audit.reissue": self.audit({("20", 10007): 10009, ("80", 10001): 10009}),
            "jingdong.asc.receive.register": self.audit(
                {("10", 10005): 10007, ("20", 10005): 10007, ("30", 10005): 10007}, versioned=False
            ),
        }.get(method)
        if handler is None:
            return gateway_error("3", "无效的调用方法", "Invalid method")
        return {method.replace(".", "_") + "_responce": {"code": "0", **handler(params)}}

    def ticket_list(self, params):
        begin, end = params["updateTimeBegin"], params["updateTimeEnd"]
        page, size = int(params.get("pageNumber", 1)), int(params.get("pageSize", 10))
        found = sorted(
            (t for t in self.tickets.values() if begin <= t["updateTime"] <= end),
            key=lambda t: (t["updateTime"], t["serviceId"]),
        )
        rows = found[(page - 1) * size : page * size]
        return {
            "pageResult": {
                "pageNumber": page,
                "pageSize": size,
                "totalCount": len(found),
                "data": copy.deepcopy(rows),
            }
        }

    def ticket_view(self, params):
        row = self.tickets.get(int(params["serviceId"]))
        if row is None:
            return {"result": {"success": False, "msgCode": "ASC_NOT_FOUND", "msg": "服务单不存在"}}
        return {"result": {"success": True, "msgCode": "", "msg": "", "data": copy.deepcopy(row)}}

    def application_list(self, params):
        field = "applyTime" if "applyTimeStart" in params else "checkTime"
        prefix = field.removesuffix("Time")
        begin, end = params[f"{prefix}TimeStart"], params[f"{prefix}TimeEnd"]
        page, size = int(params.get("pageIndex", 1)), int(params.get("pageSize", 10))
        found = sorted(
            (a for a in self.applications.values() if a[field] and begin <= a[field] <= end),
            key=lambda a: (a[field], a["id"]),
        )
        rows = found[(page - 1) * size : page * size]
        return {
            "queryResult": {
                "success": True,
                "totalCount": len(found),
                "result": copy.deepcopy(rows),
            }
        }

    def application_view(self, params):
        row = self.applications.get(int(params["id"]))
        return {
            "queryResult": {
                "success": True,
                "totalCount": int(row is not None),
                "result": [copy.deepcopy(row)] if row else [],
            }
        }

    def reply(self, params):
        row = self.applications.get(int(params["id"]))
        status = int(params["status"])
        if row is None or row["status"] not in (0, 8):
            return {
                "replyResult": {
                    "success": False,
                    "errorCode": "REFUND_STATUS_ERROR",
                    "errorMessage": "退款单状态不允许审核",
                }
            }
        if status == 2 and not params.get("rejectType"):
            return {
                "replyResult": {
                    "success": False,
                    "errorCode": "PARAM_ERROR",
                    "errorMessage": "审核不通过时rejectType必填",
                }
            }
        row["status"] = {1: 1, 2: 2}[status]
        row["checkTime"] = "2026-03-03 10:00:00"
        row["checkUserName"] = params["checkUserName"]
        return {"replyResult": {"success": True, "errorCode": "", "errorMessage": ""}}

    def audit(self, moves: dict[tuple[str, int], int], versioned: bool = True):
        def handle(params):
            row = self.tickets.get(int(params["serviceId"]))
            if row is None or params.get("buId") != VENDER_ID:
                return {
                    "result": {"success": False, "msgCode": "ASC_NOT_FOUND", "msg": "服务单不存在"}
                }
            if versioned and int(params.get("sysVersion", -1)) != row["sysVersion"]:
                return {
                    "result": {
                        "success": False,
                        "msgCode": "ASC_VERSION_CHANGED",
                        "msg": "服务单版本号已变更，请刷新后操作",
                    }
                }
            after = moves.get((str(row["customerExpect"]), row["serviceStatus"]))
            if after is None:
                return {
                    "result": {
                        "success": False,
                        "msgCode": "ASC_STATUS_ERROR",
                        "msg": "服务单当前状态不允许该操作",
                    }
                }
            row["serviceStatus"] = after
            row["sysVersion"] += 1
            return {"result": {"success": True, "msgCode": "", "msg": ""}}

        return handle
