"""Requests from the platforms' after-sales exports (CSV from the seller back offices): how a
store without API access gets its requests, and how a store with it fills what a sync cannot
reach (Kuaishou's 90 days).

Each back office exports its own columns, named in Chinese; the header row tells which platform's
export a file is (``LAYOUTS``: one column table per platform, each column with the names it goes
by). A row becomes the ``RemoteRequest`` the platform's API would give: the status and kind words
translated to the platform's codes, so that the platform's own mapping table applies (a word not
in the table is kept as it is: the mapping does not know it and a person decides, nothing is
guessed); amounts in yuan; times read as Beijing time; the request id and version the adapter
would give where the export shows what they are made of (JD's ``service:`` ids, Douyin's update
time, Pinduoduo's status and amount), else the modified time as the version.

Each request is kept with ``sync.land``: a file imported twice changes nothing the second time,
and an export older than what a sync read changes nothing. An export never replaces a read of
the same moment either (the API's read carries more: the version token a write needs).

A row that cannot be read (no request id, an amount or a time that is not one) is reported with
its line and the column's name as the export has it; the other rows are kept. A file that cannot
be the store's export — empty, too large, not text, no known header, another platform's, without a
column a request needs — is refused as a whole (``InvalidInput``) before anything is kept.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.connectors.base import RemoteLine, RemoteRequest
from aftersales.connectors.models import PlatformRequest, Store, StorePlatform
from aftersales.connectors.platforms import douyin, jd, kuaishou, pinduoduo, taobao, wire
from aftersales.connectors.sync import land
from aftersales.core.errors import InvalidInput

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000
# An .xlsx workbook is a zip archive.
ZIP_MAGIC = b"PK\x03\x04"
TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
)
# An amount with thousands separators (1,234.50); any other comma is not one of ours.
THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")
# A long number a spreadsheet rewrote (1.23457E+17): the digits are lost.
SHORTENED = re.compile(r"^\d(\.\d+)?E\+\d+$", re.IGNORECASE)
# The longest text the stored request keeps of each (``PlatformRequest``'s columns).
LIMITS = {"request_id": 100, "order_id": 100, "status": 60, "kind": 60}
# Every layout has these columns; a row needs a value in each.
REQUIRED = ("request_id", "order_id", "status", "kind", "amount", "created", "modified")
LINE_FIELDS = ("line_id", "sku", "title", "quantity")


@dataclass(frozen=True)
class ExportError:
    """A row not imported: its line in the file (1-based) and why, naming the column."""

    row: int
    message: str


@dataclass(frozen=True)
class ExportImport:
    """What an import did: the rows read, those kept (stored as the row says, or already as new),
    those that changed what was stored, and the rows not imported."""

    rows: int
    landed: int
    changed: int
    errors: list[ExportError] = field(default_factory=list)


def _key(text: str) -> str:
    """A header or a word as compared: full-width characters as their ASCII forms (NFKC: "，"
    is ","), no whitespace."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def _keyed(words: Mapping[str, str]) -> dict[str, str]:
    return {_key(word): code for word, code in words.items()}


YES_NO = {"是": True, "否": False}


@dataclass(frozen=True)
class Layout:
    """One platform's export: each column by the names it goes by (the first is the one this
    product's documents use), the status and kind words as the platform's codes, the words of
    its intervention column, and what the platform's adapter does more (``finish``)."""

    platforms: tuple[str, ...]
    columns: Mapping[str, tuple[str, ...]]
    statuses: Mapping[str, str]
    kinds: Mapping[str, str]
    handling: Mapping[str, bool] = field(default_factory=lambda: YES_NO)
    finish: Callable[[str, dict[str, Any], _Row], None] | None = None

    @property
    def label(self) -> str:
        return " / ".join(str(StorePlatform(platform).label) for platform in self.platforms)


class _RowError(Exception):
    pass


