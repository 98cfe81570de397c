"""The order import's PostgreSQL path: a batch of validated orders is written as tuples by COPY
into temporary staging tables, and customers, products, SKUs, orders and lines are upserted from
them with a fixed number of set-based statements, whatever the batch's size.

It keeps every rule of ``orders.orders_upsert`` (the row-by-row path, which SQLite, the API and
the connectors use), and gives the same rows for the same batch
(``tests/test_import_staging.py`` compares the two on varied files):

- the rules an order keeps before the database is read are checked in Python by the same
  function (``orders.check_item``: shop, role, the order's own rules, a second order of a key);
- the rules that need the database's rows are SQL against the staging tables, reported with the
  same errors and in the same order as the row-by-row path reports them: an order with cases
  whose customer would change, a line that would go below what its cases claim or what was
  refunded, a total above the columns' size;
- the batch's last order naming a customer (or SKU) says what it becomes; what an order leaves
  out (an empty name, no language, no flags) keeps what is known; new customers get the default
  language; a stock given sets the SKU's stock; only rows that change are written, and they get
  the batch's time as ``updated_at``; lines left out of an order are kept.

A refused order is reported and left out, the rest of the batch goes in (the row-by-row path
tries the batch again without it; here the refusals are known before anything is written).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from aftersales.catalog.invoices import invoice_record
from aftersales.catalog.models import CustomerLanguage, Order, Shipment
from aftersales.catalog.order_data import LARGEST_AMOUNT, derive_status
from aftersales.catalog.orders import (
    _authorise,
    amount_too_large,
    check_item,
    customer_locked,
    line_locked,
    shops_by_code,
)
from aftersales.catalog.schemas import OrderIn
from aftersales.core.actors import Principal
from aftersales.core.errors import ApplicationError
from aftersales.core.money import money


def available() -> bool:
    """Whether the staging path runs on this database (PostgreSQL; SQLite keeps the other)."""
    return connection.vendor == "postgresql"


@dataclass
class StagedBatch:
    """What a batch came to: ``created[i]`` for each order that went in (by its index in the
    batch), and the refused ones as (index, error), in the order the row-by-row path reports."""

    created: dict[int, bool] = field(default_factory=dict)
    refused: list[tuple[int, ApplicationError]] = field(default_factory=list)


TABLES = """
CREATE TEMPORARY TABLE import_order (
    pos integer PRIMARY KEY,
    shop_id bigint NOT NULL,
    external_id text NOT NULL,
    customer_external_id text NOT NULL,
    customer_name text NOT NULL,
    customer_phone text NOT NULL,
    customer_email text NOT NULL,
    customer_language text,
    status text NOT NULL,
    paid_at timestamptz,
    shipped_at timestamptz,
    signed_at timestamptz,
    shipping_fee numeric(12, 2) NOT NULL,
    order_id bigint,
    old_customer_id bigint,
    customer_id bigint,
    has_cases boolean NOT NULL DEFAULT false,
    goods_amount numeric
);
CREATE TEMPORARY TABLE import_line (
    pos integer NOT NULL,
    line_pos integer NOT NULL,
    external_id text NOT NULL,
    sku text NOT NULL,
    title text NOT NULL,
    quantity integer NOT NULL,
    unit_price numeric(12, 2) NOT NULL,
    paid_amount numeric(12, 2) NOT NULL,
    flags jsonb,
    product text,
    category text,
    warranty_days integer,
    stock integer,
    line_id bigint,
    PRIMARY KEY (pos, line_pos)
);
"""
ORDER_COLUMNS = (
    "pos, shop_id, external_id, customer_external_id, customer_name, customer_phone, "
    "customer_email, customer_language, status, paid_at, shipped_at, signed_at, shipping_fee"
)
LINE_COLUMNS = (
    "pos, line_pos, external_id, sku, title, quantity, unit_price, paid_amount, flags, product, "
    "category, warranty_days, stock"
)

# What the database holds for the batch, locked as the row-by-row path locks it: first the SKUs
# whose stock a line gives (in id order, as an exchange locks them), then the orders and their
# lines. The SKUs of refused orders are locked too: what is refused is known only after.
LOCK = [
    """SELECT count(*) FROM (
        SELECT 1 FROM catalog_sku k
        WHERE (k.shop_id, k.code) IN (
            SELECT o.shop_id, l.sku FROM import_line l JOIN import_order o ON o.pos = l.pos
            WHERE l.stock IS NOT NULL)
        ORDER BY k.id FOR UPDATE OF k) locked""",
    """SELECT count(*) FROM (
        SELECT 1 FROM catalog_order o
        JOIN import_order s ON o.shop_id = s.shop_id AND o.external_id = s.external_id
        ORDER BY o.id FOR UPDATE OF o) locked""",
    """UPDATE import_order s SET order_id = o.id, old_customer_id = o.customer_id,
        has_cases = EXISTS (SELECT 1 FROM cases_case c WHERE c.order_id = o.id)
    FROM catalog_order o WHERE o.shop_id = s.shop_id AND o.external_id = s.external_id""",
    """SELECT count(*) FROM (
        SELECT 1 FROM catalog_orderline ol JOIN import_order s ON ol.order_id = s.order_id
        ORDER BY ol.id FOR UPDATE OF ol) locked""",
    """UPDATE import_line l SET line_id = ol.id
    FROM import_order s, catalog_orderline ol
    WHERE s.pos = l.pos AND ol.order_id = s.order_id AND ol.external_id = l.external_id""",
    """UPDATE import_order s SET customer_id = c.id FROM catalog_customer c
    WHERE c.shop_id = s.shop_id AND c.external_id = s.customer_external_id""",
    # the goods: the order's lines as the batch gives them, and its other lines as they are
    # (all its lines, less those the batch gives: an anti-join of each line with the batch's
    # lines was a nested loop over the batch for every line)
    """UPDATE import_order s
    SET goods_amount = given.amount + coalesce(known.amount, 0) - coalesce(replaced.amount, 0)
    FROM (SELECT pos, sum(paid_amount) AS amount FROM import_line GROUP BY pos) given
    LEFT JOIN (
        SELECT s2.pos, sum(ol.paid_amount) AS amount
        FROM import_order s2 JOIN catalog_orderline ol ON ol.order_id = s2.order_id
        GROUP BY s2.pos) known ON known.pos = given.pos
    LEFT JOIN (
        SELECT l.pos, sum(ol.paid_amount) AS amount
        FROM import_line l JOIN catalog_orderline ol ON ol.id = l.line_id
        GROUP BY l.pos) replaced ON replaced.pos = given.pos
    WHERE given.pos = s.pos""",
]

# An order's first refusal, in the row-by-row path's order: its customer, then its first line
# (in the order's own order) below what the line's cases hold, then its total.
REFUSALS = """
WITH held AS (
    SELECT DISTINCT ON (l.pos) l.pos, l.external_id
    FROM import_line l
    JOIN catalog_orderline ol ON ol.id = l.line_id
    JOIN LATERAL (
        SELECT count(*) AS case_lines,
            coalesce(sum(cl.quantity) FILTER (
                WHERE c.state NOT IN ('closed', 'completed')), 0) AS claimed
        FROM cases_caseline cl JOIN cases_case c ON c.id = cl.case_id
        WHERE cl.order_line_id = ol.id
    ) h ON h.case_lines > 0
    WHERE l.quantity < h.claimed OR l.paid_amount < ol.refunded_amount
    ORDER BY l.pos, l.line_pos
)
SELECT s.pos,
    CASE WHEN s.has_cases AND s.customer_id IS DISTINCT FROM s.old_customer_id THEN 'customer'
         WHEN held.pos IS NOT NULL THEN 'line'
         ELSE 'amount' END,
    held.external_id
