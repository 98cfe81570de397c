"""The desk's KPI dashboard as people read it: the report's filters from the page's query (with
defaults on the server's clock), the figures of ``selectors.kpis`` written for people (shares in
percent, times in hours and minutes, money with its currency, kinds, platforms, reasons and
agents by their names), the charts' series, and the drill-down link of every number.

Everything here reads through ``selectors.kpis`` and ``selectors.kpi_cases`` (the rollups and
the facts, never a scan of the cases); the headline is the same sums over every group."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from aftersales.cases.choices import CaseKind, Reason
from aftersales.cases.wording import money_text
from aftersales.catalog import selectors as catalog
from aftersales.catalog.models import Platform, Shop
from aftersales.core import clock
from aftersales.core.actors import Principal
from aftersales.core.errors import InvalidInput
from aftersales.insights import selectors

# The page groups the table and the bar chart by one of these; the trend is by day or month.
PAGE_GROUPS = ("shop", "kind", "agent", "team", "platform", "reason", "store")
GROUP_LABELS = {
    "shop": gettext_lazy("Shop"),
    "kind": gettext_lazy("Case kind"),
    "agent": gettext_lazy("Agent"),
    "team": gettext_lazy("Team"),
    "platform": gettext_lazy("Platform"),
    "reason": gettext_lazy("Reason"),
    "store": gettext_lazy("Platform store"),
}
DEFAULT_DAYS = 30
# A period longer than this is drawn month by month.
DAILY_TREND_DAYS = 62
DEFAULT_TIMEZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class Report:
    """What the dashboard shows: the shop (``None``: every shop the caller reads), the period
    (the shops' local dates, both included), the table's grouping and the trend's step."""

    shop: Shop | None
    since: dt.date
    until: dt.date
    group_by: str = "shop"

    @property
    def trend_by(self) -> str:
        return "day" if (self.until - self.since).days < DAILY_TREND_DAYS else "month"

    def query(self, **extra) -> dict[str, str]:
        """The report's own filters as a page's query (for links that keep them)."""
        query = {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "group_by": self.group_by,
        }
        if self.shop is not None:
            query["shop"] = self.shop.code
        return {**query, **{key: str(value) for key, value in extra.items() if value is not None}}


def date_param(params: Mapping[str, str], name: str, label: str) -> dt.date | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            _("%(field)s is not a date; pick one from the calendar (year-month-day).")
            % {"field": label},
            code="invalid_date",
            field=name,
        ) from None


def _today(actor: Principal, shop: Shop | None) -> dt.date:
    """Today on the shop's calendar (or the first readable shop's)."""
    if shop is None:
        shop = catalog.shops_for(actor).order_by("code").first()
    timezone = shop.timezone if shop is not None else DEFAULT_TIMEZONE
    return clock.now().astimezone(zoneinfo.ZoneInfo(timezone)).date()


def report_from(actor: Principal, params: Mapping[str, str]) -> Report:
    """The report a page's query asks for; a bad value is refused in words (``InvalidInput``,
    ``NotFound``), the period is checked by the selectors."""
    code = (params.get("shop") or "").strip()
    shop = catalog.shop_get(actor=actor, code=code) if code else None
    group_by = (params.get("group_by") or "shop").strip()
    if group_by not in PAGE_GROUPS:
        raise InvalidInput(
            _(
                "Group the figures by shop, case kind, agent, team, platform, reason or platform "
                "store."
            ),
            code="invalid_group",
            field="group_by",
        )
    until = date_param(params, "until", _("The end of the period")) or _today(actor, shop)
    since = date_param(params, "since", _("The start of the period")) or until - dt.timedelta(
        days=DEFAULT_DAYS - 1
    )
    return Report(shop=shop, since=since, until=until, group_by=group_by)


# --- the figures as people read them ------------------------------------------------------------