@dataclass(frozen=True)
class _Row:
    """One row's cells by field, and each field's column as the file names it."""

    line: int
    cells: Mapping[str, str]
    names: Mapping[str, str]

    def text(self, name: str) -> str:
        value = self.cells.get(name, "")
        if not value and name in REQUIRED:
            raise _RowError(_("“%(column)s” is empty.") % {"column": self.names[name]})
        return value

    def identifier(self, name: str) -> str:
        value = self.text(name)
        if SHORTENED.match(value):
            raise _RowError(
                _(
                    "“%(column)s” was shortened by a spreadsheet to %(value)s: export the file "
                    "again and import it without saving it from a spreadsheet."
                )
                % {"column": self.names[name], "value": value}
            )
        return value

    def amount(self, name: str) -> Decimal:
        value = self.text(name)
        plain = "".join(unicodedata.normalize("NFKC", value).split())
        plain = plain.replace("¥", "").replace("元", "")
        if THOUSANDS.match(plain):
            plain = plain.replace(",", "")
        try:
            amount = Decimal(plain)
        except InvalidOperation:
            amount = None
        if (
            amount is None
            or not amount.is_finite()
            or not 0 <= amount < Decimal("1e10")
            or amount != amount.quantize(Decimal("0.01"))
        ):
            raise _RowError(
                _("“%(column)s” is not an amount in yuan: %(value)s")
                % {"column": self.names[name], "value": value}
            )
        return amount.quantize(Decimal("0.01"))

    def moment(self, name: str) -> dt.datetime | None:
        value = self.text(name)
        if not value:
            return None
        plain = " ".join(unicodedata.normalize("NFKC", value).split())
        for pattern in TIME_FORMATS:
            try:
                local = dt.datetime.strptime(plain, pattern)
            except ValueError:
                continue
            return local.replace(tzinfo=wire.SHANGHAI).astimezone(dt.UTC)
        raise _RowError(
            _("“%(column)s” is not a date and time (year-month-day hour:minute): %(value)s")
            % {"column": self.names[name], "value": value}
        )

    def count(self, name: str) -> int:
        value = self.text(name)
        if not value:
            return 1
        plain = unicodedata.normalize("NFKC", value).strip()
        if not plain.isdigit() or not 0 < int(plain) < 2**31:
            raise _RowError(
                _("“%(column)s” is not a whole number: %(value)s")
                % {"column": self.names[name], "value": value}
            )
        return int(plain)


# --- each platform's export ----------------------------------------------------------------------


def _taobao(platform: str, fields: dict[str, Any], row: _Row) -> None:
    """Taobao has no kind axis: the API says ``has_good_return`` (Tmall's disputes carry the
    kind as a word, which the export shows as it is)."""
    if platform == "taobao" and fields["kind"] in (taobao.REFUND_ONLY, taobao.RETURN):
        fields["raw"]["has_good_return"] = fields["kind"] == taobao.RETURN
        fields["kind"] = ""


def _jd(platform: str, fields: dict[str, Any], row: _Row) -> None:
    """A service ticket's id as the adapter gives it (``service:<id>``); "done" with the
    processing result beside it, as the adapter joins them."""
    fields["request_id"] = f"{jd.SERVICE}:{fields['request_id']}"
    result = row.cells.get("result", "")
    if fields["status"] == JD_DONE and result:
        fields["status"] = f"{JD_DONE}:{JD_RESULTS.get(_key(result), result)}"


def _pinduoduo(platform: str, fields: dict[str, Any], row: _Row) -> None:
    """No version on the platform: the adapter's is the status and the amount in fen; status 8 is
    the platform handling it."""
    fields["version"] = f"{fields['status']}:{wire.fen_from_yuan(fields['amount'])}"
    fields["handling"] = fields["handling"] or fields["status"] == "8"


def _douyin(platform: str, fields: dict[str, Any], row: _Row) -> None:
    """Douyin's version is the update time in epoch seconds: the export's modified time."""
    fields["version"] = str(wire.seconds(fields["modified_at"]))


def _kuaishou(platform: str, fields: dict[str, Any], row: _Row) -> None:
    """Statuses 20–22: the platform intervened."""
    fields["handling"] = fields["status"] in ("20", "21", "22")


# The names most exports give these columns; a platform's own come first where it has them.
ORDER = ("订单编号", "订单号")
AMOUNT = ("退款金额", "申请退款金额")
CREATED = ("申请时间",)
MODIFIED = ("更新时间", "修改时间")
TRACKING = ("退货物流单号", "物流单号")
TITLE = ("商品名称",)
QUANTITY = ("数量",)
COMMON = {
    "order_id": ORDER,
    "amount": AMOUNT,
    "created": CREATED,
    "modified": MODIFIED,
    "deadline": ("超时时间",),
    "tracking": TRACKING,
    "sku": ("商家编码", "商品编码"),
    "title": TITLE,
    "quantity": QUANTITY,
}

