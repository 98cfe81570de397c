"""Effects of the moves that end a case other than by a refund: exchange, repair and warranty,
and converting a case from one resolution to another.

Like ``effects``, these run inside ``case_transition`` with the case row locked, check everything
before their first write, and leave what the timeline should remember in ``ctx.event_data``.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from decimal import Decimal, InvalidOperation

from django.db.models import F
from django.utils.translation import gettext as _

from aftersales.cases import ledger
from aftersales.cases import policy as policy_rules
from aftersales.cases.choices import (
    CONVERSIONS,
    CaseKind,
    CaseState,
    DeadlineAction,
    DiagnosedBy,
    QuoteDecision,
    WarrantyEntitlement,
    field_label,
)
from aftersales.cases.effects import TransitionContext, _amount, _respond, _text, one_of
from aftersales.cases.models import Case
from aftersales.catalog.invoices import credit_note_issue, invoice_document_issue
from aftersales.catalog.models import InvoiceDocument, InvoiceKind, ServiceCenter, Sku
from aftersales.core.errors import Conflict, Ineligible, InvalidInput
from aftersales.core.money import ZERO, money, split_proportionally

# --- changing the resolution ------------------------------------------------------------------

CONVERSION_TARGETS = (CaseKind.RETURN_REFUND, CaseKind.EXCHANGE, CaseKind.REPAIR)
STATE_AFTER_CONVERSION = {
    CaseKind.RETURN_REFUND: CaseState.REFUND_PENDING,
    CaseKind.EXCHANGE: CaseState.REPLACEMENT_PENDING,
    CaseKind.REPAIR: CaseState.DIAGNOSING,
}


def after_conversion(case) -> str:
    return STATE_AFTER_CONVERSION[case.kind]


def convert(case, ctx: TransitionContext) -> None:
    """Change the case's kind after inspection or diagnosis. The number, the lines, the
    approved amounts and the ledger stay as they are; the next state is the new kind's."""
    target = ctx.data.get("kind")
    if target is None:
        raise InvalidInput(
            _("%(field)s is required for this action.") % {"field": field_label("kind")},
            code="kind_required",
            field="kind",
        )
    if target not in CaseKind.values:
        raise InvalidInput(one_of("kind", CONVERSION_TARGETS), code="invalid_kind", field="kind")
    states = CONVERSIONS.get((case.kind, target))
    if states is None or case.state not in states:
        raise Conflict(
            _("A %(from)s case cannot become %(to)s while it is “%(state)s”.")
            % {
                "from": CaseKind(case.kind).label,
                "to": CaseKind(target).label,
                "state": CaseState(case.state).label,
            },
            code="conversion_not_allowed",
            state=case.state,
        )
    reason = _text(ctx, "reason", required=True)
    ctx.event_data.update(from_kind=case.kind, to_kind=target, reason=reason)
    if not case.converted_from:
        case.converted_from = case.kind
    case.kind = target
    _respond(case, ctx)
    ctx.notifications.append("case_converted")


# --- exchange -----------------------------------------------------------------------------------


