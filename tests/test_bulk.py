"""bulk_update_rows writes exactly what save() would, on both databases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from aftersales.catalog.models import Customer, Order, Product
from aftersales.core.bulk import bulk_update_rows
from tests.conftest import make_order


def test_bulk_update_rows_writes_every_type(shop):
    first = make_order(external_id="A")
    second = make_order(external_id="B", customer="C2")
    moment = dt.datetime(2026, 11, 11, 11, 11, 11, 123456, tzinfo=dt.UTC)
    first.status, first.signed_at, first.shipping_fee = "completed", moment, Decimal("12.34")
    second.status, second.signed_at, second.shipping_fee = "cancelled", None, Decimal("0.00")
    second.customer = Customer.objects.get(external_id="C1")
    bulk_update_rows(Order, [first, second], ["status", "signed_at", "shipping_fee", "customer"])
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.signed_at, first.shipping_fee) == (
        "completed",
        moment,
        Decimal("12.34"),
    )
    assert (second.status, second.signed_at, second.customer.external_id) == (
        "cancelled",
        None,
        "C1",
    )


def test_bulk_update_rows_writes_json(shop):
    make_order(external_id="A")
    product = Product.objects.get()
    product.flags = ["intimate", "perishable"]
    bulk_update_rows(Product, [product], ["flags"])
    product.refresh_from_db()
    assert product.flags == ["intimate", "perishable"]
