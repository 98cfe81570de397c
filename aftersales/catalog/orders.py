"""The order upsert: orders arrive from the shop's platform, keyed by (shop, external id).

One set-based path serves a single API call, a list of 500 and a file of a million lines: each
batch costs a fixed number of queries (read what exists, lock it, check the rules, then bulk
insert and bulk update), whatever its size.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.catalog.invoices import invoice_record
from aftersales.catalog.models import (
    Customer,
    CustomerLanguage,
    Order,
    OrderLine,
    Product,
    Shipment,
    Shop,
    Sku,
)
from aftersales.catalog.order_data import (
    LARGEST_AMOUNT,
    CustomerData,
    LineData,
    OrderData,
    check_order_data,
    derive_status,
)
from aftersales.core.actors import Principal
from aftersales.core.bulk import bulk_insert_rows, bulk_update_rows
from aftersales.core.errors import (
    ApplicationError,
    Conflict,
    Ineligible,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from aftersales.core.money import ZERO, money
from aftersales.core.permissions import permitted, require

MAX_ORDERS_PER_CALL = 500


def _at(index: int, error: ApplicationError) -> ApplicationError:
    error.extra["index"] = index
    return error


def _pairs_query(pairs: set[tuple[int, str]], field_name: str) -> Q:
    by_shop: dict[int, list[str]] = defaultdict(list)
    for shop_id, value in pairs:
        by_shop[shop_id].append(value)
    query = Q(pk__in=[])
    for shop_id, values in by_shop.items():
        query |= Q(shop_id=shop_id, **{f"{field_name}__in": values})
    return query


# What the upsert reads of existing rows: no timestamps to parse, nothing else to build.
CUSTOMER_COLUMNS = ("id", "shop_id", "external_id", "name", "phone", "email", "language")
CUSTOMER_UPDATES = ("name", "phone", "email", "language")
SKU_COLUMNS = (
    "id",
    "shop_id",
    "code",
    "product__id",
    "product__flags",
    "product__category",
    "product__warranty_days",
)


def _customers(items: list[OrderData], shop_of: list[Shop], now) -> dict[tuple[int, str], Customer]:
    wanted: dict[tuple[int, str], CustomerData] = {}
    for item, shop in zip(items, shop_of, strict=True):
        wanted[(shop.id, item.customer.external_id)] = item.customer
    found = {
        (c.shop_id, c.external_id): c
        for c in Customer.objects.filter(_pairs_query(set(wanted), "external_id")).only(
            *CUSTOMER_COLUMNS
        )
    }
    changed = []
    for key, data in wanted.items():
        customer = found.get(key)
        if customer is None:
            continue
        # what an order leaves out (an empty name, no language) keeps what is known
        updates = {n: getattr(data, n) for n in CUSTOMER_UPDATES if getattr(data, n)}
        if any(getattr(customer, n) != v for n, v in updates.items()):
            for name, value in updates.items():
                setattr(customer, name, value)
            customer.updated_at = now
            changed.append(customer)
    if changed:
        bulk_update_rows(Customer, changed, [*CUSTOMER_UPDATES, "updated_at"])
    new = [
        Customer(
            shop_id=shop_id,
            external_id=external_id,
            name=d.name,
            phone=d.phone,
            email=d.email,
            language=d.language or CustomerLanguage.ZH_HANS,
        )
        for (shop_id, external_id), d in wanted.items()
        if (shop_id, external_id) not in found
    ]
    if new:
        # A concurrent import may create the same customer: keep one row, never fail.
        Customer.objects.bulk_create(new, ignore_conflicts=True)
        found |= {
            (c.shop_id, c.external_id): c
            for c in Customer.objects.filter(
                _pairs_query({(c.shop_id, c.external_id) for c in new}, "external_id")
            ).only(*CUSTOMER_COLUMNS)
        }
    return found


def _skus(
    items: list[OrderData], shop_of: list[Shop], stock_given: dict[tuple[int, str], int], now
) -> dict[tuple[int, str], Sku]:
    wanted: dict[tuple[int, str], LineData] = {}
    for item, shop in zip(items, shop_of, strict=True):
        for line in item.lines:
            wanted[(shop.id, line.sku)] = line
    found = {
        (s.shop_id, s.code): s
        for s in Sku.objects.select_related("product")
        .filter(_pairs_query(set(wanted), "code"))
        .only(*SKU_COLUMNS)
    }
    changed: dict[int, Product] = {}
    for key, line in wanted.items():
        sku = found.get(key)
        if sku is None:
            continue
        product = sku.product
        flags = sorted(set(line.product_flags)) if line.product_flags is not None else None
        if flags is not None and flags != product.flags:
            product.flags = flags
            changed[product.id] = product
        if line.category is not None and line.category != product.category:
            product.category = line.category
            changed[product.id] = product
        if line.warranty_days is not None and line.warranty_days != product.warranty_days:
            product.warranty_days = line.warranty_days
            changed[product.id] = product
    for product in changed.values():
        product.updated_at = now
    if changed:
        bulk_update_rows(
            Product, list(changed.values()), ["flags", "category", "warranty_days", "updated_at"]
        )
    missing = {key: line for key, line in wanted.items() if key not in found}
    if missing:
        products = {
            (shop_id, line.product or code): Product(
                shop_id=shop_id,
                code=line.product or code,
                name=line.title,
                category=line.category or "",
                warranty_days=line.warranty_days or 0,
                flags=sorted(set(line.product_flags or [])),
            )
            for (shop_id, code), line in missing.items()
        }
        Product.objects.bulk_create(products.values(), ignore_conflicts=True)
        product_ids = {
            (p.shop_id, p.code): p.id
            for p in Product.objects.filter(_pairs_query(set(products), "code"))
        }
        Sku.objects.bulk_create(
            [
                Sku(
                    shop_id=shop_id,
                    product_id=product_ids[(shop_id, line.product or code)],
                    code=code,
                    title=line.title,
                    stock=stock_given.get((shop_id, code), 0),
                )
                for (shop_id, code), line in missing.items()
            ],
            ignore_conflicts=True,
        )
        found |= {
            (s.shop_id, s.code): s for s in Sku.objects.filter(_pairs_query(set(missing), "code"))
        }
    return found


def _stock_given(items: list[OrderData], shop_of: list[Shop]) -> dict[tuple[int, str], int]:
    """(shop id, SKU code) → the stock the batch's lines give (the last line naming it wins)."""
    given: dict[tuple[int, str], int] = {}
    for item, shop in zip(items, shop_of, strict=True):
        for line in item.lines:
            if line.stock is not None:
                given[(shop.id, line.sku)] = line.stock
    return given


