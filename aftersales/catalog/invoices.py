"""Invoices: recorded with their order, reversed by credit notes (红冲) when money goes back,
endorsed (背书) for an exchange, and followed when the paper travels with goods for repair."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from decimal import Decimal

from aftersales.catalog.models import InvoiceDocument, InvoiceKind, Order
from aftersales.core import batch

_INVOICES = "catalog.order_invoices"


def invoice_record(
    *, order: Order, number: str, amount: Decimal, issued_at: dt.datetime, title: str = ""
) -> None:
    """Create or update the order's invoice (one per order)."""
    InvoiceDocument.objects.update_or_create(
        order=order,
        kind=InvoiceKind.INVOICE,
        defaults={
            "shop_id": order.shop_id,
            "number": number,
            "amount": amount,
            "issued_at": issued_at,
            "title": title,
        },
    )


PREFIXES = {
    InvoiceKind.CREDIT_NOTE: "CN",
    InvoiceKind.ENDORSEMENT: "EN",
    InvoiceKind.INVOICE_RECEIVED: "IR",
    InvoiceKind.INVOICE_RETURNED: "IB",
}


def _order_invoice(case) -> InvoiceDocument | None:
    known = (batch.memo() or {}).get(_INVOICES, {})
    if case.order_id in known:
        return known[case.order_id]
    return InvoiceDocument.objects.filter(order_id=case.order_id, kind=InvoiceKind.INVOICE).first()


def invoices_prepare(order_ids) -> None:
    """In a sweep's batch: read the invoices of these orders at once (one query), for the batch's
    credit notes to find instead of one query each."""
    memo = batch.memo()
    if memo is None:
        return
    known = memo.setdefault(_INVOICES, {})
    order_ids = set(order_ids) - known.keys()
    if not order_ids:
        return
    found = dict.fromkeys(order_ids)
    for invoice in InvoiceDocument.objects.filter(
        order_id__in=order_ids, kind=InvoiceKind.INVOICE
    ).order_by("-id"):
        found[invoice.order_id] = invoice  # the first by id, as ``first()`` finds it
    known.update(found)


def invoice_document_issue(
    *, case, kind: str, amount: Decimal, now: dt.datetime, note: str = ""
) -> InvoiceDocument | None:
    """A document on the order's invoice for a case (credit note, endorsement, the paper invoice
    received with goods for repair or returned with them); ``None`` when the order has no
    invoice. Numbered ``<prefix><shop's local date><id>``. Call inside the case's transaction."""
    invoice = _order_invoice(case)
    if invoice is None:
        return None
    document = InvoiceDocument.objects.create(
        shop_id=case.shop_id,
        order_id=case.order_id,
        case=case,
        kind=kind,
        number=f"~{uuid.uuid4().hex[:30]}",  # replaced by the real number once the id exists
        reference=invoice.number,
        title=invoice.title,
        amount=amount,
        note=note[:500],
        issued_at=now,
    )
    day = now.astimezone(zoneinfo.ZoneInfo(case.shop.timezone)).strftime("%Y%m%d")
    document.number = f"{PREFIXES[kind]}{day}{document.id:06d}"
    InvoiceDocument.objects.filter(pk=document.pk).update(number=document.number)
    return document


def credit_note_issue(*, case, amount: Decimal, now: dt.datetime) -> InvoiceDocument | None:
    """Reverse ``amount`` of the order's invoice (红冲); ``None`` when no invoice was issued (then
    there is nothing to reverse). Call inside the refund's transaction."""
    if amount <= 0:
        return None
    return invoice_document_issue(case=case, kind=InvoiceKind.CREDIT_NOTE, amount=-amount, now=now)
