"""The case's table of moves (its lifecycle, run by the kernel in ``core.lifecycle``).

Every allowed ``(state, action)`` with the roles that may take it, how the next state is chosen,
the action's typed input and the effect that does the work, by sub-domain (``cases.moves``);
and, for each waiting state, the policy timeout that starts on entry and what the sweep does when
it runs out. ``services.case_open`` and ``services.case_transition`` take these rows through the
kernel's one gate; the sweep takes the deadline rows through the same code.
"""

from __future__ import annotations

from django.db.models import Prefetch

from aftersales.cases.choices import (
    FINAL_STATES,
    Action,
    CaseKind,
    CaseState,
    DeadlineAction,
)
from aftersales.cases.models import Case, CaseLine
from aftersales.cases.moves import (
    conversion,
    dispute,
    exchange,
    inspection,
    opening,
    platform,
    refund,
    repair,
)
from aftersales.core.actors import SYSTEM_ROLE
from aftersales.core.lifecycle import Lifecycle, Move, NoInput, StateDeadline, register
from aftersales.core.permissions import roles_for
from aftersales.policy import rules as policy_rules

SYSTEM = frozenset({SYSTEM_ROLE})

S = CaseState
A = Action


def who(action: str) -> frozenset[str]:
    """The roles that may take a person's action: its row of the one matrix
    (``core.permissions``), never a list kept here."""
    return roles_for(f"case.{action}")


def _after_approval(case) -> str:
    return S.REFUND_PENDING if case.kind == CaseKind.REFUND_ONLY else S.AWAITING_RETURN


def _after_auto_approval(case) -> str:
    # The platforms refund an unanswered refund-only request at once.
    return S.REFUNDED if case.kind == CaseKind.REFUND_ONLY else S.AWAITING_RETURN


def _after_receipt(case) -> str:
    return S.DIAGNOSING if case.kind == CaseKind.REPAIR else S.INSPECTING


def _after_inspection(case) -> str:
    return S.REPLACEMENT_PENDING if case.kind == CaseKind.EXCHANGE else S.REFUND_PENDING


def _escalation(state: str) -> Move:
    return Move(state, A.ESCALATE, state, SYSTEM, refund.escalate, NoInput)


# Opening, the shop's answer and the way back of the goods (a return, an exchange or a repair).
OPENING_AND_RETURN = (
    Move(None, A.OPEN, S.AWAITING_SELLER, who(A.OPEN), opening.open_case, opening.OpenIn),
    Move(
        S.AWAITING_SELLER,
        A.APPROVE,
        _after_approval,
        who(A.APPROVE),
        refund.approve,
        refund.ApproveIn,
    ),
    Move(S.AWAITING_SELLER, A.REJECT, S.REJECTED, who(A.REJECT), refund.reject, refund.RejectIn),
    Move(S.AWAITING_SELLER, A.CANCEL, S.CLOSED, who(A.CANCEL), refund.cancel, refund.CancelIn),
    Move(
        S.AWAITING_SELLER,
        A.AUTO_APPROVE,
        _after_auto_approval,
        SYSTEM,
        refund.auto_approve,
        NoInput,
    ),
    Move(S.REJECTED, A.MODIFY, S.AWAITING_SELLER, who(A.MODIFY), refund.modify, refund.ModifyIn),
    Move(S.REJECTED, A.CANCEL, S.CLOSED, who(A.CANCEL), refund.cancel, refund.CancelIn),
    Move(S.REJECTED, A.AUTO_CLOSE, S.CLOSED, SYSTEM, None, NoInput),
    Move(
        S.AWAITING_RETURN,
        A.SHIP_RETURN,
        S.RETURN_IN_TRANSIT,
        who(A.SHIP_RETURN),
        refund.ship_return,
        refund.ShipReturnIn,
    ),
    Move(S.AWAITING_RETURN, A.CANCEL, S.CLOSED, who(A.CANCEL), refund.cancel, refund.CancelIn),
    Move(S.AWAITING_RETURN, A.AUTO_CLOSE, S.CLOSED, SYSTEM, None, NoInput),
    Move(
        S.RETURN_IN_TRANSIT,
        A.RECEIVE,
        _after_receipt,
        who(A.RECEIVE),
        refund.receive,
        refund.ReceiveIn,
    ),
    Move(S.RETURN_IN_TRANSIT, A.AUTO_REFUND, S.REFUNDED, SYSTEM, refund.auto_refund, NoInput),
    _escalation(S.RETURN_IN_TRANSIT),
)

