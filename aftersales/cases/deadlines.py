"""The deadline sweep: claim due cases in batches and let the state table act on them.

Each batch is one transaction. Rows are claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
so several workers share the due cases without waiting on each other and none is acted on twice;
a worker that dies mid-batch rolls its whole batch back and another worker takes it. A case that
moved on before the claim is no longer due, so it is not claimed.

The batch goes through the same gate as a person's action (``services.apply_move``: the table,
the effects, the next deadline), then writes the cases (one ``UPDATE … FROM VALUES``), their
events and notifications in bulk.
An effect that writes other rows (a refund, an approval) runs in a savepoint; one that a rule
refuses escalates its case to the team lead instead of stopping the batch, so nothing stays
overdue in silence.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils.translation import gettext as _

from aftersales.cases.choices import Action
from aftersales.cases.models import Case, CaseEvent
from aftersales.cases.services import apply_move, event_build
from aftersales.cases.transitions import MOVE_INDEX
from aftersales.core import clock
from aftersales.core.bulk import bulk_update_rows
from aftersales.core.errors import ApplicationError, Conflict
from aftersales.notify.models import Audience, Notification
from aftersales.notify.services import notification_build
from aftersales.team.principal import SYSTEM

logger = logging.getLogger("aftersales.deadlines")

# Every field an automatic move may change.
SWEPT_FIELDS = (
    "state",
    "deadline_at",
    "deadline_action",
    "resolved_at",
    "escalated_at",
    "approved_at",
    "approved_amount",
    "shipping_deduction",
    "refunded_amount",
    "return_address",
    "quote_reminded_at",
    "quote_decision",
    "confirmed_at",
    "updated_at",
)


@dataclass
class SweepResult:
    acted: int = 0
    escalated_on_error: int = 0

    @property
    def processed(self) -> int:
        return self.acted + self.escalated_on_error


def _claim(batch_size: int) -> list[Case]:
    due = Case.objects.filter(deadline_at__lte=clock.now()).exclude(deadline_action="")
    if connection.features.has_select_for_update_skip_locked:
        due = due.select_for_update(skip_locked=True, of=("self",))
    # Lines come along: approving spreads the amount over them and refunding pays them.
    return list(
        due.select_related("order", "policy")
        .prefetch_related("lines")
        .order_by("deadline_at")[:batch_size]
    )


def _escalation(case: Case, error: ApplicationError, now) -> tuple[CaseEvent, list[Notification]]:
    """The automatic action was refused by a rule: hand the case to a person, loudly."""
    failed = case.deadline_action
    case.deadline_action = ""
    case.escalated_at = now
    case.updated_at = now
    event = event_build(
        case,
        actor=SYSTEM,
        action=Action.ESCALATE,
        from_state=case.state,
        data={"failed_action": failed, "code": error.code, "detail": str(error.detail)},
        now=now,
    )
    note = notification_build(
        case=case, kind="case_escalated", audience=Audience.LEAD, payload={"code": error.code}
    )
    return event, [note]


def _act(case: Case, now) -> tuple[CaseEvent, list[Notification]]:
    move = MOVE_INDEX.get((case.state, case.deadline_action))
    if move is None or SYSTEM.role not in move.roles:
        raise Conflict(
            _("No automatic action %(action)s for this state.") % {"action": case.deadline_action},
            code="deadline_action_invalid",
        )
    if not move.writes_elsewhere:
        return apply_move(case, move, actor=SYSTEM, data={}, now=now)
    with transaction.atomic():  # a refused effect leaves none of its writes behind
        return apply_move(case, move, actor=SYSTEM, data={}, now=now)


def sweep_batch(*, batch_size: int = 200) -> SweepResult:
    """Process up to ``batch_size`` due cases in one transaction."""
    result = SweepResult()
    with transaction.atomic():
        cases = _claim(batch_size)
        now = clock.now()
        events: list[CaseEvent] = []
        notifications: list[Notification] = []
        for case in cases:
            action = case.deadline_action
            try:
                event, notes = _act(case, now)
                result.acted += 1
            except ApplicationError as error:
                logger.warning("deadline %s on case %s refused: %s", action, case.number, error)
                case.refresh_from_db()  # forget what the refused effect changed in memory
                event, notes = _escalation(case, error, now)
                result.escalated_on_error += 1
            events.append(event)
            notifications.extend(notes)
        if cases:
            bulk_update_rows(Case, cases, SWEPT_FIELDS)
            CaseEvent.objects.bulk_create(events)
            Notification.objects.bulk_create(notifications)
    return result


def sweep(*, batch_size: int = 200, max_batches: int | None = None) -> SweepResult:
    """Process everything due now, batch after batch; returns the totals."""
    total = SweepResult()
    batches = 0
    while max_batches is None or batches < max_batches:
        result = sweep_batch(batch_size=batch_size)
        batches += 1
        total.acted += result.acted
        total.escalated_on_error += result.escalated_on_error
        if result.processed < batch_size:
            break
    return total