FROM import_order s LEFT JOIN held ON held.pos = s.pos
WHERE (s.has_cases AND s.customer_id IS DISTINCT FROM s.old_customer_id)
    OR held.pos IS NOT NULL
    OR s.goods_amount + s.shipping_fee > %(largest)s
ORDER BY s.pos
"""

WRITE = [
    # the SKUs the batch names: the last line naming one says what it is, the first says when
    # it comes (new products are made from the last of their new SKUs, as the other path does)
    """CREATE TEMPORARY TABLE import_sku AS
    WITH named AS (
        SELECT s.shop_id, l.* FROM import_line l JOIN import_order s ON s.pos = l.pos),
    last AS (
        SELECT DISTINCT ON (shop_id, sku) shop_id, sku, title, flags, product, category,
            warranty_days
        FROM named ORDER BY shop_id, sku, pos DESC, line_pos DESC),
    first AS (
        SELECT shop_id, sku, min(pos::bigint * 1000 + line_pos) AS first_seen
        FROM named GROUP BY shop_id, sku),
    stock AS (
        SELECT DISTINCT ON (shop_id, sku) shop_id, sku, stock FROM named
        WHERE stock IS NOT NULL ORDER BY shop_id, sku, pos DESC, line_pos DESC)
    SELECT last.shop_id, last.sku AS code, last.title, last.flags,
        coalesce(nullif(last.product, ''), last.sku) AS product_code, last.category,
        last.warranty_days, first.first_seen, stock.stock, k.id AS sku_id, k.product_id
    FROM last JOIN first USING (shop_id, sku) LEFT JOIN stock USING (shop_id, sku)
    LEFT JOIN catalog_sku k ON k.shop_id = last.shop_id AND k.code = last.sku""",
    """UPDATE catalog_sku k SET stock = w.stock, updated_at = %(now)s FROM import_sku w
    WHERE k.id = w.sku_id AND w.stock IS NOT NULL AND k.stock <> w.stock""",
    # customers: what the last order naming one gives, where it is not empty
    """WITH wanted AS (
        SELECT DISTINCT ON (shop_id, customer_external_id) shop_id, customer_external_id,
            customer_name, customer_phone, customer_email, customer_language
        FROM import_order ORDER BY shop_id, customer_external_id, pos DESC)
    UPDATE catalog_customer c SET
        name = CASE WHEN w.customer_name <> '' THEN w.customer_name ELSE c.name END,
        phone = CASE WHEN w.customer_phone <> '' THEN w.customer_phone ELSE c.phone END,
        email = CASE WHEN w.customer_email <> '' THEN w.customer_email ELSE c.email END,
        language = coalesce(nullif(w.customer_language, ''), c.language),
        updated_at = %(now)s
    FROM wanted w
    WHERE c.shop_id = w.shop_id AND c.external_id = w.customer_external_id AND (
        (w.customer_name <> '' AND w.customer_name <> c.name)
        OR (w.customer_phone <> '' AND w.customer_phone <> c.phone)
        OR (w.customer_email <> '' AND w.customer_email <> c.email)
        OR (w.customer_language <> '' AND w.customer_language <> c.language))""",
    """INSERT INTO catalog_customer
        (shop_id, external_id, name, phone, email, language, created_at, updated_at)
    SELECT DISTINCT ON (shop_id, customer_external_id) shop_id, customer_external_id,
        customer_name, customer_phone, customer_email,
        coalesce(nullif(customer_language, ''), %(language)s), %(now)s, %(now)s
    FROM import_order s WHERE s.customer_id IS NULL
    ORDER BY shop_id, customer_external_id, pos DESC
    ON CONFLICT (shop_id, external_id) DO NOTHING""",
    """UPDATE import_order s SET customer_id = c.id FROM catalog_customer c
    WHERE s.customer_id IS NULL AND c.shop_id = s.shop_id
        AND c.external_id = s.customer_external_id""",
    # products of known SKUs: of the SKUs of one product that change it, the last to come wins
    """UPDATE catalog_product p SET flags = coalesce(w.flags, p.flags),
        category = coalesce(w.category, p.category),
        warranty_days = coalesce(w.warranty_days, p.warranty_days), updated_at = %(now)s
    FROM (
        SELECT DISTINCT ON (w.product_id) w.product_id, w.flags, w.category, w.warranty_days
        FROM import_sku w JOIN catalog_product p ON p.id = w.product_id
        WHERE (w.flags IS NOT NULL AND w.flags <> p.flags)
            OR (w.category IS NOT NULL AND w.category <> p.category)
            OR (w.warranty_days IS NOT NULL AND w.warranty_days <> p.warranty_days)
        ORDER BY w.product_id, w.first_seen DESC) w
    WHERE p.id = w.product_id""",
    """INSERT INTO catalog_product
        (shop_id, code, name, category, warranty_days, flags, created_at, updated_at)
    SELECT DISTINCT ON (shop_id, product_code) shop_id, product_code, title,
        coalesce(category, ''), coalesce(warranty_days, 0), coalesce(flags, '[]'::jsonb),
        %(now)s, %(now)s
    FROM import_sku WHERE sku_id IS NULL ORDER BY shop_id, product_code, first_seen DESC
    ON CONFLICT (shop_id, code) DO NOTHING""",
    """INSERT INTO catalog_sku (shop_id, product_id, code, title, stock, created_at, updated_at)
    SELECT w.shop_id, p.id, w.code, w.title, coalesce(w.stock, 0), %(now)s, %(now)s
    FROM import_sku w JOIN catalog_product p ON p.shop_id = w.shop_id AND p.code = w.product_code
    WHERE w.sku_id IS NULL ORDER BY w.first_seen
    ON CONFLICT (shop_id, code) DO NOTHING""",
    """UPDATE import_sku w SET sku_id = k.id FROM catalog_sku k
    WHERE w.sku_id IS NULL AND k.shop_id = w.shop_id AND k.code = w.code""",
    # orders: those that change, then the new ones
    """UPDATE catalog_order o SET customer_id = s.customer_id, status = s.status,
        paid_at = s.paid_at, shipped_at = s.shipped_at, signed_at = s.signed_at,
        shipping_fee = s.shipping_fee, goods_amount = s.goods_amount,
        total_amount = s.goods_amount + s.shipping_fee, updated_at = %(now)s
    FROM import_order s
    WHERE o.id = s.order_id AND (o.customer_id, o.status, o.paid_at, o.shipped_at, o.signed_at,
        o.shipping_fee, o.goods_amount, o.total_amount) IS DISTINCT FROM (s.customer_id, s.status,
        s.paid_at, s.shipped_at, s.signed_at, s.shipping_fee, s.goods_amount,
        s.goods_amount + s.shipping_fee)""",
]
NEW_ORDERS = """
WITH new AS (
    INSERT INTO catalog_order (shop_id, external_id, customer_id, status, paid_at, shipped_at,
        signed_at, shipping_fee, goods_amount, total_amount, created_at, updated_at)
    SELECT shop_id, external_id, customer_id, status, paid_at, shipped_at, signed_at,
        shipping_fee, goods_amount, goods_amount + shipping_fee, %(now)s, %(now)s
    FROM import_order WHERE order_id IS NULL ORDER BY pos
    RETURNING id, shop_id, external_id)