def _stock_set(given: dict[tuple[int, str], int], now) -> None:
    """Set the stock the lines give on SKUs that exist. Runs before the orders are locked: an
    exchange locks SKUs before order lines too, so the two never wait on each other in a circle.
    SKUs created by this batch get their stock when they are inserted."""
    if not given:
        return
    # Locked in id order, as the exchange's replacement does, so imports never deadlock either.
    skus = (
        Sku.objects.select_for_update()
        .filter(_pairs_query(set(given), "code"))
        .only("id", "shop_id", "code", "stock")
        .order_by("id")
    )
    changed = []
    for sku in skus:
        stock = given[(sku.shop_id, sku.code)]
        if sku.stock != stock:
            sku.stock, sku.updated_at = stock, now
            changed.append(sku)
    bulk_update_rows(Sku, changed, ["stock", "updated_at"])


def _authorise(actor: Principal) -> None:
    require(actor, "order.import")


def _resolve_shops(actor: Principal, items: list[OrderData]) -> list[Shop]:
    """Each item's shop, checked with the item's own rules; refuses duplicates in the batch."""
    shops = shops_by_code({i.shop for i in items})
    shop_of: list[Shop] = []
    seen: set[tuple[int, str]] = set()
    for index, item in enumerate(items):
        try:
            shop_of.append(check_item(actor, shops, item, seen))
        except ApplicationError as error:
            raise _at(index, error) from None
    return shop_of


def shops_by_code(codes: set[str]) -> dict[str, Shop]:
    return {shop.code: shop for shop in Shop.objects.filter(code__in=codes)}


def check_item(actor: Principal, shops: dict[str, Shop], item, seen: set[tuple[int, str]]) -> Shop:
    """The rules an order of a batch keeps before the database is read: its shop, the actor's
    role there, the order's own rules, and no second order of the same key in the batch (``seen``
    collects the keys of the orders that passed). ``item`` is an ``OrderData`` or an ``OrderIn``
    (the staging import checks the validated body itself: the names are the same)."""
    shop = shops.get(item.shop)
    if shop is None or not actor.can_see_shop(shop.id):
        raise NotFound(_("No shop %(code)s.") % {"code": item.shop}, code="shop_not_found")
    if not permitted(actor, "order.import", shop):
        raise PermissionDenied(
            _("Your role in shop %(code)s does not import orders.") % {"code": item.shop},
            code="forbidden",
        )
    check_order_data(item)
    if (shop.id, item.external_id) in seen:
        raise InvalidInput(
            _("Order %(id)s appears twice.") % {"id": item.external_id}, code="duplicate_order"
        )
    seen.add((shop.id, item.external_id))
    return shop


