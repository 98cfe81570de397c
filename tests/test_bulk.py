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


def _columns(row) -> dict:
    return {f.attname: getattr(row, f.attname) for f in row._meta.concrete_fields}


def test_an_opening_writes_its_rows_in_one_statement_as_they_read_back(customer, order):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from aftersales.cases.models import Case
    from aftersales.cases.services import case_open
    from aftersales.core.models import Notice
    from tests.conftest import is_postgres

    line = order.lines.order_by("id").first()
    body = {
        "order_id": order.id,
        "kind": "return_refund",
        "reason": "quality_issue",
        "lines": [{"order_line_id": line.id, "quantity": 1}],
    }
    # when a case is opened
    with CaptureQueriesContext(connection) as queries:
        case = case_open(actor=customer.principal, data=body)
    # then the case, its lines, its event and its notice are written by one statement on
    # PostgreSQL (after its id is taken), with no update of the new row
    writes = [q["sql"] for q in queries if q["sql"].startswith(("INSERT", "UPDATE", "WITH"))]
    if is_postgres():
        assert len(writes) == 1 and writes[0].startswith("WITH t0 AS (INSERT INTO")
    assert not [sql for sql in writes if sql.startswith("UPDATE")] or not is_postgres()
    # and every row reads back as the opening holds it in memory, to the last column
    stored = Case.objects.get(pk=case.pk)
    assert _columns(stored) == _columns(case)
    assert stored.number.startswith("AS") and not case._state.adding
    assert [_columns(line) for line in stored.lines.order_by("id")] == [
        _columns(line) for line in case.lines.all()
    ]
    assert [_columns(event) for event in stored.events.all()] == [
        _columns(event) for event in case.events.all()
    ]
    notice = Notice.objects.get(subject_id=case.pk, kind="case_opened")
    assert notice.payload["number"] == case.number
