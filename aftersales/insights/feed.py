"""The KPI feed: the timeline (``core.Event``) read forward in id order into the daily rollups.

Each pass (``rollup_advance``) locks the one cursor row (``select_for_update``), reads a batch of
events after it, turns each into facts (``insights.figures``), writes the facts, adds them to
the daily rollup rows, and moves the cursor, all in one transaction: two workers never count an
event twice (the second waits for the first's lock, then reads after the cursor it moved), and a
pass that fails leaves nothing behind.

Events commit out of id order. An id is taken when a transaction inserts its event, and the
transaction may commit after a later one: the feed may pass id 41 while the event 41 is not
committed yet and 42 is. So every id between the cursor's old and new place that the batch did
not find is remembered (``PendingEvent``) and looked for again on every pass; found, it is
counted then (once: its pending row goes in the same transaction); not found within
``PENDING_HORIZON`` (15 minutes, far longer than any of the application's transactions), it was
rolled back (PostgreSQL never reuses an id) and is forgotten. On SQLite, writers take turns, so
ids commit in order and nothing stays pending.

What this costs: an event counted late is counted with its case's keys (kind, owner, reason) as
they stand when it is read, not as they stood at its moment; a rebuild reads it in its place.
The two differ only when a case's owner, kind or reason changed in the few moments between (see
``docs/insights.md``).

``rollup_rebuild`` truncates the facts, the cases' tracks and the rollups and replays every
event in one transaction; ``rollup_check`` replays the events the cursor has counted into the
same tables inside a transaction it rolls back, and lists every rollup row that differs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction

from aftersales.core import clock
from aftersales.core.bulk import bulk_insert_rows, bulk_update_rows
from aftersales.core.models import Event
from aftersales.insights.figures import Batch
from aftersales.insights.models import (
    PRODUCT_MEASURES,
    ROLLUP_MEASURES,
    CaseTrack,
    DailyRollup,
    Fact,
    FeedCursor,
    MonthlyRollup,
    PendingEvent,
    ProductDailyRollup,
    ProductMonthlyRollup,
    ProductSums,
    SkuDailyRollup,
    SkuMonthlyRollup,
)

CURSOR = "kpi"
PENDING_HORIZON = dt.timedelta(minutes=15)
# Ids further below the batch's first event than this are not waited for: no transaction holds
# an id while ten thousand later events commit (a restored or renumbered table might look so).
MAX_GAP = 10_000
DEFAULT_BATCH = 500
# Every rollup table, by the name the check prints.
ROLLUPS = {
    "day": DailyRollup,
    "month": MonthlyRollup,
    "product_day": ProductDailyRollup,
    "product_month": ProductMonthlyRollup,
    "sku_day": SkuDailyRollup,
    "sku_month": SkuMonthlyRollup,
}


@dataclass
class AdvanceResult:
    consumed: int = 0
    late: int = 0
    pending: int = 0
    full: bool = False
    cursor: int = 0


def _locked_cursor() -> FeedCursor:
    FeedCursor.objects.get_or_create(name=CURSOR)
    return FeedCursor.objects.select_for_update().get(name=CURSOR)


def _gaps(after: int, events: list[Event]) -> list[int]:
    """The ids between ``after`` and the batch's last event that the batch did not find."""
    if not events:
        return []
    found = {event.id for event in events}
    start = max(after + 1, events[0].id - MAX_GAP)
    return [i for i in range(start, events[-1].id) if i not in found]


def rollup_advance(*, batch_size: int = DEFAULT_BATCH, now: dt.datetime | None = None):
    """Count the next ``batch_size`` events after the cursor, and those of the pending ids that
    have committed since; one transaction, under the cursor's lock."""
    now = now or clock.now()
    result = AdvanceResult()
    with transaction.atomic():
        cursor = _locked_cursor()
        PendingEvent.objects.filter(seen_at__lt=now - PENDING_HORIZON).delete()
        pending = list(PendingEvent.objects.values_list("event_id", flat=True))
        late = list(Event.objects.filter(id__in=pending).order_by("id")) if pending else []
        fresh = list(Event.objects.filter(id__gt=cursor.event_id).order_by("id")[:batch_size])
        gaps = _gaps(cursor.event_id, fresh)
        consume(late + fresh, now=now)
        if late:
            PendingEvent.objects.filter(event_id__in=[e.id for e in late]).delete()
        if gaps:
            PendingEvent.objects.bulk_create(
                [PendingEvent(event_id=i, seen_at=now) for i in gaps], batch_size=1000
            )
        if fresh:
            cursor.event_id = fresh[-1].id
            cursor.save(update_fields=["event_id"])
        result.consumed = len(late) + len(fresh)
        result.late = len(late)
        result.pending = len(pending) - len(late) + len(gaps)
        result.full = len(fresh) == batch_size
        result.cursor = cursor.event_id
    return result


def rollup_sweep(*, batch_size: int = DEFAULT_BATCH, max_batches: int = 20) -> int:
    """The worker's step: passes until the timeline is read (or ``max_batches``); the events
    counted."""
    consumed = 0
    for _ in range(max_batches):
        result = rollup_advance(batch_size=batch_size)
        consumed += result.consumed
        if not result.full:
            break
    return consumed


