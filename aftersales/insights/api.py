"""The KPIs over HTTP: the figures of a period by one grouping, and the cases behind a number.
The shops' leads and administrators read them (``insights.view``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from aftersales.catalog import selectors as catalog
from aftersales.core.exports import CSV_OPENAPI
from aftersales.core.schemas import ERROR_RESPONSES, Id, page_limit, refuse_unknown_parameters
from aftersales.insights import dashboards, exports, selectors

router = Router(tags=["insights"])

Group = Literal["shop", "kind", "agent", "team", "platform", "reason", "store", "day", "month"]
Figure = Literal[
    "opened",
    "ended",
    "refunded",
    "returns",
    "exchanges",
    "repairs",
    "sla_met",
    "sla_breached",
    "first_responses",
    "refunds",
    "rejected",
    "compensations",
    "sla_breaches",
    "disputes",
    "complaints",
    "repair_parts_amount",
    "repair_labour_amount",
    "written_off_amount",
    "shipping_amount",
    "staff_minutes",
    "staff_cost_amount",
]


class KpiQuery(Schema):
    shop: str | None = Field(None, max_length=40)
    since: dt.date
    until: dt.date
    group_by: Group = "shop"


class KpiRow(Schema):
    """One group's figures; hours and percentages are ``null`` where nothing was counted."""

    key: str
    label: str
    opened: int
    ended: int
    first_responses: int
    first_response_hours: float | None
    first_response_business_hours: float | None
    resolution_hours: float | None
    resolution_business_hours: float | None
    sla_met: int
    sla_breached: int
    sla_met_percent: float | None
    refunded: int
    refund_rate: float | None
    returns: int
    return_rate: float | None
    exchanges: int
    exchange_share: float | None
    repairs: int
    repair_share: float | None
    rejected: int
    rejection_rate: float | None
    refunds: int
    refund_amount: Decimal
    compensations: int
    compensation_amount: Decimal
    sla_breaches: int
    complaints: int
    complaints_per_100: float | None
    disputes: int
    disputes_per_100: float | None
    repair_parts_amount: Decimal
    repair_labour_amount: Decimal
    written_off_amount: Decimal
    shipping_amount: Decimal
    staff_minutes: int
    staff_hours: float | None
    staff_cost_amount: Decimal
    cost_amount: Decimal
    cost_per_case: Decimal | None


class KpiOut(Schema):
    since: dt.date
    until: dt.date
    group_by: str
    rows: list[KpiRow]


def _shop(request: HttpRequest, code: str | None):
    return catalog.shop_get(actor=request.auth, code=code) if code else None


@router.get("/insights/kpis", response={200: KpiOut, **ERROR_RESPONSES})
def insights_kpis(request: HttpRequest, query: Query[KpiQuery]):
    """The KPIs of the days ``since`` … ``until`` (the shops' local dates, both included), one row
    per shop, case kind, owner, platform, reason, platform store, day or month; with the cost
    per case (compensation, repair parts and labour, goods written off, shipping and staff time
    over the cases ended)."""
    refuse_unknown_parameters(request, KpiQuery)
    rows = selectors.kpis(
        actor=request.auth,
        shop=_shop(request, query.shop),
        since=query.since,
        until=query.until,
        group_by=query.group_by,
    )
    return {"since": query.since, "until": query.until, "group_by": query.group_by, "rows": rows}


class ProductQuery(Schema):
    shop: str | None = Field(None, max_length=40)
    since: dt.date
    until: dt.date
    group_by: Literal["sku", "category"] = "sku"
    kind: str | None = Field(None, max_length=20)
    reason: str | None = Field(None, max_length=30)


class ProductRow(Schema):
    """The cases naming one SKU (``key``: its id; ``label``: its code and product) or one
    product category (``none``: no category)."""

    key: str
    label: str
    opened: int
    units: int
    ended: int
    refunded: int
    refund_rate: float | None
    returns: int
    return_rate: float | None
    exchanges: int
    exchange_share: float | None
    repairs: int
    repair_share: float | None
    refunds: int
    refund_amount: Decimal


class ProductOut(Schema):
    since: dt.date
    until: dt.date
    group_by: str
    rows: list[ProductRow]