UPDATE import_order s SET order_id = new.id FROM new
WHERE s.shop_id = new.shop_id AND s.external_id = new.external_id
RETURNING s.pos
"""
LINES = [
    """UPDATE catalog_orderline ol SET sku_id = w.sku_id, title = l.title,
        quantity = l.quantity, unit_price = l.unit_price, paid_amount = l.paid_amount,
        updated_at = %(now)s
    FROM import_line l JOIN import_order s ON s.pos = l.pos
    JOIN import_sku w ON w.shop_id = s.shop_id AND w.code = l.sku
    WHERE ol.id = l.line_id AND (ol.sku_id, ol.title, ol.quantity, ol.unit_price,
        ol.paid_amount) IS DISTINCT FROM (w.sku_id, l.title, l.quantity, l.unit_price,
        l.paid_amount)""",
    """INSERT INTO catalog_orderline (order_id, external_id, sku_id, title, quantity, unit_price,
        paid_amount, refunded_amount, created_at, updated_at)
    SELECT s.order_id, l.external_id, w.sku_id, l.title, l.quantity, l.unit_price,
        l.paid_amount, 0, %(now)s, %(now)s
    FROM import_line l JOIN import_order s ON s.pos = l.pos
    JOIN import_sku w ON w.shop_id = s.shop_id AND w.code = l.sku
    WHERE l.line_id IS NULL ORDER BY l.pos, l.line_pos""",
]


def _value(member):
    """An enum member's value (pydantic keeps the members), anything else as it is."""
    return getattr(member, "value", member)


