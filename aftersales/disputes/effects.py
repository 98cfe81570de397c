"""What a dispute does to its case, always through the case's own table (the kernel's gate, as
the system): pause its deadline on opening, and on the end of the dispute either the refund the
platform decided (``dispute_refund``, through the ledger) or the deadline back with the time it
had left (``dispute_resume``)."""

from __future__ import annotations

from aftersales.cases.choices import Action as CaseAction
from aftersales.cases.services import case_transition
from aftersales.core.actors import SYSTEM
from aftersales.disputes.choices import REFUND_OUTCOMES
from aftersales.disputes.models import Decision, Dispute
from aftersales.violations.services import violation_record


def case_pause(dispute: Dispute) -> None:
    case_transition(case_id=dispute.case_id, action=CaseAction.DISPUTE_PAUSE, actor=SYSTEM)


def case_resume(dispute: Dispute) -> None:
    if dispute.case_paused:
        case_transition(case_id=dispute.case_id, action=CaseAction.DISPUTE_RESUME, actor=SYSTEM)


def carry_out(dispute: Dispute, decision: Decision, now) -> dict:
    """The decision in force acts on the case; returns what the dispute's timeline records."""
    recorded = {"outcome": decision.outcome, "amount": str(decision.amount)}
    if decision.outcome in REFUND_OUTCOMES:
        case_transition(case_id=dispute.case_id, action=CaseAction.DISPUTE_REFUND, actor=SYSTEM)
    else:
        case_resume(dispute)
    decision.executed_at = now
    decision.save(update_fields=["executed_at"])
    if decision.violation_kind:
        # The points the decision proposed are recorded on the shop once it is in force (with
        # their calculation, and the penalty a step starts); the decision and this event keep them.
        recorded.update(
            violation_kind=decision.violation_kind, violation_points=decision.violation_points
        )
        violation = violation_record(
            shop=dispute.shop,
            kind=decision.violation_kind,
            reason=decision.reason,
            source_type="dispute",
            source_id=dispute.id,
            actor=SYSTEM,
        )
        recorded["violation"] = violation.number
    return recorded
