"""Changing a case's resolution after inspection or diagnosis: the case keeps its number, its
timeline shows the conversion, and the ledger stays exact."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aftersales.cases.models import Case, RefundEntry
from aftersales.catalog.models import OrderLine, Sku
from tests.conftest import open_case

SENT = [
    ("agent", "approve", {}),
    ("customer", "ship_return", {"carrier": "中通", "tracking_number": "ZT9"}),
    ("agent", "receive", {}),
]


def walk(apis, order, kind, reason, steps):
    number = open_case(apis["customer"], order, kind=kind, reason=reason)["number"]
    for role, action, body in steps:
        response = apis[role].act(number, action, body)
        assert response.status_code == 200, response.content
    return number


@pytest.fixture
def apis(agent, finance, customer):
    return {"agent": agent, "finance": finance, "customer": customer}


def test_return_becomes_exchange_and_keeps_its_number_and_history(apis, order):
    Sku.objects.update(stock=5)
    number = walk(
        apis,
        order,
        "return_refund",
        "quality_issue",
        [*SENT, ("agent", "inspect", {"result": "pass"})],
    )
    response = apis["agent"].act(number, "convert", {"kind": "exchange", "reason": "顾客改为换货"})
    assert response.status_code == 200, response.content
    case = response.json()
    assert (case["number"], case["kind"], case["state"]) == (
        number,
        "exchange",
        "replacement_pending",
    )
    assert case["converted_from"] == "return_refund"
    event = case["events"][-1]
    assert (event["action"], event["from_state"], event["to_state"]) == (
        "convert",
        "refund_pending",
        "replacement_pending",
    )
    assert event["data"] == {
        "from_kind": "return_refund",
        "to_kind": "exchange",
        "reason": "顾客改为换货",
    }
    assert [e["action"] for e in case["events"]][:4] == [
        "open",
        "approve",
        "ship_return",
        "receive",
    ]
    shipped = apis["agent"].act(
        number, "ship_replacement", {"carrier": "SF", "tracking_number": "1"}
    )
    assert shipped.json()["state"] == "shipped_to_customer"
    assert not RefundEntry.objects.exists()


def test_exchange_out_of_stock_becomes_a_refund_of_what_inspection_approved(apis, order):
    # given an exchange whose inspection deducted 20 of the 90 approved
    number = walk(
        apis,
        order,
        "exchange",
        "wrong_size",
        [
            *SENT,
            ("agent", "inspect", {"result": "deduct", "deduction": "20.00", "reason": "吊牌已拆"}),
        ],
    )
    out = apis["agent"].act(number, "ship_replacement", {"carrier": "SF", "tracking_number": "1"})
    assert out.json()["code"] == "replacement_out_of_stock"
    # when the agent converts it to a refund
    converted = (
        apis["agent"]
        .act(number, "convert", {"kind": "return_refund", "reason": "缺货,顾客同意退款"})
        .json()
    )
    assert converted["state"] == "refund_pending"
    assert converted["approved_amount"] == "70.00"
    # then the refund pays exactly what was approved, once
    refunded = apis["finance"].act(number, "refund", {"idempotency_key": "oos"}).json()
    assert refunded["state"] == "refunded"
    assert refunded["refunded_amount"] == "70.00"
    assert sum(e.amount for e in RefundEntry.objects.all()) == Decimal("70.00")
    assert OrderLine.objects.get(order=order).refunded_amount == Decimal("70.00")
    again = apis["finance"].act(number, "refund", {"idempotency_key": "oos"})
    assert again.status_code == 200
    assert RefundEntry.objects.count() == 1


def test_return_becomes_repair(apis, order):
    number = walk(
        apis,
        order,
        "return_refund",
        "quality_issue",
        [*SENT, ("agent", "inspect", {"result": "pass"})],
    )
    case = apis["agent"].act(number, "convert", {"kind": "repair", "reason": "顾客同意维修"}).json()
    assert (case["kind"], case["state"]) == ("repair", "diagnosing")
    assert case["deadline_action"] == "escalate"
    assert case["repair"] is not None


@pytest.mark.parametrize(
    ("kind", "reason", "steps", "to", "code"),
    [
        # a refund-only case has no goods to exchange or repair
        (
            "refund_only",
            "missing_item",
            [("agent", "approve", {})],
            "exchange",
            "conversion_not_allowed",
        ),
        # an exchange becomes a refund, not a repair
        (
            "exchange",
            "wrong_size",
            [*SENT, ("agent", "inspect", {"result": "pass"})],
            "repair",
            "conversion_not_allowed",
        ),
        # the same kind is no conversion
        (
            "return_refund",
            "quality_issue",
            [*SENT, ("agent", "inspect", {"result": "pass"})],
            "return_refund",
            "conversion_not_allowed",
        ),
        # before inspection the table has no conversion at all
        (
            "return_refund",
            "quality_issue",
            [("agent", "approve", {})],
            "exchange",
            "action_not_allowed",
        ),
    ],
)
def test_conversions_outside_the_rules_are_refused_and_change_nothing(
    apis, order, kind, reason, steps, to, code
):
    number = walk(apis, order, kind, reason, steps)
    before = Case.objects.get(number=number)
    response = apis["agent"].act(number, "convert", {"kind": to, "reason": "试试"})
    assert response.status_code == 409
    assert response.json()["code"] == code
    after = Case.objects.get(number=number)
    assert (after.kind, after.state, after.events.count()) == (
        before.kind,
        before.state,
        before.events.count(),
    )


def test_a_conversion_needs_a_reason_and_a_kind(apis, order):
    number = walk(
        apis,
        order,
        "return_refund",
        "quality_issue",
        [*SENT, ("agent", "inspect", {"result": "pass"})],
    )
    assert apis["agent"].act(number, "convert", {"kind": "exchange"}).json()["code"] == (
        "reason_required"
    )
    assert apis["agent"].act(number, "convert", {"reason": "x"}).json()["code"] == "kind_required"
    assert apis["agent"].act(number, "convert", {"kind": "swap", "reason": "x"}).status_code == 422
    assert (
        apis["customer"].act(number, "convert", {"kind": "exchange", "reason": "x"}).status_code
        == 403
    )
    assert Case.objects.get(number=number).kind == "return_refund"
