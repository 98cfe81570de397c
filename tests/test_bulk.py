"""bulk_update_rows writes exactly what save() would, on both databases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from aftersales.catalog.models import Customer, Order, Product
from aftersales.core.bulk import bulk_update_rows
from tests.conftest import make_order, open_case


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


def _notices(count: int, case) -> list:
    from aftersales.core.notices import notice_build

    return [notice_build(case, "case_escalated", {"n": index}) for index in range(count)]


@pytest.mark.parametrize("count", [3, 45])  # one INSERT, then COPY (from 20 rows) on PostgreSQL
def test_bulk_insert_rows_gives_the_objects_their_ids_and_writes_every_column(
    customer, order, count
):
    from aftersales.cases.models import Case
    from aftersales.core.bulk import bulk_insert_rows
    from aftersales.core.models import Notice

    open_case(customer, order)
    case = Case.objects.get()
    before = Notice.objects.count()
    notices = _notices(count, case)
    bulk_insert_rows(Notice, notices, with_ids=True)

    assert all(n.pk is not None and not n._state.adding for n in notices)
    assert len({n.pk for n in notices}) == count
    stored = {n.pk: n for n in Notice.objects.filter(pk__in=[n.pk for n in notices])}
    assert Notice.objects.count() == before + count
    for notice in notices:
        row = stored[notice.pk]
        assert (row.kind, row.payload, row.created_at, row.subject_id, row.audience) == (
            "case_escalated",
            notice.payload,
            notice.created_at,
            case.pk,
            notice.audience,
        )


def test_bulk_insert_new_skips_what_breaks_a_unique_constraint_and_returns_the_new_ids(
    customer, order
):
    from aftersales.cases.models import Case
    from aftersales.core.bulk import bulk_insert_new
    from aftersales.core.models import Notice
    from aftersales.notify.deliveries import DELIVERY_COLUMNS
    from aftersales.notify.models import Delivery

    open_case(customer, order)
    case = Case.objects.get()
    notice = Notice.objects.get()
    Delivery.objects.all().delete()
    now = notice.created_at

    def planned(*channels):
        return [
            Delivery(
                notice=notice, shop_id=case.shop_id, channel=c, next_attempt_at=now, created_at=now
            )
            for c in channels
        ]

    first = bulk_insert_new(Delivery, planned("email"), DELIVERY_COLUMNS)
    again = bulk_insert_new(Delivery, planned("email", "sms"), DELIVERY_COLUMNS)

    assert first == list(Delivery.objects.filter(channel="email").values_list("pk", flat=True))
    assert again == list(Delivery.objects.filter(channel="sms").values_list("pk", flat=True))
    assert Delivery.objects.count() == 2
    assert bulk_insert_new(Delivery, [], DELIVERY_COLUMNS) == []
