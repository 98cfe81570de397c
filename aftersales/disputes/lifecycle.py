"""The dispute's table of moves (its lifecycle, run by the kernel in ``core.lifecycle``).

evidence (both sides add evidence until ``disputes.evidence_window``) → deciding (the platform
decides within ``disputes.decision_due``, or sends it to a jury that votes within
``jury.vote_window``) → decided (the shop accepts, or appeals once within
``disputes.appeal_window``; unappealed, the decision is final when the window ends) → appealed
(the platform reviews: upheld or changed) → final. Before the decision the buyer may withdraw.
The final decision acts on the case; opening paused the case's deadline and withdrawing or a
rejection resumes it (``disputes.effects``).
"""

from __future__ import annotations

from aftersales.core.actors import SYSTEM_ROLE
from aftersales.core.lifecycle import Lifecycle, Move, NoInput, StateDeadline, register
from aftersales.core.permissions import roles_for
from aftersales.disputes import jury, rules
from aftersales.disputes.choices import (
    BEFORE_DECISION,
    FINAL_STATES,
    Action,
    DeadlineAction,
    DisputeState,
)
from aftersales.disputes.models import Dispute
from aftersales.disputes.moves import deciding, evidence, opening

SYSTEM = frozenset({SYSTEM_ROLE})

S = DisputeState
A = Action


def who(action: str) -> frozenset[str]:
    """The roles that may take a person's action: its row of the one matrix."""
    return roles_for(f"dispute.{action}")


MOVES = (
    Move(None, A.OPEN, S.EVIDENCE, who(A.OPEN), opening.open_dispute, opening.DisputeOpenIn),
    Move(
        S.EVIDENCE,
        A.ADD_EVIDENCE,
        S.EVIDENCE,
        who(A.ADD_EVIDENCE),
        evidence.add_evidence,
        evidence.AddEvidenceIn,
    ),
    Move(S.EVIDENCE, A.CLOSE_EVIDENCE, S.DECIDING, SYSTEM, deciding.close_evidence, NoInput),
    Move(S.DECIDING, A.DECIDE, S.DECIDED, who(A.DECIDE), deciding.decide, deciding.DecideIn),
    Move(S.DECIDING, A.SEND_TO_JURY, S.JURY, who(A.SEND_TO_JURY), jury.send_to_jury, NoInput),
    Move(S.DECIDING, A.ESCALATE, S.DECIDING, SYSTEM, deciding.escalate, NoInput),
    Move(S.JURY, A.JURY_DECIDE, S.DECIDED, SYSTEM, jury.jury_decide, NoInput),
    # Back to the platform, or decided by the plurality (``jury.short_vote``).
    Move(S.JURY, A.JURY_EXPIRE, jury.after_the_vote, SYSTEM, jury.jury_expire, NoInput),
    Move(S.DECIDED, A.ACCEPT, S.FINAL, who(A.ACCEPT), deciding.accept, NoInput),
    Move(S.DECIDED, A.APPEAL, S.APPEALED, who(A.APPEAL), deciding.appeal, deciding.AppealIn),
    Move(S.DECIDED, A.FINALIZE, S.FINAL, SYSTEM, deciding.finalize, NoInput),
    Move(S.APPEALED, A.REVIEW, S.FINAL, who(A.REVIEW), deciding.review, deciding.ReviewIn),
    Move(S.APPEALED, A.ESCALATE, S.APPEALED, SYSTEM, deciding.escalate, NoInput),
    *(
        Move(
            state, A.WITHDRAW, S.WITHDRAWN, who(A.WITHDRAW), deciding.withdraw, deciding.WithdrawIn
        )
        for state in BEFORE_DECISION
    ),
)

DEADLINES: dict[str, StateDeadline] = {
    S.EVIDENCE: StateDeadline("evidence_window", DeadlineAction.CLOSE_EVIDENCE),
    S.DECIDING: StateDeadline("decision_due", DeadlineAction.ESCALATE),
    S.JURY: StateDeadline("vote_window", DeadlineAction.JURY_EXPIRE),
    S.DECIDED: StateDeadline("appeal_window", DeadlineAction.FINALIZE),
    S.APPEALED: StateDeadline("decision_due", DeadlineAction.ESCALATE),
}

DISPUTES = register(
    Lifecycle(
        subject_type="dispute",
        model=Dispute,
        moves=MOVES,
        deadlines=DEADLINES,
        final_states=FINAL_STATES,
        timeout=lambda dispute, name: rules.timeout(dispute.policy, name),
        related=(
            "shop",
            "customer",
            "policy",
            "decision",
            "case__order__shop",
            "case__shop",
        ),
        state_label=lambda state: str(DisputeState(state).label),
        action_label=lambda action: str(Action(action).label),
        escalate_action=A.ESCALATE,
        escalate_notice="dispute_escalated",
    )
)

PERSON_ACTIONS = frozenset(m.action for m in MOVES if m.roles != SYSTEM and m.source is not None)


def available_actions(dispute, role: str | None) -> list[str]:
    return DISPUTES.available(dispute, role)