def _signed_amount(ctx: TransitionContext, name: str) -> Decimal:
    value = ctx.data.get(name)
    if value is None or value == "":
        return ZERO
    try:
        return money(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidInput(
            _("%(field)s must be an amount such as -12.50.") % {"field": field_label(name)},
            code="invalid_amount",
            field=name,
        ) from None


def _replacement_skus(case, ctx: TransitionContext) -> dict[int, Sku]:
    """Per case line: the SKU to ship, locked. Another variant of the same product may replace
    the line's own (``lines[].sku``, or ``sku`` for a one-line case); nothing else may."""
    lines = list(case.lines.all())
    wanted: dict[int, str | None] = {}
    entries = {item.get("order_line_id"): item for item in ctx.data.get("lines") or []}
    for line in lines:
        code = (entries.get(line.order_line_id) or {}).get("sku")
        wanted[line.id] = code or None
    if ctx.data.get("sku"):
        if len(lines) > 1:
            raise InvalidInput(
                _("This case has several lines; name the replacement SKU per line."),
                code="replacement_sku_per_line",
                field="sku",
            )
        wanted[lines[0].id] = ctx.data["sku"]
    own = {line.id: line.order_line.sku for line in lines}
    codes = {code for code in wanted.values() if code}
    by_code = {
        sku.code: sku
        for sku in Sku.objects.filter(shop_id=case.shop_id, code__in=codes).select_related(
            "product"
        )
    }
    chosen: dict[int, Sku] = {}
    for line in lines:
        code = wanted[line.id]
        sku = own[line.id] if code is None else by_code.get(code)
        if sku is None:
            raise Ineligible(
                _("No SKU %(code)s in this shop.") % {"code": code},
                code="replacement_sku_not_found",
            )
        if sku.product_id != own[line.id].product_id:
            raise Ineligible(
                _("%(code)s is not a variant of %(product)s; convert the case instead.")
                % {"code": sku.code, "product": own[line.id].product.name},
                code="replacement_not_same_product",
            )
        chosen[line.id] = sku
    # Lock the stock rows in id order (no deadlock between two exchanges).
    locked = {
        sku.id: sku
        for sku in Sku.objects.select_for_update()
        .filter(id__in={sku.id for sku in chosen.values()})
        .order_by("id")
    }
    return {line_id: locked[sku.id] for line_id, sku in chosen.items()}


def ship_replacement(case, ctx: TransitionContext) -> None:
    """Ship the replacement: stock checked and taken, any price difference charged (paid by the
    customer, with its payment reference) or refunded through the ledger, the invoice endorsed."""
    carrier = _text(ctx, "carrier", required=True, limit=100)
    tracking = _text(ctx, "tracking_number", required=True, limit=100)
    difference = _signed_amount(ctx, "price_difference")
    discount = _amount(ctx, "discount") or ZERO
    lines = list(case.lines.all())
    skus = _replacement_skus(case, ctx)
    needed: dict[int, int] = defaultdict(int)
    for line in lines:
        needed[skus[line.id].id] += line.quantity
    for sku_id, quantity in needed.items():
        sku = next(s for s in skus.values() if s.id == sku_id)
        if sku.stock < quantity:
            raise Conflict(
                _(
                    "%(code)s is out of stock (%(stock)s left, %(needed)s needed): offer another "
                    "variant or a discount, or convert the case to a refund."
                )
                % {"code": sku.code, "stock": max(sku.stock, 0), "needed": quantity},
                code="replacement_out_of_stock",
                sku=sku.code,
                stock=max(sku.stock, 0),
            )
    net = difference - discount  # > 0: the customer pays; < 0: the shop refunds
    reference = _text(ctx, "payment_reference", required=net > 0, limit=200)
    refund = -net if net < 0 else ZERO
    refundable = sum((line.approved_amount - line.refunded_amount for line in lines), ZERO)
    if refund > refundable:
        raise Ineligible(
            _("At most %(amount)s can go back to the customer on this case.")
            % {"amount": refundable},
            code="amount_exceeds_refundable",
            refundable_amount=str(refundable),
        )
    # Every check is done: write (the SKU rows are locked).
    for sku_id, quantity in needed.items():
        Sku.objects.filter(pk=sku_id).update(stock=F("stock") - quantity)
    replaced = {}
    for line in lines:
        line.replacement_sku = skus[line.id]
        line.save(update_fields=["replacement_sku"])
        replaced[str(line.order_line_id)] = skus[line.id].code
    case.outbound_carrier, case.outbound_tracking_number = carrier, tracking
    case.outbound_shipped_at = ctx.now
    case.price_difference = difference
    case.payment_reference = reference
    ctx.event_data.update(carrier=carrier, tracking_number=tracking, replacement=replaced)
    if difference:
        ctx.event_data["price_difference"] = str(difference)
    if discount:
        ctx.event_data["discount"] = str(discount)
    if reference:
        ctx.event_data["payment_reference"] = reference
    if refund:
        shares = split_proportionally(
            refund, [line.approved_amount - line.refunded_amount for line in lines]
        )
        key = f"exchange:{case.number}"
        paid = ledger.refund_post(
            case=case,
            idempotency_key=key,
            now=ctx.now,
            amounts={line.id: share for line, share in zip(lines, shares, strict=True)},
        )
        ctx.event_data.update(idempotency_key=key, refunded=str(paid))
        note = credit_note_issue(case=case, amount=paid, now=ctx.now)
        if note is not None:
            ctx.event_data["credit_note"] = note.number
    items = ", ".join(
        f"{line.order_line.sku.code} → {skus[line.id].code} × {line.quantity}" for line in lines
    )
    endorsement = invoice_document_issue(
        case=case,
        kind=InvoiceKind.ENDORSEMENT,
        amount=net,
        now=ctx.now,
        note=_("Exchange %(number)s: %(items)s") % {"number": case.number, "items": items},
    )
    if endorsement is not None:
        ctx.event_data["endorsement"] = endorsement.number
    ctx.notifications.append("replacement_shipped")


def offer(case, ctx: TransitionContext) -> None:
    """Tell the customer what the shop can do instead (another variant, a discount) while the
    replacement is out of stock; the offer is on the timeline and reaches the customer."""
    note = _text(ctx, "note", required=True)
    ctx.event_data["note"] = note
    code = ctx.data.get("sku")
    if code:
        sku = Sku.objects.filter(shop_id=case.shop_id, code=code).first()
        if sku is None:
            raise Ineligible(
                _("No SKU %(code)s in this shop.") % {"code": code},
                code="replacement_sku_not_found",
            )
        ctx.event_data.update(sku=sku.code, stock=max(sku.stock, 0))
    discount = _amount(ctx, "discount")
    if discount:
        ctx.event_data["discount"] = str(discount)
    _respond(case, ctx)
    ctx.notifications.append("case_offer")


def confirm_receipt(case, ctx: TransitionContext) -> None:
    case.confirmed_at = ctx.now
    ctx.notifications.append("case_completed")


def auto_confirm(case, ctx: TransitionContext) -> None:
    case.confirmed_at = ctx.now
    ctx.event_data["shipped_at"] = (
        case.outbound_shipped_at.isoformat() if case.outbound_shipped_at else None
    )
    ctx.notifications.append("case_completed")


# --- repair and warranty -----------------------------------------------------------------------


def _days_since_signing(case, now: dt.datetime) -> int | None:
    order = case.order
    signed = order.signed_at or order.shipped_at
    if signed is None:
        return None
    zone = zoneinfo.ZoneInfo(case.shop.timezone)
    return (now.astimezone(zone).date() - signed.astimezone(zone).date()).days


def _failed_repairs(case, fault_code: str) -> int:
    """Earlier repairs of the same fault on the same goods that were shipped back as repaired:
    the fault came back, so each of them failed."""
    return (
        Case.objects.filter(
            kind=CaseKind.REPAIR,
            state=CaseState.COMPLETED,
            repaired=True,
            fault_code=fault_code,
            lines__order_line_id__in=[line.order_line_id for line in case.lines.all()],
        )
        .exclude(pk=case.pk)
        .distinct()
        .count()
    )


def warranty_status(case, fault_code: str, now: dt.datetime) -> dict:
    """Whether the repair is free, and what 三包 grants besides (return, exchange, or a
    replacement or return once repairs of this fault have failed often enough)."""
    rules = policy_rules.warranty_rules(case.policy)
    days = _days_since_signing(case, now)
    warranty_days = min(line.order_line.sku.product.warranty_days for line in case.lines.all())
    under = days is not None and warranty_days > 0 and days <= warranty_days
    failed = _failed_repairs(case, fault_code)
    if days is not None and days <= rules["return_days"]:
        entitlement = WarrantyEntitlement.RETURN
    elif days is not None and days <= rules["exchange_days"]:
        entitlement = WarrantyEntitlement.EXCHANGE
    elif under and failed >= rules["failed_repairs"]:
        entitlement = WarrantyEntitlement.REPLACE_OR_RETURN
    else:
        entitlement = WarrantyEntitlement.NONE
    return {
        "under_warranty": under,
        "warranty_days": warranty_days,
        "days_since_signing": days,
        "failed_repairs": failed,
        "entitlement": entitlement,
    }


def after_diagnosis(case) -> str:
    if not case.repairable:
        return CaseState.DIAGNOSING  # the agent converts the case (return or exchange)
    return CaseState.REPAIRING if case.under_warranty else CaseState.QUOTE_PENDING


def diagnose(case, ctx: TransitionContext) -> None:
    """Record who diagnosed the goods, the fault, whether it can be repaired, and, out of
    warranty, the quote that goes to the customer."""
    by = ctx.data.get("diagnosed_by")
    if by not in DiagnosedBy.values:
        raise InvalidInput(
            one_of("diagnosed_by", DiagnosedBy),
            code="diagnosed_by_required",
            field="diagnosed_by",
        )
    center = None
    if by != DiagnosedBy.SHOP:
        center_id = ctx.data.get("service_center_id")
        center = (
            ServiceCenter.objects.filter(shop_id=case.shop_id, pk=center_id).first()
            if center_id is not None
            else None
        )
        if center is None:
            raise Ineligible(
                _("Name one of the shop's service centers or suppliers."),
                code="service_center_required",
                field="service_center_id",
            )
    fault_code = _text(ctx, "fault_code", required=True, limit=100)
    note = _text(ctx, "note", required=False)
    repairable = ctx.data.get("repairable", True)
    status = warranty_status(case, fault_code, ctx.now)
    quote = ZERO
    parts, labour = _amount(ctx, "quote_parts") or ZERO, _amount(ctx, "quote_labour") or ZERO
    if repairable and not status["under_warranty"]:
        quote = parts + labour
        if quote <= 0:
            raise InvalidInput(
                _("Out of warranty the customer needs a quote (%(parts)s, %(labour)s).")
                % {"parts": field_label("quote_parts"), "labour": field_label("quote_labour")},
                code="quote_required",
                field="quote_parts",
            )
    elif parts or labour:
        raise InvalidInput(
            _("A repair under warranty costs the customer nothing; leave the quote out."),
            code="quote_not_allowed",
            field="quote_parts",
        )
    case.diagnosed_by, case.service_center = by, center
    case.fault_code, case.diagnosis_note = fault_code, note
    case.diagnosed_at = ctx.now
    case.repairable = bool(repairable)
    case.under_warranty = status["under_warranty"]
    case.warranty_entitlement = status["entitlement"]
    case.quote_amount = quote
    if quote:
        case.quoted_at = ctx.now
        ctx.notifications.append("case_quoted")
    _respond(case, ctx)
    ctx.event_data.update(
        diagnosed_by=by,
        fault_code=fault_code,
        repairable=case.repairable,
        under_warranty=status["under_warranty"],
        warranty_days=status["warranty_days"],
        days_since_signing=status["days_since_signing"],
        failed_repairs=status["failed_repairs"],
        entitlement=status["entitlement"],
    )
    if center is not None:
        ctx.event_data.update(service_center=center.name, service_center_id=center.id)
    if note:
        ctx.event_data["note"] = note
    if quote:
        ctx.event_data.update(quote_parts=str(parts), quote_labour=str(labour), quote=str(quote))
    ctx.notifications.append("case_diagnosed")


def accept_quote(case, ctx: TransitionContext) -> None:
    case.quote_decision = QuoteDecision.ACCEPTED
    reference = _text(ctx, "payment_reference", required=False, limit=200)
    if reference:
        case.payment_reference = reference
        ctx.event_data["payment_reference"] = reference
    ctx.event_data["quote"] = str(case.quote_amount)


def decline_quote(case, ctx: TransitionContext) -> None:
    case.quote_decision = QuoteDecision.DECLINED
    reason = _text(ctx, "reason", required=False)
    if reason:
        ctx.event_data["reason"] = reason


def remind_quote(case, ctx: TransitionContext) -> None:
    """The quote's first deadline: remind the customer, and start the last one (on expiry the
    goods go back unrepaired, with a notice; never a silent cancellation)."""
    case.quote_reminded_at = ctx.now
    quoted = case.quoted_at or ctx.now
    case.deadline_at = max(
        quoted + policy_rules.timeout(case.policy, "quote_response"),
        ctx.now + dt.timedelta(hours=1),
    )
    case.deadline_action = DeadlineAction.AUTO_DECLINE
    ctx.event_data["expires_at"] = case.deadline_at.isoformat()
    ctx.notifications.append("quote_reminder")


def expire_quote(case, ctx: TransitionContext) -> None:
    case.quote_decision = QuoteDecision.EXPIRED
    ctx.event_data["quote"] = str(case.quote_amount)
    ctx.notifications.append("quote_expired")


def ship_back(case, ctx: TransitionContext) -> None:
    """Send the goods back, repaired or not, with the paper invoice if it came with them; record
    the repair's parts and labour costs for the cost reports."""
    carrier = _text(ctx, "carrier", required=True, limit=100)
    tracking = _text(ctx, "tracking_number", required=True, limit=100)
    parts, labour = _amount(ctx, "parts_cost"), _amount(ctx, "labour_cost")
    note = _text(ctx, "note", required=False)
    case.repaired = case.state == CaseState.REPAIRING
    case.outbound_carrier, case.outbound_tracking_number = carrier, tracking
    case.outbound_shipped_at = ctx.now
    if parts is not None:
        case.parts_cost = parts
    if labour is not None:
        case.labour_cost = labour
    ctx.event_data.update(
        carrier=carrier,
        tracking_number=tracking,
        repaired=case.repaired,
        parts_cost=str(case.parts_cost),
        labour_cost=str(case.labour_cost),
    )
    if note:
        ctx.event_data["note"] = note
    travelled = InvoiceDocument.objects.filter(
        case=case, kind=InvoiceKind.INVOICE_RECEIVED
    ).exists()
    if travelled:
        back = invoice_document_issue(
            case=case,
            kind=InvoiceKind.INVOICE_RETURNED,
            amount=ZERO,
            now=ctx.now,
            note=_("Original invoice returned with the goods of %(number)s")
            % {"number": case.number},
        )
        if back is not None:
            ctx.event_data["invoice_returned"] = back.number
    ctx.notifications.append("goods_shipped_back")


def repair_deadline(case) -> dt.timedelta | None:
    """The service center's turnaround, when one does the repair; else the policy's."""
    if case.service_center_id and case.service_center.turnaround_days:
        return dt.timedelta(days=case.service_center.turnaround_days)
    return None