TAOBAO = Layout(
    platforms=("taobao", "tmall"),
    columns={
        **COMMON,
        "request_id": ("退款编号",),
        "status": ("退款状态",),
        "kind": ("售后类型", "退款类型", "是否需要退货"),
        "amount": ("买家退款金额", *AMOUNT),
        "created": ("买家申请退款时间", *CREATED),
        "modified": ("修改时间", "退款修改时间", "更新时间"),
        "reason": ("退款原因",),
        "buyer_note": ("退款说明", "买家留言"),
        "line_id": ("子订单编号",),
        "title": ("宝贝标题", *TITLE),
        "quantity": (*QUANTITY, "退货数量"),
        "handling": ("小二介入", "客服介入状态"),
    },
    # The API's statuses in the words of its own documentation (Tmall's disputes add the
    # exchange's and the postage claim's).
    statuses=_keyed(
        {
            "买家已经申请退款，等待卖家同意": "WAIT_SELLER_AGREE",
            "卖家已经同意退款，等待买家退货": "WAIT_BUYER_RETURN_GOODS",
            "买家已经退货，等待卖家确认收货": "WAIT_SELLER_CONFIRM_GOODS",
            "卖家拒绝退款": "SELLER_REFUSE_BUYER",
            "退款关闭": "CLOSED",
            "退款成功": "SUCCESS",
            "等待买家确认重新邮寄的货物": "WAIT_BUYER_CONFIRM_REDO_SEND_GOODS",
            "等待卖家确认退货地址": "WAIT_SELLER_CONFIRM_RETURN_ADDRESS",
            "卖家确认收货，等待卖家发货": "WAIT_SELLER_CONSIGN_GOOGDS",
            "换货关闭，转退货退款": "EXCHANGE_TRANSFORM_TO_REFUND",
            "卖家已发货，等待买家确认收货": "EXCHANGE_WAIT_BUYER_CONFIRM_GOODS",
            "邮费单已创建，待激活": "POST_FEE_DISPUTE_WAIT_ACTIVATE",
        }
    ),
    # Tmall's dispute_request words; 是否需要退货 (goods to return?) answers 是 or 否.
    kinds=_keyed(
        {
            taobao.REFUND_ONLY: taobao.REFUND_ONLY,
            taobao.RETURN: taobao.RETURN,
            taobao.EXCHANGE: taobao.EXCHANGE,
            "是": taobao.RETURN,
            "否": taobao.REFUND_ONLY,
        }
    ),
    # cs_status in words: 2–5 the platform's customer service is on it.
    handling={
        **YES_NO,
        "不需客服介入": False,
        "需要客服介入": True,
        "客服已经介入": True,
        "客服初审完成": True,
        "客服主管复审失败": True,
        "客服处理完成": False,
    },
    finish=_taobao,
)

JD_DONE = "10010"
# processResult: how a done ticket ended.
JD_RESULTS = _keyed(
    {
        "初始化": "0",
        "安装完成": "1",
        "维修完成": "2",
        "检测完成": "3",
        "拆机完成": "4",
        "咨询解释": "5",
        "取消": "6",
        "原返": "70",
        "换货": "80",
        "赔付": "100",
    }
)
JD = Layout(
    platforms=("jd",),
    columns={
        **COMMON,
        "request_id": ("服务单号",),
        "status": ("服务单状态", "售后状态"),
        "kind": ("客户期望", "售后类型"),
        "reason": ("问题描述", "退款原因"),
        "buyer_note": ("客户留言", "买家留言"),
        "tracking": ("运单号", *TRACKING),
        "line_id": ("商品编号",),
        "quantity": (*QUANTITY, "申请数量"),
        "handling": ("京东介入",),
        "result": ("处理结果",),
    },
    statuses=_keyed(
        {
            "待审核领取": "10000",
            "待审核": "10001",
            "待客户反馈": "10002",
            "审核关闭": "10004",
            "待收货": "10005",
            "待处理领取": "10006",
            "待处理": "10007",
            "待用户确认": "10009",
            "完成": JD_DONE,
            "取消": "10011",
            "客户已反馈": "10012",
            "待审核和待客户反馈": "10013",
            "提交退款申请": "10041",
            "待下发维修中心接单": "1100",
            "上门维修中": "12000",
            "上门检测中": "14000",
            "商家催收待处理": "13000",
            "未收货，待收款": "13000",
            "已收货，待收款": "13000",
        }
    ),
    # customerExpect
    kinds=_keyed(
        {
            "退货": jd.RETURN,
            "仅退款": jd.REFUND_ONLY,
            "换货": jd.EXCHANGE,
            "维修": jd.REPAIR,
            "大家电安装": "40",
            "大家电移机": "50",
            "大家电增值服务": "60",
            "上门维修": "70",
            "补发商品": jd.RESEND,
            "优鲜赔": jd.FRESH_COMPENSATION,
            "试用收回": "100",
        }
    ),
    finish=_jd,
)

