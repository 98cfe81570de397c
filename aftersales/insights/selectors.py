"""The KPIs as people read them, from the daily rollups (never a scan of the cases), scoped to
the shops where the caller may read them (``insights.view``: the shop's leads and
administrators); and the cases behind any number (the drill-down, from the facts).

Every figure is a sum of rollup rows, and every mean or rate is divided here, at read time:

- first response, resolution: the mean hours (calendar, and business hours of the shop's
  calendar) over the cases answered / ended in the period;
- SLA met: the share of the cases ended in the period whose timeline has no breach;
- refund rate: cases ended refunded over cases ended; return rate, exchange share, repair
  share: cases ended as a return and refund, an exchange, a repair over cases ended;
- rejection rate: cases refused (the first time) over cases opened;
- complaints and disputes per 100 cases opened;
- cost per case: the costs the timeline records in the period (compensation, a repair's parts
  and labour, goods written off, shipping the shop paid, staff time at the shop's rate) over the
  cases ended in the period.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import F, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext as _

from aftersales.cases.choices import CaseKind, CaseState, Reason
from aftersales.cases.models import Case
from aftersales.catalog.models import Shop, Sku
from aftersales.complaints.models import Complaint
from aftersales.connectors.models import Store
from aftersales.core.actors import Principal
from aftersales.core.errors import InvalidInput, PermissionDenied
from aftersales.core.permissions import permitted, shops_permitted
from aftersales.insights.models import (
    PRODUCT_MEASURES,
    ROLLUP_MEASURES,
    CaseProduct,
    DailyRollup,
    Fact,
    Measure,
    MonthlyRollup,
    ProductDailyRollup,
    ProductMonthlyRollup,
    SkuDailyRollup,
    SkuMonthlyRollup,
)
from aftersales.routing.selectors import agent_teams, team_names

PERMISSION = "insights.view"
GROUPS = ("shop", "kind", "agent", "team", "platform", "reason", "store", "day", "month")
# A report spans at most this many days (a day's rows per shop, kind, owner, platform, reason,
# store).
MAX_DAYS = 3 * 366

# The drill-down: each number's facts (its measure and what else it asks of them).
DRILL: dict[str, tuple[str, Q]] = {
    "opened": (Measure.OPENED, Q()),
    "ended": (Measure.ENDED, Q()),
    "refunded": (Measure.ENDED, Q(outcome=CaseState.REFUNDED)),
    "returns": (Measure.ENDED, Q(kind=CaseKind.RETURN_REFUND)),
    "exchanges": (Measure.ENDED, Q(kind=CaseKind.EXCHANGE)),
    "repairs": (Measure.ENDED, Q(kind=CaseKind.REPAIR)),
    "sla_met": (Measure.ENDED, Q(within_sla=True)),
    "sla_breached": (Measure.ENDED, Q(within_sla=False)),
    "first_responses": (Measure.FIRST_RESPONSE, Q()),
    "refunds": (Measure.REFUND, Q()),
    "rejected": (Measure.REJECTED, Q()),
    "compensations": (Measure.COMPENSATION, Q()),
    "sla_breaches": (Measure.SLA_BREACH, Q()),
    "disputes": (Measure.DISPUTE, Q()),
    "complaints": (Measure.COMPLAINT, Q()),
    "repair_parts_amount": (Measure.REPAIR_PARTS, Q()),
    "repair_labour_amount": (Measure.REPAIR_LABOUR, Q()),
    "written_off_amount": (Measure.WRITTEN_OFF, Q()),
    "shipping_amount": (Measure.SHIPPING, Q()),
    "staff_minutes": (Measure.STAFF_TIME, Q()),
    "staff_cost_amount": (Measure.STAFF_TIME, Q()),
}
# The value of "no owner" and "the shop's own cases" in a filter.
NONE = "none"
CENT = Decimal("0.01")


def _shops(actor: Principal, shop: Shop | None) -> frozenset[int] | None:
    """The shops the report covers: ``shop`` if the caller may read its KPIs, else every shop
    where they may (``None``: every shop)."""
    if shop is not None:
        if not permitted(actor, PERMISSION, shop):
            raise PermissionDenied(
                _("Your role may not read the KPIs of this shop."), code="forbidden"
            )
        return frozenset({shop.pk})
    shops = shops_permitted(actor, PERMISSION)
    if shops is not None and not shops:
        raise PermissionDenied(_("Your role may not read the KPIs."), code="forbidden")
    return shops


def _period(since: dt.date, until: dt.date) -> None:
    if until < since:
        raise InvalidInput(
            _("The period ends before it starts."), code="invalid_period", field="until"
        )
    if (until - since).days >= MAX_DAYS:
        raise InvalidInput(
            _("A report spans at most %(days)s days.") % {"days": MAX_DAYS},
            code="period_too_long",
            field="until",
        )


def _next_month(day: dt.date) -> dt.date:
    """The first day of the month after ``day``'s."""
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _months(since: dt.date, until: dt.date) -> tuple[dt.date, dt.date] | None:
    """The whole calendar months inside ``since`` … ``until``: the first day of the first one
    and the first day after the last one (``None``: not one whole month)."""
    first = since if since.day == 1 else _next_month(since)
    after = _next_month(until) if _next_month(until) == until + dt.timedelta(days=1) else None
    stop = after or until.replace(day=1)
    return (first, stop) if first < stop else None


