"""The order import's staging-table path (PostgreSQL) against the row-by-row path: the same files
give the same rows, column by column, and the same report."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import transaction
from pydantic import TypeAdapter, ValidationError

from aftersales.catalog import order_staging
from aftersales.catalog.importer import import_orders
from aftersales.catalog.models import (
    Customer,
    InvoiceDocument,
    Order,
    OrderLine,
    Product,
    Shipment,
    Sku,
)
from aftersales.catalog.schemas import Amount
from aftersales.core.actors import SYSTEM
from tests.conftest import NOW, is_postgres, make_order, make_shop, make_user, open_case

HEADER = (
    "shop,external_id,customer_external_id,customer_name,customer_phone,customer_email,"
    "customer_language,paid_at,shipped_at,signed_at,shipping_fee,status,line_external_id,sku,"
    "title,quantity,unit_price,paid_amount,product_flags,category,warranty_days,stock\n"
)
PAID = "2026-11-20T10:00:00+08:00"
SHIPPED = "2026-11-21T10:00:00+08:00"


def row(order, customer, line, sku, quantity=1, paid="10.00", **more) -> str:
    values = {
        "shop": "shop",
        "external_id": order,
        "customer_external_id": customer,
        "customer_name": "",
        "customer_phone": "",
        "customer_email": "",
        "customer_language": "",
        "paid_at": PAID,
        "shipped_at": SHIPPED,
        "signed_at": "",
        "shipping_fee": "",
        "status": "",
        "line_external_id": line,
        "sku": sku,
        "title": f"商品 {sku}",
        "quantity": str(quantity),
        "unit_price": paid,
        "paid_amount": paid,
        "product_flags": "",
        "category": "",
        "warranty_days": "",
        "stock": "",
        **more,
    }
    return ",".join(values[name] for name in HEADER.strip().split(",")) + "\n"


# Read in batches of 3 valid records: [N1, O3, O1], [N2, O2, N2 again], [N3, O2, N4],
# [N5, X1, N6], [N7].
FIRST = HEADER + "".join(
    [
        # a new order of a new customer, with new SKUs: flags, category, warranty, stock
        row(
            "N1",
            "NC1",
            "1",
            "NS-1",
            2,
            "20.00",
            customer_name="Ann",
            customer_language="en",
            product_flags="perishable|intimate|perishable",
            category="food",
            warranty_days="30",
            stock="5",
        ),
        row("N1", "NC1", "2", "NS-2", shipping_fee="6.00"),
        # a known order changed: a line changed, a line added, its customer renamed
        row("O3", "C3", "L1", "SKU-1", 3, "150.00", customer_name="王三"),
        row("O3", "C3", "L9", "SKU-1", 1, "50.00"),
        # an order with cases whose customer would change
        row("O1", "C9", "L1", "SKU-1", 2, "180.00"),
        # a bad record
        row("BAD", "C1", "1", "S", quantity="two"),
        row("N2", "C2", "1", "SKU-2", customer_name="李二", stock="7", category="tools"),
        # a line below what was refunded
        row("O2", "C2", "L1", "SKU-2", 3, "80.00"),
        # the same order twice in one batch
        row("N2", "C2", "1", "SKU-2"),
        # a total above the columns' size
        row("N3", "C1", "1", "SKU-3", paid="9999999999.99", shipping_fee="1.00"),
        # an order sent again unchanged
        row("O2", "C2", "L1", "SKU-2", 3, "300.00", unit_price="100.00"),
        row("O2", "C2", "L2", "SKU-3", 1, "20.00"),
        # new SKUs; a known SKU's product changed
        row("N4", "C4", "1", "NS-3", category="first", customer_phone="139"),
        row("N5", "C4", "1", "NS-4", category="last", product_flags="live"),
        row("N5", "C4", "2", "SKU-1", product_flags="custom_made", warranty_days="90"),
        # no such shop; dates that disagree
        row("X1", "C1", "1", "S", shop="nowhere"),
        row("N6", "C1", "1", "S", signed_at=PAID, shipped_at="", status="completed"),
        row("N7", "C1", "1", "SKU-2", status="completed", stock="0"),
    ]
)


def record(external_id, customer, lines, **more) -> str:
    body = {
        "shop": "shop",
        "external_id": external_id,
        "customer": customer,
        "paid_at": PAID,
        "lines": [
            {
                "external_id": str(n),
                "sku": sku,
                "title": f"t {sku}",
                "quantity": 1,
                "unit_price": "1",
                "paid_amount": paid,
                **(extra[0] if extra else {}),
            }
            for n, (sku, paid, *extra) in enumerate(lines, start=1)
        ],
        **more,
    }
    return json.dumps(body)


SECOND = (
    "\n".join(
        [
            record(
                "J1",
                {"external_id": "NC1", "phone": "138"},
                [("NS-1", "5"), ("J-SKU", "7.5")],
                shipments=[{"carrier": "SF", "tracking_number": "SF1"}],
                invoice={"number": "INV-1", "amount": "12.50", "issued_at": PAID, "title": "抬头"},
            ),
            "{broken",
            record(
                "O3",
                {"external_id": "C3", "language": "en"},
                [("SKU-1", "150.00")],
                shipments=[{"carrier": "SF", "tracking_number": "SF2"}],
            ),
            record("O1", {"external_id": "C1"}, [("SKU-1", "180.00")]),
            record(
                "J2",
                {"external_id": "C1", "language": "zh-hans", "email": "c1@example.com"},
                [("SKU-2", "3")],
                shipping_fee=2,
            ),
            # two new SKUs of one new product, in one batch: the last says what the product is
            record(
                "J3",
                {"external_id": "C5", "name": "甲"},
                [("NS-5", "1", {"product": "NP", "category": "first", "warranty_days": 7})],
            ),
            record(
                "J4",
                {"external_id": "C5", "name": "乙", "email": "c5@example.com"},
                [("NS-6", "1", {"product": "NP", "category": "last", "product_flags": ["live"]})],
            ),
        ]
    )
    + "\n"
)


def snapshot() -> dict[str, list[tuple]]:
    """Every row the import writes, by natural keys (ids differ between the two runs)."""
    return {
        "customers": sorted(
            Customer.objects.values_list(
                "shop__code",
                "external_id",
                "name",
                "phone",
                "email",
                "language",
                "created_at",
                "updated_at",
            )
        ),
        "products": sorted(
            (shop, code, name, category, warranty, json.dumps(flags), created, updated)
            for shop, code, name, category, warranty, flags, created, updated in (
                Product.objects.values_list(
                    "shop__code",
                    "code",
                    "name",
                    "category",
                    "warranty_days",
                    "flags",
                    "created_at",
                    "updated_at",
                )
            )
        ),
        "skus": sorted(
            Sku.objects.values_list(
                "shop__code",
                "code",
                "product__code",
                "title",
                "stock",
                "created_at",
                "updated_at",
            )
        ),
        "orders": sorted(
            Order.objects.values_list(
                "shop__code",
                "external_id",
                "customer__external_id",
                "status",
                "paid_at",
                "shipped_at",
                "signed_at",
                "shipping_fee",
                "goods_amount",
                "total_amount",
                "created_at",
                "updated_at",
            )
        ),
        "lines": sorted(
            OrderLine.objects.values_list(
                "order__external_id",
                "external_id",
                "sku__code",
                "title",
                "quantity",
                "unit_price",
                "paid_amount",
                "refunded_amount",
                "created_at",
                "updated_at",
            )
        ),
        "shipments": sorted(
            Shipment.objects.values_list("order__external_id", "carrier", "tracking_number")
        ),
        "invoices": sorted(
            InvoiceDocument.objects.values_list(
                "order__external_id", "kind", "number", "amount", "issued_at", "title"
            )
        ),
    }


class Undo(Exception):
    pass


def run(staging: bool, files, clock, batch_size=3):
    """Import the files one after another (an hour apart), then undo it all."""
    reports = []
    try:
        with transaction.atomic():
            for hour, path in enumerate(files, start=1):
                clock.set(NOW + dt.timedelta(hours=hour))
                report = import_orders(
                    actor=SYSTEM, path=path, batch_size=batch_size, staging=staging
                )
                reports.append((report.created, report.updated, report.lines, report.errors))
            rows = snapshot()
            raise Undo
    except Undo:
        pass
    clock.set(NOW)
    return reports, rows


@pytest.fixture
def known(db, clock):
    """Three orders: O1 with an open case on its line, O2 with a case and money refunded on
    its first line, O3 with none; SKU-1's product is perishable."""
    make_shop()
    buyer = make_user("buyer", "customer", shop="shop", customer="C1")
    first = make_order(external_id="O1", customer="C1", flags=["perishable"])
    second = make_order(
        external_id="O2",
        customer="C2",
        lines=[
            ("L1", "SKU-2", 3, Decimal("100.00"), Decimal("300.00")),
            ("L2", "SKU-3", 1, Decimal("20.00"), Decimal("20.00")),
        ],
    )
    make_order(external_id="O3", customer="C3")
    open_case(buyer, first)
    second_buyer = make_user("buyer2", "customer", shop="shop", customer="C2")
    open_case(second_buyer, second)
    OrderLine.objects.filter(order=second, external_id="L1").update(
        refunded_amount=Decimal("100.00")
    )


