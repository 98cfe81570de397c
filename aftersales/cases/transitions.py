"""The case's state machine as ONE table (django-oscar's pipeline, Saleor's actions).

``MOVES`` lists every allowed ``(state, action)`` pair with the roles that may take it, how the
next state is chosen, and the effect that does the work. ``STATE_DEADLINES`` says, for each waiting
state, which policy timeout starts on entry and what the worker does when it runs out.
``services.case_transition`` is the only code that reads this table to change a case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aftersales.cases import effects
from aftersales.cases.choices import Action, CaseKind, CaseState, DeadlineAction
from aftersales.team.models import Role
from aftersales.team.principal import SYSTEM_ROLE

CUSTOMER = frozenset({Role.CUSTOMER})
AGENT = frozenset({Role.AGENT, Role.ADMIN})
FINANCE = frozenset({Role.FINANCE, Role.ADMIN})
SYSTEM = frozenset({SYSTEM_ROLE})

S = CaseState


def _after_approval(case) -> str:
    return S.REFUND_PENDING if case.kind == CaseKind.REFUND_ONLY else S.AWAITING_RETURN


def _after_auto_approval(case) -> str:
    # The platforms refund an unanswered refund-only request at once.
    return S.REFUNDED if case.kind == CaseKind.REFUND_ONLY else S.AWAITING_RETURN


@dataclass(frozen=True)
class Move:
    source: str | None
    action: str
    target: str | Callable[..., str]
    roles: frozenset[str]
    effect: Callable[..., None] | None = None
    # The effect writes rows besides the case (ledger, case lines): the worker's batch runs it
    # in a savepoint so that a refusal leaves nothing half-done.
    writes_elsewhere: bool = False

    def next_state(self, case) -> str:
        return self.target(case) if callable(self.target) else self.target


MOVES: tuple[Move, ...] = (
    Move(None, Action.OPEN, S.AWAITING_SELLER, CUSTOMER | AGENT),
    Move(S.AWAITING_SELLER, Action.APPROVE, _after_approval, AGENT, effects.approve),
    Move(S.AWAITING_SELLER, Action.REJECT, S.REJECTED, AGENT, effects.reject),
    Move(S.AWAITING_SELLER, Action.CANCEL, S.CLOSED, CUSTOMER, effects.cancel),
    Move(
        S.AWAITING_SELLER, Action.AUTO_APPROVE, _after_auto_approval, SYSTEM, effects.auto_approve
    ),
    Move(S.REJECTED, Action.MODIFY, S.AWAITING_SELLER, CUSTOMER, effects.modify),
    Move(S.REJECTED, Action.CANCEL, S.CLOSED, CUSTOMER, effects.cancel),
    Move(S.REJECTED, Action.AUTO_CLOSE, S.CLOSED, SYSTEM),
    Move(S.AWAITING_RETURN, Action.SHIP_RETURN, S.RETURN_IN_TRANSIT, CUSTOMER, effects.ship_return),
    Move(S.AWAITING_RETURN, Action.CANCEL, S.CLOSED, CUSTOMER, effects.cancel),
    Move(S.AWAITING_RETURN, Action.AUTO_CLOSE, S.CLOSED, SYSTEM),
    Move(S.RETURN_IN_TRANSIT, Action.RECEIVE, S.INSPECTING, AGENT, effects.receive),
    Move(
        S.RETURN_IN_TRANSIT,
        Action.AUTO_REFUND,
        S.REFUNDED,
        SYSTEM,
        effects.auto_refund,
        writes_elsewhere=True,
    ),
    Move(S.INSPECTING, Action.INSPECT, S.REFUND_PENDING, AGENT, effects.inspect),
    Move(S.INSPECTING, Action.ESCALATE, S.INSPECTING, SYSTEM, effects.escalate),
    Move(S.REFUND_PENDING, Action.REFUND, S.REFUNDED, FINANCE, effects.refund),
    Move(S.REFUND_PENDING, Action.ESCALATE, S.REFUND_PENDING, SYSTEM, effects.escalate),
)

MOVE_INDEX: dict[tuple[str | None, str], Move] = {(m.source, m.action): m for m in MOVES}
ACTIONS_BY_STATE: dict[str, tuple[Move, ...]] = {
    state: tuple(m for m in MOVES if m.source == state) for state in S.values
}
USER_ACTIONS = frozenset(m.action for m in MOVES if m.roles != SYSTEM)


def seller_response_timeout(case) -> str:
    return "seller_response_shipped" if case.order.is_shipped else "seller_response_unshipped"


def _refund_duty_anchor(case):
    # The legal duty runs from receipt of the goods; for a refund without a return, from approval.
    return case.received_at or case.approved_at


@dataclass(frozen=True)
class StateDeadline:
    timeout: str | Callable[..., str]
    action: str
    anchor: Callable[..., object] | None = None  # default: the moment the state is entered

    def timeout_name(self, case) -> str:
        return self.timeout(case) if callable(self.timeout) else self.timeout


STATE_DEADLINES: dict[str, StateDeadline] = {
    S.AWAITING_SELLER: StateDeadline(seller_response_timeout, DeadlineAction.AUTO_APPROVE),
    S.REJECTED: StateDeadline("buyer_reaction_after_reject", DeadlineAction.AUTO_CLOSE),
    S.AWAITING_RETURN: StateDeadline("buyer_return_shipment", DeadlineAction.AUTO_CLOSE),
    S.RETURN_IN_TRANSIT: StateDeadline("seller_receipt", DeadlineAction.AUTO_REFUND),
    S.INSPECTING: StateDeadline("refund_duty", DeadlineAction.ESCALATE, _refund_duty_anchor),
    S.REFUND_PENDING: StateDeadline("refund_duty", DeadlineAction.ESCALATE, _refund_duty_anchor),
}


def available_actions(case, role: str) -> list[str]:
    return [m.action for m in ACTIONS_BY_STATE.get(case.state, ()) if role in m.roles]
