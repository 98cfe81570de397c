"""API shapes of the catalog (thin: types and limits only; rules live in services)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated

from ninja import Field
from pydantic import BeforeValidator, StrictInt, WithJsonSchema

from aftersales.catalog.models import (
    CustomerLanguage,
    OrderStatus,
    Platform,
    ProductFlag,
    ServiceCenter,
)
from aftersales.catalog.services import MAX_STOCK
from aftersales.core.schemas import BodyBool, Input, Output, Timestamp

Money = Decimal


def _whole_number(value: object) -> object:
    # JSON Schema counts 2.0 as the integer 2, so the body takes it; booleans, text and
    # fractions stay refused.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def whole_number(low: int, high: int):
    """An integer from ``low`` to ``high`` (the bounds inside, so the document states them even
    when the field may also be null)."""
    return Annotated[StrictInt, Field(ge=low, le=high), BeforeValidator(_whole_number)]


Quantity = whole_number(1, 1_000_000)
TurnaroundDays = whole_number(1, 90)
WarrantyDays = whole_number(0, 36500)
Stock = whole_number(0, MAX_STOCK)

# An amount in a body: text of digits with at most two decimals ("12.50") or a whole number. The
# document says exactly what is taken, so a client built from it never sends "", "1e3" or "-0"
# as text; a JSON fraction (12.5) is still taken, as the API guide promises, though a float is
# not money and the document does not offer it. The cases' bodies declare amounts the same way.
AMOUNT_PATTERN = r"^[0-9]{1,10}(\.[0-9]{1,2})?$"
AMOUNT_TEXT = re.compile(AMOUNT_PATTERN)
LARGEST_WHOLE_AMOUNT = 9_999_999_999  # 12 digits, 2 of them decimals: the columns' size


def _amount_text(value: object) -> object:
    if isinstance(value, bool) or (isinstance(value, str) and not AMOUNT_TEXT.fullmatch(value)):
        raise ValueError("expected an amount such as 12.50 (at most two decimals)")
    return value


# The limits come before the text check in this list so that pydantic's core checks them (after a
# Python validator it would check them in Python, at twice the cost an amount); the text check
# still runs first, as a BeforeValidator always does.
Amount = Annotated[
    Decimal,
    Field(ge=0, max_digits=12, decimal_places=2),
    BeforeValidator(_amount_text),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": AMOUNT_PATTERN},
                {"type": "integer", "minimum": 0, "maximum": LARGEST_WHOLE_AMOUNT},
            ],
            "description": 'An amount of 0 or more with at most two decimals: "12.50".',
        }
    ),
]

# IANA time zone names (Asia/Shanghai, America/Port-au-Prince, Etc/GMT-8); the service also
# checks that the name is a zone this installation knows.
TIMEZONE_PATTERN = r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9][A-Za-z0-9_+-]*)*$"
SHOP_CODE_PATTERN = r"^[a-z0-9][a-z0-9_-]{1,39}$"


class ReturnAddressIn(Input):
    name: str = Field(min_length=1, max_length=100)
    phone: str = Field(min_length=1, max_length=40)
    address: str = Field(min_length=1, max_length=500)
    is_default: BodyBool = False


class ReturnAddressOut(Output):
    id: int
    name: str
    phone: str
    address: str
    is_default: bool


class ServiceCenterIn(Input):
    # inline, not a component: the enum's class name ("Kind") says nothing on its own
    kind: Annotated[
        ServiceCenter.Kind,
        WithJsonSchema({"type": "string", "enum": ServiceCenter.Kind.values}),
    ] = ServiceCenter.Kind.SERVICE_CENTER
    name: str = Field(min_length=1, max_length=200)
    address: str = Field(min_length=1, max_length=500)
    phone: str = Field("", max_length=40)
    turnaround_days: TurnaroundDays = 7


class ServiceCenterOut(Output):
    id: int
    kind: str
    name: str
    address: str
    phone: str
    turnaround_days: int


class ShopIn(Input):
    code: str = Field(pattern=SHOP_CODE_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    preset: Platform = Platform.GENERIC
    timezone: str = Field(
        "Asia/Shanghai",
        min_length=1,
        max_length=64,
        pattern=TIMEZONE_PATTERN,
        description="An IANA time zone name such as Asia/Shanghai; an unknown one is refused "
        "with invalid_timezone.",
    )
    currency: str = Field(
        "CNY", pattern=r"^[A-Z]{3}$", description="An ISO 4217 code in capitals, e.g. CNY."
    )
    return_addresses: list[ReturnAddressIn] = Field(default_factory=list, max_length=50)


class ShopOut(Output):
    code: str
    name: str
    preset: str
    timezone: str
    currency: str
    return_addresses: list[ReturnAddressOut]
    policy_version: int


class CustomerIn(Input):
    external_id: str = Field(min_length=1, max_length=100)
    name: str = Field("", max_length=200)
    phone: str = Field("", max_length=40)
    email: str = Field("", max_length=254)
    language: CustomerLanguage | None = Field(
        None, description="The language the customer is written to in; kept when left out."
    )


class CustomerOut(Output):
    id: int
    external_id: str
    name: str
    phone: str
    email: str
    language: str


class OrderLineIn(Input):
    external_id: str = Field(min_length=1, max_length=100)
    sku: str = Field(min_length=1, max_length=100)
    title: str = Field(min_length=1, max_length=300)
    quantity: Quantity
    unit_price: Amount
    paid_amount: Amount
    product_flags: list[ProductFlag] | None = Field(None, max_length=20)
    product: str | None = Field(None, max_length=100)
    category: str | None = Field(None, max_length=100)
    warranty_days: WarrantyDays | None = None
    stock: Stock | None = Field(
        None, description="The SKU's stock now; sets it when given, keeps it when left out."
    )


class ShipmentIn(Input):
    carrier: str = Field(min_length=1, max_length=100)
    tracking_number: str = Field(min_length=1, max_length=100)


class InvoiceIn(Input):
    number: str = Field(min_length=1, max_length=64)
    amount: Amount
    issued_at: Timestamp
    title: str = Field("", max_length=200)


class OrderIn(Input):
    shop: str = Field(min_length=1, max_length=40)
    external_id: str = Field(min_length=1, max_length=100)
    customer: CustomerIn
    paid_at: Timestamp | None = None
    shipped_at: Timestamp | None = None
    signed_at: Timestamp | None = None
    shipping_fee: Amount = Decimal("0.00")
    status: OrderStatus | None = None
    lines: list[OrderLineIn] = Field(min_length=1, max_length=500)
    shipments: list[ShipmentIn] = Field(default_factory=list, max_length=20)
    invoice: InvoiceIn | None = None


class OrderLineOut(Output):
    id: int
    external_id: str
    sku: str
    title: str
    quantity: int
    unit_price: Money
    paid_amount: Money
    refunded_amount: Money
    product_flags: list[str]


class ShipmentOut(Output):
    carrier: str
    tracking_number: str


class OrderOut(Output):
    id: int
    shop: str
    external_id: str
    customer: CustomerOut
    status: str
    paid_at: dt.datetime | None
    shipped_at: dt.datetime | None
    signed_at: dt.datetime | None
    shipping_fee: Money
    goods_amount: Money
    total_amount: Money
    lines: list[OrderLineOut]
    shipments: list[ShipmentOut]


class OrderPage(Output):
    items: list[OrderOut]
    next_cursor: str | None


class InvoiceDocumentOut(Output):
    id: int
    kind: str
    number: str
    reference: str
    title: str
    shop: str
    order_id: int
    order_external_id: str
    case_number: str | None
    amount: Money
    note: str
    currency: str
    issued_at: dt.datetime


class InvoicePage(Output):
    items: list[InvoiceDocumentOut]
    next_cursor: str | None


class SkuStockIn(Input):
    stock: Stock = Field(description="Units on the shelf now.")
    shop: str | None = Field(
        None,
        min_length=1,
        max_length=40,
        description="The shop's code; needed only when several of your shops have this SKU.",
    )


class SkuVariantOut(Output):
    code: str
    title: str
    stock: int


class SkuOut(Output):
    shop: str
    code: str
    product: str
    product_name: str
    title: str
    stock: int
    variants: list[SkuVariantOut]