@dataclass
class _Existing:
    """What the database holds for a batch, locked: orders, their lines, and what cases hold."""

    orders: dict[tuple[int, str], Order]
    lines: dict[int, dict[str, OrderLine]]
    held: dict[int, tuple[int, Decimal]]  # line id → (units claimed by cases, money refunded)
    orders_with_cases: set[int]

    @classmethod
    def load(cls, keys: set[tuple[int, str]]) -> _Existing:
        orders = {
            (o.shop_id, o.external_id): o
            for o in Order.objects.select_for_update().filter(_pairs_query(keys, "external_id"))
        }
        ids = [order.id for order in orders.values()]
        lines: dict[int, dict[str, OrderLine]] = defaultdict(dict)
        if not ids:
            return cls(orders, lines, {}, set())
        for line in OrderLine.objects.select_for_update().filter(order_id__in=ids):
            lines[line.order_id][line.external_id] = line
        open_cases = ~Q(case_lines__case__state__in=["closed", "completed"])
        held = {
            row["id"]: (row["claimed"] or 0, row["refunded_amount"])
            for row in OrderLine.objects.filter(order_id__in=ids, case_lines__isnull=False)
            .values("id", "refunded_amount")
            .annotate(claimed=Sum("case_lines__quantity", filter=open_cases))
        }
        with_cases = Order.objects.filter(id__in=ids, cases__isnull=False)
        return cls(orders, lines, held, set(with_cases.values_list("id", flat=True)))


@dataclass
class _Writes:
    new_orders: list[Order] = field(default_factory=list)
    changed_orders: list[Order] = field(default_factory=list)
    new_lines: list[tuple[Order, OrderLine]] = field(default_factory=list)
    changed_lines: list[OrderLine] = field(default_factory=list)


# The refusals of an order that only the database's rows can tell (the staging import finds
# them with SQL and reports them with these same errors).
def customer_locked() -> Conflict:
    return Conflict(
        _("The order has after-sales cases; its customer cannot change."),
        code="order_customer_locked",
    )


def line_locked(external_id: str) -> Ineligible:
    return Ineligible(
        _("Line %(id)s has after-sales cases; it cannot go below what they claim.")
        % {"id": external_id},
        code="line_locked_by_cases",
    )


def amount_too_large() -> InvalidInput:
    return InvalidInput(
        _("The order's total is above %(largest)s.") % {"largest": LARGEST_AMOUNT},
        code="amount_too_large",
    )


def _apply(item, shop, customer, skus, existing: _Existing, writes: _Writes, now):
    """Bring one order and its lines in line with ``item``, in memory; returns (order, created)."""
    order = existing.orders.get((shop.id, item.external_id))
    created = order is None
    if created:
        order = Order(shop=shop, external_id=item.external_id, created_at=now, updated_at=now)
        writes.new_orders.append(order)
    elif order.customer_id != customer.id and order.id in existing.orders_with_cases:
        raise customer_locked()
    before = _values(order, ORDER_FIELDS)
    order.customer_id = customer.id
    order.status = derive_status(item)
    order.paid_at, order.shipped_at = item.paid_at, item.shipped_at
    order.signed_at = item.signed_at
    order.shipping_fee = money(item.shipping_fee)
    current = {} if created else existing.lines[order.id]
    lines = dict(current)
    for data in item.lines:
        values = {
            "sku_id": skus[(shop.id, data.sku)].id,
            "title": data.title,
            "quantity": data.quantity,
            "unit_price": money(data.unit_price),
            "paid_amount": money(data.paid_amount),
        }
        line = current.get(data.external_id)
        if line is None:
            line = OrderLine(external_id=data.external_id, created_at=now, updated_at=now, **values)
            writes.new_lines.append((order, line))
        else:
            claimed, refunded = existing.held.get(line.id, (0, ZERO))
            if values["quantity"] < claimed or values["paid_amount"] < refunded:
                raise line_locked(line.external_id)
            line_before = _values(line, LINE_FIELDS)
            for name, value in values.items():
                setattr(line, name, value)
            if _values(line, LINE_FIELDS) != line_before:  # a re-sent order writes nothing
                line.updated_at = now
                writes.changed_lines.append(line)
        lines[data.external_id] = line
    order.goods_amount = sum((line.paid_amount for line in lines.values()), ZERO)
    order.total_amount = order.goods_amount + order.shipping_fee
    if order.total_amount > LARGEST_AMOUNT:
        raise amount_too_large()
    if not created and _values(order, ORDER_FIELDS) != before:
        order.updated_at = now
        writes.changed_orders.append(order)
    return order, created


