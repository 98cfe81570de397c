"""Recompute the clocks from the timelines (``sla_refresh``), and the sweep that keeps them
current and tells the team of a coming or a missed due time (``sla_sweep``).

A clock is never counted up: each refresh derives it again from the subject's events, its
shop's hours and its target, so a changed calendar or target moves every open clock with it.
The sweep reads the timeline forward from a cursor (one row, locked by the worker that reads;
the others skip it) and refreshes the subjects with events newer than their clocks. The cursor
stays behind events younger than ``GRACE``: a transaction that took an id earlier but committed
later is still read. Then it claims the clocks whose warning or breach is due (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, like ``core.sweep``) and writes, once per round, a staff-only timeline
event and a notice: ``sla_warning`` and ``sla_breach``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction

from aftersales.catalog.models import Shop
from aftersales.core import clock as core_clock
from aftersales.core.actors import SYSTEM
from aftersales.core.bulk import bulk_update_rows
from aftersales.core.calendars import BusinessCalendar
from aftersales.core.gate import event_for
from aftersales.core.lifecycle import Lifecycle, lifecycle_for, lifecycles
from aftersales.core.models import Event, Notice
from aftersales.core.notices import notice_build
from aftersales.sla.choices import OPEN_CLOCK_STATES, SLA_ACTIONS, ClockState
from aftersales.sla.clocks import Goals, Happening, Measure, clocks_of
from aftersales.sla.hours import calendar_for
from aftersales.sla.models import BusinessHours, Clock, Holiday, RefreshCursor, Target

GRACE = dt.timedelta(minutes=2)
# Batches of warnings and breaches one pass writes at most (the next pass goes on).
MAX_BATCHES = 20
CLOCK_FIELDS = (
    "shop",
    "kind",
    "priority",
    "target",
    "state",
    "started_at",
    "due_at",
    "warn_at",
    "met_at",
    "breached_at",
    "rounds",
    "rounds_met",
    "check_at",
    "last_event_id",
    "computed_at",
)


# --- the shop's side: calendars and targets ----------------------------------------------------


def calendars_for(shops: Iterable[Shop]) -> dict[int, BusinessCalendar]:
    """Each shop's business calendar (24/7 in its time zone when it has set no hours)."""
    shops = list(shops)
    hours = {h.shop_id: h for h in BusinessHours.objects.filter(shop__in=shops)}
    countries = {h.region for h in hours.values() if h.region and h.region != "CN"}
    holidays: dict[str, set[dt.date]] = defaultdict(set)
    for country, day in Holiday.objects.filter(country__in=countries).values_list(
        "country", "date"
    ):
        holidays[country].add(day)
    found = {}
    for shop in shops:
        row = hours.get(shop.pk)
        if row is None:
            found[shop.pk] = BusinessCalendar.always_open(shop.timezone)
            continue
        found[shop.pk] = calendar_for(
            timezone=shop.timezone,
            region=row.region,
            windows=row.windows,
            closed_dates=row.closed_dates,
            working_dates=row.working_dates,
            holidays=frozenset(holidays.get(row.region, ())),
        )
    return found


def target_for(targets: Iterable[Target], subject_type: str, kind: str, priority: str):
    """The most specific target: kind and priority, then kind, then priority, then any."""
    best, best_rank = None, -1
    for target in targets:
        if target.subject_type != subject_type:
            continue
        if target.kind not in ("", kind) or target.priority not in ("", priority):
            continue
        rank = (2 if target.kind else 0) + (1 if target.priority else 0)
        if rank > best_rank:
            best, best_rank = target, rank
    return best


# --- recomputing -------------------------------------------------------------------------------


@dataclass
class RefreshResult:
    subjects: int = 0
    clocks: int = 0


def _check_at(row: Clock) -> dt.datetime | None:
    """When the sweep must next look at the clock: its untold warning, else its untold breach."""
    if row.state == ClockState.BREACHED:
        return row.breached_at if row.breach_told_round != row.started_at else None
    if row.state not in (ClockState.RUNNING, ClockState.WARNED) or row.due_at is None:
        return None
    if row.warn_at is not None and row.warned_round != row.started_at and row.warn_at < row.due_at:
        return row.warn_at
    return row.due_at if row.breach_told_round != row.started_at else None


