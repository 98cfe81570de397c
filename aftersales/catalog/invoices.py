"""Invoices: recorded with their order, reversed by credit notes (红冲) when money goes back."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from decimal import Decimal

from aftersales.catalog.models import InvoiceDocument, InvoiceKind, Order


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


def credit_note_issue(*, case, amount: Decimal, now: dt.datetime) -> InvoiceDocument | None:
    """Reverse ``amount`` of the order's invoice; ``None`` when no invoice was issued (then there
    is nothing to reverse). Call inside the refund's transaction."""
    invoice = InvoiceDocument.objects.filter(
        order_id=case.order_id, kind=InvoiceKind.INVOICE
    ).first()
    if invoice is None or amount <= 0:
        return None
    note = InvoiceDocument.objects.create(
        shop_id=case.shop_id,
        order_id=case.order_id,
        case=case,
        kind=InvoiceKind.CREDIT_NOTE,
        number=f"~{uuid.uuid4().hex[:30]}",  # replaced by the real number once the id exists
        reference=invoice.number,
        title=invoice.title,
        amount=-amount,
        issued_at=now,
    )
    day = now.astimezone(zoneinfo.ZoneInfo(case.shop.timezone)).strftime("%Y%m%d")
    note.number = f"CN{day}{note.id:06d}"
    InvoiceDocument.objects.filter(pk=note.pk).update(number=note.number)
    return note
