"""The moves of an exchange (换货): the replacement shipped (stock checked and taken, the price
difference charged or refunded through the ledger, the invoice endorsed), an offer while it is
out of stock, and the customer's receipt (or the clock's)."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aftersales.cases import ledger
from aftersales.cases.moves.common import (
    Carrier,
    ReplacementLine,
    ShippingCost,
    TrackingNumber,
    labelled,
    line_entries,
    lines_of,
    required_text,
    respond,
    text,
)
from aftersales.catalog.invoices import credit_note_issue, invoice_document_issue
from aftersales.catalog.models import InvoiceKind, Sku
from aftersales.core.errors import Conflict, Ineligible, InvalidInput
from aftersales.core.lifecycle import ActionInput, Context
from aftersales.core.money import ZERO, split_proportionally
from aftersales.core.schemas import Amount, SignedAmount


class ShipReplacementIn(ActionInput):
    carrier: Carrier
    tracking_number: TrackingNumber
    # A one-line case may name its replacement here; several lines name theirs per line.
    sku: text(100, gettext_noop("Replacement"), widget="hidden") = ""
    lines: lines_of(ReplacementLine) = []
    price_difference: labelled(
        SignedAmount | None, gettext_noop("Price difference (negative: refunded)")
    ) = None
    discount: labelled(Amount | None, gettext_noop("Discount")) = None
    payment_reference: text(200, gettext_noop("Payment reference of the difference")) = ""
    shipping_cost: ShippingCost = None


def _replacement_skus(case, data: ShipReplacementIn) -> dict[int, Sku]:
    """Per case line: the SKU to ship, locked. Another variant of the same product may replace
    the line's own (``lines[].sku``, or ``sku`` for a one-line case); nothing else may."""
    lines = list(case.lines.all())
    entries = line_entries(case, data.lines)
    wanted: dict[int, str | None] = {
        line.id: (entries[line.order_line_id].sku if line.order_line_id in entries else "") or None
        for line in lines
    }
    if data.sku:
        if len(lines) > 1:
            raise InvalidInput(
                _("This case has several lines; name the replacement SKU per line."),
                code="replacement_sku_per_line",
                field="sku",
            )
        wanted[lines[0].id] = data.sku
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


def ship_replacement(case, ctx: Context) -> None:
    """Ship the replacement: stock checked and taken, any price difference charged (paid by the
    customer, with its payment reference) or refunded through the ledger, the invoice endorsed;
    what the parcel cost the shop is kept for the cost reports."""
    data = ctx.input
    difference = data.price_difference or ZERO
    discount = data.discount or ZERO
    lines = list(case.lines.all())
    skus = _replacement_skus(case, data)
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
    if net > 0 and not data.payment_reference:
        raise InvalidInput(
            _("%(field)s is required for this action.")
            % {"field": _("Payment reference of the difference")},
            code="payment_reference_required",
            field="payment_reference",
        )
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
    case.outbound_carrier, case.outbound_tracking_number = data.carrier, data.tracking_number
    case.outbound_shipped_at = ctx.now
    case.price_difference = difference
    case.payment_reference = data.payment_reference
    ctx.event_data.update(
        carrier=data.carrier, tracking_number=data.tracking_number, replacement=replaced
    )
    if difference:
        ctx.event_data["price_difference"] = str(difference)
    if discount:
        ctx.event_data["discount"] = str(discount)
    if data.payment_reference:
        ctx.event_data["payment_reference"] = data.payment_reference
    if data.shipping_cost is not None:
        case.outbound_shipping_cost = data.shipping_cost
        ctx.event_data["shipping_cost"] = str(data.shipping_cost)
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
    ctx.notices.append("replacement_shipped")


class OfferIn(ActionInput):
    note: required_text(2000, gettext_noop("Offer to the customer"), widget="textarea")
    sku: text(100, gettext_noop("Another variant"), widget="variant") = ""
    discount: labelled(Amount | None, gettext_noop("Discount")) = None


def offer(case, ctx: Context) -> None:
    """Tell the customer what the shop can do instead (another variant, a discount) while the
    replacement is out of stock; the offer is on the timeline and reaches the customer."""
    data = ctx.input
    ctx.event_data["note"] = data.note
    if data.sku:
        sku = Sku.objects.filter(shop_id=case.shop_id, code=data.sku).first()
        if sku is None:
            raise Ineligible(
                _("No SKU %(code)s in this shop.") % {"code": data.sku},
                code="replacement_sku_not_found",
                field="sku",
            )
        ctx.event_data.update(sku=sku.code, stock=max(sku.stock, 0))
    if data.discount:
        ctx.event_data["discount"] = str(data.discount)
    respond(case, ctx)
    ctx.notices.append("case_offer")


def confirm_receipt(case, ctx: Context) -> None:
    case.confirmed_at = ctx.now
    ctx.notices.append("case_completed")


def auto_confirm(case, ctx: Context) -> None:
    case.confirmed_at = ctx.now
    ctx.event_data["shipped_at"] = (
        case.outbound_shipped_at.isoformat() if case.outbound_shipped_at else None
    )
    ctx.notices.append("case_completed")
