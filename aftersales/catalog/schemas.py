"""API shapes of the catalog (thin: types and limits only; rules live in services)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field

from aftersales.catalog.models import OrderStatus, Platform, ProductFlag
from aftersales.core.schemas import BodyBool, BodyInt, Input, Output, Timestamp

Money = Decimal
MONEY = {"ge": 0, "max_digits": 12, "decimal_places": 2}


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
    kind: str = Field("service_center", pattern=r"^(service_center|supplier)$")
    name: str = Field(min_length=1, max_length=200)
    address: str = Field(min_length=1, max_length=500)
    phone: str = Field("", max_length=40)
    turnaround_days: BodyInt = Field(7, ge=1, le=90)


class ServiceCenterOut(Output):
    id: int
    kind: str
    name: str
    address: str
    phone: str
    turnaround_days: int


class ShopIn(Input):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{1,39}$")
    name: str = Field(min_length=1, max_length=200)
    preset: Platform = Platform.GENERIC
    timezone: str = Field("Asia/Shanghai", max_length=64)
    currency: str = Field("CNY", pattern=r"^[A-Za-z]{3}$")
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


class CustomerOut(Output):
    id: int
    external_id: str
    name: str
    phone: str
    email: str


class OrderLineIn(Input):
    external_id: str = Field(min_length=1, max_length=100)
    sku: str = Field(min_length=1, max_length=100)
    title: str = Field(min_length=1, max_length=300)
    quantity: BodyInt = Field(ge=1, le=1_000_000)
    unit_price: Money = Field(**MONEY)
    paid_amount: Money = Field(**MONEY)
    product_flags: list[ProductFlag] | None = Field(None, max_length=20)
    product: str | None = Field(None, max_length=100)
    category: str | None = Field(None, max_length=100)
    warranty_days: BodyInt | None = Field(None, ge=0, le=36500)


class ShipmentIn(Input):
    carrier: str = Field(min_length=1, max_length=100)
    tracking_number: str = Field(min_length=1, max_length=100)


class InvoiceIn(Input):
    number: str = Field(min_length=1, max_length=64)
    amount: Money = Field(**MONEY)
    issued_at: Timestamp
    title: str = Field("", max_length=200)


class OrderIn(Input):
    shop: str = Field(min_length=1, max_length=40)
    external_id: str = Field(min_length=1, max_length=100)
    customer: CustomerIn
    paid_at: Timestamp | None = None
    shipped_at: Timestamp | None = None
    signed_at: Timestamp | None = None
    shipping_fee: Money = Field(Decimal("0.00"), **MONEY)
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