PINDUODUO = Layout(
    platforms=("pinduoduo",),
    columns={
        **COMMON,
        "request_id": ("售后编号",),
        "status": ("售后状态",),
        "kind": ("售后类型",),
        "reason": ("售后原因", "退款原因"),
        "buyer_note": ("买家留言", "售后说明"),
        "quantity": (*QUANTITY, "商品数量"),
        "handling": ("平台介入",),
    },
    # after_sales_status in the words of the platform's documentation.
    statuses=_keyed(
        {
            "无售后": "0",
            "买家申请退款，待商家处理": "2",
            "退货退款，待商家处理": "3",
            "商家同意退款，退款中": "4",
            "平台同意退款，退款中": "5",
            "驳回退款，待买家处理": "6",
            "已同意退货退款，待用户发货": "7",
            "平台处理中": "8",
            "平台拒绝退款，退款关闭": "9",
            "退款成功": "10",
            "买家撤销": "11",
            "买家逾期未处理，退款失败": "12",
            "买家逾期，超过有效期": "13",
            "换货补寄待商家处理": "14",
            "换货补寄待用户处理": "15",
            "换货补寄成功": "16",
            "换货补寄失败": "17",
            "换货补寄待用户确认完成": "18",
            "待商家同意维修": "21",
            "待用户确认发货": "22",
            "维修关闭": "24",
            "维修成功": "25",
            "待用户确认收货": "27",
            "已同意拒收退款，待用户拒收": "31",
            "补寄待商家发货": "32",
            "待商家召回": "33",
            "同意召回后退款，待商家召回": "33",
        }
    ),
    # after_sales_type, the list's codes
    kinds=_keyed(
        {
            "仅退款": pinduoduo.REFUND_ONLY,
            "退货退款": pinduoduo.RETURN,
            "换货": pinduoduo.EXCHANGE,
            "缺货补寄": pinduoduo.RESEND,
            "维修": pinduoduo.REPAIR,
            "拦截退货": pinduoduo.INTERCEPT,
        }
    ),
    finish=_pinduoduo,
)

DOUYIN = Layout(
    platforms=("douyin",),
    columns={
        **COMMON,
        "request_id": ("售后单号",),
        "order_id": (*ORDER, "店铺单号"),
        "status": ("售后状态",),
        "kind": ("售后类型",),
        "reason": ("售后原因", "退款原因"),
        "buyer_note": ("买家留言", "售后描述"),
        "line_id": ("商品单号",),
        "quantity": ("售后数量", *QUANTITY),
        "handling": ("平台介入",),
    },
    # aftersale_status
    statuses=_keyed(
        {
            "待商家同意": "6",
            "待买家退货": "7",
            "待商家二次同意": "11",
            "售后成功": "12",
            "换货待买家收货": "13",
            "换货成功": "14",
            "商家一次拒绝": "27",
            "售后失败": "28",
            "商家二次拒绝": "29",
        }
    ),
    # aftersale_type
    kinds=_keyed(
        {
            "退货退款": douyin.RETURN_REFUND,
            "已发货仅退款": douyin.REFUND_AFTER_SHIPPING,
            "未发货仅退款": douyin.REFUND_BEFORE_SHIPPING,
            "换货": douyin.EXCHANGE,
            "价保": douyin.PRICE_PROTECTION,
            "补寄": douyin.RESEND,
            "维修": douyin.REPAIR,
        }
    ),
    finish=_douyin,
)

