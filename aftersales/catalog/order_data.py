"""What an order upsert carries, and the rules one order keeps on its own (no database)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from aftersales.catalog.models import OrderStatus, ProductFlag
from aftersales.catalog.services import check_language, check_stock
from aftersales.core.errors import InvalidInput
from aftersales.core.money import ZERO, money

# The choices as sets, made once: a Django enum's ``values`` builds a new list at each use, and
# an import checks every order and line.
STATUSES = frozenset(OrderStatus.values)
PRODUCT_FLAGS = frozenset(ProductFlag.values)

# What the amount columns hold (12 digits, 2 of them decimals); an order's total must fit too.
LARGEST_AMOUNT = Decimal("9999999999.99")


@dataclass
class CustomerData:
    external_id: str
    name: str = ""
    phone: str = ""
    email: str = ""
    language: str | None = None  # None: a new customer gets the default, a known one keeps theirs


@dataclass
class LineData:
    external_id: str
    sku: str
    title: str
    quantity: int
    unit_price: Decimal
    paid_amount: Decimal
    product_flags: list[str] | None = None
    product: str | None = None
    category: str | None = None
    warranty_days: int | None = None
    stock: int | None = None  # the SKU's stock now; None leaves it as it is


@dataclass
class ShipmentData:
    carrier: str
    tracking_number: str


@dataclass
class InvoiceData:
    number: str
    amount: Decimal
    issued_at: dt.datetime
    title: str = ""


@dataclass
class OrderData:
    shop: str
    external_id: str
    customer: CustomerData
    lines: list[LineData]
    paid_at: dt.datetime | None = None
    shipped_at: dt.datetime | None = None
    signed_at: dt.datetime | None = None
    shipping_fee: Decimal = ZERO
    status: str | None = None
    shipments: list[ShipmentData] = field(default_factory=list)
    invoice: InvoiceData | None = None


def order_data_from(raw: dict) -> OrderData:
    """Build ``OrderData`` from a validated ``OrderIn`` dump (API and importer share this)."""
    return OrderData(
        shop=raw["shop"],
        external_id=raw["external_id"],
        customer=CustomerData(**raw["customer"]),
        lines=[LineData(**line) for line in raw["lines"]],
        paid_at=raw["paid_at"],
        shipped_at=raw["shipped_at"],
        signed_at=raw["signed_at"],
        shipping_fee=raw["shipping_fee"],
        status=raw["status"],
        shipments=[ShipmentData(**s) for s in raw.get("shipments") or []],
        invoice=InvoiceData(**raw["invoice"]) if raw.get("invoice") else None,
    )


def derive_status(data: OrderData) -> str:
    if data.status:
        return data.status
    if data.signed_at:
        return OrderStatus.SIGNED
    if data.shipped_at:
        return OrderStatus.SHIPPED
    if data.paid_at:
        return OrderStatus.PAID
    return OrderStatus.UNPAID


def check_order_data(data: OrderData) -> None:
    """The rules one order must keep on its own (no database needed)."""
    if not data.lines:
        raise InvalidInput(_("An order needs at least one line."), code="lines_required")
    if data.status and data.status not in STATUSES:
        raise InvalidInput(
            _("Unknown order status %(s)s.") % {"s": data.status}, code="invalid_status"
        )
    if data.customer.language is not None:
        check_language(data.customer.language)
    moments = [m for m in (data.paid_at, data.shipped_at, data.signed_at) if m is not None]
    invoiced_at = [data.invoice.issued_at] if data.invoice is not None else []
    if any(m.tzinfo is None for m in [*moments, *invoiced_at]):
        raise InvalidInput(
            _("Times need a time zone offset, e.g. 2026-11-11T10:00:00+08:00."),
            code="naive_datetime",
        )
    if (
        moments != sorted(moments)
        or (data.signed_at and not data.shipped_at)
        or (data.shipped_at and not data.paid_at)
    ):
        raise InvalidInput(
            _("An order is paid, then shipped, then signed for; the times given disagree."),
            code="invalid_order_dates",
        )
    if money(data.shipping_fee) < 0:
        raise InvalidInput(_("Amounts cannot be negative."), code="invalid_amount")
    seen = set()
    for line in data.lines:
        if line.external_id in seen:
            raise InvalidInput(
                _("Line %(id)s appears twice.") % {"id": line.external_id}, code="duplicate_line"
            )
        seen.add(line.external_id)
        if line.quantity < 1:
            raise InvalidInput(_("Quantities start at 1."), code="invalid_quantity")
        if money(line.unit_price) < 0 or money(line.paid_amount) < 0:
            raise InvalidInput(_("Amounts cannot be negative."), code="invalid_amount")
        if line.stock is not None:
            check_stock(line.stock)
        unknown = set(line.product_flags or []) - PRODUCT_FLAGS
        if unknown:
            raise InvalidInput(
                _("Unknown product flags: %(flags)s.") % {"flags": ", ".join(sorted(unknown))},
                code="invalid_product_flag",
            )
