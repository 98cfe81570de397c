"""The case's state machine as ONE table (django-oscar's pipeline, Saleor's actions).

``MOVES`` lists every allowed ``(state, action)`` pair with the roles that may take it, how the
next state is chosen, and the effect that does the work. ``STATE_DEADLINES`` says, for each waiting
state, which policy timeout starts on entry and what the worker does when it runs out.
``services.case_transition`` is the only code that reads this table to change a case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aftersales.cases import effects, resolutions
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


def _after_receipt(case) -> str:
    return S.DIAGNOSING if case.kind == CaseKind.REPAIR else S.INSPECTING


def _after_inspection(case) -> str:
    return S.REPLACEMENT_PENDING if case.kind == CaseKind.EXCHANGE else S.REFUND_PENDING


def _converted(case) -> str:
    return resolutions.after_conversion(case)


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
    Move(S.RETURN_IN_TRANSIT, Action.RECEIVE, _after_receipt, AGENT, effects.receive),
    Move(
        S.RETURN_IN_TRANSIT,
        Action.AUTO_REFUND,
        S.REFUNDED,
        SYSTEM,
        effects.auto_refund,
        writes_elsewhere=True,
    ),
    Move(S.RETURN_IN_TRANSIT, Action.ESCALATE, S.RETURN_IN_TRANSIT, SYSTEM, effects.escalate),
    Move(S.INSPECTING, Action.INSPECT, _after_inspection, AGENT, effects.inspect),
    Move(S.INSPECTING, Action.ESCALATE, S.INSPECTING, SYSTEM, effects.escalate),
    Move(S.REFUND_PENDING, Action.REFUND, S.REFUNDED, FINANCE, effects.refund),
    Move(S.REFUND_PENDING, Action.CONVERT, _converted, AGENT, resolutions.convert),
    Move(S.REFUND_PENDING, Action.ESCALATE, S.REFUND_PENDING, SYSTEM, effects.escalate),
    # Exchange: ship the replacement (or offer something else, or convert to a refund).
    Move(
        S.REPLACEMENT_PENDING,
        Action.SHIP_REPLACEMENT,
        S.SHIPPED_TO_CUSTOMER,
        AGENT,
        resolutions.ship_replacement,
    ),
    Move(S.REPLACEMENT_PENDING, Action.OFFER, S.REPLACEMENT_PENDING, AGENT, resolutions.offer),
    Move(S.REPLACEMENT_PENDING, Action.CONVERT, _converted, AGENT, resolutions.convert),
    Move(S.REPLACEMENT_PENDING, Action.ESCALATE, S.REPLACEMENT_PENDING, SYSTEM, effects.escalate),
    # Repair: diagnosis, quote, repair, back to the customer.
    Move(S.DIAGNOSING, Action.DIAGNOSE, resolutions.after_diagnosis, AGENT, resolutions.diagnose),
    Move(S.DIAGNOSING, Action.CONVERT, _converted, AGENT, resolutions.convert),
    Move(S.DIAGNOSING, Action.ESCALATE, S.DIAGNOSING, SYSTEM, effects.escalate),
    Move(S.QUOTE_PENDING, Action.ACCEPT_QUOTE, S.REPAIRING, CUSTOMER, resolutions.accept_quote),
    Move(
        S.QUOTE_PENDING,
        Action.DECLINE_QUOTE,
        S.RETURN_UNREPAIRED,
        CUSTOMER,
        resolutions.decline_quote,
    ),
    Move(S.QUOTE_PENDING, Action.REMIND, S.QUOTE_PENDING, SYSTEM, resolutions.remind_quote),
    Move(
        S.QUOTE_PENDING, Action.AUTO_DECLINE, S.RETURN_UNREPAIRED, SYSTEM, resolutions.expire_quote
    ),
    Move(S.REPAIRING, Action.SHIP_BACK, S.SHIPPED_TO_CUSTOMER, AGENT, resolutions.ship_back),
    Move(S.REPAIRING, Action.CONVERT, _converted, AGENT, resolutions.convert),
    Move(S.REPAIRING, Action.ESCALATE, S.REPAIRING, SYSTEM, effects.escalate),
    Move(
        S.RETURN_UNREPAIRED, Action.SHIP_BACK, S.SHIPPED_TO_CUSTOMER, AGENT, resolutions.ship_back
    ),
    Move(S.RETURN_UNREPAIRED, Action.ESCALATE, S.RETURN_UNREPAIRED, SYSTEM, effects.escalate),
    # Goods on their way to the customer: they confirm, or the policy's timeout does.
    Move(
        S.SHIPPED_TO_CUSTOMER,
        Action.CONFIRM_RECEIPT,
        S.COMPLETED,
        CUSTOMER,
        resolutions.confirm_receipt,
    ),
    Move(S.SHIPPED_TO_CUSTOMER, Action.AUTO_CONFIRM, S.COMPLETED, SYSTEM, resolutions.auto_confirm),
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


def _receipt_action(case) -> str:
    # An unconfirmed return is refunded; goods sent for an exchange or a repair go to a person.
    if case.kind == CaseKind.RETURN_REFUND:
        return DeadlineAction.AUTO_REFUND
    return DeadlineAction.ESCALATE


@dataclass(frozen=True)
class StateDeadline:
    timeout: str | Callable[..., str]
    action: str | Callable[..., str]
    anchor: Callable[..., object] | None = None  # default: the moment the state is entered
    # A duration that replaces the policy's timeout for this case (a service center's turnaround).
    duration: Callable[..., object] | None = None

    def timeout_name(self, case) -> str:
        return self.timeout(case) if callable(self.timeout) else self.timeout

    def action_for(self, case) -> str:
        return self.action(case) if callable(self.action) else self.action


STATE_DEADLINES: dict[str, StateDeadline] = {
    S.AWAITING_SELLER: StateDeadline(seller_response_timeout, DeadlineAction.AUTO_APPROVE),
    S.REJECTED: StateDeadline("buyer_reaction_after_reject", DeadlineAction.AUTO_CLOSE),
    S.AWAITING_RETURN: StateDeadline("buyer_return_shipment", DeadlineAction.AUTO_CLOSE),
    S.RETURN_IN_TRANSIT: StateDeadline("seller_receipt", _receipt_action),
    S.INSPECTING: StateDeadline("refund_duty", DeadlineAction.ESCALATE, _refund_duty_anchor),
    S.REFUND_PENDING: StateDeadline("refund_duty", DeadlineAction.ESCALATE, _refund_duty_anchor),
    S.REPLACEMENT_PENDING: StateDeadline("seller_replacement_shipment", DeadlineAction.ESCALATE),
    S.DIAGNOSING: StateDeadline("diagnosis", DeadlineAction.ESCALATE),
    # First a reminder; the reminder starts the expiry (``resolutions.remind_quote``).
    S.QUOTE_PENDING: StateDeadline("quote_reminder", DeadlineAction.REMIND),
    S.REPAIRING: StateDeadline(
        "repair", DeadlineAction.ESCALATE, duration=resolutions.repair_deadline
    ),
    S.RETURN_UNREPAIRED: StateDeadline("seller_ship_back", DeadlineAction.ESCALATE),
    S.SHIPPED_TO_CUSTOMER: StateDeadline("buyer_confirm_receipt", DeadlineAction.AUTO_CONFIRM),
}


def available_actions(case, role: str) -> list[str]:
    return [m.action for m in ACTIONS_BY_STATE.get(case.state, ()) if role in m.roles]
