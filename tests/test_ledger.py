"""The refund ledger: exact sums per line, idempotent refunds, deductions, and a hard ceiling."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from aftersales.cases import ledger
from aftersales.cases.models import Case, RefundEntry
from aftersales.catalog.models import OrderLine
from aftersales.core import clock
from aftersales.core.errors import Conflict
from tests.conftest import make_order, open_case


@pytest.fixture
def staff(agent, finance):
    return agent, finance


def to_refund_pending(customer, agent, order, **open_kwargs):
    number = open_case(customer, order, **open_kwargs)["number"]
    agent.act(number, "approve")
    customer.act(number, "ship_return", {"carrier": "SF", "tracking_number": "SF1"})
    agent.act(number, "receive")
    return number


def test_a_refund_pays_the_approved_amount_into_the_line_ledger(customer, staff, order):
    agent, finance = staff
    number = to_refund_pending(customer, agent, order)
    agent.act(number, "inspect", {"result": "pass"})
    response = finance.act(number, "refund", {"idempotency_key": "pay-1"})
    assert response.status_code == 200
    assert response.json()["refunded_amount"] == "90.00"
    assert response.json()["lines"][0]["refunded_amount"] == "90.00"
    entry = RefundEntry.objects.get()
    assert (entry.amount, entry.idempotency_key) == (Decimal("90.00"), "pay-1")
    assert OrderLine.objects.get().refunded_amount == Decimal("90.00")


def test_a_retried_refund_does_not_pay_twice(customer, staff, order):
    agent, finance = staff
    number = to_refund_pending(customer, agent, order)
    agent.act(number, "inspect", {"result": "pass"})
    first = finance.act(number, "refund", {"idempotency_key": "pay-1"})
    again = finance.act(number, "refund", {"idempotency_key": "pay-1"})
    assert again.status_code == 200
    assert again.json()["refunded_amount"] == first.json()["refunded_amount"] == "90.00"
    assert RefundEntry.objects.count() == 1
    assert Case.objects.get(number=number).events.filter(action="refund").count() == 1
    # a different key on a refunded case is a new request, and the table refuses it
    assert finance.act(number, "refund", {"idempotency_key": "pay-2"}).status_code == 409


def test_a_refund_needs_an_idempotency_key(customer, staff, order):
    agent, finance = staff
    number = to_refund_pending(customer, agent, order)
    agent.act(number, "inspect", {"result": "pass"})
    response = finance.act(number, "refund", {})
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_required"
    assert RefundEntry.objects.count() == 0


def test_a_key_cannot_be_reused_for_another_case_of_the_line(customer, staff, order):
    agent, finance = staff
    first = to_refund_pending(customer, agent, order)
    second = to_refund_pending(customer, agent, order)
    for number in (first, second):
        agent.act(number, "inspect", {"result": "pass"})
    assert finance.act(first, "refund", {"idempotency_key": "same"}).status_code == 200
    response = finance.act(second, "refund", {"idempotency_key": "same"})
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert Case.objects.get(number=second).state == "refund_pending"


def test_inspection_deducts_by_the_damage(customer, staff, order):
    agent, finance = staff
    number = to_refund_pending(customer, agent, order)
    response = agent.act(
        number, "inspect", {"result": "deduct", "deduction": "25.50", "reason": "鞋底有磨损"}
    )
    assert response.status_code == 200
    assert response.json()["approved_amount"] == "64.50"
    finance.act(number, "refund", {"idempotency_key": "k"})
    assert OrderLine.objects.get().refunded_amount == Decimal("64.50")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"result": "deduct", "deduction": "0", "reason": "x"}, "invalid_deduction"),
        ({"result": "deduct", "deduction": "90.01", "reason": "x"}, "invalid_deduction"),
        ({"result": "deduct", "deduction": "5"}, "reason_required"),
        ({"result": "pass", "deduction": "5"}, "invalid_deduction"),
        ({"result": "meh"}, "invalid_inspection_result"),
    ],
)
def test_invalid_inspections_change_nothing(customer, staff, order, body, code):
    agent, _finance = staff
    number = to_refund_pending(customer, agent, order)
    response = agent.act(number, "inspect", body)
    assert response.status_code == 422
    assert response.json()["code"] == code
    case = Case.objects.get(number=number)
    assert (case.state, case.approved_amount) == ("inspecting", Decimal("90.00"))


def test_buyer_shipping_is_deducted_only_when_the_shop_turns_it_on(customer, staff, order, admin):
    agent, _finance = staff
    by_default = open_case(customer, order, reason="changed_mind")["number"]
    assert agent.act(by_default, "approve").json()["approved_amount"] == "90.00"
    admin.put("/shops/shop/policy", {"deduct_buyer_shipping": True})
    buyer_reason = open_case(customer, order, reason="changed_mind")["number"]
    response = agent.act(buyer_reason, "approve")
    assert response.json()["approved_amount"] == "80.00"
    assert response.json()["shipping_deduction"] == "10.00"


def test_seller_fault_never_deducts_shipping(customer, staff, order):
    agent, _finance = staff
    number = open_case(customer, order, reason="quality_issue")["number"]
    assert agent.act(number, "approve").json()["shipping_deduction"] == "0.00"


def test_a_multi_line_case_refunds_each_line(customer, staff, shop):
    agent, finance = staff
    order = make_order(
        external_id="M1",
        lines=[
            ("L1", "SKU-A", 1, Decimal("50.00"), Decimal("45.00")),
            ("L2", "SKU-B", 3, Decimal("20.00"), Decimal("60.00")),
        ],
    )
    lines = list(order.lines.order_by("id"))
    response = customer.post(
        "/cases",
        {
            "order_id": order.id,
            "kind": "refund_only",
            "reason": "missing_item",
            "lines": [
                {"order_line_id": lines[0].id, "quantity": 1},
                {"order_line_id": lines[1].id, "quantity": 2},
            ],
        },
    )
    number = response.json()["number"]
    assert response.json()["requested_amount"] == "85.00"
    agent.act(number, "approve")
    finance.act(number, "refund", {"idempotency_key": "multi"})
    assert [line.refunded_amount for line in order.lines.order_by("id")] == [
        Decimal("45.00"),
        Decimal("40.00"),
    ]
    assert RefundEntry.objects.count() == 2


def test_the_ledger_refuses_more_than_was_paid(customer, staff, order):
    agent, _finance = staff
    number = open_case(customer, order, kind="refund_only", reason="missing_item", quantity=2)[
        "number"
    ]
    agent.act(number, "approve")
    case = Case.objects.get(number=number)
    # a bug elsewhere approves more than the line was paid
    case.lines.update(approved_amount=Decimal("180.01"))
    with pytest.raises(Conflict) as refused, transaction.atomic():
        ledger.refund_post(case=case, idempotency_key="x", now=clock.now())
    assert refused.value.code == "refund_exceeds_paid"
    assert RefundEntry.objects.count() == 0


def test_the_database_itself_refuses_an_over_refund(order):
    line = order.lines.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderLine.objects.filter(pk=line.pk).update(refunded_amount=Decimal("180.01"))
