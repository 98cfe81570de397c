"""The case's side of a platform dispute (维权 / 平台介入, ``aftersales.disputes``): three moves of
the clock's kind (the dispute's own moves take them, with the actor ``system``), so the case's
record says what the dispute did to it.

- ``dispute_pause``: the dispute opened. The case's deadline stops: the time it had left
  (``deadline_at − now``) and its action are written on the timeline event, and the deadline is
  cleared, so the sweep has nothing to act on while the dispute runs.
- ``dispute_resume``: the dispute ended without a refund (rejected, or withdrawn). The deadline
  comes back with the time it had left, from now, read from the last pause on the record (a
  deadline already passed when the dispute opened is due at once, and the sweep acts).
- ``dispute_refund``: the platform decided a refund, in full or in part. It is paid through the
  ledger (never more than the request, nor than the lines were paid) and the case is refunded
  (a case that had ended keeps its end state).

The case does not know the disputes app (a lower layer): the dispute's amount and number come
from the desk that app registers at its start (``register_dispute_desk``), the way the kernel's
preconditions are registered.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext as _

from aftersales.cases import ledger
from aftersales.cases.choices import FINAL_STATES, Action, CaseState
from aftersales.catalog.invoices import credit_note_issue
from aftersales.core.errors import Conflict
from aftersales.core.lifecycle import Context
from aftersales.core.models import Event
from aftersales.core.money import ZERO, split_proportionally


@dataclass(frozen=True)
class Award:
    """A refund a platform decision grants on a case: its dispute, the amount, the ledger key."""

    dispute: str
    amount: Decimal
    key: str


class DisputeDesk(Protocol):
    def dispute_of(self, case) -> str:
        """The number of the dispute about ``case`` that is under way ("" for none)."""

    def award_for(self, case) -> Award | None:
        """The refund the decision being carried out grants on ``case`` (``None``: none)."""


_DESKS: list[DisputeDesk] = []


def register_dispute_desk(desk: DisputeDesk) -> None:
    """Called once by the disputes app at its start."""
    if desk not in _DESKS:
        _DESKS.append(desk)


def _dispute_of(case) -> str:
    return next((number for desk in _DESKS if (number := desk.dispute_of(case))), "")


def stop_deadline(case, ctx: Context) -> None:
    """Stop the case's deadline, writing the time it had left and its action on the event (the
    record a later ``restart_deadline`` reads)."""
    if case.deadline_at is not None:
        remaining = case.deadline_at - ctx.now
        ctx.event_data.update(
            deadline_at=case.deadline_at.isoformat(),
            deadline_action=case.deadline_action,
            remaining_seconds=int(remaining.total_seconds()),
        )
    case.deadline_at = None
    case.deadline_action = ""


def pause(case, ctx: Context) -> None:
    ctx.event_data["dispute"] = _dispute_of(case)
    stop_deadline(case, ctx)


def last_pause(case, action: str = Action.DISPUTE_PAUSE) -> Event | None:
    return (
        Event.objects.filter(
            subject_type=ContentType.objects.get_for_model(case),
            subject_id=case.pk,
            action=action,
        )
        .order_by("-id")
        .first()
    )


def restart_deadline(case, ctx: Context, paused_by: str) -> None:
    """The deadline back with the time it had left at the last ``paused_by`` move, from now."""
    paused = last_pause(case, paused_by)
    data = paused.data if paused is not None else {}
    if case.state in FINAL_STATES or data.get("remaining_seconds") is None:
        return  # nothing was running when it was paused
    remaining = dt.timedelta(seconds=int(data["remaining_seconds"]))
    case.deadline_at = ctx.now + remaining
    case.deadline_action = data.get("deadline_action", "")
    ctx.event_data.update(
        remaining_seconds=data["remaining_seconds"], deadline_at=case.deadline_at.isoformat()
    )


def resume(case, ctx: Context) -> None:
    ctx.event_data["dispute"] = _dispute_of(case)
    restart_deadline(case, ctx, Action.DISPUTE_PAUSE)


def after_refund(case) -> str:
    """Refunded, unless the case had ended already (an after-sale dispute): it keeps its end."""
    return case.state if case.state in FINAL_STATES else CaseState.REFUNDED


def refund(case, ctx: Context) -> None:
    award = next((a for desk in _DESKS if (a := desk.award_for(case)) is not None), None)
    if award is None or award.amount <= 0:
        raise Conflict(_("No refund was decided on this case."), code="no_dispute_award")
    outstanding = case.requested_amount - case.refunded_amount
    if award.amount > outstanding:
        raise Conflict(
            _("Refunding %(amount)s would exceed what is still requested (%(left)s).")
            % {"amount": award.amount, "left": outstanding},
            code="refund_exceeds_request",
        )
    lines = list(case.lines.all())
    shares = split_proportionally(award.amount, [line.requested_amount for line in lines])
    paid = ledger.refund_post(
        case=case,
        idempotency_key=award.key,
        now=ctx.now,
        amounts={line.id: share for line, share in zip(lines, shares, strict=True)},
    )
    case.approved_amount = max(case.approved_amount, case.refunded_amount)
    if case.approved_at is None:
        case.approved_at = ctx.now
    ctx.event_data.update(
        dispute=award.dispute, idempotency_key=award.key, refunded=str(paid or ZERO)
    )
    note = credit_note_issue(case=case, amount=paid, now=ctx.now)
    if note is not None:
        ctx.event_data["credit_note"] = note.number
    ctx.notices.append("case_refunded")