def _flags(flags) -> str | None:
    if flags is None:
        return None
    return json.dumps(sorted({_value(flag) for flag in flags}))


def _rows(items: list[tuple[int, OrderIn, int]]) -> tuple[list[tuple], list[tuple]]:
    """The staging tables' tuples of (index in the batch, order, its shop's id)."""
    orders, lines = [], []
    for index, item, shop_id in items:
        customer = item.customer
        language = customer.language
        orders.append(
            (
                index,
                shop_id,
                item.external_id,
                customer.external_id,
                customer.name,
                customer.phone,
                customer.email,
                None if language is None else _value(language),
                _value(derive_status(item)),
                item.paid_at,
                item.shipped_at,
                item.signed_at,
                item.shipping_fee,
            )
        )
        for position, line in enumerate(item.lines):
            lines.append(
                (
                    index,
                    position,
                    line.external_id,
                    line.sku,
                    line.title,
                    line.quantity,
                    line.unit_price,
                    line.paid_amount,
                    _flags(line.product_flags),
                    line.product,
                    line.category,
                    line.warranty_days,
                    line.stock,
                )
            )
    return orders, lines


def _copy(cursor, table: str, columns: str, rows: list[tuple]) -> None:
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _refusal(kind: str, line_external_id: str | None) -> ApplicationError:
    if kind == "customer":
        return customer_locked()
    if kind == "line":
        return line_locked(line_external_id)
    return amount_too_large()