def _sources(
    shops: frozenset[int] | None,
    since: dt.date,
    until: dt.date,
    *,
    by_day: bool,
    daily=DailyRollup,
    monthly=MonthlyRollup,
):
    """The rollup rows that sum to the period: its whole months from ``MonthlyRollup`` and the
    days at its two ends from ``DailyRollup`` (every day from there when ``by_day``); each as
    ``(rows, its period's column)``. A three-year report reads 36 months' rows and at most 60
    days'."""
    months = None if by_day else _months(since, until)
    if months is None:
        found = [(daily.objects.filter(day__gte=since, day__lte=until), "day")]
    else:
        first, stop = months
        found = [(monthly.objects.filter(month__gte=first, month__lt=stop), "month")]
        if since < first or stop <= until:
            edges = Q(day__gte=since, day__lt=first) | Q(day__gte=stop, day__lte=until)
            found.append((daily.objects.filter(edges), "day"))
    if shops is not None:
        found = [(rows.filter(shop_id__in=shops), column) for rows, column in found]
    return found


def _add_sums(into: dict, row: dict) -> None:
    for name, value in row.items():
        if name.startswith("total_"):
            key = name[len("total_") :]
            into[key] = into.get(key, 0) + (value or 0)


def _ratio(part, whole, scale: int = 1) -> float | None:
    return None if not whole else round(float(part) * scale / float(whole), 2)


def _hours(seconds, count) -> float | None:
    return None if not count else round(float(seconds) / float(count) / 3600, 2)


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(CENT)


def figures(sums: dict) -> dict:
    """The KPIs of one group from its sums (the rollup's columns and the three kinds' ends)."""
    ended, opened = sums["ended"], sums["opened"]
    cost = (
        sums["compensation_amount"]
        + sums["repair_parts_amount"]
        + sums["repair_labour_amount"]
        + sums["written_off_amount"]
        + sums["shipping_amount"]
        + sums["staff_cost_amount"]
    )
    return {
        "opened": opened,
        "ended": ended,
        "first_responses": sums["first_responses"],
        "first_response_hours": _hours(sums["first_response_seconds"], sums["first_responses"]),
        "first_response_business_hours": _hours(
            sums["first_response_business_seconds"], sums["first_responses"]
        ),
        "resolution_hours": _hours(sums["resolution_seconds"], ended),
        "resolution_business_hours": _hours(sums["resolution_business_seconds"], ended),
        "sla_met": sums["ended_within_sla"],
        "sla_breached": sums["ended_breached"],
        "sla_met_percent": _ratio(sums["ended_within_sla"], ended, 100),
        "refunded": sums["ended_refunded"],
        "refund_rate": _ratio(sums["ended_refunded"], ended, 100),
        "returns": sums["returns"],
        "return_rate": _ratio(sums["returns"], ended, 100),
        "exchanges": sums["exchanges"],
        "exchange_share": _ratio(sums["exchanges"], ended, 100),
        "repairs": sums["repairs"],
        "repair_share": _ratio(sums["repairs"], ended, 100),
        "rejected": sums["rejected"],
        "rejection_rate": _ratio(sums["rejected"], opened, 100),
        "refunds": sums["refunds"],
        "refund_amount": _money(sums["refund_amount"]),
        "compensations": sums["compensations"],
        "compensation_amount": _money(sums["compensation_amount"]),
        "sla_breaches": sums["sla_breaches"],
        "complaints": sums["complaints"],
        "complaints_per_100": _ratio(sums["complaints"], opened, 100),
        "disputes": sums["disputes"],
        "disputes_per_100": _ratio(sums["disputes"], opened, 100),
        "repair_parts_amount": _money(sums["repair_parts_amount"]),
        "repair_labour_amount": _money(sums["repair_labour_amount"]),
        "written_off_amount": _money(sums["written_off_amount"]),
        "shipping_amount": _money(sums["shipping_amount"]),
        "staff_minutes": sums["staff_minutes"],
        "staff_hours": _hours(sums["staff_minutes"] * 60, 1) if sums["staff_minutes"] else None,
        "staff_cost_amount": _money(sums["staff_cost_amount"]),
        "cost_amount": _money(cost),
        "cost_per_case": _money(Decimal(cost) / ended) if ended else None,
    }