postgres_only = pytest.mark.skipif(not is_postgres(), reason="the staging path is PostgreSQL's")


@postgres_only
def test_both_paths_write_the_same_rows_and_report_the_same(known, clock, tmp_path):
    # given a CSV file, a JSON Lines file twice, and the CSV file again
    first, second = tmp_path / "first.csv", tmp_path / "second.jsonl"
    first.write_text(FIRST, encoding="utf-8")
    second.write_text(SECOND, encoding="utf-8")
    files = [first, second, second, first]

    # when
    row_by_row = run(False, files, clock)
    staged = run(True, files, clock)

    # then
    assert staged[0] == row_by_row[0]
    assert [len(errors) for *_counts, errors in staged[0]] == [7, 1, 1, 7]
    made = {"N1", "N2", "N4", "N5", "N7", "J1", "J2", "J3", "J4"}
    assert made < {order[1] for order in staged[1]["orders"]}
    for table, rows in row_by_row[1].items():
        assert staged[1][table] == rows, table


@postgres_only
def test_the_reports_say_what_each_path_did(known, clock, tmp_path):
    # given
    first = tmp_path / "first.csv"
    first.write_text(FIRST, encoding="utf-8")

    # when
    second = tmp_path / "second.jsonl"
    second.write_text(SECOND, encoding="utf-8")
    reports, rows = run(True, [first, first, second], clock)

    # then the refusals are the rules' own, with their lines; the rerun changes nothing
    created, updated, lines, errors = reports[0]
    assert (created, updated, lines) == (5, 2, 11)
    assert [error.split(":")[0:2] for error in errors] == [
        ["line 6", " order_customer_locked"],
        ["line 7", " lines.0.quantity"],
        ["line 10", " duplicate_order"],
        ["line 9", " line_locked_by_cases"],
        ["line 11", " amount_too_large"],
        ["line 17", " shop_not_found"],
        ["line 18", " invalid_order_dates"],
    ]
    assert reports[1][:3] == (0, 7, 11)
    product = next(p for p in rows["products"] if p[1] == "NP")
    assert product[:6] == ("shop", "NP", "t NS-6", "last", 0, '["live"]')
    stamps = {line[:2]: line[9] for line in rows["lines"]}
    assert stamps[("O2", "L1")] == stamps[("O2", "L2")]  # sent again unchanged: not rewritten


