"""The moves of a repair (维修 / 保修): the diagnosis with 三包's entitlements and, out of warranty,
a quote the customer accepts or declines; the quote's reminder and expiry (never a silent
cancellation: the goods come back unrepaired, with a notice); the goods shipped back with the
paper invoice that came with them and the repair's costs."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aftersales.cases.choices import (
    CaseKind,
    CaseState,
    DeadlineAction,
    DiagnosedBy,
    QuoteDecision,
    WarrantyEntitlement,
)
from aftersales.cases.models import Case
from aftersales.cases.moves.common import (
    Carrier,
    Note,
    ShippingCost,
    TrackingNumber,
    labelled,
    required_text,
    respond,
    text,
)
from aftersales.catalog.invoices import invoice_document_issue
from aftersales.catalog.models import InvoiceDocument, InvoiceKind, ServiceCenter
from aftersales.core.errors import Ineligible, InvalidInput
from aftersales.core.lifecycle import ActionInput, Context
from aftersales.core.money import ZERO
from aftersales.core.schemas import Amount, BodyBool, WholeId
from aftersales.policy import rules as policy_rules

# --- diagnosis ---------------------------------------------------------------------------------


class DiagnoseIn(ActionInput):
    diagnosed_by: labelled(DiagnosedBy, gettext_noop("Diagnosed by"))
    service_center_id: labelled(
        WholeId | None, gettext_noop("Service center"), widget="service_center"
    ) = None
    fault_code: required_text(100, gettext_noop("Fault"))
    note: text(2000, gettext_noop("Diagnosis"), widget="textarea") = ""
    repairable: labelled(BodyBool, gettext_noop("Can be repaired")) = True
    quote_parts: labelled(Amount | None, gettext_noop("Quote: parts")) = None
    quote_labour: labelled(Amount | None, gettext_noop("Quote: labour")) = None


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


def diagnose(case, ctx: Context) -> None:
    """Record who diagnosed the goods, the fault, whether it can be repaired, and, out of
    warranty, the quote that goes to the customer."""
    data = ctx.input
    center = None
    if data.diagnosed_by != DiagnosedBy.SHOP:
        center = (
            ServiceCenter.objects.filter(shop_id=case.shop_id, pk=data.service_center_id).first()
            if data.service_center_id is not None
            else None
        )
        if center is None:
            raise Ineligible(
                _("Name one of the shop's service centers or suppliers."),
                code="service_center_required",
                field="service_center_id",
            )
    status = warranty_status(case, data.fault_code, ctx.now)
    quote = ZERO
    parts, labour = data.quote_parts or ZERO, data.quote_labour or ZERO
    if data.repairable and not status["under_warranty"]:
        quote = parts + labour
        if quote <= 0:
            raise InvalidInput(
                _("Out of warranty the customer needs a quote (%(parts)s, %(labour)s).")
                % {"parts": _("Quote: parts"), "labour": _("Quote: labour")},
                code="quote_required",
                field="quote_parts",
            )
    elif parts or labour:
        raise InvalidInput(
            _("A repair under warranty costs the customer nothing; leave the quote out."),
            code="quote_not_allowed",
            field="quote_parts",
        )
    case.diagnosed_by, case.service_center = data.diagnosed_by, center
    case.fault_code, case.diagnosis_note = data.fault_code, data.note
    case.diagnosed_at = ctx.now
    case.repairable = data.repairable
    case.under_warranty = status["under_warranty"]
    case.warranty_entitlement = status["entitlement"]
    case.quote_amount = quote
    if quote:
        case.quoted_at = ctx.now
        ctx.notices.append("case_quoted")
    respond(case, ctx)
    ctx.event_data.update(
        diagnosed_by=data.diagnosed_by,
        fault_code=data.fault_code,
        repairable=case.repairable,
        under_warranty=status["under_warranty"],
        warranty_days=status["warranty_days"],
        days_since_signing=status["days_since_signing"],
        failed_repairs=status["failed_repairs"],
        entitlement=status["entitlement"],
    )
    if center is not None:
        ctx.event_data.update(service_center=center.name, service_center_id=center.id)
    if data.note:
        ctx.event_data["note"] = data.note
    if quote:
        ctx.event_data.update(quote_parts=str(parts), quote_labour=str(labour), quote=str(quote))
    ctx.notices.append("case_diagnosed")


# --- the quote ---------------------------------------------------------------------------------


class AcceptQuoteIn(ActionInput):
    payment_reference: text(200, gettext_noop("Payment reference")) = ""


class DeclineQuoteIn(ActionInput):
    reason: text(2000, gettext_noop("Reason"), widget="textarea") = ""


def accept_quote(case, ctx: Context) -> None:
    case.quote_decision = QuoteDecision.ACCEPTED
    if ctx.input.payment_reference:
        case.payment_reference = ctx.input.payment_reference
        ctx.event_data["payment_reference"] = ctx.input.payment_reference
    ctx.event_data["quote"] = str(case.quote_amount)


def decline_quote(case, ctx: Context) -> None:
    case.quote_decision = QuoteDecision.DECLINED
    if ctx.input.reason:
        ctx.event_data["reason"] = ctx.input.reason


def remind_quote(case, ctx: Context) -> None:
    """The quote's first deadline: remind the customer, and start the last one (on expiry the
    goods go back unrepaired, with a notice; never a silent cancellation)."""
    case.quote_reminded_at = ctx.now
    quoted = case.quoted_at or ctx.now
    expiry = ctx.lifecycle.deadline_after(
        case, quoted, policy_rules.timeout(case.policy, "quote_response")
    )
    case.deadline_at = max(expiry, ctx.now + dt.timedelta(hours=1))
    case.deadline_action = DeadlineAction.AUTO_DECLINE
    ctx.event_data["expires_at"] = case.deadline_at.isoformat()
    ctx.notices.append("quote_reminder")


def expire_quote(case, ctx: Context) -> None:
    case.quote_decision = QuoteDecision.EXPIRED
    ctx.event_data["quote"] = str(case.quote_amount)
    ctx.notices.append("quote_expired")


# --- back to the customer ----------------------------------------------------------------------


class ShipBackIn(ActionInput):
    carrier: Carrier
    tracking_number: TrackingNumber
    parts_cost: labelled(Amount | None, gettext_noop("Parts cost")) = None
    labour_cost: labelled(Amount | None, gettext_noop("Labour cost")) = None
    shipping_cost: ShippingCost = None
    note: Note = ""


def ship_back(case, ctx: Context) -> None:
    """Send the goods back, repaired or not, with the paper invoice if it came with them; record
    the repair's parts and labour costs and what the parcel cost the shop, for the cost
    reports."""
    data = ctx.input
    case.repaired = case.state == CaseState.REPAIRING
    case.outbound_carrier, case.outbound_tracking_number = data.carrier, data.tracking_number
    case.outbound_shipped_at = ctx.now
    if data.parts_cost is not None:
        case.parts_cost = data.parts_cost
    if data.labour_cost is not None:
        case.labour_cost = data.labour_cost
    if data.shipping_cost is not None:
        case.outbound_shipping_cost = data.shipping_cost
        ctx.event_data["shipping_cost"] = str(data.shipping_cost)
    ctx.event_data.update(
        carrier=data.carrier,
        tracking_number=data.tracking_number,
        repaired=case.repaired,
        parts_cost=str(case.parts_cost),
        labour_cost=str(case.labour_cost),
    )
    if data.note:
        ctx.event_data["note"] = data.note
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
    ctx.notices.append("goods_shipped_back")


def repair_deadline(case) -> dt.timedelta | None:
    """The service center's turnaround, when one does the repair; else the policy's."""
    if case.service_center_id and case.service_center.turnaround_days:
        return dt.timedelta(days=case.service_center.turnaround_days)
    return None