def hours_text(hours: float | None) -> str:
    """Hours as people say them: ``3 hours 20 minutes``, ``45 minutes``; ``—`` for none."""
    if hours is None:
        return "—"
    minutes_in_all = round(hours * 60)
    whole_hours, minutes = divmod(minutes_in_all, 60)
    parts = []
    if whole_hours:
        parts.append(
            ngettext("%(count)s hour", "%(count)s hours", whole_hours) % {"count": whole_hours}
        )
    if minutes or not parts:
        parts.append(
            ngettext("%(count)s minute", "%(count)s minutes", minutes) % {"count": minutes}
        )
    return " ".join(parts)


def percent_text(value: float | None) -> str:
    return "—" if value is None else f"{formats.number_format(value, 1)}%"


def count_text(value: int) -> str:
    return formats.number_format(value, 0, force_grouping=True)


def per_hundred_text(value: float | None) -> str:
    return "—" if value is None else formats.number_format(value, 1)


@dataclass(frozen=True)
class Column:
    """A figure of the table: its key in ``kpis``' rows, its name, the drill-down figure behind
    it, how it is written, and the count shown beside a share."""

    key: str
    label: str
    measure: str
    kind: str  # count, hours, percent, per_hundred, money
    count: str | None = None
    headline: bool = True


COLUMNS = (
    Column("opened", gettext_lazy("Cases opened"), "opened", "count"),
    Column("ended", gettext_lazy("Cases ended"), "ended", "count"),
    Column(
        "first_response_business_hours",
        gettext_lazy("First response, mean (business hours)"),
        "first_responses",
        "hours",
        "first_responses",
    ),
    Column(
        "first_response_hours",
        gettext_lazy("First response, mean (calendar hours)"),
        "first_responses",
        "hours",
        "first_responses",
        headline=False,
    ),
    Column(
        "resolution_business_hours",
        gettext_lazy("Resolution, mean (business hours)"),
        "ended",
        "hours",
        "ended",
    ),
    Column(
        "resolution_hours",
        gettext_lazy("Resolution, mean (calendar hours)"),
        "ended",
        "hours",
        "ended",
        headline=False,
    ),
    Column("sla_met_percent", gettext_lazy("Service levels met"), "sla_met", "percent", "sla_met"),
    Column("refund_rate", gettext_lazy("Refund rate"), "refunded", "percent", "refunded"),
    Column("return_rate", gettext_lazy("Return rate"), "returns", "percent", "returns"),
    Column("repair_share", gettext_lazy("Repair share"), "repairs", "percent", "repairs"),
    Column("exchange_share", gettext_lazy("Exchange share"), "exchanges", "percent", "exchanges"),
    Column(
        "rejection_rate",
        gettext_lazy("Rejection rate"),
        "rejected",
        "percent",
        "rejected",
        headline=False,
    ),
    Column(
        "complaints_per_100",
        gettext_lazy("Complaints per 100 cases"),
        "complaints",
        "per_hundred",
        "complaints",
    ),
    Column(
        "disputes_per_100",
        gettext_lazy("Disputes per 100 cases"),
        "disputes",
        "per_hundred",
        "disputes",
    ),
    Column(
        "refund_amount", gettext_lazy("Refunds paid"), "refunds", "money", "refunds", headline=False
    ),
    Column(
        "compensation_amount",
        gettext_lazy("Compensation paid"),
        "compensations",
        "money",
        "compensations",
    ),
    Column("cost_per_case", gettext_lazy("Cost per case"), "ended", "money", "ended"),
    Column(
        "repair_parts_amount",
        gettext_lazy("Repair parts"),
        "repair_parts_amount",
        "money",
        headline=False,
    ),
    Column(
        "repair_labour_amount",
        gettext_lazy("Repair labour"),
        "repair_labour_amount",
        "money",
        headline=False,
    ),
    Column(
        "written_off_amount",
        gettext_lazy("Goods written off"),
        "written_off_amount",
        "money",
        headline=False,
    ),
    Column(
        "shipping_amount", gettext_lazy("Shipping paid"), "shipping_amount", "money", headline=False
    ),
    Column("staff_hours", gettext_lazy("Staff time"), "staff_minutes", "hours", headline=False),
    Column(
        "staff_cost_amount",
        gettext_lazy("Staff cost"),
        "staff_cost_amount",
        "money",
        headline=False,
    ),
)


