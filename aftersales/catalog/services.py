"""Writes to the catalog: shops and their return addresses, and the order upsert."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from aftersales.catalog.models import (
    Customer,
    Order,
    OrderLine,
    OrderStatus,
    Platform,
    Product,
    ProductFlag,
    ReturnAddress,
    Shipment,
    Shop,
    Sku,
)
from aftersales.core.errors import (
    ApplicationError,
    Conflict,
    Ineligible,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from aftersales.core.money import ZERO, money
from aftersales.team.principal import Principal


@dataclass
class AddressData:
    name: str
    phone: str
    address: str
    is_default: bool = False


@dataclass
class CustomerData:
    external_id: str
    name: str = ""
    phone: str = ""
    email: str = ""


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


@dataclass
class ShipmentData:
    carrier: str
    tracking_number: str


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


def _check_addresses(addresses: list[AddressData]) -> None:
    if sum(1 for a in addresses if a.is_default) > 1:
        raise InvalidInput(_("Only one return address can be the default."), code="two_defaults")


@transaction.atomic
def shop_create(
    *,
    actor: Principal,
    code: str,
    name: str,
    preset: str = Platform.GENERIC,
    timezone: str = "Asia/Shanghai",
    currency: str = "CNY",
    return_addresses: list[AddressData] | None = None,
) -> Shop:
    from aftersales.cases.policy import policy_create_initial

    if not actor.is_installation_admin and not actor.is_system:
        raise PermissionDenied(
            _("Only an installation administrator can create shops."), code="forbidden"
        )
    if preset not in Platform.values:
        raise InvalidInput(
            _("Unknown policy preset %(name)s.") % {"name": preset}, code="unknown_preset"
        )
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            _("Unknown time zone %(zone)s.") % {"zone": timezone}, code="invalid_timezone"
        ) from None
    if Shop.objects.filter(code=code).exists():
        raise Conflict(_("Shop %(code)s exists already.") % {"code": code}, code="shop_exists")
    addresses = return_addresses or []
    _check_addresses(addresses)
    if addresses and not any(a.is_default for a in addresses):
        addresses[0].is_default = True
    shop = Shop.objects.create(
        code=code, name=name, preset=preset, timezone=timezone, currency=currency.upper()
    )
    for address in addresses:
        ReturnAddress.objects.create(shop=shop, **address.__dict__)
    policy_create_initial(shop=shop, actor_user_id=actor.user_id)
    return shop


def _derive_status(data: OrderData) -> str:
    if data.status:
        return data.status
    if data.signed_at:
        return OrderStatus.SIGNED
    if data.shipped_at:
        return OrderStatus.SHIPPED
    if data.paid_at:
        return OrderStatus.PAID
    return OrderStatus.UNPAID


def _check_order_data(data: OrderData) -> None:
    if not data.lines:
        raise InvalidInput(_("An order needs at least one line."), code="lines_required")
    if data.status and data.status not in OrderStatus.values:
        raise InvalidInput(
            _("Unknown order status %(s)s.") % {"s": data.status}, code="invalid_status"
        )
    moments = [m for m in (data.paid_at, data.shipped_at, data.signed_at) if m is not None]
    if any(m.tzinfo is None for m in moments):
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
        unknown = set(line.product_flags or []) - set(ProductFlag.values)
        if unknown:
            raise InvalidInput(
                _("Unknown product flags: %(flags)s.") % {"flags": ", ".join(sorted(unknown))},
                code="invalid_product_flag",
            )


def _sku_upsert(shop: Shop, line: LineData) -> Sku:
    sku = Sku.objects.select_related("product").filter(shop=shop, code=line.sku).first()
    if sku is None:
        product, _created = Product.objects.get_or_create(
            shop=shop,
            code=line.product or line.sku,
            defaults={
                "name": line.title,
                "category": line.category or "",
                "warranty_days": line.warranty_days or 0,
                "flags": sorted(set(line.product_flags or [])),
            },
        )
        sku = Sku.objects.create(shop=shop, product=product, code=line.sku, title=line.title)
        return sku
    product = sku.product
    changed = []
    if line.product_flags is not None and sorted(set(line.product_flags)) != product.flags:
        product.flags = sorted(set(line.product_flags))
        changed.append("flags")
    if line.category is not None and line.category != product.category:
        product.category = line.category
        changed.append("category")
    if line.warranty_days is not None and line.warranty_days != product.warranty_days:
        product.warranty_days = line.warranty_days
        changed.append("warranty_days")
    if changed:
        product.save(update_fields=[*changed, "updated_at"])
    return sku


def _customer_upsert(shop: Shop, data: CustomerData) -> Customer:
    customer, created = Customer.objects.get_or_create(
        shop=shop,
        external_id=data.external_id,
        defaults={"name": data.name, "phone": data.phone, "email": data.email},
    )
    if not created:
        changed = [
            name
            for name in ("name", "phone", "email")
            if getattr(data, name) and getattr(data, name) != getattr(customer, name)
        ]
        for name in changed:
            setattr(customer, name, getattr(data, name))
        if changed:
            customer.save(update_fields=[*changed, "updated_at"])
    return customer


@transaction.atomic
def order_upsert(*, actor: Principal, data: OrderData) -> tuple[Order, bool]:
    """Create or update an order by (shop, external id). Returns the order and whether it is new.

    Lines are matched by external id; lines the payload leaves out are kept. A line cannot shrink
    below what cases already claim or what was refunded.
    """
    if not (actor.is_staff or actor.is_system) or actor.role == "finance":
        raise PermissionDenied(_("Only shop staff can import orders."), code="forbidden")
    shop = Shop.objects.filter(code=data.shop).first()
    if shop is None or not actor.can_see_shop(shop.id):
        raise NotFound(_("No shop %(code)s.") % {"code": data.shop}, code="shop_not_found")
    _check_order_data(data)
    customer = _customer_upsert(shop, data.customer)
    fields = {
        "customer": customer,
        "status": _derive_status(data),
        "paid_at": data.paid_at,
        "shipped_at": data.shipped_at,
        "signed_at": data.signed_at,
        "shipping_fee": money(data.shipping_fee),
    }
    order = (
        Order.objects.select_for_update().filter(shop=shop, external_id=data.external_id).first()
    )
    created = order is None
    if created:
        order = Order.objects.create(shop=shop, external_id=data.external_id, **fields)
        existing: dict[str, OrderLine] = {}
    else:
        if order.customer_id != customer.id and order.cases.exists():
            raise Conflict(
                _("The order has after-sales cases; its customer cannot change."),
                code="order_customer_locked",
            )
        for name, value in fields.items():
            setattr(order, name, value)
        existing = {line.external_id: line for line in order.lines.select_for_update()}
    for line_data in data.lines:
        sku = _sku_upsert(shop, line_data)
        values = {
            "sku": sku,
            "title": line_data.title,
            "quantity": line_data.quantity,
            "unit_price": money(line_data.unit_price),
            "paid_amount": money(line_data.paid_amount),
        }
        line = existing.get(line_data.external_id)
        if line is None:
            OrderLine.objects.create(order=order, external_id=line_data.external_id, **values)
            continue
        claimed = (
            line.case_lines.exclude(case__state="closed").aggregate(n=Sum("quantity"))["n"] or 0
        )
        if values["quantity"] < claimed or values["paid_amount"] < line.refunded_amount:
            raise Ineligible(
                _("Line %(id)s has after-sales cases; it cannot go below what they claim.")
                % {"id": line.external_id},
                code="line_locked_by_cases",
            )
        for name, value in values.items():
            setattr(line, name, value)
        line.save()
    for shipment in data.shipments:
        Shipment.objects.get_or_create(
            order=order, carrier=shipment.carrier, tracking_number=shipment.tracking_number
        )
    goods = order.lines.aggregate(total=Sum("paid_amount"))["total"] or ZERO
    order.goods_amount = goods
    order.total_amount = goods + order.shipping_fee
    order.save()
    return order, created


MAX_ORDERS_PER_CALL = 500


@transaction.atomic
def orders_upsert(*, actor: Principal, items: list[OrderData]) -> list[Order]:
    """Upsert many orders, all or none; an error names the position of the order that failed."""
    if not items or len(items) > MAX_ORDERS_PER_CALL:
        raise InvalidInput(
            _("Send between 1 and %(max)s orders at a time.") % {"max": MAX_ORDERS_PER_CALL},
            code="too_many_orders",
        )
    orders = []
    for index, item in enumerate(items):
        try:
            orders.append(order_upsert(actor=actor, data=item)[0])
        except ApplicationError as error:
            error.extra["index"] = index
            raise
    return orders


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
    )
