"""The desk's drill-down page: the cases (or complaints) behind one number of the dashboard,
from ``selectors.kpi_cases``, a page at a time, written for people (days, hours in words,
amounts with their currency, outcomes by name) and each linking to its own page."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.cases.choices import CaseKind, CaseState, Reason
from aftersales.cases.wording import money_text
from aftersales.catalog.models import Platform
from aftersales.core.actors import Principal
from aftersales.core.errors import InvalidInput
from aftersales.insights import selectors
from aftersales.insights.dashboards import (
    agent_names,
    currency_of,
    date_param,
    day_text,
    hours_text,
    report_from,
)
from aftersales.insights.exports import FORMATS

MEASURE_LABELS = {
    "opened": gettext_lazy("Cases opened"),
    "ended": gettext_lazy("Cases ended"),
    "refunded": gettext_lazy("Cases ended with a refund"),
    "returns": gettext_lazy("Returns ended"),
    "exchanges": gettext_lazy("Exchanges ended"),
    "repairs": gettext_lazy("Repairs ended"),
    "sla_met": gettext_lazy("Cases ended within their service levels"),
    "sla_breached": gettext_lazy("Cases ended after missing a service level"),
    "first_responses": gettext_lazy("First responses"),
    "refunds": gettext_lazy("Refunds paid"),
    "rejected": gettext_lazy("Cases refused"),
    "compensations": gettext_lazy("Compensation paid"),
    "sla_breaches": gettext_lazy("Service levels missed"),
    "disputes": gettext_lazy("Disputes"),
    "complaints": gettext_lazy("Complaints"),
    "repair_parts_amount": gettext_lazy("Repair parts"),
    "repair_labour_amount": gettext_lazy("Repair labour"),
    "written_off_amount": gettext_lazy("Goods written off"),
    "shipping_amount": gettext_lazy("Shipping paid"),
    "staff_minutes": gettext_lazy("Staff time"),
    "staff_cost_amount": gettext_lazy("Staff cost"),
}
DRILL_PAGE = 50


# The drill-down's filters as a page's query names them (the fields of ``selectors.Drill``).
FILTER_NAMES = tuple(selectors.Drill.__dataclass_fields__)


def export_filters(params: Mapping[str, str]) -> tuple[str | None, selectors.Drill]:
    """An export's number (``None``: every case opened or ended) and its row's keys."""
    measure = (params.get("measure") or "").strip() or None
    if measure is not None and measure not in MEASURE_LABELS:
        raise InvalidInput(
            _("Pick a number on the dashboard to export the cases behind it."),
            code="invalid_measure",
            field="measure",
        )
    return measure, _drill_filters(params)


def _drill_filters(params: Mapping[str, str]) -> selectors.Drill:
    def text(name: str, limit: int) -> str | None:
        value = (params.get(name) or "").strip()
        if len(value) > limit:
            raise InvalidInput(_("A filter is too long."), code="invalid_filter", field=name)
        return value or None

    return selectors.Drill(
        kind=text("kind", 20),
        agent=text("agent", 150),
        platform=text("platform", 20),
        reason=text("reason", 30),
        store=text("store", 20),
        team=text("team", 20),
        day=date_param(params, "day", _("The day")),
        sku=text("sku", 20),
        category=text("category", 100),
    )


def _cursor(params: Mapping[str, str]) -> int | None:
    raw = (params.get("cursor") or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise InvalidInput(_("This page of the list does not exist."), code="invalid_cursor")
    return int(raw)


def _filter_words(actor: Principal, filters: selectors.Drill) -> list[str]:
    """The drill-down's filters in words, for the page's title."""
    words = []
    none = selectors.NONE
    if filters.kind:
        words.append(
            str(CaseKind(filters.kind).label)
            if filters.kind in CaseKind.values
            else (_("Complaints") if filters.kind == none else filters.kind)
        )
    if filters.reason:
        words.append(
            str(Reason(filters.reason).label) if filters.reason in Reason.values else filters.reason
        )
    if filters.platform:
        words.append(
            str(Platform(filters.platform).label)
            if filters.platform in Platform.values
            else (_("The shop's own") if filters.platform == none else filters.platform)
        )
    if filters.agent:
        words.append(
            _("No owner")
            if filters.agent == none
            else agent_names({filters.agent}).get(filters.agent, filters.agent)
        )
    if filters.store:
        words.append(
            _("No platform store")
            if filters.store == none
            else selectors.store_names(actor=actor, keys={filters.store}).get(
                filters.store, filters.store
            )
        )
    if filters.day:
        words.append(day_text(filters.day))
    if filters.team:
        words.append(selectors.team_label(actor=actor, team=filters.team))
    if filters.sku:
        words.append(selectors.sku_names(actor=actor, keys={filters.sku}).get(filters.sku, ""))
    if filters.category:
        words.append(_("No category") if filters.category == none else filters.category)
    return [word for word in words if word]


def drill_page(actor: Principal, params: Mapping[str, str]) -> dict:
    """The cases behind one number, one page of them, written for people."""
    measure = (params.get("measure") or "").strip()
    if measure not in MEASURE_LABELS:
        raise InvalidInput(
            _("Pick a number on the dashboard to see the cases behind it."),
            code="invalid_measure",
            field="measure",
        )
    base = report_from(actor, params)
    filters = _drill_filters(params)
    items, next_cursor, total = selectors.kpi_cases(
        actor=actor,
        measure=measure,
        shop=base.shop,
        since=base.since,
        until=base.until,
        filters=filters,
        after=_cursor(params),
        limit=DRILL_PAGE,
    )
    currency = currency_of(actor, base)
    rows = []
    for item in items:
        if item["subject"] == "complaint":
            url = reverse("complaints_desk:complaint", args=[item["number"]])
        else:
            url = reverse("desk:case", args=[item["number"]])
        outcome = item["outcome"]
        rows.append(
            {
                "subject": item["subject"],
                "number": item["number"],
                "url": url,
                "day": day_text(item["day"]),
                "amount": money_text(item["amount"], currency) if item["amount"] else "",
                "hours": hours_text(item["hours"]) if item["hours"] is not None else "",
                "outcome": str(CaseState(outcome).label) if outcome in CaseState.values else "",
            }
        )
    kept = {name: params[name] for name in FILTER_NAMES if params.get(name)}
    query = {**base.query(), **kept, "measure": measure}
    return {
        "export_urls": {
            file_format: f"{reverse('insights:export', args=[file_format])}?{urlencode(query)}"
            for file_format in FORMATS
        },
        "report": base,
        "title": str(MEASURE_LABELS[measure]),
        "filters": _filter_words(actor, filters),
        "rows": rows,
        "total": total,
        "next_url": f"?{urlencode({**query, 'cursor': next_cursor})}" if next_cursor else "",
        "first_url": f"?{urlencode(query)}" if params.get("cursor") else "",
        "back_url": f"{reverse('insights:dashboard')}?{urlencode(base.query())}",
    }