# The figures by product: the cases naming a SKU (or a category) and how they ended.
PRODUCT_COLUMNS = (
    Column("opened", gettext_lazy("Cases opened"), "opened", "count"),
    Column("units", gettext_lazy("Units claimed"), "opened", "count"),
    Column("ended", gettext_lazy("Cases ended"), "ended", "count"),
    Column("refund_rate", gettext_lazy("Refund rate"), "refunded", "percent", "refunded"),
    Column("return_rate", gettext_lazy("Return rate"), "returns", "percent", "returns"),
    Column("exchange_share", gettext_lazy("Exchange share"), "exchanges", "percent", "exchanges"),
    Column("repair_share", gettext_lazy("Repair share"), "repairs", "percent", "repairs"),
    Column("refund_amount", gettext_lazy("Refunds paid"), "refunds", "money", "refunds"),
)
# The SKUs the dashboard lists (most cases first); the API lists them all.
TOP_SKUS = 10


def _writer(kind: str, currency: str) -> Callable[[object], str]:
    return {
        "count": count_text,
        "hours": hours_text,
        "percent": percent_text,
        "per_hundred": per_hundred_text,
        "money": lambda amount: (
            "—" if amount is None else money_text(amount, currency) if currency else str(amount)
        ),
    }[kind]


def currency_of(actor: Principal, report: Report) -> str:
    """The report's currency: the shop's, or the one every readable shop uses (else none)."""
    if report.shop is not None:
        return report.shop.currency
    currencies = set(catalog.shops_for(actor).values_list("currency", flat=True))
    return currencies.pop() if len(currencies) == 1 else ""


def cells(
    row: dict,
    report: Report,
    currency: str,
    drill: dict[str, str],
    *,
    headline=False,
    columns: tuple[Column, ...] = COLUMNS,
):
    """One group's figures, each written for people and linked to the cases behind it."""
    result = []
    for column in columns:
        if headline and not column.headline:
            continue
        write = _writer(column.kind, currency)
        result.append(
            {
                "key": column.key,
                "label": str(column.label),
                "text": write(row[column.key]),
                "count": count_text(row[column.count]) if column.count else "",
                "url": drill_url(report, column.measure, drill),
            }
        )
    return result


def drill_url(report: Report, measure: str, drill: dict[str, str]) -> str:
    query = {**report.query(), **drill, "measure": measure}
    return f"{reverse('insights:cases')}?{urlencode(query)}"


def _group_drill(report: Report, key: str) -> dict[str, str]:
    """The drill-down's filters of one group of the table."""
    if report.group_by == "shop":
        return {"shop": key}
    return {report.group_by: key}


# --- labels -------------------------------------------------------------------------------------


def agent_names(usernames: set[str]) -> dict[str, str]:
    users = get_user_model().objects.filter(username__in=usernames)
    return {user.username: user.get_full_name() or user.username for user in users}


def group_label(group_by: str, row: dict, names: Mapping[str, str]) -> str:
    """A group's key as people read it (``kpis`` names shops, kinds and reasons already)."""
    key = row["key"]
    if group_by == "platform" and key != selectors.NONE:
        return str(Platform(key).label) if key in Platform.values else key
    if group_by == "agent" and key != selectors.NONE:
        return names.get(key, key)
    if group_by == "kind" and key in CaseKind.values:
        return str(CaseKind(key).label)
    if group_by == "reason" and key in Reason.values:
        return str(Reason(key).label)
    return str(row["label"])


def day_text(day: dt.date) -> str:
    return formats.date_format(day, "SHORT_DATE_FORMAT")


def month_text(month: dt.date) -> str:
    return formats.date_format(month, "YEAR_MONTH_FORMAT")


# --- the page -----------------------------------------------------------------------------------


