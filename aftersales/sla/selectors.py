"""Every read of the service levels, scoped to the caller: a shop's hours and targets (staff),
the badges and filters the desk shows, and "% met" for the KPIs."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from aftersales.catalog.models import Shop
from aftersales.core import clock as core_clock
from aftersales.core.actors import Principal
from aftersales.core.errors import InvalidInput, PermissionDenied
from aftersales.core.lifecycle import lifecycle_for
from aftersales.sla.choices import OPEN_CLOCK_STATES, ClockState, Metric, SubjectType
from aftersales.sla.models import BusinessHours, Clock, Target
from aftersales.sla.schemas import iso_duration

FILTER_STATES = ("running", "warned", "breached", "met")


def filter_choices() -> list[tuple[str, str]]:
    """The desk's service-level filter (a subject by its worst clock), worst first, in words."""
    return [
        (state, str(ClockState(state).label)) for state in ("breached", "warned", "running", "met")
    ]


def staff_only(actor: Principal) -> None:
    if not (actor.is_staff or actor.is_system):
        raise PermissionDenied(_("Only shop staff can see service levels."), code="forbidden")


def hours_get(*, actor: Principal, shop: Shop) -> dict:
    staff_only(actor)
    row = BusinessHours.objects.filter(shop=shop).first()
    return {
        "shop": shop.code,
        "timezone": shop.timezone,
        "configured": row is not None,
        "region": row.region if row else "",
        "windows": row.windows if row else {},
        "closed_dates": row.closed_dates if row else [],
        "working_dates": row.working_dates if row else [],
    }


def targets_get(*, actor: Principal, shop: Shop) -> dict:
    from aftersales.sla.services import preset

    staff_only(actor)
    rows = list(Target.objects.filter(shop=shop).order_by("subject_type", "kind", "priority"))
    name = next((t.preset for t in rows if t.preset), "")
    return {
        "shop": shop.code,
        "preset": name,
        "targets": [
            {
                "subject_type": t.subject_type,
                "kind": t.kind,
                "priority": t.priority,
                "first_response": iso_duration(t.first_response),
                "next_response": iso_duration(t.next_response),
                "resolution": iso_duration(t.resolution),
                "warn_before": iso_duration(t.warn_before),
                "business_hours_only": t.business_hours_only,
            }
            for t in rows
        ],
        "sources": preset(name)["sources"] if name else [],
    }


# --- the desk ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Badge:
    """One clock as the desk shows it: the metric and its state in words, and its due time in
    the shop's time zone as people write it."""

    metric: str
    state: str
    label: str
    due: str  # "" when unknown (paused) or met


def _content_type(subject_type: str) -> ContentType:
    return ContentType.objects.get_for_model(lifecycle_for(subject_type).model)


def _state_now(row: Clock, now: dt.datetime) -> str:
    """The clock's state at ``now`` (the sweep may not have passed since its due time)."""
    if row.state in OPEN_CLOCK_STATES and row.due_at is not None and row.due_at <= now:
        return ClockState.BREACHED
    if row.state == ClockState.RUNNING and row.warn_at is not None and row.warn_at <= now:
        return ClockState.WARNED
    return row.state


def badges(subject_type: str, ids: Iterable[int]) -> dict[int, list[Badge]]:
    """The clocks of the listed subjects (ids the caller may already see), in one query."""
    now = core_clock.now()
    rows = (
        Clock.objects.filter(subject_type=_content_type(subject_type), subject_id__in=list(ids))
        .select_related("shop")
        .order_by("subject_id", "metric")
    )
    found: dict[int, list[Badge]] = defaultdict(list)
    labels = dict(Metric.choices)
    states = dict(ClockState.choices)
    for row in rows:
        state = _state_now(row, now)
        due = ""
        if state != ClockState.MET and row.due_at is not None:
            local = row.due_at.astimezone(zoneinfo.ZoneInfo(row.shop.timezone))
            due = f"{local:%Y-%m-%d %H:%M}"
        found[row.subject_id].append(
            Badge(
                metric=row.metric,
                state=state,
                label=_("%(metric)s: %(state)s")
                % {
                    "metric": labels[row.metric],
                    "state": states[state],
                },
                due=due,
            )
        )
    return dict(found)


def filter_ids(subject_type: str, state: str) -> QuerySet:
    """The ids of subjects whose clocks stand at ``state`` now, by their worst clock:
    ``breached`` (one is overdue), ``warned`` (one is due soon, none overdue), ``running`` (on
    time, none due soon or overdue), ``met`` (every one met); a subquery for the caller's own
    scoped list."""
    if state not in FILTER_STATES:
        raise InvalidInput(
            _("sla must be one of: %(states)s.") % {"states": ", ".join(FILTER_STATES)},
            code="invalid_sla",
            field="sla",
        )
    now = core_clock.now()
    open_clock = Q(state__in=OPEN_CLOCK_STATES)
    not_due = Q(due_at=None) | Q(due_at__gt=now)
    breached = Q(state=ClockState.BREACHED) | (open_clock & Q(due_at__lte=now))
    warned = open_clock & ~Q(state=ClockState.PAUSED) & Q(warn_at__lte=now) & not_due
    clocks = Clock.objects.filter(subject_type=_content_type(subject_type))

    def ids(condition: Q) -> QuerySet:
        return clocks.filter(condition).values_list("subject_id", flat=True)

    if state == "breached":
        found = ids(breached)
    elif state == "warned":
        found = ids(warned).exclude(subject_id__in=ids(breached))
    elif state == "running":
        found = ids(open_clock & not_due).exclude(subject_id__in=ids(breached | warned))
    else:
        found = ids(Q(state=ClockState.MET)).exclude(subject_id__in=ids(~Q(state=ClockState.MET)))
    return found.distinct()


# --- the KPIs ---------------------------------------------------------------------------------


def report(*, actor: Principal, shop: Shop, since: dt.date, until: dt.date) -> dict:
    """Of the clocks that started in the shop's days ``since``–``until`` and are settled (met or
    breached), how many were met, per subject type, metric and kind; a reply counts each
    round."""
    staff_only(actor)
    if until < since or (until - since).days > 366 or not 1900 <= since.year <= until.year < 3000:
        raise InvalidInput(
            _("The period runs forward and covers at most a year."), code="invalid_period"
        )
    zone = zoneinfo.ZoneInfo(shop.timezone)
    start = dt.datetime.combine(since, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    types = {ContentType.objects.get_for_model(lifecycle_for(t).model).pk: t for t in SubjectType}
    totals: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    rows = Clock.objects.filter(
        shop=shop, started_at__gte=start, started_at__lt=end, subject_type_id__in=types
    ).values_list("subject_type_id", "metric", "kind", "state", "rounds", "rounds_met")
    for type_id, metric, kind, state, rounds, rounds_met in rows:
        settled = rounds if state in (ClockState.MET, ClockState.BREACHED) else rounds - 1
        if settled <= 0:
            continue
        met = rounds_met
        tally = totals[(types[type_id], metric, kind)]
        tally[0] += settled
        tally[1] += met
    labels = dict(Metric.choices)
    return {
        "shop": shop.code,
        "since": since,
        "until": until,
        "rows": [
            {
                "subject_type": subject_type,
                "metric": metric,
                "metric_label": str(labels[metric]),
                "kind": kind,
                "measured": measured,
                "met": met,
                "breached": measured - met,
                "percent_met": round(100 * met / measured, 1) if measured else None,
            }
            for (subject_type, metric, kind), (measured, met) in sorted(totals.items())
        ],
    }
