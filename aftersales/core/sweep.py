"""The deadline sweep: claim due subjects of every registered lifecycle in batches and take their
deadline actions through the gate's own steps (``gate.apply``) with the actor ``system``.

Each batch is one transaction. Rows are claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
so several workers share the due subjects without waiting on each other and none is acted on
twice; a worker that dies mid-batch rolls its whole batch back and another takes it. A subject
that moved on before the claim is no longer due, so it is not claimed. An automatic action that
a rule refuses leaves nothing of its effect (the effect ran in a savepoint) and escalates the
subject to the team lead instead of stopping the batch, so nothing stays overdue in silence.
The batch is claimed in one query of the subjects' own rows; what the effects read (the
lifecycle's ``related`` and ``prefetch``) is fetched afterwards, one query per relation, for the
subjects whose move reads anything (closing into a final state with no effect reads nothing).
It is written in bulk: the subjects by the set of fields each changed (one ``UPDATE … FROM
VALUES`` per set), the events by COPY, the notices with their deliveries and tasks in a fixed
number of statements.

The effects' own writes are deferred to the batch's end too (``core.batch``): what they read one
by one is read once for the batch first (the lifecycle's ``batch_prepare``: for the cases, the
order lines of the refunds the batch pays, locked in one query, with their ledger), their rows
are kept and sent set-wise after the last subject, and a refused effect's kept writes are dropped
(a savepoint is taken only for an effect that sends a statement itself). ``deferred=False`` runs
every effect as a person's move runs it, writing at once in a savepoint of its own (the two
paths write the same rows: ``tests/test_sweep_batch.py``).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import prefetch_related_objects
from django.utils.translation import gettext as _

from aftersales.core import clock
from aftersales.core.actors import SYSTEM
from aftersales.core.batch import writes_deferred
from aftersales.core.bulk import bulk_insert_rows, bulk_update_rows
from aftersales.core.errors import ApplicationError, Conflict
from aftersales.core.gate import (
    Applied,
    apply,
    changed_fields,
    event_for,
    record,
    restore,
    snapshot,
)
from aftersales.core.lifecycle import Lifecycle, lifecycles
from aftersales.core.models import Event, Notice
from aftersales.core.notices import notice_build, notices_save

logger = logging.getLogger("aftersales.deadlines")


@dataclass
class SweepResult:
    acted: int = 0
    escalated_on_error: int = 0
    # Whether some lifecycle filled its batch: more may be due right now.
    full: bool = False

    @property
    def processed(self) -> int:
        return self.acted + self.escalated_on_error

    def add(self, other: SweepResult) -> None:
        self.acted += other.acted
        self.escalated_on_error += other.escalated_on_error
        self.full = self.full or other.full


def _claim(lifecycle: Lifecycle, batch_size: int) -> tuple[list, list]:
    due = lifecycle.model.objects.filter(deadline_at__lte=clock.now()).exclude(deadline_action="")
    if connection.features.has_select_for_update_skip_locked:
        due = due.select_for_update(skip_locked=True, of=("self",))
    subjects = list(due.order_by("deadline_at")[:batch_size])
    # What the effects read is fetched after the claim (by id, one query per relation, shared
    # instances: a batch has a handful of shops and policies), and only for the subjects whose
    # move reads anything: closing a subject with no effect into a final state reads nothing.
    reading = [subject for subject in subjects if _reads(lifecycle, subject)]
    if reading and (lifecycle.related or lifecycle.prefetch):
        prefetch_related_objects(reading, *lifecycle.related, *lifecycle.prefetch)
    return subjects, reading


def _reads(lifecycle: Lifecycle, subject) -> bool:
    move = lifecycle.index.get((subject.state, subject.deadline_action))
    if move is None or move.effect is not None or move.guard is not None:
        return True
    target = move.target
    return (
        not isinstance(target, str)
        or target not in lifecycle.final_states
        or target in lifecycle.deadlines
    )


def _act(lifecycle: Lifecycle, subject, now, before, isolated) -> Applied:
    move = lifecycle.index.get((subject.state, subject.deadline_action))
    if move is None or SYSTEM.role not in move.roles:
        raise Conflict(
            _("No automatic action %(action)s for this state.")
            % {"action": subject.deadline_action},
            code="deadline_action_invalid",
        )
    return apply(
        lifecycle,
        subject,
        move,
        actor=SYSTEM,
        input=move.input(),
        now=now,
        isolated=isolated,
        before=before,
    )


def _escalation(lifecycle: Lifecycle, subject, error: ApplicationError, now):
    """The automatic action was refused by a rule: hand the subject to a person, loudly."""
    before = snapshot(subject)
    failed = subject.deadline_action
    subject.deadline_action = ""
    subject.escalated_at = now
    if hasattr(subject, "updated_at"):
        subject.updated_at = now
    event = event_for(
        subject,
        actor=SYSTEM,
        action=lifecycle.escalate_action,
        from_state=subject.state,
        data={"failed_action": failed, "code": error.code, "detail": str(error.detail)},
        now=now,
    )
    notices = [notice_build(subject, lifecycle.escalate_notice, {"code": error.code})]
    return changed_fields(subject, before), event, notices


def sweep_lifecycle(
    lifecycle: Lifecycle, *, batch_size: int = 200, deferred: bool = True
) -> SweepResult:
    """Act on up to ``batch_size`` due subjects of one lifecycle, in one transaction."""
    result = SweepResult()
    deferring = writes_deferred(lifecycle.model) if deferred else nullcontext()
    with transaction.atomic(), deferring as batch:
        subjects, reading = _claim(lifecycle, batch_size)
        isolated = transaction.atomic if batch is None else batch.isolated
        if batch is not None and reading and lifecycle.batch_prepare is not None:
            lifecycle.batch_prepare(reading)
        now = clock.now()
        events: list[Event] = []
        notices: list[Notice] = []
        by_fields: dict[tuple[str, ...], list] = defaultdict(list)
        for subject in subjects:
            action = subject.deadline_action
            before = snapshot(subject)
            try:
                applied = _act(lifecycle, subject, now, before, isolated)
                event, queued = record(subject, applied)
                changed = applied.changed
                result.acted += 1
            except ApplicationError as error:
                logger.warning(
                    "deadline %s on %s %s refused: %s",
                    action,
                    lifecycle.subject_type,
                    getattr(subject, "number", subject.pk),
                    error,
                )
                restore(subject, before)  # forget what the refused effect changed in memory
                changed, event, queued = _escalation(lifecycle, subject, error, now)
                result.escalated_on_error += 1
            by_fields[tuple(changed)].append(subject)
            events.append(event)
            notices.extend(queued)
        if batch is not None:
            batch.flush()
        for fields, group in by_fields.items():
            if fields:
                bulk_update_rows(lifecycle.model, group, fields)
        bulk_insert_rows(Event, events)
        notices_save(notices)
    result.full = len(subjects) == batch_size
    return result


def sweep_batch(*, batch_size: int = 200, deferred: bool = True) -> SweepResult:
    """One batch of each registered lifecycle."""
    total = SweepResult()
    for lifecycle in lifecycles():
        total.add(sweep_lifecycle(lifecycle, batch_size=batch_size, deferred=deferred))
    return total


def sweep(
    *, batch_size: int = 200, max_batches: int | None = None, deferred: bool = True
) -> SweepResult:
    """Act on everything due now, batch after batch; returns the totals. A lifecycle whose batch
    was not full had nothing more due: the next rounds claim only from those that filled theirs
    (what falls due meanwhile is the next sweep's), so a sweep of one busy lifecycle does not
    ask every other one again for each of its batches."""
    total = SweepResult()
    batches = 0
    pending = list(lifecycles())
    while pending and (max_batches is None or batches < max_batches):
        batches += 1
        full = []
        for lifecycle in pending:
            result = sweep_lifecycle(lifecycle, batch_size=batch_size, deferred=deferred)
            total.add(result)
            if result.full:
                full.append(lifecycle)
        pending = full
    total.full = False
    return total


def next_deadline():
    """The soonest deadline with an action of every registered lifecycle, or None: one query per
    lifecycle, each the first entry of its model's partial index on ``deadline_at``."""
    soonest = None
    for lifecycle in lifecycles():
        found = (
            lifecycle.model.objects.exclude(deadline_action="")
            .filter(deadline_at__isnull=False)
            .order_by("deadline_at")
            .values_list("deadline_at", flat=True)
            .first()
        )
        if found is not None and (soonest is None or found < soonest):
            soonest = found
    return soonest


def seconds_to_wait(interval: float) -> float:
    """How long a worker rests before its next round: the interval, or less when a deadline falls
    due sooner, so that a deadline waits for a round in progress at most, not for a whole pause
    after it (a deadline written during the rest is still acted on within one interval)."""
    soonest = next_deadline()
    if soonest is None:
        return interval
    return max(0.0, min(interval, (soonest - clock.now()).total_seconds()))