def _steps(report: Report) -> list[dt.date]:
    """Every day (or first of a month) of the period, so the trend has no holes."""
    if report.trend_by == "day":
        days = (report.until - report.since).days + 1
        return [report.since + dt.timedelta(days=n) for n in range(days)]
    steps, month = [], report.since.replace(day=1)
    while month <= report.until:
        steps.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return steps


def _trend(actor: Principal, report: Report) -> dict:
    rows = selectors.kpis(
        actor=actor,
        shop=report.shop,
        since=report.since,
        until=report.until,
        group_by=report.trend_by,
    )
    by_key = {row["key"]: row for row in rows}
    steps = _steps(report)
    keys = [step.isoformat() if report.trend_by == "day" else f"{step:%Y-%m}" for step in steps]
    write = day_text if report.trend_by == "day" else month_text
    empty = {"opened": 0, "ended": 0, "sla_met_percent": None}
    return {
        "labels": [write(step) for step in steps],
        "series": [
            {
                "name": str(label),
                "type": kind,
                "data": [by_key.get(key, empty)[field] for key in keys],
            }
            for field, label, kind in (
                ("opened", gettext_lazy("Cases opened"), "bar"),
                ("ended", gettext_lazy("Cases ended"), "bar"),
                ("sla_met_percent", gettext_lazy("Service levels met (%)"), "line"),
            )
        ],
    }


def totals(actor: Principal, report: Report) -> dict:
    """The headline: every figure over the whole report, from the same sums and the same
    division as ``selectors.kpis`` (one aggregate of the rollups, divided once)."""
    return selectors.kpi_totals(
        actor=actor, shop=report.shop, since=report.since, until=report.until
    )


def products(actor: Principal, report: Report, currency: str) -> dict:
    """The cases of one shop by the SKU they name (the ``TOP_SKUS`` with most cases) and by
    category, from one read of the product rollups. Every shop together has no product card
    (SKUs belong to one shop; the API lists them): the page asks to pick a shop."""
    if report.shop is None:
        return {"products": {}, "product_columns": [], "top_skus": TOP_SKUS}
    tables = selectors.product_tables(
        actor=actor, shop=report.shop, since=report.since, until=report.until
    )
    found = {}
    for group_by in selectors.PRODUCT_GROUPS:
        rows = tables[group_by][:TOP_SKUS] if group_by == "sku" else tables[group_by]
        found[group_by] = [
            {
                "key": row["key"],
                "label": row["label"],
                "cells": cells(
                    row, report, currency, {group_by: row["key"]}, columns=PRODUCT_COLUMNS
                ),
            }
            for row in rows
        ]
    return {
        "products": found,
        "product_columns": [str(column.label) for column in PRODUCT_COLUMNS],
        "top_skus": TOP_SKUS,
    }


def dashboard(actor: Principal, report: Report) -> dict:
    """Everything the dashboard page shows, from three reads of the rollups."""
    currency = currency_of(actor, report)
    rows = selectors.kpis(
        actor=actor,
        shop=report.shop,
        since=report.since,
        until=report.until,
        group_by=report.group_by,
    )
    names = agent_names({row["key"] for row in rows}) if report.group_by == "agent" else {}
    table = [
        {
            "key": row["key"],
            "label": group_label(report.group_by, row, names),
            "cells": cells(row, report, currency, _group_drill(report, row["key"])),
        }
        for row in rows
    ]
    headline = totals(actor, report)
    return {
        **products(actor, report, currency),
        "headline": cells(headline, report, currency, {}, headline=True),
        "total_cells": cells(headline, report, currency, {}),
        "columns": [str(column.label) for column in COLUMNS],
        "table": table,
        "charts": {
            "trend": _trend(actor, report),
            "groups": {
                "labels": [row["label"] for row in table],
                "series": [
                    {
                        "name": str(label),
                        "type": "bar",
                        "data": [source[field] for source in rows],
                    }
                    for field, label in (
                        ("opened", gettext_lazy("Cases opened")),
                        ("ended", gettext_lazy("Cases ended")),
                    )
                ],
            },
        },
    }