def _refresh_type(lifecycle: Lifecycle, ids: set[int], now: dt.datetime) -> RefreshResult:
    model = lifecycle.model
    content_type = ContentType.objects.get_for_model(model)
    subjects = {s.pk: s for s in model.objects.filter(pk__in=ids).select_related("shop")}
    shops = {s.shop_id: s.shop for s in subjects.values()}
    targets: dict[int, list[Target]] = defaultdict(list)
    for target in Target.objects.filter(shop_id__in=shops, subject_type=lifecycle.subject_type):
        targets[target.shop_id].append(target)
    existing = {
        (c.subject_id, c.metric): c
        for c in Clock.objects.filter(subject_type=content_type, subject_id__in=ids)
    }
    # A shop without targets has no clocks to derive (only old ones to remove).
    measured = [pk for pk, s in subjects.items() if targets.get(s.shop_id)]
    timelines: dict[int, list[Happening]] = defaultdict(list)
    rows = (
        Event.objects.filter(subject_type=content_type, subject_id__in=measured)
        .exclude(action__in=SLA_ACTIONS)
        .order_by("subject_id", "at", "id")
        .values_list("subject_id", "id", "at", "action", "role", "to_state")
    )
    for subject_id, *fields in rows if measured else ():
        timelines[subject_id].append(Happening(*fields))
    calendars = calendars_for({subjects[pk].shop_id: subjects[pk].shop for pk in measured}.values())
    keep: list[Clock] = []
    for subject_id in measured:
        subject = subjects[subject_id]
        assert lifecycle.sla_kind is not None
        kind, priority = lifecycle.sla_kind(subject), lifecycle.sla_priority(subject)
        target = target_for(targets[subject.shop_id], lifecycle.subject_type, kind, priority)
        if target is None:
            continue
        calendar = calendars[subject.shop_id]
        if not target.business_hours_only:
            calendar = BusinessCalendar.always_open(subject.shop.timezone)
        events = timelines[subject_id]
        goals = Goals(
            target.first_response, target.next_response, target.resolution, target.warn_before
        )
        for result in clocks_of(
            events, lifecycle=lifecycle, goals=goals, calendar=calendar, now=now
        ):
            keep.append(
                _row(
                    existing.get((subject_id, result.metric)),
                    result,
                    content_type=content_type,
                    subject=subject,
                    kind=kind,
                    priority=priority,
                    last_event_id=events[-1].id,
                    now=now,
                )
            )
    kept = {(c.subject_id, c.metric) for c in keep}
    stale = [c.pk for key, c in existing.items() if key not in kept]
    if stale:
        Clock.objects.filter(pk__in=stale).delete()
    # One ``UPDATE … FROM (VALUES …)``: Django's ``bulk_update`` writes a ``CASE`` per row and
    # field, which PostgreSQL evaluates row by row (quadratic: a shop's 5,560 clocks recomputed
    # after its targets changed had not finished after 17 minutes).
    bulk_update_rows(Clock, [c for c in keep if c.pk], CLOCK_FIELDS)
    # A clock another process created meanwhile is updated, not duplicated.
    Clock.objects.bulk_create(
        [c for c in keep if not c.pk],
        update_conflicts=True,
        unique_fields=["subject_type", "subject_id", "metric"],
        update_fields=CLOCK_FIELDS,
    )
    return RefreshResult(subjects=len(subjects), clocks=len(keep))


def _row(current: Clock | None, measured: Measure, **context) -> Clock:
    row = current or Clock(
        subject_type=context["content_type"],
        subject_id=context["subject"].pk,
        metric=measured.metric,
    )
    row.shop_id = context["subject"].shop_id
    row.kind, row.priority = context["kind"], context["priority"]
    for name in (
        "target",
        "state",
        "started_at",
        "due_at",
        "warn_at",
        "met_at",
        "breached_at",
        "rounds",
        "rounds_met",
    ):
        setattr(row, name, getattr(measured, name))
    row.last_event_id = context["last_event_id"]
    row.computed_at = context["now"]
    row.check_at = _check_at(row)
    return row


def sla_refresh(
    *,
    subjects: Iterable[tuple[str, int]] | None = None,
    since: int | None = None,
    shop: Shop | None = None,
    now: dt.datetime | None = None,
) -> RefreshResult:
    """Recompute the clocks of ``subjects`` (``(subject_type, id)`` pairs), of the subjects with
    events after the event id ``since`` that their clocks have not read yet, or of every open
    subject of ``shop`` (after its hours or targets changed)."""
    now = now or core_clock.now()
    wanted: dict[str, set[int]] = defaultdict(set)
    for subject_type, subject_id in subjects or ():
        wanted[subject_type].add(subject_id)
    if since is not None:
        for subject_type, ids in _newer_than_clocks(since).items():
            wanted[subject_type] |= ids
    if shop is not None:
        for lifecycle in _measured():
            wanted[lifecycle.subject_type] |= set(
                lifecycle.model.objects.filter(shop=shop)
                .exclude(state__in=lifecycle.final_states)
                .values_list("pk", flat=True)
            )
    total = RefreshResult()
    with transaction.atomic():
        for subject_type, ids in wanted.items():
            lifecycle = lifecycle_for(subject_type)
            if lifecycle.sla_kind is None or not ids:
                continue
            result = _refresh_type(lifecycle, ids, now)
            total.subjects += result.subjects
            total.clocks += result.clocks
    return total


def _measured() -> list[Lifecycle]:
    return [lifecycle for lifecycle in lifecycles() if lifecycle.sla_kind is not None]