KUAISHOU = Layout(
    platforms=("kuaishou",),
    columns={
        **COMMON,
        "request_id": ("退款单号",),
        "status": ("退款状态", "售后状态"),
        "kind": ("售后类型", "退款类型", "处理方式"),
        "reason": ("退款原因",),
        "buyer_note": ("退款说明", "买家留言"),
        "line_id": ("商品ID",),
        "quantity": (*QUANTITY, "退款数量"),
    },
    # status
    statuses=_keyed(
        {
            "买家仅退款申请": "10",
            "买家退货退款申请": "11",
            "平台介入-买家仅退款申请": "20",
            "平台介入-买家退货退款申请": "21",
            "平台介入-已确认退货退款": "22",
            "商品回寄信息待买家更新": "30",
            "商品回寄信息待卖家确认": "40",
            "退款执行中": "50",
            "退款成功": "60",
            "退款失败": "70",
        }
    ),
    # handlingWay
    kinds=_keyed(
        {
            "退货退款": kuaishou.RETURN_REFUND,
            "换货": kuaishou.EXCHANGE,
            "仅退款": kuaishou.REFUND_ONLY,
        }
    ),
    finish=_kuaishou,
)

LAYOUTS: tuple[Layout, ...] = (TAOBAO, JD, PINDUODUO, DOUYIN, KUAISHOU)


# --- reading a file ------------------------------------------------------------------------------


def _text(data: bytes) -> str:
    """The file's text: UTF-8 (with or without its byte order mark), else GBK's superset
    GB18030 — the back offices export one or the other."""
    if data.startswith(ZIP_MAGIC):
        raise InvalidInput(
            _("The file is a spreadsheet workbook: save it as CSV, then import that file."),
            code="export_not_csv",
        )
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise InvalidInput(
        _("The file's text cannot be read: it is neither UTF-8 nor GBK/GB18030."),
        code="export_unreadable",
    )


def _clean(cell: str) -> str:
    """A cell as the export means it: spreadsheets' ways of keeping long numbers whole (a leading
    tab or apostrophe, ``="…"``) undone."""
    value = cell.strip()
    if value.startswith('="') and value.endswith('"'):
        value = value[2:-1].strip()
    if value.startswith("'") and value[1:].strip().isdigit():
        value = value[1:].strip()
    return value


def _lines(text: str) -> Iterable[tuple[int, list[str]]]:
    """Each non-blank row with the line it starts on (a quoted cell may span lines)."""
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                yield start, cells
            start = reader.line_num + 1
    except csv.Error:
        raise InvalidInput(
            _("The file is not CSV that can be read (line %(line)d).") % {"line": start},
            code="export_unreadable",
        ) from None


def _layout(header: list[str], platform: str) -> tuple[Layout, dict[str, tuple[int, str]]]:
    """The store's platform's layout named by the header, and where each of its columns is."""
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        positions.setdefault(_key(name), index)
    named = [
        layout
        for layout in LAYOUTS
        if any(_key(name) in positions for name in layout.columns["request_id"])
    ]
    layout = next((layout for layout in named if platform in layout.platforms), None)
    if layout is None and named:
        raise InvalidInput(
            _("This is an export of %(found)s, but the store is on %(platform)s.")
            % {"found": named[0].label, "platform": StorePlatform(platform).label},
            code="export_wrong_platform",
        )
    if layout is None:
        raise InvalidInput(
            _(
                "The first row does not name the columns of an after-sales export of Taobao, "
                "Tmall, JD, Pinduoduo, Douyin or Kuaishou."
            ),
            code="export_unrecognised",
        )
    columns = {}
    for name, aliases in layout.columns.items():
        index = next((positions[_key(a)] for a in aliases if _key(a) in positions), None)
        if index is not None:
            columns[name] = (index, header[index].strip())
    missing = [layout.columns[name][0] for name in REQUIRED if name not in columns]
    if missing:
        raise InvalidInput(
            _("The export lacks the columns %(columns)s.") % {"columns": "、".join(missing)},
            code="export_columns_missing",
        )
    return layout, columns


