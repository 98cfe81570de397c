"""The inspection's table of moves (its lifecycle, run by the kernel in ``core.lifecycle``).

requested (the buyer or the shop sends the goods within ``timeouts.buyer_return_shipment``, or
the request lapses) → sent (the center confirms their receipt by the label; past
``timeouts.seller_receipt`` the platform is reminded) → received (the verdict is due within
``inspection.verdict_due`` of the receipt; overdue, the platform is reminded) → decided (genuine,
counterfeit or inconclusive, with a report). Before the verdict the platform may cancel.
Opening paused the case's deadline and the end of the inspection restarts it (``moves``).
"""

from __future__ import annotations

from aftersales.core.actors import SYSTEM_ROLE, Role
from aftersales.core.lifecycle import Lifecycle, Move, NoInput, StateDeadline, register
from aftersales.core.permissions import roles_for
from aftersales.inspections import moves, rules
from aftersales.inspections.choices import (
    FINAL_STATES,
    OPEN_STATES,
    Action,
    DeadlineAction,
    InspectionState,
    Sender,
)
from aftersales.inspections.models import Inspection

SYSTEM = frozenset({SYSTEM_ROLE})

S = InspectionState
A = Action


def who(action: str) -> frozenset[str]:
    """The roles that may take a person's action: its row of the one matrix."""
    return roles_for(f"inspection.{action}")


MOVES = (
    Move(None, A.OPEN, S.REQUESTED, who(A.OPEN), moves.open_inspection, moves.InspectionOpenIn),
    Move(S.REQUESTED, A.SHIP, S.SENT, who(A.SHIP), moves.ship, moves.InspectionShipIn),
    Move(S.REQUESTED, A.LAPSE, S.LAPSED, SYSTEM, moves.lapse, NoInput),
    Move(S.SENT, A.RECEIVE, S.RECEIVED, who(A.RECEIVE), moves.receive, moves.InspectionReceiveIn),
    Move(S.SENT, A.ESCALATE, S.SENT, SYSTEM, moves.escalate, NoInput),
    Move(
        S.RECEIVED, A.VERDICT, S.DECIDED, who(A.VERDICT), moves.verdict, moves.InspectionVerdictIn
    ),
    Move(S.RECEIVED, A.ESCALATE, S.RECEIVED, SYSTEM, moves.escalate, NoInput),
    *(
        Move(state, A.CANCEL, S.CANCELLED, who(A.CANCEL), moves.cancel, moves.InspectionCancelIn)
        for state in OPEN_STATES
    ),
)

DEADLINES: dict[str, StateDeadline] = {
    S.REQUESTED: StateDeadline("goods_shipment", DeadlineAction.LAPSE),
    S.SENT: StateDeadline("center_receipt", DeadlineAction.ESCALATE),
    S.RECEIVED: StateDeadline("verdict_due", DeadlineAction.ESCALATE),
}

INSPECTIONS = register(
    Lifecycle(
        subject_type="inspection",
        model=Inspection,
        moves=MOVES,
        deadlines=DEADLINES,
        final_states=FINAL_STATES,
        timeout=lambda inspection, name: rules.timeout(inspection.policy, name),
        related=("shop", "customer", "policy", "case__order", "case__shop", "dispute"),
        state_label=lambda state: str(InspectionState(state).label),
        action_label=lambda action: str(Action(action).label),
        escalate_action=A.ESCALATE,
        escalate_notice="inspection_overdue",
    )
)

PERSON_ACTIONS = frozenset(m.action for m in MOVES if m.roles != SYSTEM and m.source is not None)


def available_actions(inspection, role: str | None) -> list[str]:
    """The table's actions for ``role``, less the shipment for whoever does not hold the goods
    (``moves.ship`` refuses it)."""
    by_buyer = role == Role.CUSTOMER
    return [
        action
        for action in INSPECTIONS.available(inspection, role)
        if action != A.SHIP or by_buyer == (inspection.sender == Sender.BUYER)
    ]