@postgres_only
def test_the_command_takes_the_staging_path_on_postgresql(db):
    assert order_staging.available()


AMOUNTS = [
    "12.50",
    "0",
    "1.5",
    "9999999999.99",
    "99999999999",
    "1.234",
    "-1",
    "-0",
    "1e3",
    "",
    " 1",
    "abc",
    "1.",
    ".5",
    "00001.00",
    "０",
    12.5,
    12,
    -3,
    1e20,
    10**12,
    3.141,
    True,
    None,
    [],
    Decimal("1.234"),
    Decimal("-1"),
    Decimal("NaN"),
    float("inf"),
    99999999999.99,
]


def _checked(adapter, value):
    try:
        return adapter.validate_python(value)
    except ValidationError as error:
        return [(e["type"], e["msg"], e["loc"]) for e in error.errors()]


@pytest.mark.parametrize("value", AMOUNTS, ids=repr)
def test_an_amount_is_checked_as_before_its_limits_moved_to_pydantics_core(value):
    # given the amount's type as it was: the limits after the text check (checked in Python)
    from typing import Annotated

    from ninja import Field
    from pydantic import BeforeValidator

    from aftersales.catalog.schemas import _amount_text

    before = TypeAdapter(
        Annotated[
            Decimal, BeforeValidator(_amount_text), Field(ge=0, max_digits=12, decimal_places=2)
        ]
    )

    # then
    assert _checked(TypeAdapter(Amount), value) == _checked(before, value)