def _request(platform: str, layout: Layout, row: _Row, filename: str) -> RemoteRequest:
    cells = row.cells
    status_word = row.text("status")
    kind_word = row.text("kind")
    amount = row.amount("amount")
    modified = row.moment("modified")
    fields: dict[str, Any] = {
        "platform": platform,
        "request_id": row.identifier("request_id"),
        "order_id": row.identifier("order_id"),
        "status": layout.statuses.get(_key(status_word), status_word),
        "kind": layout.kinds.get(_key(kind_word), kind_word),
        "version": wire.beijing_text(modified),
        "created_at": row.moment("created"),
        "modified_at": modified,
        "amount": amount,
        "reason": cells.get("reason", ""),
        "buyer_note": cells.get("buyer_note", ""),
        "handling": layout.handling.get(_key(cells.get("handling", "")), False),
        "deadline_at": row.moment("deadline"),
        "tracking_number": cells.get("tracking", ""),
        # the columns read, as the file names them (not the others: buyers' names, phones…)
        "raw": {
            "export": {
                "file": filename,
                "line": row.line,
                "cells": {row.names[name]: value for name, value in cells.items()},
            }
        },
    }
    if any(name in row.names for name in LINE_FIELDS):
        fields["lines"] = (
            RemoteLine(
                line_id=cells.get("line_id", ""),
                sku=cells.get("sku", ""),
                title=cells.get("title", ""),
                quantity=row.count("quantity"),
                amount=amount,
            ),
        )
    if layout.finish:
        layout.finish(platform, fields, row)
    for name, limit in LIMITS.items():
        if len(fields[name]) > limit:
            raise _RowError(
                _("“%(column)s” is longer than %(limit)d characters.")
                % {"column": row.names[name], "limit": limit}
            )
    return RemoteRequest(**fields)


def _read(
    platform: str, data: bytes, filename: str
) -> tuple[int, list[RemoteRequest], list[ExportError]]:
    """Every row of the file as a request, or why not; the whole file refused when it is not the
    store's export."""
    if not data.strip():
        raise InvalidInput(_("The file is empty."), code="export_empty")
    if len(data) > MAX_BYTES:
        raise InvalidInput(
            _("The file is larger than %(megabytes)d MB.") % {"megabytes": MAX_BYTES // 2**20},
            code="export_too_large",
        )
    rows = iter(_lines(_text(data)))
    _start, header = next(rows, (0, []))
    layout, columns = _layout(header, platform)
    names = {name: column for name, (_index, column) in columns.items()}
    count, requests, errors = 0, [], []
    for line, cells in rows:
        count += 1
        if count > MAX_ROWS:
            raise InvalidInput(
                _("The file has more than %(rows)d rows: export shorter spans.")
                % {"rows": MAX_ROWS},
                code="export_too_large",
            )
        row = _Row(
            line,
            {
                name: _clean(cells[index]) if index < len(cells) else ""
                for name, (index, _column) in columns.items()
            },
            names,
        )
        try:
            requests.append(_request(platform, layout, row, filename))
        except _RowError as error:
            errors.append(ExportError(line, str(error)))
    return count, requests, errors


@transaction.atomic
def _keep(store: Store, requests: list[RemoteRequest]) -> tuple[int, int]:
    """Land each request unless what is stored is as new (an export never replaces a read of the
    same moment: the API's carries the version a write needs)."""
    stored: dict[str, dt.datetime] = {}
    ids = sorted({request.request_id for request in requests})
    for start in range(0, len(ids), 500):
        stored.update(
            PlatformRequest.objects.filter(
                store=store, request_id__in=ids[start : start + 500]
            ).values_list("request_id", "modified_at")
        )
    changed = 0
    for request in requests:
        known = stored.get(request.request_id)
        if known is not None and request.modified_at <= known:
            continue
        landed = land(store, request)
        changed += landed.changed
        stored[request.request_id] = landed.request.modified_at
    return len(requests), changed


def import_export(*, store: Store, data: bytes, filename: str = "") -> ExportImport:
    """Keep the requests of a platform's after-sales export (the file's bytes) as the store's.
    The caller has checked that its user may."""
    rows, requests, errors = _read(store.platform, data, filename)
    landed, changed = _keep(store, requests)
    return ExportImport(rows=rows, landed=landed, changed=changed, errors=errors)
