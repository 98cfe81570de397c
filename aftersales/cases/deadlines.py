"""The deadline sweep: claim due cases in batches and let the state table act on them.

Each batch is one transaction. Rows are claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
so several workers share the due cases without waiting on each other and none is acted on twice;
a worker that dies mid-batch rolls its whole batch back and another worker takes it. Each case
runs in a savepoint: an action that a rule refuses escalates that case instead of stopping the
batch, so nothing stays overdue in silence.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import connection, transaction

from aftersales.cases.choices import Action
from aftersales.cases.models import Case, CaseEvent
from aftersales.cases.services import case_transition
from aftersales.core import clock
from aftersales.core.errors import ApplicationError
from aftersales.notify.models import Audience
from aftersales.notify.services import notification_queue
from aftersales.team.principal import SYSTEM

logger = logging.getLogger("aftersales.deadlines")


@dataclass
class SweepResult:
    acted: int = 0
    escalated_on_error: int = 0

    @property
    def processed(self) -> int:
        return self.acted + self.escalated_on_error


def _claim(batch_size: int) -> list[int]:
    due = Case.objects.filter(deadline_at__lte=clock.now()).exclude(deadline_action="")
    if connection.features.has_select_for_update_skip_locked:
        due = due.select_for_update(skip_locked=True)
    return list(due.order_by("deadline_at").values_list("id", flat=True)[:batch_size])


def _escalate_failure(case_id: int, error: ApplicationError) -> None:
    """The automatic action was refused by a rule: hand the case to a person, loudly."""
    now = clock.now()
    case = Case.objects.select_for_update().get(pk=case_id)
    CaseEvent.objects.create(
        case=case,
        actor_name=SYSTEM.username,
        role=SYSTEM.role,
        action=Action.ESCALATE,
        from_state=case.state,
        to_state=case.state,
        data={
            "failed_action": case.deadline_action,
            "code": error.code,
            "detail": str(error.detail),
        },
        at=now,
    )
    case.deadline_action = ""
    case.escalated_at = now
    case.save(update_fields=["deadline_action", "escalated_at", "updated_at"])
    notification_queue(
        case=case, kind="case_escalated", audience=Audience.LEAD, payload={"code": error.code}
    )


def sweep_batch(*, batch_size: int = 200) -> SweepResult:
    """Process up to ``batch_size`` due cases in one transaction."""
    result = SweepResult()
    with transaction.atomic():
        for case_id in _claim(batch_size):
            case = Case.objects.filter(pk=case_id).values("deadline_action", "deadline_at").first()
            if case is None or not case["deadline_action"] or case["deadline_at"] > clock.now():
                continue  # moved on since it was claimed
            action = case["deadline_action"]
            try:
                with transaction.atomic():
                    case_transition(case_id=case_id, action=action, actor=SYSTEM)
                result.acted += 1
            except ApplicationError as error:
                logger.warning("deadline %s on case %s refused: %s", action, case_id, error)
                with transaction.atomic():
                    _escalate_failure(case_id, error)
                result.escalated_on_error += 1
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
