"""The moves of a refund and of a return's way back: approval or rejection, the customer's
cancellation or changed application, the parcel back to the shop, receiving, inspection, the
refund, and the clock's own moves (auto-approval, auto-refund, escalation).

Each effect runs inside the gate's transaction with the case row locked, checks everything
before its first write, and leaves what the timeline should remember in ``ctx.event_data``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aftersales.cases import eligibility, ledger
from aftersales.cases.choices import (
    DISPUTED_CONDITIONS,
    KINDS_WITH_GOODS,
    REASON_FAULT,
    Authenticity,
    CaseKind,
    DeadlineAction,
    Disposition,
    InspectionResult,
    Reason,
)
from aftersales.cases.moves.common import (
    Carrier,
    GradedLine,
    Note,
    ReceivedLine,
    TrackingNumber,
    labelled,
    line_entries,
    lines_of,
    pay,
    required_text,
    respond,
    signal_dispute,
    spread,
    text,
)
from aftersales.catalog.invoices import invoice_document_issue, invoices_prepare
from aftersales.catalog.models import InvoiceKind, ReturnAddress
from aftersales.core import batch
from aftersales.core.errors import Ineligible, InvalidInput
from aftersales.core.lifecycle import ActionInput, Context
from aftersales.core.money import ZERO, money, split_proportionally
from aftersales.core.schemas import Amount, BodyBool, PositiveAmount, WholeId
from aftersales.policy import rules as policy_rules
from aftersales.policy.choices import Condition, ShippingPayer

# --- the shop answers ------------------------------------------------------------------------


class ApproveIn(ActionInput):
    return_address_id: labelled(
        WholeId | None, gettext_noop("Return address"), widget="return_address"
    ) = None


class RejectIn(ActionInput):
    reason: required_text(2000, gettext_noop("Reason (the customer reads it)"), widget="textarea")
    # A marketplace's request is refused with one of the platform's reasons (its code, from the
    # platform's list); the form offers it on a platform's case only.
    platform_reason_code: text(
        40, gettext_noop("The platform's refusal reason (its code)"), widget="platform_reason"
    ) = ""


def _grant_approval(case, ctx: Context, *, address: ReturnAddress | None) -> None:
    # Every check before the first write: a refused approval leaves nothing behind.
    if case.kind in KINDS_WITH_GOODS and address is None:
        raise Ineligible(
            _("The shop has no return address; add one or pick one to approve a return."),
            code="return_address_required",
        )
    case.approved_at = ctx.now
    deduction = ZERO
    if case.kind == CaseKind.RETURN_REFUND and case.return_shipping_payer == ShippingPayer.BUYER:
        deduction = min(policy_rules.buyer_shipping_deduction(case.policy), case.requested_amount)
    case.shipping_deduction = deduction
    case.approved_amount = case.requested_amount - deduction
    spread(case, case.approved_amount, "approved_amount", "requested_amount")
    if case.kind in KINDS_WITH_GOODS:
        case.return_address = address
        ctx.event_data["return_address_id"] = address.id
    ctx.event_data["approved_amount"] = str(case.approved_amount)
    if deduction:
        ctx.event_data["shipping_deduction"] = str(deduction)


_DEFAULT_ADDRESSES = "cases.default_return_addresses"


def _default_address(case) -> ReturnAddress | None:
    known = (batch.memo() or {}).get(_DEFAULT_ADDRESSES, {})
    if case.shop_id in known:
        return known[case.shop_id]
    return ReturnAddress.objects.filter(shop_id=case.shop_id, is_default=True).first()


def approve(case, ctx: Context) -> None:
    address = None
    if case.kind in KINDS_WITH_GOODS:
        address_id = ctx.input.return_address_id
        if address_id is None:
            address = _default_address(case)
        else:
            address = ReturnAddress.objects.filter(shop_id=case.shop_id, pk=address_id).first()
            if address is None:
                raise Ineligible(
                    _("Return address %(id)s is not one of this shop's.") % {"id": address_id},
                    code="return_address_not_found",
                    field="return_address_id",
                )
    respond(case, ctx)
    _grant_approval(case, ctx, address=address)
    ctx.notices.append("case_approved")


def auto_approve(case, ctx: Context) -> None:
    # A refund without a return sends no address: none is looked up.
    address = _default_address(case) if case.kind in KINDS_WITH_GOODS else None
    _grant_approval(case, ctx, address=address)
    if case.kind == CaseKind.REFUND_ONLY:
        pay(case, ctx, f"auto:{case.number}")
    ctx.notices.append("case_auto_approved")


def reject(case, ctx: Context) -> None:
    case.reject_reason = ctx.input.reason
    respond(case, ctx)
    ctx.event_data["reason"] = case.reject_reason
    ctx.notices.append("case_rejected")


# --- the customer answers ------------------------------------------------------------------


class CancelIn(ActionInput):
    reason: text(2000, gettext_noop("Reason"), widget="textarea") = ""


class ModifyIn(ActionInput):
    reason: labelled(Reason | None, gettext_noop("Reason"), widget="keep_reason") = None
    description: text(5000, gettext_noop("Description"), widget="textarea") = ""
    amount: labelled(PositiveAmount | None, gettext_noop("Amount")) = None


def cancel(case, ctx: Context) -> None:
    if ctx.input.reason:
        ctx.event_data["reason"] = ctx.input.reason


def modify(case, ctx: Context) -> None:
    reason = ctx.input.reason or case.reason
    order_lines = ledger.lock_order_lines(line.order_line_id for line in case.lines.all())
    eligibility.check_kind_and_reason(
        kind=case.kind,
        reason=reason,
        order=case.order,
        order_lines=list(order_lines.values()),
        policy=case.policy,
        now=ctx.now,
    )
    amount = ctx.input.amount
    if amount is not None:
        lines = list(case.lines.all())
        shares = split_proportionally(
            amount,
            [
                line.order_line.paid_amount * line.quantity / line.order_line.quantity
                for line in lines
            ],
        )
        requests = [
            eligibility.LineRequest(
                order_line_id=line.order_line_id, quantity=line.quantity, amount=share
            )
            for line, share in zip(lines, shares, strict=True)
        ]
        eligibility.grant_lines(
            order=case.order, requests=requests, locked_lines=order_lines, excluding_case_id=case.id
        )
        for line, share in zip(lines, shares, strict=True):
            line.requested_amount = share
            line.save(update_fields=["requested_amount"])
        case.requested_amount = amount
        ctx.event_data["amount"] = str(amount)
    if reason != case.reason:
        ctx.event_data["reason"] = reason
        case.reason = reason
        case.fault = REASON_FAULT[reason]
        case.return_shipping_payer = policy_rules.shipping_payer(case.policy, case.fault)
    if ctx.input.description:
        case.description = ctx.input.description
        ctx.event_data["description"] = ctx.input.description
    case.reject_reason = ""


class ShipReturnIn(ActionInput):
    carrier: Carrier
    tracking_number: TrackingNumber


def ship_return(case, ctx: Context) -> None:
    case.return_carrier = ctx.input.carrier
    case.return_tracking_number = ctx.input.tracking_number
    case.return_shipped_at = ctx.now
    ctx.event_data.update(carrier=case.return_carrier, tracking_number=case.return_tracking_number)


# --- the goods are back ----------------------------------------------------------------------


class ReceiveIn(ActionInput):
    note: Note = ""
    lines: lines_of(ReceivedLine) = []
    invoice_enclosed: labelled(
        BodyBool, gettext_noop("The paper invoice is in the parcel"), widget="repair_invoice"
    ) = False
    # Only when the shop pays the return shipping (``return_shipping_payer``).
    shipping_cost: labelled(
        Amount | None, gettext_noop("Return shipping cost (paid by the shop)"), widget="shop_pays"
    ) = None


def receive(case, ctx: Context) -> None:
    """The parcel is at the desk. Quantities per line default to what was expected; fewer units
    than expected flag the case (``short_delivery``) and count towards the suggested deduction.
    When the shop pays the return shipping, what the parcel cost it is kept for the cost
    reports."""
    if ctx.input.shipping_cost and case.return_shipping_payer != ShippingPayer.SELLER:
        raise InvalidInput(
            _("The customer pays the return shipping of this case: the shop has no cost here."),
            code="shipping_cost_not_paid_by_shop",
            field="shipping_cost",
        )
    entries = line_entries(case, ctx.input.lines)
    received, short = {}, {}
    for line in case.lines.all():
        entry = entries.get(line.order_line_id)
        quantity = line.quantity if entry is None or entry.quantity is None else entry.quantity
        if quantity > line.quantity:
            raise InvalidInput(
                _("%(received)s received is more than the %(expected)s expected.")
                % {"received": quantity, "expected": line.quantity},
                code="invalid_quantity",
                field="lines",
            )
        line.received_quantity = quantity
        line.save(update_fields=["received_quantity"])
        received[str(line.order_line_id)] = quantity
        if quantity < line.quantity:
            short[str(line.order_line_id)] = line.quantity - quantity
    case.received_at = ctx.now
    ctx.event_data["received"] = received
    if short:
        signal_dispute(case, "short_delivery")
        ctx.event_data["short"] = short
    if ctx.input.note:
        ctx.event_data["note"] = ctx.input.note
    if ctx.input.shipping_cost is not None:
        case.return_shipping_cost = ctx.input.shipping_cost
        ctx.event_data["shipping_cost"] = str(ctx.input.shipping_cost)
    if case.kind == CaseKind.REPAIR and ctx.input.invoice_enclosed:
        document = invoice_document_issue(
            case=case,
            kind=InvoiceKind.INVOICE_RECEIVED,
            amount=ZERO,
            now=ctx.now,
            note=_("Original invoice received with the goods of %(number)s")
            % {"number": case.number},
        )
        if document is not None:
            ctx.event_data["invoice_received"] = document.number


class InspectIn(ActionInput):
    error_codes: ClassVar[dict[str, str]] = {"result": "invalid_inspection_result"}

    result: labelled(InspectionResult | None, gettext_noop("Result"), widget="suggested_result") = (
        None
    )
    deduction: labelled(Amount | None, gettext_noop("Deduction")) = None
    reason: text(2000, gettext_noop("Reason for a different deduction"), widget="textarea") = ""
    authenticity: labelled(
        Authenticity | None, gettext_noop("Authenticity"), widget="not_checked"
    ) = None
    lines: lines_of(GradedLine) = []


def suggested_deductions(case) -> dict[int, Decimal]:
    """Per case line: the full share of units that never arrived, plus the policy's percent of
    the share of those that did, by their condition (reads the lines as they are in memory, so a
    form can preview grades it has not saved)."""
    deductions = {}
    for line in case.lines.all():
        if line.approved_amount <= 0:
            deductions[line.id] = ZERO
            continue
        received = line.quantity if line.received_quantity is None else line.received_quantity
        percent = policy_rules.deduction_percent(case.policy, line.condition or Condition.INTACT)
        missing_share = line.approved_amount * (line.quantity - received) / line.quantity
        received_share = line.approved_amount * received / line.quantity
        deductions[line.id] = min(
            money(missing_share + received_share * percent / 100), line.approved_amount
        )
    return deductions


def written_off_value(case) -> Decimal:
    """What the shop writes off of the goods it scraps: per scrapped line, the order line's unit
    price × the units received (the product has no cost price, so its selling price is the value
    lost). Restocked and refurbished goods are kept; goods returned to the vendor are credited
    by the vendor: neither is a write-off."""
    return money(
        sum(
            (
                line.order_line.unit_price
                * (line.quantity if line.received_quantity is None else line.received_quantity)
                for line in case.lines.all()
                if line.disposition == Disposition.SCRAP
            ),
            ZERO,
        )
    )


def inspect(case, ctx: Context) -> None:
    """Grade each line (condition, disposition, note); the grades and any shortfall suggest a
    deduction from the policy's table. The agent may deduct otherwise, with a reason; and may
    record whether the goods are genuine (the proof a counterfeit claim needs)."""
    data = ctx.input
    entries = line_entries(case, data.lines)
    for line in case.lines.all():
        entry = entries.get(line.order_line_id)
        if entry is None:
            continue
        line.condition = entry.condition or line.condition
        line.disposition = entry.disposition or line.disposition
        line.inspection_note = entry.note or line.inspection_note
        line.save(update_fields=["condition", "disposition", "inspection_note"])
        if line.condition in DISPUTED_CONDITIONS:
            signal_dispute(case, line.condition)
    per_line = suggested_deductions(case)
    suggested = sum(per_line.values(), ZERO)
    case.suggested_deduction = suggested
    result = data.result
    if result is None and not entries:
        raise InvalidInput(
            _("Choose the result of the inspection, or grade the lines to take the suggestion."),
            code="invalid_inspection_result",
            field="result",
        )
    if result is None:
        result = InspectionResult.DEDUCT if suggested else InspectionResult.PASS
    deduction = data.deduction
    if deduction is None:
        deduction = suggested if result == InspectionResult.DEDUCT else ZERO
    if result == InspectionResult.DEDUCT:
        if deduction <= 0 or deduction > case.approved_amount:
            raise InvalidInput(
                _("A deduction must be more than 0 and at most the approved %(amount)s.")
                % {"amount": case.approved_amount},
                code="invalid_deduction",
                field="deduction",
            )
    elif deduction:
        raise InvalidInput(
            _("A passed inspection takes no deduction."),
            code="invalid_deduction",
            field="deduction",
        )
    # Taking the suggestion needs no words; departing from it does (and so does a deduction
    # without graded lines).
    if deduction != suggested and not data.reason:
        raise InvalidInput(
            _("%(field)s is required for this action.")
            % {"field": _("Reason for a different deduction")},
            code="reason_required",
            field="reason",
        )
    case.inspection_result = result
    case.inspection_note = data.reason
    case.inspection_deduction = deduction
    if data.authenticity is not None:
        case.authenticity_verdict = data.authenticity
        ctx.event_data["authenticity"] = case.authenticity_verdict
    if deduction:
        if deduction == suggested:  # each line carries its own deduction
            for line in case.lines.all():
                line.approved_amount -= per_line[line.id]
                line.save(update_fields=["approved_amount"])
            case.approved_amount -= deduction
        else:
            case.approved_amount -= deduction
            spread(case, case.approved_amount, "approved_amount", "approved_amount")
    ctx.event_data.update(
        result=result,
        deduction=str(deduction),
        suggested_deduction=str(suggested),
        approved_amount=str(case.approved_amount),
    )
    graded = {
        str(line.order_line_id): {"condition": line.condition, "disposition": line.disposition}
        for line in case.lines.all()
        if line.order_line_id in entries
    }
    if graded:
        ctx.event_data["lines"] = graded
    written_off = written_off_value(case)
    if written_off:
        ctx.event_data["written_off"] = str(written_off)
    if case.dispute_signals:
        ctx.event_data["dispute"] = ",".join(case.dispute_signals)
    if data.reason:
        ctx.event_data["reason"] = data.reason


# --- the money ---------------------------------------------------------------------------------


class RefundIn(ActionInput):
    idempotency_key: required_text(200, gettext_noop("Request key"), widget="hidden")


def refund(case, ctx: Context) -> None:
    pay(case, ctx, ctx.input.idempotency_key)


def auto_refund(case, ctx: Context) -> None:
    if case.approved_amount == ZERO and case.requested_amount > 0:
        case.approved_amount = case.requested_amount
    pay(case, ctx, f"auto:{case.number}")


def _pays(case) -> bool:
    action = case.deadline_action
    return action == DeadlineAction.AUTO_REFUND or (
        action == DeadlineAction.AUTO_APPROVE and case.kind == CaseKind.REFUND_ONLY
    )


def deadline_batch_prepare(cases) -> None:
    """What a sweep's batch of automatic approvals and refunds reads, read once for the batch
    (``Lifecycle.batch_prepare``): the order lines of the cases that pay, locked in one query
    with their ledger (``ledger.refunds_prepare``), their orders' invoices (for the credit
    notes), and the default return address of each shop whose returns are approved."""
    memo = batch.memo()
    paying = [case for case in cases if _pays(case)]
    if paying:
        ledger.refunds_prepare(paying)
        invoices_prepare(case.order_id for case in paying)
    shops = {
        case.shop_id
        for case in cases
        if case.deadline_action == DeadlineAction.AUTO_APPROVE and case.kind in KINDS_WITH_GOODS
    }
    if shops and memo is not None:
        known = memo.setdefault(_DEFAULT_ADDRESSES, dict.fromkeys(shops))
        for address in ReturnAddress.objects.filter(shop_id__in=shops, is_default=True):
            known[address.shop_id] = address


def escalate(case, ctx: Context) -> None:
    case.escalated_at = ctx.now
    ctx.event_data["overdue_since"] = case.deadline_at.isoformat() if case.deadline_at else None
    ctx.notices.append("case_escalated")