@router.get("/insights/products", response={200: ProductOut, **ERROR_RESPONSES})
def insights_products(request: HttpRequest, query: Query[ProductQuery]):
    """The cases of the days ``since`` … ``until`` by the SKU they name or its product's
    category, most cases first: cases opened and units claimed, cases ended, the refund and
    return rates, the exchange and repair shares, the refunds paid; ``kind`` and ``reason``
    narrow them (``none``: no such value). A case naming two SKUs counts under each."""
    refuse_unknown_parameters(request, ProductQuery)
    rows = selectors.product_kpis(
        actor=request.auth,
        shop=_shop(request, query.shop),
        since=query.since,
        until=query.until,
        group_by=query.group_by,
        kind=query.kind,
        reason=query.reason,
    )
    return {"since": query.since, "until": query.until, "group_by": query.group_by, "rows": rows}


class RowKeys(Schema):
    """A row's keys of the KPIs (``none``: the empty key), as the cases behind a number and the
    exports take them."""

    kind: str | None = Field(None, max_length=20)
    agent: str | None = Field(None, max_length=150)
    platform: str | None = Field(None, max_length=20)
    reason: str | None = Field(None, max_length=30)
    store: str | None = Field(None, max_length=20)
    team: str | None = Field(None, max_length=20)
    day: dt.date | None = None
    sku: str | None = Field(None, max_length=20)
    category: str | None = Field(None, max_length=100)

    def drill(self) -> selectors.Drill:
        return selectors.Drill(**{name: getattr(self, name) for name in DRILL_KEYS})


DRILL_KEYS = tuple(selectors.Drill.__dataclass_fields__)


class DrillQuery(RowKeys):
    measure: Figure
    shop: str | None = Field(None, max_length=40)
    since: dt.date
    until: dt.date
    cursor: Id | None = None
    limit: int = 50


class DrillItem(Schema):
    subject: str
    id: int
    number: str
    day: dt.date
    amount: Decimal
    hours: float | None
    outcome: str


class DrillPage(Schema):
    total: int
    items: list[DrillItem]
    next_cursor: int | None


@router.get("/insights/kpis/cases", response={200: DrillPage, **ERROR_RESPONSES})
def insights_kpi_cases(request: HttpRequest, query: Query[DrillQuery]):
    """The cases behind one number of the KPIs (for ``complaints``, the complaints), oldest
    first; the filters are the groups' keys (``none``: no owner, the shop's own platform or
    no store, or a complaint's empty kind and reason)."""
    refuse_unknown_parameters(request, DrillQuery)
    items, next_cursor, total = selectors.kpi_cases(
        actor=request.auth,
        measure=query.measure,
        shop=_shop(request, query.shop),
        since=query.since,
        until=query.until,
        filters=query.drill(),
        after=query.cursor,
        limit=page_limit(query.limit),
    )
    return {"total": total, "items": items, "next_cursor": next_cursor}


# --- the exports: one row per case --------------------------------------------------------------


class ExportQuery(RowKeys):
    """The period and shop, and optionally one number of the dashboard (``measure``) and its
    row's keys, as ``/insights/kpis/cases`` takes them: then the file holds the cases behind
    that number."""

    shop: str | None = Field(None, max_length=40)
    since: dt.date
    until: dt.date
    measure: Figure | None = None


XLSX_OPENAPI = {
    "responses": {
        200: {
            "description": "An XLSX workbook (one sheet; times as dates, amounts as numbers; "
            "text is never a formula)",
            "content": {exports.XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}


def _export(request: HttpRequest, query: ExportQuery, file_format: str):
    refuse_unknown_parameters(request, ExportQuery)
    report = dashboards.Report(
        shop=_shop(request, query.shop), since=query.since, until=query.until
    )
    return exports.export_response(
        actor=request.auth,
        report=report,
        file_format=file_format,
        via="api",
        measure=query.measure,
        filters=query.drill(),
    )


@router.get(
    "/insights/cases.csv", response={200: None, **ERROR_RESPONSES}, openapi_extra=CSV_OPENAPI
)
def insights_cases_csv(request: HttpRequest, query: Query[ExportQuery]):
    """The cases opened or ended in the days ``since`` … ``until`` (the shops' local dates, both
    included), or with ``measure`` and a row's keys the cases behind that number, one row per
    case: number, shop, kind, platform, reason, agent, the shop's local
    times of opening, first response and end, the outcome, the hours (calendar and business),
    whether the service levels were met, the refunds and compensation paid, the repair's parts
    and labour, the goods written off, the shipping paid, the staff minutes and their cost, the
    platform store. Logged."""
    return _export(request, query, "csv")


@router.get(
    "/insights/cases.xlsx", response={200: None, **ERROR_RESPONSES}, openapi_extra=XLSX_OPENAPI
)
def insights_cases_xlsx(request: HttpRequest, query: Query[ExportQuery]):
    """The same rows as ``cases.csv``, as an XLSX workbook. Logged."""
    return _export(request, query, "xlsx")
