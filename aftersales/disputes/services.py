"""The writes that change a dispute: its table (``disputes.lifecycle``) through the kernel's one
gate; a juror's vote (the vote that reaches the majority decides through the table's
``jury_decide``). The shop's service score is the violations app's
(``violations.services.service_score_set``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.core import clock
from aftersales.core.actors import SYSTEM, Principal
from aftersales.core.errors import Conflict, Ineligible, InvalidInput
from aftersales.core.gate import open_subject, transition
from aftersales.core.permissions import require
from aftersales.disputes import jury, selectors
from aftersales.disputes.choices import Action, DisputeState, Side
from aftersales.disputes.lifecycle import DISPUTES
from aftersales.disputes.models import Dispute
from aftersales.disputes.moves.opening import DisputeOpenIn


def dispute_open(*, actor: Principal, data: Mapping[str, Any] | DisputeOpenIn) -> Dispute:
    """Open a dispute about a case (the table's first row)."""
    return open_subject(DISPUTES, actor=actor, data=data)


def dispute_transition(
    *, dispute_id: int, action: str, actor: Principal, data: Mapping[str, Any] | None = None
) -> Dispute:
    return transition(DISPUTES, subject_id=dispute_id, action=action, actor=actor, data=data)


@transaction.atomic
def juror_vote(*, actor: Principal, number: str, side: str) -> Dispute:
    """Record a juror's vote; the vote that gives a side the majority decides the dispute."""
    require(actor, "jury.vote")
    if side not in Side.values:
        raise InvalidInput(
            _("Vote for %(sides)s.")
            % {"sides": " / ".join(str(label) for _v, label in Side.choices)},
            code="invalid_side",
            field="side",
        )
    seat = selectors.seat_for(actor=actor, number=number)
    dispute = DISPUTES.lock(seat.draw.dispute_id)
    seat = type(seat).objects.select_for_update().select_related("draw").get(pk=seat.pk)
    now = clock.now()
    if dispute.state != DisputeState.JURY or seat.draw.result or now >= seat.draw.due_at:
        raise Ineligible(_("The jury's vote on this dispute has ended."), code="vote_closed")
    if seat.draw_id != jury.current_draw(dispute).pk:
        raise Ineligible(_("The jury's vote on this dispute has ended."), code="vote_closed")
    if seat.vote:
        raise Conflict(_("You have voted on this dispute already."), code="already_voted")
    seat.vote = Side(side)
    seat.voted_at = now
    seat.save(update_fields=["vote", "voted_at"])
    if jury.winner(seat.draw):
        return transition(DISPUTES, subject_id=dispute.pk, action=Action.JURY_DECIDE, actor=SYSTEM)
    return dispute