def _truncate() -> None:
    Fact.objects.all().delete()
    CaseTrack.objects.all().delete()
    # (``CaseProduct`` stays: a case's SKUs and their categories as they were when it opened.)
    for model in ROLLUPS.values():
        model.objects.all().delete()


@transaction.atomic
def rollup_rebuild(*, batch_size: int = 2000) -> int:
    """Every rollup again from the whole timeline (one transaction: readers see the old figures
    until the new ones are complete); the events counted."""
    cursor = _locked_cursor()
    _truncate()
    PendingEvent.objects.all().delete()
    cursor.event_id = 0
    cursor.save(update_fields=["event_id"])
    consumed = 0
    while True:
        result = rollup_advance(batch_size=batch_size)
        consumed += result.consumed
        if not result.full:
            return consumed


def rollup_rows() -> dict[tuple, tuple]:
    """Every rollup row, daily and monthly, of the cases and of their products, as
    ``(table, *key) → measures`` (rows of zeros left out)."""
    found = {}
    for table, model in ROLLUPS.items():
        measures = PRODUCT_MEASURES if issubclass(model, ProductSums) else ROLLUP_MEASURES
        for row in model.objects.all():
            values = tuple(getattr(row, name) for name in measures)
            if any(values):
                found[(table, *row.key)] = values
    return found


@dataclass
class CheckResult:
    cursor: int
    rows: int
    differences: list[tuple[tuple, tuple | None, tuple | None]] = field(default_factory=list)


def rollup_check(*, batch_size: int = 2000) -> CheckResult:
    """Replay what the cursor has counted (every event up to it, but the pending ones) into
    fresh tables and compare with the incremental rollups; nothing is kept."""
    with transaction.atomic():
        cursor = _locked_cursor()
        incremental = rollup_rows()
        pending = set(PendingEvent.objects.values_list("event_id", flat=True))
        _truncate()
        last = 0
        while True:
            events = list(
                Event.objects.filter(id__gt=last, id__lte=cursor.event_id).order_by("id")[
                    :batch_size
                ]
            )
            if not events:
                break
            last = events[-1].id
            consume([e for e in events if e.id not in pending], now=clock.now())
        rebuilt = rollup_rows()
        result = CheckResult(cursor=cursor.event_id, rows=len(rebuilt))
        for key in sorted(set(incremental) | set(rebuilt), key=repr):
            if incremental.get(key) != rebuilt.get(key):
                result.differences.append((key, incremental.get(key), rebuilt.get(key)))
        transaction.set_rollback(True)
    return result


# --- writing one batch ---------------------------------------------------------------------------


def consume(events: list[Event], *, now: dt.datetime) -> None:
    """Count ``events`` (in the order given): their facts, the tracks of their cases, and the
    sums of the rollup rows they touch."""
    if not events:
        return
    batch = Batch.load(events)
    for event in events:
        batch.take(event)
    batch.save()
    _add_to_rollups(batch.deltas, DailyRollup, MonthlyRollup)
    _add_to_rollups(
        batch.product_deltas,
        ProductDailyRollup,
        ProductMonthlyRollup,
        SkuDailyRollup,
        SkuMonthlyRollup,
    )


def _add_to_rollups(deltas: dict[tuple, dict[str, object]], *models) -> None:
    """Add ``deltas`` (daily rollup key → column → amount) to the rows of each of ``models``:
    a table's key is the daily key's first fields (``day`` made ``month`` for a monthly one), so
    a coarser table sums away the fields it lacks. Under the cursor's lock."""
    deltas = {key: values for key, values in deltas.items() if any(values.values())}
    if not deltas:
        return
    for model in models:
        width, monthly = len(model.KEY), model.KEY[1] == "month"
        if width == len(next(iter(deltas))) and not monthly:
            _add(model, deltas)
            continue
        sums_by_key: dict[tuple, dict[str, object]] = {}
        for key, values in deltas.items():
            period = key[1].replace(day=1) if monthly else key[1]
            sums = sums_by_key.setdefault((key[0], period, *key[2:width]), {})
            for name, amount in values.items():
                sums[name] = sums.get(name, 0) + amount
        _add(model, sums_by_key)


def _add(model, deltas: dict[tuple, dict]) -> None:
    """Read the rows of ``deltas``' keys, add, write; create the missing ones."""
    # the rows of the keys' shops and periods, and of their third field when it names no
    # empty value (a kind; a SKU: a product rollup's day holds thousands of SKUs' rows)
    narrow = {}
    for index, name in enumerate(model.KEY[:3]):
        values = {key[index] for key in deltas}
        if None not in values:
            narrow[f"{name}__in"] = values
    existing = {row.key: row for row in model.objects.filter(**narrow)}
    changed, created = [], []
    columns: set[str] = set()
    for key, values in deltas.items():
        row = existing.get(key)
        if row is None:
            row = model(**dict(zip(model.KEY, key, strict=True)))
            created.append(row)
        else:
            changed.append(row)
        for name, amount in values.items():
            setattr(row, name, getattr(row, name) + amount)
            columns.add(name)
    if created:
        bulk_insert_rows(model, created)
    if changed:
        bulk_update_rows(model, changed, sorted(columns))


def pending_ids() -> list[int]:
    return sorted(PendingEvent.objects.values_list("event_id", flat=True))


def cursor_position() -> int:
    row = FeedCursor.objects.filter(name=CURSOR).first()
    return row.event_id if row else 0
