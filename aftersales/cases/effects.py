"""What each move of the state table does besides changing the state.

Effects run inside ``case_transition``'s transaction, with the case row locked. They validate the
action's fields, change the case, and put what the timeline should remember in ``ctx.event_data``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from aftersales.cases import eligibility, ledger
from aftersales.cases import policy as policy_rules
from aftersales.cases.choices import (
    DISPUTED_CONDITIONS,
    KINDS_WITH_GOODS,
    REASON_FAULT,
    Authenticity,
    CaseKind,
    Condition,
    InspectionResult,
    Reason,
    ShippingPayer,
    field_label,
)
from aftersales.catalog.invoices import credit_note_issue, invoice_document_issue
from aftersales.catalog.models import InvoiceKind, ReturnAddress
from aftersales.core.errors import Ineligible, InvalidInput
from aftersales.core.money import ZERO, money, split_proportionally
from aftersales.team.principal import Principal


@dataclass
class TransitionContext:
    actor: Principal
    data: dict[str, Any]
    now: dt.datetime
    event_data: dict[str, Any] = field(default_factory=dict)
    notifications: list[str] = field(default_factory=list)


def _text(ctx: TransitionContext, name: str, *, required: bool, limit: int = 2000) -> str:
    value = ctx.data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidInput(
                _("%(field)s is required for this action.") % {"field": field_label(name)},
                code=f"{name}_required",
                field=name,
            )
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidInput(
            _("%(field)s must be text of at most %(limit)s characters.")
            % {"field": field_label(name), "limit": limit},
            code="invalid_input",
            field=name,
        )
    return value.strip()


def one_of(name: str, choices) -> str:
    """The refusal of a value outside ``choices`` (a ``TextChoices`` or its members), in words."""
    return _("%(field)s must be one of: %(choices)s.") % {
        "field": field_label(name),
        "choices": " / ".join(str(choice.label) for choice in choices),
    }


def _amount(ctx: TransitionContext, name: str) -> Decimal | None:
    value = ctx.data.get(name)
    if value is None or value == "":
        return None
    try:
        amount = money(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidInput(
            _("%(field)s must be an amount such as 12.50.") % {"field": field_label(name)},
            code="invalid_amount",
            field=name,
        ) from None
    if amount < 0:
        raise InvalidInput(_("Amounts cannot be negative."), code="invalid_amount", field=name)
    return amount


def _spread(case, total: Decimal, attribute: str, weights_from: str) -> None:
    lines = list(case.lines.all())
    shares = split_proportionally(total, [getattr(line, weights_from) for line in lines])
    for line, share in zip(lines, shares, strict=True):
        setattr(line, attribute, share)
        line.save(update_fields=[attribute])


def _respond(case, ctx: TransitionContext) -> None:
    if case.first_response_at is None and not ctx.actor.is_system:
        case.first_response_at = ctx.now


def _grant_approval(case, ctx: TransitionContext, *, address: ReturnAddress | None) -> None:
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
    _spread(case, case.approved_amount, "approved_amount", "requested_amount")
    if case.kind in KINDS_WITH_GOODS:
        case.return_address = address
        ctx.event_data["return_address_id"] = address.id
    ctx.event_data["approved_amount"] = str(case.approved_amount)
    if deduction:
        ctx.event_data["shipping_deduction"] = str(deduction)


def _default_address(case) -> ReturnAddress | None:
    return ReturnAddress.objects.filter(shop_id=case.shop_id, is_default=True).first()


def approve(case, ctx: TransitionContext) -> None:
    address = None
    if case.kind in KINDS_WITH_GOODS:
        address_id = ctx.data.get("return_address_id")
        if address_id is None:
            address = _default_address(case)
        else:
            address = ReturnAddress.objects.filter(shop_id=case.shop_id, pk=address_id).first()
            if address is None:
                raise Ineligible(
                    _("Return address %(id)s is not one of this shop's.") % {"id": address_id},
                    code="return_address_not_found",
                )
    _respond(case, ctx)
    _grant_approval(case, ctx, address=address)
    ctx.notifications.append("case_approved")


def auto_approve(case, ctx: TransitionContext) -> None:
    _grant_approval(case, ctx, address=_default_address(case))
    if case.kind == CaseKind.REFUND_ONLY:
        _pay(case, ctx, f"auto:{case.number}")
    ctx.notifications.append("case_auto_approved")


def reject(case, ctx: TransitionContext) -> None:
    case.reject_reason = _text(ctx, "reason", required=True)
    _respond(case, ctx)
    ctx.event_data["reason"] = case.reject_reason
    ctx.notifications.append("case_rejected")


def cancel(case, ctx: TransitionContext) -> None:
    reason = _text(ctx, "reason", required=False)
    if reason:
        ctx.event_data["reason"] = reason


def modify(case, ctx: TransitionContext) -> None:
    reason = ctx.data.get("reason") or case.reason
    if reason not in Reason.values:
        raise InvalidInput(
            _("Unknown reason %(reason)s.") % {"reason": reason}, code="invalid_reason"
        )
    description = _text(ctx, "description", required=False, limit=5000)
    amount = _amount(ctx, "amount")
    order_lines = ledger.lock_order_lines(line.order_line_id for line in case.lines.all())
    eligibility.check_kind_and_reason(
        kind=case.kind,
        reason=reason,
        order=case.order,
        order_lines=list(order_lines.values()),
        policy=case.policy,
        now=ctx.now,
    )
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
    if description:
        case.description = description
        ctx.event_data["description"] = description
    case.reject_reason = ""


def ship_return(case, ctx: TransitionContext) -> None:
    case.return_carrier = _text(ctx, "carrier", required=True, limit=100)
    case.return_tracking_number = _text(ctx, "tracking_number", required=True, limit=100)
    case.return_shipped_at = ctx.now
    ctx.event_data.update(carrier=case.return_carrier, tracking_number=case.return_tracking_number)


def _line_entries(case, ctx: TransitionContext) -> dict[int, dict]:
    """The action's per-line entries, keyed by order line id, each naming a line of the case."""
    raw = ctx.data.get("lines") or []
    case_lines = {line.order_line_id for line in case.lines.all()}
    entries: dict[int, dict] = {}
    for item in raw:
        order_line_id = item.get("order_line_id")
        if order_line_id not in case_lines:
            raise InvalidInput(
                _("Line %(id)s is not part of this case.") % {"id": order_line_id},
                code="line_not_in_case",
            )
        if order_line_id in entries:
            raise InvalidInput(
                _("Order line %(id)s is listed twice.") % {"id": order_line_id},
                code="duplicate_line",
            )
        entries[order_line_id] = item
    return entries