def _values(row, fields: list[str]) -> tuple:
    return tuple(getattr(row, row._meta.get_field(name).attname) for name in fields)


ORDER_FIELDS = [
    "customer",
    "status",
    "paid_at",
    "shipped_at",
    "signed_at",
    "shipping_fee",
    "goods_amount",
    "total_amount",
]
LINE_FIELDS = ["sku", "title", "quantity", "unit_price", "paid_amount"]


@transaction.atomic
def _orders_upsert(*, actor: Principal, items: list[OrderData]) -> list[tuple[Order, bool]]:
    """Create or update orders by (shop, external id), all or none; each answer says whether the
    order is new. Lines are matched by external id; lines left out are kept. A line cannot shrink
    below what its cases claim or what was refunded. An error names the failing order's index."""
    _authorise(actor)
    if not items:
        raise InvalidInput(_("Send at least one order."), code="lines_required")
    now = timezone.now()
    shop_of = _resolve_shops(actor, items)
    stock_given = _stock_given(items, shop_of)
    _stock_set(stock_given, now)
    existing = _Existing.load({(s.id, i.external_id) for s, i in zip(shop_of, items, strict=True)})
    customers = _customers(items, shop_of, now)
    skus = _skus(items, shop_of, stock_given, now)
    writes = _Writes()
    results = []
    for index, (item, shop) in enumerate(zip(items, shop_of, strict=True)):
        customer = customers[(shop.id, item.customer.external_id)]
        try:
            results.append(_apply(item, shop, customer, skus, existing, writes, now))
        except ApplicationError as error:
            raise _at(index, error) from None
    if writes.new_orders:
        _insert_orders(writes.new_orders)
    if writes.changed_orders:
        bulk_update_rows(Order, writes.changed_orders, [*ORDER_FIELDS, "updated_at"])
    for order, line in writes.new_lines:
        line.order = order
    if writes.new_lines:
        bulk_insert_rows(
            OrderLine, [line for _order, line in writes.new_lines], _columns(OrderLine)
        )
    if writes.changed_lines:
        bulk_update_rows(OrderLine, writes.changed_lines, [*LINE_FIELDS, "updated_at"])
    shipments = [
        Shipment(order=order, carrier=s.carrier, tracking_number=s.tracking_number)
        for (order, _created), item in zip(results, items, strict=True)
        for s in item.shipments
    ]
    if shipments:
        Shipment.objects.bulk_create(shipments, ignore_conflicts=True)
    for (order, _created), item in zip(results, items, strict=True):
        if item.invoice is not None:
            invoice_record(
                order=order,
                number=item.invoice.number,
                amount=money(item.invoice.amount),
                issued_at=item.invoice.issued_at,
                title=item.invoice.title,
            )
    return results


def _columns(model) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if not f.primary_key]


def _insert_orders(orders: list[Order]) -> None:
    """Insert new orders and give them their ids (COPY on PostgreSQL, then one lookup)."""
    bulk_insert_rows(Order, orders, _columns(Order))
    if orders[0].pk is None:
        keys = {(o.shop_id, o.external_id) for o in orders}
        ids = {
            (shop_id, external_id): pk
            for shop_id, external_id, pk in Order.objects.filter(
                _pairs_query(keys, "external_id")
            ).values_list("shop_id", "external_id", "id")
        }
        for order in orders:
            order.pk = ids[(order.shop_id, order.external_id)]


def orders_upsert(*, actor: Principal, items: list[OrderData]) -> list[tuple[Order, bool]]:
    """See ``_orders_upsert``. Two imports that create the same new order at the same moment
    collide on its unique key; the loser tries again and then finds the order to update."""
    for attempt in (1, 2):
        try:
            return _orders_upsert(actor=actor, items=items)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def order_upsert(*, actor: Principal, data: OrderData) -> tuple[Order, bool]:
    """Create or update one order; see ``orders_upsert``."""
    try:
        return orders_upsert(actor=actor, items=[data])[0]
    except ApplicationError as error:
        error.extra.pop("index", None)
        raise


def orders_upsert_call(*, actor: Principal, items: list[OrderData]) -> list[tuple[Order, bool]]:
    """The API's list form: at most ``MAX_ORDERS_PER_CALL`` orders a call."""
    if len(items) > MAX_ORDERS_PER_CALL:
        raise InvalidInput(
            _("Send between 1 and %(max)s orders at a time.") % {"max": MAX_ORDERS_PER_CALL},
            code="too_many_orders",
        )
    return orders_upsert(actor=actor, items=items)