# Inspection and the refund.
REFUND = (
    Move(
        S.INSPECTING, A.INSPECT, _after_inspection, who(A.INSPECT), refund.inspect, refund.InspectIn
    ),
    _escalation(S.INSPECTING),
    Move(S.REFUND_PENDING, A.REFUND, S.REFUNDED, who(A.REFUND), refund.refund, refund.RefundIn),
    _escalation(S.REFUND_PENDING),
)

# Exchange: ship the replacement (or offer something else), then the customer's receipt.
EXCHANGE = (
    Move(
        S.REPLACEMENT_PENDING,
        A.SHIP_REPLACEMENT,
        S.SHIPPED_TO_CUSTOMER,
        who(A.SHIP_REPLACEMENT),
        exchange.ship_replacement,
        exchange.ShipReplacementIn,
    ),
    Move(
        S.REPLACEMENT_PENDING,
        A.OFFER,
        S.REPLACEMENT_PENDING,
        who(A.OFFER),
        exchange.offer,
        exchange.OfferIn,
    ),
    _escalation(S.REPLACEMENT_PENDING),
    Move(
        S.SHIPPED_TO_CUSTOMER,
        A.CONFIRM_RECEIPT,
        S.COMPLETED,
        who(A.CONFIRM_RECEIPT),
        exchange.confirm_receipt,
        NoInput,
    ),
    Move(
        S.SHIPPED_TO_CUSTOMER, A.AUTO_CONFIRM, S.COMPLETED, SYSTEM, exchange.auto_confirm, NoInput
    ),
)

# Repair: diagnosis, quote, repair, back to the customer.
REPAIR = (
    Move(
        S.DIAGNOSING,
        A.DIAGNOSE,
        repair.after_diagnosis,
        who(A.DIAGNOSE),
        repair.diagnose,
        repair.DiagnoseIn,
    ),
    _escalation(S.DIAGNOSING),
    Move(
        S.QUOTE_PENDING,
        A.ACCEPT_QUOTE,
        S.REPAIRING,
        who(A.ACCEPT_QUOTE),
        repair.accept_quote,
        repair.AcceptQuoteIn,
    ),
    Move(
        S.QUOTE_PENDING,
        A.DECLINE_QUOTE,
        S.RETURN_UNREPAIRED,
        who(A.DECLINE_QUOTE),
        repair.decline_quote,
        repair.DeclineQuoteIn,
    ),
    Move(S.QUOTE_PENDING, A.REMIND, S.QUOTE_PENDING, SYSTEM, repair.remind_quote, NoInput),
    Move(
        S.QUOTE_PENDING, A.AUTO_DECLINE, S.RETURN_UNREPAIRED, SYSTEM, repair.expire_quote, NoInput
    ),
    Move(
        S.REPAIRING,
        A.SHIP_BACK,
        S.SHIPPED_TO_CUSTOMER,
        who(A.SHIP_BACK),
        repair.ship_back,
        repair.ShipBackIn,
    ),
    _escalation(S.REPAIRING),
    Move(
        S.RETURN_UNREPAIRED,
        A.SHIP_BACK,
        S.SHIPPED_TO_CUSTOMER,
        who(A.SHIP_BACK),
        repair.ship_back,
        repair.ShipBackIn,
    ),
    _escalation(S.RETURN_UNREPAIRED),
)

# Changing the resolution after inspection or diagnosis.
CONVERSION = tuple(
    Move(
        state,
        A.CONVERT,
        conversion.after_conversion,
        who(A.CONVERT),
        conversion.convert,
        conversion.ConvertIn,
    )
    for state in (S.REFUND_PENDING, S.REPLACEMENT_PENDING, S.DIAGNOSING, S.REPAIRING)
)

# A platform dispute about the case (``aftersales.disputes`` takes these, as the system): its
# deadline paused while the dispute runs and resumed after, or the refund the platform decided.
DISPUTE = tuple(
    move
    for state in CaseState
    for move in (
        *(
            ()
            if state in FINAL_STATES
            else (
                Move(state, A.DISPUTE_PAUSE, state, SYSTEM, dispute.pause, NoInput),
                Move(state, A.DISPUTE_RESUME, state, SYSTEM, dispute.resume, NoInput),
            )
        ),
        Move(state, A.DISPUTE_REFUND, dispute.after_refund, SYSTEM, dispute.refund, NoInput),
    )
)