def _flag(case, reason: str) -> None:
    case.dispute_flag = True
    reasons = [r for r in case.dispute_reason.split(",") if r]
    if reason not in reasons:
        case.dispute_reason = ",".join([*reasons, reason])


def receive(case, ctx: TransitionContext) -> None:
    """The parcel is at the desk. Quantities per line default to what was expected; fewer units
    than expected flag the case (``short_delivery``) and count towards the suggested deduction."""
    entries = _line_entries(case, ctx)
    received, short = {}, {}
    for line in case.lines.all():
        quantity = entries.get(line.order_line_id, {}).get("quantity", line.quantity)
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
        _flag(case, "short_delivery")
        ctx.event_data["short"] = short
    note = _text(ctx, "note", required=False)
    if note:
        ctx.event_data["note"] = note
    if case.kind == CaseKind.REPAIR and ctx.data.get("invoice_enclosed"):
        _invoice_received(case, ctx)


def _invoice_received(case, ctx: TransitionContext) -> None:
    """A repair's parcel held the paper invoice: record it, so it goes back with the goods."""
    document = invoice_document_issue(
        case=case,
        kind=InvoiceKind.INVOICE_RECEIVED,
        amount=ZERO,
        now=ctx.now,
        note=_("Original invoice received with the goods of %(number)s") % {"number": case.number},
    )
    if document is not None:
        ctx.event_data["invoice_received"] = document.number