@transaction.atomic
def _import_staged(*, actor: Principal, items: list[OrderIn]) -> StagedBatch:
    _authorise(actor)
    result = StagedBatch()
    shops = shops_by_code({item.shop for item in items})
    seen: set[tuple[int, str]] = set()
    checked: list[tuple[int, OrderIn, int]] = []
    for index, item in enumerate(items):
        try:
            checked.append((index, item, check_item(actor, shops, item, seen).id))
        except ApplicationError as error:
            result.refused.append((index, error))
    if not checked:
        return result
    now = timezone.now()
    params = {"now": now, "largest": LARGEST_AMOUNT, "language": CustomerLanguage.ZH_HANS.value}
    orders, lines = _rows(checked)
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor  # psycopg's own: COPY, and statements Django need not wrap
        cursor.execute(TABLES)
        # The batch's statements look its thousand keys up by the catalog's indexes; at the
        # default random_page_cost the planner read the whole orders table for each of them on
        # a catalog of tens of thousands of orders (hash joins, 8 ms a statement). Only for the
        # batch's transaction.
        cursor.execute("SET LOCAL random_page_cost = 1.1")
        _copy(cursor, "import_order", ORDER_COLUMNS, orders)
        _copy(cursor, "import_line", LINE_COLUMNS, lines)
        for statement in LOCK:
            cursor.execute(statement)
        cursor.execute(REFUSALS, params)
        refused = cursor.fetchall()
        if refused:
            positions = [row[0] for row in refused]
            cursor.execute("DELETE FROM import_order WHERE pos = ANY(%s)", [positions])
            cursor.execute("DELETE FROM import_line WHERE pos = ANY(%s)", [positions])
            result.refused += [(pos, _refusal(kind, line)) for pos, kind, line in refused]
        for statement in WRITE:
            cursor.execute(statement, params)
        cursor.execute(NEW_ORDERS, params)
        new = {row[0] for row in cursor.fetchall()}
        for statement in LINES:
            cursor.execute(statement, params)
        refused_at = {index for index, _error in result.refused}
        accepted = [(i, item) for i, item, _shop in checked if i not in refused_at]
        result.created = {index: index in new for index, _item in accepted}
        extras = [(i, item) for i, item in accepted if item.shipments or item.invoice]
        if extras:
            cursor.execute(
                "SELECT pos, order_id, shop_id FROM import_order WHERE pos = ANY(%s)",
                [[i for i, _item in extras]],
            )
            order_of = {pos: Order(pk=pk, shop_id=shop_id) for pos, pk, shop_id in cursor}
        cursor.execute("DROP TABLE import_order, import_line, import_sku")
    if extras:
        _shipments_and_invoices(extras, order_of)
    return result


def _shipments_and_invoices(extras: list[tuple[int, OrderIn]], order_of: dict[int, Order]) -> None:
    """What few orders of a file carry, written as the row-by-row path writes them."""
    shipments = [
        Shipment(order=order_of[i], carrier=s.carrier, tracking_number=s.tracking_number)
        for i, item in extras
        for s in item.shipments
    ]
    if shipments:
        Shipment.objects.bulk_create(shipments, ignore_conflicts=True)
    for i, item in extras:
        if item.invoice is not None:
            invoice_record(
                order=order_of[i],
                number=item.invoice.number,
                amount=money(item.invoice.amount),
                issued_at=item.invoice.issued_at,
                title=item.invoice.title,
            )


def orders_import_staged(*, actor: Principal, items: list[OrderIn]) -> StagedBatch:
    """Upsert a batch of validated orders through the staging tables (see the module). Two
    imports that create the same new order at the same moment collide on its unique key; the
    loser tries again and then finds the order to update, as ``orders.orders_upsert`` does."""
    for attempt in (1, 2):
        try:
            return _import_staged(actor=actor, items=items)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")
