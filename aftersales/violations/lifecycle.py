"""The tables of a violation and of a penalty (run by the kernel in ``core.lifecycle``).

A violation is recorded (by a platform operator, or by the system for another part) and counts;
the shop's administrator may appeal it once, within ``violations.appeal_window`` of its
recording; the operator upholds it (it counts again) or withdraws it (its points no longer
count, and the penalties the new total no longer reaches are lifted).

A penalty is started by the system when a violation's points reach a step of its class. It is
in force until its end (``active``, whose deadline the sweep acts on: ``end``) or for good
(``permanent``). The shop's administrator may appeal it once, within the same window of its
start; while appealed it stays in force and does not end on its own; the operator upholds it
(back in force: one whose end has passed meanwhile ends at the next sweep) or withdraws it. The
system lifts it when its step is no longer reached.
"""

from __future__ import annotations

import datetime as dt

from aftersales.core import clock
from aftersales.core.actors import SYSTEM_ROLE
from aftersales.core.lifecycle import Lifecycle, Move, NoInput, StateDeadline, register
from aftersales.core.permissions import roles_for
from aftersales.violations import moves, rules
from aftersales.violations.choices import (
    PENALTY_FINAL_STATES,
    VIOLATION_FINAL_STATES,
    Action,
    PenaltyState,
    ViolationState,
)
from aftersales.violations.models import Penalty, Violation

SYSTEM = frozenset({SYSTEM_ROLE})
A, V, P = Action, ViolationState, PenaltyState

# Who may: the one matrix's rows (``core.permissions``), never a list kept here.
RECORD = roles_for("violation.record") | SYSTEM
APPEAL = roles_for("violation.appeal")
DECIDE = roles_for("violation.decide")

VIOLATION_MOVES = (
    Move(None, A.RECORD, V.RECORDED, RECORD, moves.record_violation, moves.RecordIn),
    Move(
        V.RECORDED,
        A.APPEAL,
        V.APPEALED,
        APPEAL,
        moves.appeal,
        moves.AppealIn,
        guard=moves.not_appealed_yet,
    ),
    Move(V.APPEALED, A.UPHOLD, V.RECORDED, DECIDE, moves.uphold, moves.DecideIn),
    Move(V.APPEALED, A.WITHDRAW, V.WITHDRAWN, DECIDE, moves.withdraw_violation, moves.DecideIn),
)

VIOLATIONS = register(
    Lifecycle(
        subject_type="violation",
        model=Violation,
        moves=VIOLATION_MOVES,
        deadlines={},
        final_states=VIOLATION_FINAL_STATES,
        timeout=lambda violation, name: dt.timedelta(0),
        related=("shop", "policy"),
        state_label=lambda state: str(ViolationState(state).label),
        action_label=lambda action: str(Action(action).label),
        escalate_action=A.ESCALATE,
        escalate_notice="penalty_escalated",
    )
)

PENALTY_MOVES = (
    Move(None, A.START, moves.holding_state, SYSTEM, moves.start_penalty, moves.StartIn),
    Move(P.ACTIVE, A.END, P.ENDED, SYSTEM, None, NoInput),
    *(
        Move(
            state,
            A.APPEAL,
            P.APPEALED,
            APPEAL,
            moves.appeal,
            moves.AppealIn,
            guard=moves.not_appealed_yet,
        )
        for state in (P.ACTIVE, P.PERMANENT)
    ),
    Move(P.APPEALED, A.UPHOLD, moves.holding_state, DECIDE, moves.uphold, moves.DecideIn),
    Move(P.APPEALED, A.WITHDRAW, P.WITHDRAWN, DECIDE, moves.withdraw_penalty, moves.DecideIn),
    *(
        Move(state, A.LIFT, P.LIFTED, SYSTEM, moves.lift, moves.LiftIn)
        for state in (P.ACTIVE, P.PERMANENT, P.APPEALED)
    ),
)

PENALTIES = register(
    Lifecycle(
        subject_type="penalty",
        model=Penalty,
        moves=PENALTY_MOVES,
        # In force until ``starts_at + days`` (its ``ends_at``), then the sweep ends it.
        deadlines={P.ACTIVE: StateDeadline("penalty_days", A.END, anchor=lambda p: p.starts_at)},
        final_states=PENALTY_FINAL_STATES,
        timeout=lambda penalty, name: dt.timedelta(days=penalty.days or 0),
        related=("shop", "violation"),
        state_label=lambda state: str(PenaltyState(state).label),
        action_label=lambda action: str(Action(action).label),
        entry_notices={P.ENDED: ("penalty_ended",)},
        escalate_action=A.ESCALATE,
        escalate_notice="penalty_escalated",
    )
)


def available_actions(subject, role: str | None) -> list[str]:
    """The actions ``role`` may take now: the table's, without the appeal once it was used or
    its window (``violations.appeal_window``) ended."""
    lifecycle = VIOLATIONS if isinstance(subject, Violation) else PENALTIES
    actions = lifecycle.available(subject, role)
    if A.APPEAL in actions and (
        subject.appealed_at is not None or clock.now() >= rules.appeal_window_end(subject)
    ):
        actions = [action for action in actions if action != A.APPEAL]
    return actions