def _line_deductions(case) -> dict[int, Decimal]:
    """Per case line: the full share of units that never arrived, plus the policy's percent of
    the share of those that did, by their condition."""
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


def inspect(case, ctx: TransitionContext) -> None:
    """Grade each line (condition, disposition, note); the grades and any shortfall suggest a
    deduction from the policy's table. The agent may deduct otherwise, with a reason."""
    entries = _line_entries(case, ctx)
    for line in case.lines.all():
        entry = entries.get(line.order_line_id)
        if entry is None:
            continue
        line.condition = entry.get("condition") or line.condition
        line.disposition = entry.get("disposition") or line.disposition
        line.inspection_note = (entry.get("note") or line.inspection_note)[:2000]
        line.save(update_fields=["condition", "disposition", "inspection_note"])
        if line.condition in DISPUTED_CONDITIONS:
            _flag(case, line.condition)
    per_line = _line_deductions(case)
    suggested = sum(per_line.values(), ZERO)
    case.suggested_deduction = suggested
    result = ctx.data.get("result")
    if result is None and entries:
        result = InspectionResult.DEDUCT if suggested else InspectionResult.PASS
    if result not in InspectionResult.values:
        raise InvalidInput(
            one_of("result", InspectionResult), code="invalid_inspection_result", field="result"
        )
    authenticity = ctx.data.get("authenticity")
    if authenticity is not None and authenticity not in Authenticity.values:
        raise InvalidInput(
            one_of("authenticity", Authenticity), code="invalid_authenticity", field="authenticity"
        )
    deduction = _amount(ctx, "deduction")
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
    note = _text(ctx, "reason", required=deduction != suggested)
    case.inspection_result = result
    case.inspection_note = note
    case.inspection_deduction = deduction
    if authenticity is not None:
        case.authenticity_verdict = Authenticity(authenticity).value
        ctx.event_data["authenticity"] = case.authenticity_verdict
    if deduction:
        if deduction == suggested:  # each line carries its own deduction
            for line in case.lines.all():
                line.approved_amount -= per_line[line.id]
                line.save(update_fields=["approved_amount"])
            case.approved_amount -= deduction
        else:
            case.approved_amount -= deduction
            _spread(case, case.approved_amount, "approved_amount", "approved_amount")
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
    if case.dispute_flag:
        ctx.event_data["dispute"] = case.dispute_reason
    if note:
        ctx.event_data["reason"] = note


def _pay(case, ctx: TransitionContext, key: str) -> None:
    ctx.event_data["idempotency_key"] = key
    paid = ledger.refund_post(case=case, idempotency_key=key, now=ctx.now)
    ctx.event_data["refunded"] = str(paid)
    note = credit_note_issue(case=case, amount=paid, now=ctx.now)
    if note is not None:
        ctx.event_data["credit_note"] = note.number
    ctx.notifications.append("case_refunded")


def refund(case, ctx: TransitionContext) -> None:
    key = _text(ctx, "idempotency_key", required=True, limit=200)
    _pay(case, ctx, key)


def auto_refund(case, ctx: TransitionContext) -> None:
    if case.approved_amount == ZERO and case.requested_amount > 0:
        case.approved_amount = case.requested_amount
    _pay(case, ctx, f"auto:{case.number}")


def escalate(case, ctx: TransitionContext) -> None:
    case.escalated_at = ctx.now
    ctx.event_data["overdue_since"] = case.deadline_at.isoformat() if case.deadline_at else None
    ctx.notifications.append("case_escalated")