# Batches of 2: [A1 A2] [A3 A4] [A5 A6] [A7 A8]. C3 goes 王三 → A → B → A (a change back is a
# change), C2 gets an e-mail in the first batch and is named again unchanged in the last, a new
# customer is made in the second batch and changed in the third. (Batches of 3 end with orders.)
CARRIED = HEADER + "".join(
    [
        row("A1", "C3", "1", "SKU-1", customer_name="A", customer_phone="1"),
        row("A2", "C2", "1", "SKU-2", customer_email="c2@example.com"),
        row("A3", "C3", "1", "SKU-1", customer_name="B"),
        row("A4", "NEW", "1", "SKU-1", customer_name="N1"),
        row("A5", "C3", "1", "SKU-1", customer_name="A"),
        row("A6", "NEW", "1", "SKU-1", customer_name="N2", customer_language="en"),
        row("A7", "C2", "1", "SKU-2", customer_email="c2@example.com"),
        row("A8", "C3", "1", "SKU-1", customer_phone="1"),
    ]
)


def _ticking(monkeypatch, clock):
    """Each batch of orders a minute after the one before, on both paths."""
    from aftersales.catalog import importer

    def later(function):
        def call(*, actor, items, **more):
            if items:
                clock.shift(minutes=1)
            return function(actor=actor, items=items, **more)

        return call

    monkeypatch.setattr(importer, "orders_upsert", later(importer.orders_upsert))
    monkeypatch.setattr(
        order_staging, "orders_import_staged", later(order_staging.orders_import_staged)
    )


@postgres_only
@pytest.mark.parametrize("batch_size", [2, 3])  # the last batch empty, or with orders
def test_customers_named_by_several_batches_end_as_the_row_by_row_path_leaves_them(
    known, clock, tmp_path, monkeypatch, batch_size
):
    # given a file whose customers change from batch to batch, a minute apart
    path = tmp_path / "carried.csv"
    path.write_text(CARRIED, encoding="utf-8")
    _ticking(monkeypatch, clock)

    # when
    row_by_row = run(False, [path], clock, batch_size=batch_size)
    staged = run(True, [path], clock, batch_size=batch_size)

    # then every row is the same, the customers' times included
    assert staged[0] == row_by_row[0]
    assert staged[0][0][3] == []
    for table, rows in row_by_row[1].items():
        assert staged[1][table] == rows, table
    customers = {c[1]: c for c in staged[1]["customers"]}
    assert customers["C3"][2:4] == ("A", "1")
    assert customers["C2"][4] == "c2@example.com"
    assert customers["NEW"][2] == "N2" and customers["NEW"][5] == "en"
    # C3 last changed in the third batch (of 2: A5's name; of 3: A8's phone, A1's being lost
    # to A3, the last of its batch to name C3); C2 in the first
    assert customers["C3"][7] == NOW + dt.timedelta(hours=1, minutes=3)
    assert customers["C2"][7] == NOW + dt.timedelta(hours=1, minutes=1)