_GROUP_COLUMN = {
    "shop": "shop_id",
    "kind": "kind",
    "agent": "agent_id",
    "platform": "platform",
    "reason": "reason",
    "store": "store_id",
    "day": "day",
}


def _sums():
    # (Named apart from the columns they sum: an aggregate may not shadow a field.)
    ended_as = {
        f"total_{name}": Sum("ended", filter=Q(kind=kind))
        for name, kind in (
            ("returns", CaseKind.RETURN_REFUND),
            ("exchanges", CaseKind.EXCHANGE),
            ("repairs", CaseKind.REPAIR),
        )
    }
    return {**{f"total_{name}": Sum(name) for name in ROLLUP_MEASURES}, **ended_as}


def _complete(sums: dict) -> dict:
    """Every column's sum (0 where no row had any)."""
    return {name[len("total_") :]: 0 for name in _sums()} | sums


def _labels(group_by: str, keys: set) -> dict:
    """Each group's key as people read it (shop names, user names, the kinds' words)."""
    if group_by == "team":
        names = team_names(keys - {None})
        several = len({shop for shop, _name in names.values()}) > 1
        shops = (
            dict(
                Shop.objects.filter(pk__in={s for s, _n in names.values()}).values_list(
                    "pk", "name"
                )
            )
            if several
            else {}
        )
        return {
            key: (
                str(key),
                f"{names[key][1]} · {shops.get(names[key][0], '')}" if several else names[key][1],
            )
            if key in names
            else (NONE, _("No team"))
            for key in keys
        }
    if group_by == "shop":
        return {s.pk: (s.code, s.name) for s in Shop.objects.filter(pk__in=keys)}
    if group_by == "agent":
        users = dict(
            get_user_model().objects.filter(pk__in=keys - {None}).values_list("pk", "username")
        )
        return {
            key: (users.get(key, str(key)),) * 2 if key else (NONE, _("No owner")) for key in keys
        }
    if group_by == "kind":
        return {k: (k or NONE, str(CaseKind(k).label) if k else _("Complaints")) for k in keys}
    if group_by == "reason":
        return {k: (k or NONE, str(Reason(k).label) if k else _("Complaints")) for k in keys}
    if group_by == "platform":
        return {k: (k or NONE, k or _("The shop's own")) for k in keys}
    if group_by == "store":
        stores = dict(Store.objects.filter(pk__in=keys - {None}).values_list("pk", "name"))
        return {
            key: (str(key), stores.get(key, str(key))) if key else (NONE, _("No platform store"))
            for key in keys
        }
    if group_by == "month":
        return {k: (f"{k:%Y-%m}", f"{k:%Y-%m}") for k in keys}
    return {k: (k.isoformat(), k.isoformat()) for k in keys}


def store_names(*, actor: Principal, keys: set[str]) -> dict[str, str]:
    """The names of the platform stores ``keys`` (their ids as text) of the shops where the
    caller may read the KPIs (another shop's store keeps its number)."""
    ids = {int(key) for key in keys if key.isdigit() and len(key) <= 18}
    stores = Store.objects.filter(pk__in=ids)
    shops = shops_permitted(actor, PERMISSION)
    if shops is not None:
        stores = stores.filter(shop_id__in=shops)
    return {str(pk): name for pk, name in stores.values_list("pk", "name")}