# The platform's inspection center (``aftersales.inspections`` takes these, as the system): the
# deadline paused while the goods are at the center, and the center's verdict on them (recorded
# on an ended case too: a counterfeit claim may be proven after the case closed).
INSPECTION = tuple(
    move
    for state in CaseState
    for move in (
        *(
            ()
            if state in FINAL_STATES
            else (
                Move(state, A.INSPECTION_PAUSE, state, SYSTEM, inspection.pause, NoInput),
                Move(state, A.INSPECTION_RESUME, state, SYSTEM, inspection.resume, NoInput),
            )
        ),
        Move(state, A.CENTER_VERDICT, state, SYSTEM, inspection.record_verdict, NoInput),
    )
)

# A marketplace's request (``aftersales.connectors`` takes these, as the system): what the
# platform changed, its customer service stepping in and out, and its clock's deadlines.
PLATFORM = tuple(
    move
    for state in CaseState
    if state not in FINAL_STATES
    for move in (
        Move(state, A.PLATFORM_UPDATE, platform.next_state, SYSTEM, platform.update, NoInput),
        Move(state, A.PLATFORM_PAUSE, state, SYSTEM, platform.pause, NoInput),
        Move(state, A.PLATFORM_RESUME, state, SYSTEM, platform.resume, NoInput),
        Move(state, A.PLATFORM_DUE, state, SYSTEM, platform.due, NoInput),
        Move(state, A.PLATFORM_AUTO, state, SYSTEM, platform.auto, NoInput),
    )
)

MOVES = (
    OPENING_AND_RETURN + REFUND + EXCHANGE + REPAIR + CONVERSION + DISPUTE + INSPECTION + PLATFORM
)


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


DEADLINES: dict[str, StateDeadline] = {
    S.AWAITING_SELLER: StateDeadline(seller_response_timeout, DeadlineAction.AUTO_APPROVE),
    S.REJECTED: StateDeadline("buyer_reaction_after_reject", DeadlineAction.AUTO_CLOSE),
    S.AWAITING_RETURN: StateDeadline("buyer_return_shipment", DeadlineAction.AUTO_CLOSE),
    S.RETURN_IN_TRANSIT: StateDeadline("seller_receipt", _receipt_action),
    S.INSPECTING: StateDeadline("refund_duty", DeadlineAction.ESCALATE, _refund_duty_anchor),
    S.REFUND_PENDING: StateDeadline("refund_duty", DeadlineAction.ESCALATE, _refund_duty_anchor),
    S.REPLACEMENT_PENDING: StateDeadline("seller_replacement_shipment", DeadlineAction.ESCALATE),
    S.DIAGNOSING: StateDeadline("diagnosis", DeadlineAction.ESCALATE),
    # First a reminder; the reminder starts the expiry (``moves.repair.remind_quote``).
    S.QUOTE_PENDING: StateDeadline("quote_reminder", DeadlineAction.REMIND),
    S.REPAIRING: StateDeadline("repair", DeadlineAction.ESCALATE, duration=repair.repair_deadline),
    S.RETURN_UNREPAIRED: StateDeadline("seller_ship_back", DeadlineAction.ESCALATE),
    S.SHIPPED_TO_CUSTOMER: StateDeadline("buyer_confirm_receipt", DeadlineAction.AUTO_CONFIRM),
}


CASES = register(
    Lifecycle(
        subject_type="case",
        model=Case,
        moves=MOVES,
        deadlines=DEADLINES,
        final_states=FINAL_STATES,
        timeout=lambda case, name: policy_rules.timeout(case.policy, name),
        related=("order__shop", "policy", "shop", "customer", "service_center"),
        # Effects read the lines with their SKU and product (approving spreads amounts over them,
        # refunding pays them, an exchange ships their variants, a repair reads their warranty).
        prefetch=(
            Prefetch(
                "lines",
                queryset=CaseLine.objects.select_related("order_line__sku__product").order_by("id"),
            ),
        ),
        # A sweep's batch locks the order lines of its refunds at once and reads their ledger,
        # invoices and the shops' return addresses once (``moves.refund``).
        batch_prepare=refund.deadline_batch_prepare,
        state_label=lambda state: str(CaseState(state).label),
        action_label=lambda action: str(Action(action).label),
        entry_notices={S.CLOSED: ("case_closed",)},
        escalate_action=A.ESCALATE,
        escalate_notice="case_escalated",
        sla_kind=lambda case: case.kind,
        sla_priority=lambda case: case.priority,
        # A marketplace's case keeps the earlier of the shop's deadline and the platform's.
        deadline_hook=platform.deadline,
    )
)

USER_ACTIONS = frozenset(m.action for m in MOVES if m.roles != SYSTEM and m.source is not None)


def available_actions(case, role: str) -> list[str]:
    return CASES.available(case, role)