def _newer_than_clocks(since: int, limit: int | None = None) -> dict[str, set[int]]:
    """Subjects with events after ``since`` newer than what their clocks last read."""
    types = {ContentType.objects.get_for_model(lc.model).pk: lc.subject_type for lc in _measured()}
    latest: dict[tuple[int, int], int] = {}
    events = (
        Event.objects.filter(id__gt=since, subject_type_id__in=list(types))
        .exclude(action__in=SLA_ACTIONS)
        .order_by("id")
        .values_list("subject_type_id", "subject_id", "id")
    )
    for type_id, subject_id, event_id in events[:limit] if limit else events:
        latest[(type_id, subject_id)] = event_id
    read: dict[tuple[int, int], int] = {}
    for type_id, subject_id, last in Clock.objects.filter(
        subject_type_id__in=list(types), subject_id__in={s for _t, s in latest}
    ).values_list("subject_type_id", "subject_id", "last_event_id"):
        key = (type_id, subject_id)
        read[key] = min(read.get(key, last), last)
    found: dict[str, set[int]] = defaultdict(set)
    for (type_id, subject_id), event_id in latest.items():
        if event_id > read.get((type_id, subject_id), 0):
            found[types[type_id]].add(subject_id)
    return found


# --- the sweep ---------------------------------------------------------------------------------


@dataclass
class SlaSweepResult:
    refreshed: int = 0
    warned: int = 0
    breached: int = 0


def _read_forward(now: dt.datetime, batch_size: int) -> int:
    """Refresh the subjects with new events since the cursor; returns how many."""
    RefreshCursor.objects.get_or_create(name="events")
    with transaction.atomic():
        cursors = RefreshCursor.objects.filter(name="events")
        if connection.features.has_select_for_update_skip_locked:
            cursors = cursors.select_for_update(skip_locked=True)
        else:
            cursors = cursors.select_for_update()
        cursor = cursors.first()
        if cursor is None:  # another worker is reading
            return 0
        limit = batch_size * 10
        events = list(
            Event.objects.filter(id__gt=cursor.event_id)
            .order_by("id")
            .values_list("id", "at")[:limit]
        )
        if not events:
            return 0
        changed = _newer_than_clocks(cursor.event_id, limit)
        pairs = [(kind, i) for kind, ids in changed.items() for i in ids]
        result = sla_refresh(subjects=pairs, now=now)
        young = [event_id for event_id, at in events if at > now - GRACE]
        cursor.event_id = (min(young) - 1) if young else events[-1][0]
        cursor.save(update_fields=["event_id"])
        return result.subjects


def _tell(now: dt.datetime, batch_size: int, result: SlaSweepResult) -> bool:
    """Write the due warnings and breaches of one batch; whether the batch was full."""
    with transaction.atomic():
        due = Clock.objects.filter(check_at__lte=now).select_related("subject_type")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        rows = list(due.order_by("check_at", "id")[:batch_size])
        by_type: dict[int, set[int]] = defaultdict(set)
        for row in rows:
            by_type[row.subject_type_id].add(row.subject_id)
        subjects = {}
        for type_id, ids in by_type.items():
            model = ContentType.objects.get_for_id(type_id).model_class()
            subjects.update({(type_id, s.pk): s for s in model.objects.filter(pk__in=ids)})
        events: list[Event] = []
        notices: list[Notice] = []
        for row in rows:
            subject = subjects.get((row.subject_type_id, row.subject_id))
            told = _advance(row, now)
            if subject is not None and told:
                data = {"metric": row.metric, "round_started_at": row.started_at.isoformat()}
                events.append(
                    event_for(
                        subject,
                        actor=SYSTEM,
                        action=told,
                        from_state=subject.state,
                        data=data,
                        now=now,
                    )
                )
                notices.append(notice_build(subject, told, {"metric": row.metric}))
                if told == "sla_breach":
                    result.breached += 1
                else:
                    result.warned += 1
            row.check_at = _check_at(row)
        Event.objects.bulk_create(events)
        Notice.objects.bulk_create(notices)
        Clock.objects.bulk_update(
            rows, ["state", "breached_at", "warned_round", "breach_told_round", "check_at"]
        )
    return len(rows) == batch_size


def _advance(row: Clock, now: dt.datetime) -> str:
    """Move a clock on to ``now`` in memory; the notice it owes (``""``: none)."""
    if row.state in OPEN_CLOCK_STATES and row.due_at is not None and row.due_at <= now:
        row.state, row.breached_at = ClockState.BREACHED, row.due_at
    if row.state == ClockState.BREACHED:
        if row.breach_told_round == row.started_at:
            return ""
        # A breach says all a warning would: no warning after it.
        row.breach_told_round = row.warned_round = row.started_at
        return "sla_breach"
    if (
        row.state in (ClockState.RUNNING, ClockState.WARNED)
        and row.warn_at is not None
        and row.warn_at <= now
        and row.warned_round != row.started_at
    ):
        row.state, row.warned_round = ClockState.WARNED, row.started_at
        return "sla_warning"
    return ""


def sla_sweep(now: dt.datetime | None = None, *, batch_size: int = 200) -> SlaSweepResult:
    """One pass: refresh from new events, then tell every due warning and breach."""
    now = now or core_clock.now()
    result = SlaSweepResult(refreshed=_read_forward(now, batch_size))
    for _batch in range(MAX_BATCHES):
        if not _tell(now, batch_size, result):
            break
    return result