def kpis(
    *,
    actor: Principal,
    shop: Shop | None = None,
    since: dt.date,
    until: dt.date,
    group_by: str = "shop",
) -> list[dict]:
    """The KPIs of the shop's (or every permitted shop's) days ``since`` … ``until`` (the shops'
    local dates, both included), one row per group, in the group's order."""
    if group_by not in GROUPS:
        raise InvalidInput(
            _("Group by one of %(groups)s.") % {"groups": ", ".join(GROUPS)},
            code="invalid_group",
            field="group_by",
        )
    _period(since, until)
    shops = _shops(actor, shop)
    grouped: dict = {}
    teams = agent_teams(shops) if group_by == "team" else {}
    for rows, column in _sources(shops, since, until, by_day=group_by == "day"):
        if group_by == "month":
            rows = rows.annotate(group=F("month") if column == "month" else TruncMonth("day"))
        elif group_by == "team":
            # the owners' teams as they are now (``routing``): summed by shop and owner first
            rows = rows.annotate(group=F("agent_id"))
        else:
            rows = rows.annotate(group=F(_GROUP_COLUMN[group_by]))
        values = ("group", "shop_id") if group_by == "team" else ("group",)
        for row in rows.values(*values).annotate(**_sums()).order_by():
            group = row["group"]
            if isinstance(group, dt.datetime):  # TruncMonth of a date is a date on every backend
                group = group.date()
            if group_by == "team":
                group = teams.get((row["shop_id"], group))
            _add_sums(grouped.setdefault(group, {}), row)
    labels = _labels(group_by, set(grouped))
    result = []
    for group, sums in grouped.items():
        key, label = labels.get(group, (str(group), str(group)))
        result.append({"key": key, "label": label, **figures(_complete(sums))})
    result.sort(key=lambda row: (row["key"] == NONE, row["key"]))
    return result


def report_scope(
    *, actor: Principal, shop: Shop | None, since: dt.date, until: dt.date
) -> frozenset[int] | None:
    """The shops a report of ``since`` … ``until`` covers (``None``: every shop), once the period
    and the caller's right to read it are checked."""
    _period(since, until)
    return _shops(actor, shop)


def kpi_totals(*, actor: Principal, shop: Shop | None, since: dt.date, until: dt.date) -> dict:
    """Every figure over the whole report: one aggregate of the rollups, divided once (the same
    sums and division as ``kpis``)."""
    shops = report_scope(actor=actor, shop=shop, since=since, until=until)
    sums: dict = {}
    for rows, _column in _sources(shops, since, until, by_day=False):
        _add_sums(sums, rows.aggregate(**_sums()))
    return figures(_complete(sums))


# --- by product ----------------------------------------------------------------------------------

PRODUCT_GROUPS = ("sku", "category")


def product_figures(sums: dict) -> dict:
    """The figures of the cases naming one SKU (or category) from their product sums."""
    ended = sums["ended"]
    return {
        "opened": sums["opened"],
        "units": sums["units"],
        "ended": ended,
        "refunded": sums["ended_refunded"],
        "refund_rate": _ratio(sums["ended_refunded"], ended, 100),
        "returns": sums["ended_returns"],
        "return_rate": _ratio(sums["ended_returns"], ended, 100),
        "exchanges": sums["ended_exchanges"],
        "exchange_share": _ratio(sums["ended_exchanges"], ended, 100),
        "repairs": sums["ended_repairs"],
        "repair_share": _ratio(sums["ended_repairs"], ended, 100),
        "refunds": sums["refunds"],
        "refund_amount": _money(sums["refund_amount"]),
    }


def product_kpis(
    *,
    actor: Principal,
    shop: Shop | None = None,
    since: dt.date,
    until: dt.date,
    group_by: str = "sku",
    kind: str | None = None,
    reason: str | None = None,
) -> list[dict]:
    """The cases of the period by the SKU they name (or its product's category): how many were
    opened and the units claimed, how they ended (refunded, as a return, an exchange, a repair)
    and the refunds paid; optionally of one case kind or reason. Most cases first. A case
    naming two SKUs counts under each."""
    if group_by not in PRODUCT_GROUPS:
        raise InvalidInput(
            _("Group by one of %(groups)s.") % {"groups": ", ".join(PRODUCT_GROUPS)},
            code="invalid_group",
            field="group_by",
        )
    return product_tables(
        actor=actor, shop=shop, since=since, until=until, kind=kind, reason=reason
    )[group_by]


def product_tables(
    *,
    actor: Principal,
    shop: Shop | None = None,
    since: dt.date,
    until: dt.date,
    kind: str | None = None,
    reason: str | None = None,
) -> dict[str, list[dict]]:
    """``product_kpis`` by SKU and by category at once, from one read of the product rollups
    (grouped by SKU and category, then summed both ways here): from the SKU tables (every kind
    and reason summed) unless one kind or reason is asked for."""
    _period(since, until)
    shops = _shops(actor, shop)
    # (named apart from the columns they sum: an aggregate may not shadow a field)
    sums_of = {f"total_{name}": Sum(name) for name in PRODUCT_MEASURES}
    grouped: dict[str, dict] = {"sku": {}, "category": {}}
    whole = kind is None and reason is None  # every kind and reason: the SKU tables

    for rows, _column in _sources(
        shops,
        since,
        until,
        by_day=False,
        daily=SkuDailyRollup if whole else ProductDailyRollup,
        monthly=SkuMonthlyRollup if whole else ProductMonthlyRollup,
    ):
        if kind is not None:
            rows = rows.filter(kind="" if kind == NONE else kind)
        if reason is not None:
            rows = rows.filter(reason="" if reason == NONE else reason)
        for row in rows.values("sku_id", "category").annotate(**sums_of).order_by():
            _add_sums(grouped["sku"].setdefault(row["sku_id"], {}), row)
            _add_sums(grouped["category"].setdefault(row["category"], {}), row)
    tables = {}
    for group_by, sums_by_key in grouped.items():
        labels = _product_labels(group_by, set(sums_by_key))
        result = []
        for group, sums in sums_by_key.items():
            key, label = labels[group]
            complete = dict.fromkeys(PRODUCT_MEASURES, 0) | sums
            result.append({"key": key, "label": label, **product_figures(complete)})
        result.sort(key=lambda row: (-row["opened"], -row["ended"], row["key"]))
        tables[group_by] = result
    return tables


def sku_names(*, actor: Principal, keys: set[str]) -> dict[str, str]:
    """The SKUs ``keys`` (their ids as text) as people read them (code · product), of the shops
    where the caller may read the KPIs (another shop's SKU is not named)."""
    ids = {int(key) for key in keys if key.isdigit() and len(key) <= 18}
    skus = Sku.objects.filter(pk__in=ids)
    shops = shops_permitted(actor, PERMISSION)
    if shops is not None:
        skus = skus.filter(shop_id__in=shops)
    return {
        str(pk): f"{code} · {name}"
        for pk, code, name in skus.values_list("pk", "code", "product__name")
    }


def _product_labels(group_by: str, keys: set) -> dict:
    if group_by == "category":
        return {k: (k or NONE, k or _("No category")) for k in keys}
    skus = {
        pk: (code, name)
        for pk, code, name in Sku.objects.filter(pk__in=keys).values_list(
            "pk", "code", "product__name"
        )
    }
    return {
        key: (str(key), f"{skus[key][0]} · {skus[key][1]}" if key in skus else str(key))
        for key in keys
    }


# --- the drill-down ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Drill:
    """The numbers' filters: the same keys as the report's groups."""

    kind: str | None = None
    agent: str | None = None  # a user name, or ``none``
    platform: str | None = None  # a platform, or ``none``
    reason: str | None = None
    store: str | None = None  # a store's id, or ``none``
    team: str | None = None  # a team's id (its members' cases now), or ``none``
    day: dt.date | None = None
    sku: str | None = None  # a SKU's id: the cases naming it
    category: str | None = None  # a product category, or ``none``: the cases naming one


def drill_facts(
    *,
    actor: Principal,
    measure: str | None,
    shop: Shop | None = None,
    since: dt.date,
    until: dt.date,
    filters: Drill = Drill(),
):
    """The facts behind one number (``measure``) of the period, in the shops the caller reads
    and under the filters; without a measure, the facts of the cases opened or ended then."""
    if measure is not None and measure not in DRILL:
        raise InvalidInput(
            _("Unknown figure %(measure)s; use one of %(known)s.")
            % {"measure": measure, "known": ", ".join(DRILL)},
            code="invalid_measure",
            field="measure",
        )
    _period(since, until)
    shops = _shops(actor, shop)
    if measure is None:
        facts = Fact.objects.filter(measure__in=(Measure.OPENED, Measure.ENDED))
    else:
        fact_measure, condition = DRILL[measure]
        facts = Fact.objects.filter(condition, measure=fact_measure)
    facts = facts.filter(day__gte=since, day__lte=until)
    if shops is not None:
        facts = facts.filter(shop_id__in=shops)
    return _filtered(facts, filters)


def kpi_cases(
    *,
    actor: Principal,
    measure: str,
    shop: Shop | None = None,
    since: dt.date,
    until: dt.date,
    filters: Drill = Drill(),
    after: int | None = None,
    limit: int = 50,
) -> tuple[list[dict], int | None, int]:
    """The cases (or, for complaints, the complaints) behind one number of ``kpis``: the facts
    of ``measure`` in the period and the filters, oldest first; the page, the cursor of the next
    (``None``: the last) and how many there are in all."""
    facts = drill_facts(
        actor=actor, measure=measure, shop=shop, since=since, until=until, filters=filters
    )
    total = facts.count()
    if after is not None:
        facts = facts.filter(id__gt=after)
    page = list(
        facts.order_by("id").values(
            "id", "day", "case_id", "complaint_id", "amount", "seconds", "outcome"
        )[: limit + 1]
    )
    more = len(page) > limit
    page = page[:limit]
    numbers = dict(
        Case.objects.filter(id__in={f["case_id"] for f in page} - {None}).values_list(
            "id", "number"
        )
    )
    complaints = dict(
        Complaint.objects.filter(id__in={f["complaint_id"] for f in page} - {None}).values_list(
            "id", "number"
        )
    )
    items = [
        {
            "subject": "complaint" if f["complaint_id"] else "case",
            "id": f["complaint_id"] or f["case_id"],
            "number": complaints.get(f["complaint_id"], "")
            if f["complaint_id"]
            else numbers.get(f["case_id"], ""),
            "day": f["day"],
            "amount": f["amount"],
            "hours": round(f["seconds"] / 3600, 2) if f["seconds"] else None,
            "outcome": f["outcome"],
        }
        for f in page
    ]
    return items, (page[-1]["id"] if more else None), total


def _team_condition(team: str) -> Q:
    """The facts of the cases owned by the team's members (``none``: owned by nobody in a
    team), by the teams as they are now."""
    members: dict[tuple[int, int], list[int]] = {}
    for (shop_id, user_id), team_id in agent_teams(None).items():
        members.setdefault((team_id, shop_id), []).append(user_id)
    if team == NONE:
        condition = Q()
        for (_team_id, shop_id), users in members.items():
            condition |= Q(shop_id=shop_id, agent_id__in=users)
        return ~condition if members else Q()
    wanted = int(team) if team.isdigit() and len(team) <= 18 else -1
    condition = Q(pk__in=[])
    for (team_id, shop_id), users in members.items():
        if team_id == wanted:
            condition |= Q(shop_id=shop_id, agent_id__in=users)
    return condition


def team_label(*, actor: Principal, team: str) -> str:
    """A team's name as the drill-down's title says it (another shop's team: not named)."""
    if team == NONE:
        return _("No team")
    if not (team.isdigit() and len(team) <= 18):
        return ""
    found = team_names({int(team)}).get(int(team))
    if found is None:
        return ""
    shops = shops_permitted(actor, PERMISSION)
    return found[1] if shops is None or found[0] in shops else ""


def _filtered(facts, filters: Drill):
    if filters.kind is not None:
        facts = facts.filter(kind="" if filters.kind == NONE else filters.kind)
    if filters.reason is not None:
        facts = facts.filter(reason="" if filters.reason == NONE else filters.reason)
    if filters.platform is not None:
        facts = facts.filter(platform="" if filters.platform == NONE else filters.platform)
    if filters.store is not None:
        if filters.store == NONE:
            facts = facts.filter(store_id=None)
        else:
            digits = filters.store.isdigit() and len(filters.store) <= 18
            store = int(filters.store) if digits else -1
            facts = facts.filter(store_id=store)
    if filters.day is not None:
        facts = facts.filter(day=filters.day)
    if filters.team is not None:
        facts = facts.filter(_team_condition(filters.team))
    if filters.sku is not None:
        digits = filters.sku.isdigit() and len(filters.sku) <= 18
        named = CaseProduct.objects.filter(sku_id=int(filters.sku) if digits else -1)
        facts = facts.filter(case_id__in=named.values("case_id"))
    if filters.category is not None:
        category = "" if filters.category == NONE else filters.category
        named = CaseProduct.objects.filter(category=category)
        facts = facts.filter(case_id__in=named.values("case_id"))
    if filters.agent is not None:
        if filters.agent == NONE:
            facts = facts.filter(agent_id=None)
        else:
            # An unknown name finds nothing (the answer must not tell who works where).
            user_id = (
                get_user_model()
                .objects.filter(username=filters.agent)
                .values_list("pk", flat=True)
                .first()
            )
            facts = facts.filter(agent_id=user_id if user_id is not None else -1)
    return facts
