"""Receiving and inspecting by line: quantities, conditions, dispositions, the suggested deduction
from the policy's table, and the dispute flag."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from aftersales.cases import services
from aftersales.cases.models import Case
from aftersales.core.errors import InvalidInput
from tests.conftest import make_order, open_case


@pytest.fixture
def two_lines(shop):
    return make_order(
        external_id="R1",
        lines=[
            ("L1", "SKU-SHOE", 2, Decimal("100.00"), Decimal("200.00")),
            ("L2", "SKU-SOCK", 1, Decimal("20.00"), Decimal("20.00")),
        ],
    )


@pytest.fixture
def arrived(customer, agent, two_lines):
    """A quality-issue return of both lines (the shop pays shipping: no shipping deduction)."""
    lines = list(two_lines.lines.order_by("id"))
    number = customer.post(
        "/cases",
        {
            "order_id": two_lines.id,
            "kind": "return_refund",
            "reason": "quality_issue",
            "lines": [
                {"order_line_id": lines[0].id, "quantity": 2},
                {"order_line_id": lines[1].id, "quantity": 1},
            ],
        },
    ).json()["number"]
    agent.act(number, "approve")
    customer.act(number, "ship_return", {"carrier": "SF", "tracking_number": "SF1"})
    return number, lines


def test_receiving_everything_by_default(agent, arrived):
    number, _lines = arrived
    case = agent.act(number, "receive").json()
    assert [line["received_quantity"] for line in case["lines"]] == [2, 1]
    assert case["dispute_flag"] is False


def test_a_short_parcel_is_flagged_and_counted(agent, arrived):
    number, lines = arrived
    received = agent.act(
        number, "receive", {"lines": [{"order_line_id": lines[0].id, "quantity": 1}]}
    ).json()
    assert [line["received_quantity"] for line in received["lines"]] == [1, 1]
    assert (received["dispute_flag"], received["dispute_reason"]) == (True, "short_delivery")
    assert received["events"][-1]["data"]["short"] == {str(lines[0].id): 1}
    # the missing shoe is suggested as a full deduction of its share (100.00)
    inspected = agent.act(
        number, "inspect", {"lines": [{"order_line_id": lines[0].id, "condition": "intact"}]}
    )
    assert inspected.json()["suggested_deduction"] == "100.00"
    assert inspected.json()["approved_amount"] == "120.00"
    assert inspected.json()["lines"][0]["approved_amount"] == "100.00"


def test_grades_suggest_the_deduction_from_the_policy(agent, finance, arrived):
    number, lines = arrived
    agent.act(number, "receive")
    response = agent.act(
        number,
        "inspect",
        {
            "lines": [
                {"order_line_id": lines[0].id, "condition": "used", "disposition": "refurbish"},
                {"order_line_id": lines[1].id, "condition": "intact", "disposition": "restock"},
            ]
        },
    )
    assert response.status_code == 200, response.content
    case = response.json()
    # used: 30% of the shoes' 200.00 = 60.00; intact socks: nothing
    assert (case["suggested_deduction"], case["inspection_deduction"]) == ("60.00", "60.00")
    assert case["approved_amount"] == "160.00"
    assert [(line["condition"], line["disposition"]) for line in case["lines"]] == [
        ("used", "refurbish"),
        ("intact", "restock"),
    ]
    assert [line["approved_amount"] for line in case["lines"]] == ["140.00", "20.00"]
    finance.act(number, "refund", {"idempotency_key": "r"})
    assert Case.objects.get(number=number).refunded_amount == Decimal("160.00")


def test_the_agent_may_depart_from_the_suggestion_with_a_reason(agent, arrived):
    number, lines = arrived
    agent.act(number, "receive")
    graded = {"lines": [{"order_line_id": lines[0].id, "condition": "dirty"}]}
    refused = agent.act(number, "inspect", {**graded, "result": "deduct", "deduction": "10.00"})
    assert refused.json()["code"] == "reason_required"
    waived = agent.act(number, "inspect", {**graded, "result": "pass"})
    assert waived.json()["code"] == "reason_required"
    accepted = agent.act(
        number, "inspect", {**graded, "result": "deduct", "deduction": "10.00", "reason": "已协商"}
    ).json()
    assert (accepted["suggested_deduction"], accepted["inspection_deduction"]) == ("40.00", "10.00")
    assert accepted["approved_amount"] == "210.00"


@pytest.mark.parametrize("condition", ["wrong_item", "empty_box"])
def test_a_wrong_item_or_an_empty_box_opens_a_dispute(agent, arrived, condition):
    number, lines = arrived
    agent.act(number, "receive")
    case = agent.act(
        number, "inspect", {"lines": [{"order_line_id": lines[0].id, "condition": condition}]}
    ).json()
    assert (case["dispute_flag"], case["dispute_reason"]) == (True, condition)
    assert case["suggested_deduction"] == "200.00"
    assert case["events"][-1]["data"]["dispute"] == condition


@pytest.mark.parametrize(
    ("action", "lines", "code"),
    [
        ("receive", [{"order_line_id": 999999, "quantity": 1}], "line_not_in_case"),
        ("receive", "too many", "invalid_quantity"),
        ("inspect", [{"order_line_id": "first", "condition": "shiny"}], "invalid_input"),
    ],
)
def test_bad_line_entries_change_nothing(agent, arrived, action, lines, code):
    number, case_lines = arrived
    if action == "inspect":
        agent.act(number, "receive")
    if lines == "too many":
        lines = [{"order_line_id": case_lines[1].id, "quantity": 2}]
    before = Case.objects.get(number=number).state
    response = agent.act(number, action, {"lines": lines})
    assert response.status_code == 422, response.content
    assert response.json()["code"] == code
    assert Case.objects.get(number=number).state == before


def test_the_deduction_table_is_policy(admin, agent, arrived):
    response = admin.put("/shops/shop/policy", {"inspection_deduction_percent": {"used": 50}})
    assert response.json()["inspection_deduction_percent"]["used"] == 50
    assert response.json()["inspection_deduction_percent"]["dirty"] == 20
    # an open case keeps the table of its own version
    number, lines = arrived
    agent.act(number, "receive")
    case = agent.act(
        number, "inspect", {"lines": [{"order_line_id": lines[0].id, "condition": "used"}]}
    ).json()
    assert case["suggested_deduction"] == "60.00"
    refused = admin.put("/shops/shop/policy", {"inspection_deduction_percent": {"intact": 10}})
    assert refused.json()["code"] == "policy_below_legal_floor"
    invalid = admin.put("/shops/shop/policy", {"inspection_deduction_percent": {"used": 101}})
    assert invalid.json()["code"] == "invalid_policy"


def test_old_policy_versions_use_their_presets_table(customer, agent, order):
    from aftersales.policy.models import Policy

    Policy.objects.filter(shop__code="shop").update(
        data={
            k: v
            for k, v in Policy.objects.get(shop__code="shop").data.items()
            if k != "inspection_deduction_percent"
        }
    )
    number = open_case(customer, order, quantity=1)["number"]
    agent.act(number, "approve")
    customer.act(number, "ship_return", {"carrier": "SF", "tracking_number": "1"})
    agent.act(number, "receive")
    line_id = order.lines.get().id
    case = agent.act(
        number, "inspect", {"lines": [{"order_line_id": line_id, "condition": "damaged"}]}
    ).json()
    assert case["suggested_deduction"] == "45.00"  # 50% of 90.00


# --- refusals name fields by their labels ------------------------------------------------------

ISO_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T")
FIELD_NAME = re.compile(r"\b[a-z]+_[a-z_]+\b")


@pytest.mark.parametrize(
    ("action", "data", "code", "field", "detail"),
    [
        (
            "inspect",
            {"result": "meh"},
            "invalid_inspection_result",
            "result",
            "Result must be one of: Intact: refund in full / Damaged or used: deduct.",
        ),
        (
            "inspect",
            {"result": "deduct", "deduction": "a lot"},
            "invalid_amount",
            "deduction",
            "Deduction must be an amount such as 12.50.",
        ),
        (
            "inspect",
            {"result": "pass", "authenticity": "maybe"},
            "invalid_authenticity",
            "authenticity",
            "Authenticity must be one of: Genuine / Counterfeit / Inconclusive.",
        ),
        (
            "receive",
            {"note": "x" * 2001},
            "invalid_input",
            "note",
            "Note must be text of at most 2000 characters.",
        ),
    ],
)
def test_the_forms_refusals_name_the_field_in_words(
    agent, arrived, action, data, code, field, detail
):
    # given a parcel at the desk (and on the bench for an inspection)
    number, _lines = arrived
    if action == "inspect":
        agent.act(number, "receive")
    case = Case.objects.get(number=number)
    # when a form sends what the API's schema would have refused
    with pytest.raises(InvalidInput) as refused:
        services.case_transition(case_id=case.id, action=action, actor=agent.principal, data=data)
    # then the detail names the field by its label; the field's name stays for the form
    assert (refused.value.code, refused.value.extra["field"]) == (code, field)
    assert str(refused.value.detail) == detail
    assert not FIELD_NAME.search(str(refused.value.detail))
    assert not ISO_TIMESTAMP.search(str(refused.value.detail))
    assert Case.objects.get(number=number).state == case.state


def test_a_missing_tracking_number_is_named_in_words(customer, agent, two_lines):
    # given an approved return
    number = open_case(customer, two_lines)["number"]
    agent.act(number, "approve")
    # when it is shipped without a tracking number
    response = customer.act(number, "ship_return", {"carrier": "SF"})
    # then the refusal names the tracking number in words, and the field for the form
    answer = response.json()
    assert response.status_code == 422
    assert (answer["code"], answer["field"]) == ("tracking_number_required", "tracking_number")
    assert answer["detail"] == "Tracking number is required for this action."
    assert not FIELD_NAME.search(answer["detail"])
    zh = customer.client.post(
        f"/api/v1/cases/{number}/actions/ship_return",
        '{"carrier": "SF"}',
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert zh.json()["detail"] == "此操作需要填写 快递单号。"


def test_every_field_of_an_action_has_a_label():
    # given every field an action's typed input (and its lines) can carry
    from django.utils import translation
    from pydantic import BaseModel

    from aftersales.cases.lifecycle import CASES
    from aftersales.core.lifecycle import plain_type

    fields = {}
    pending = list(CASES.inputs().values())
    while pending:
        model = pending.pop()
        for name, info in model.model_fields.items():
            fields[(model.__name__, name)] = info
            inner = plain_type(info.annotation)
            inner = (
                plain_type(inner.__args__[0])
                if getattr(inner, "__origin__", None) is list
                else inner
            )
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                pending.append(inner)
    # when their labels are read in Chinese
    with translation.override("zh-hans"):
        labels = {key: translation.gettext(info.title or "") for key, info in fields.items()}
    # then each has one, in words, translated
    ids: set = set()
    missing = [key for key, label in labels.items() if key not in ids and not label]
    assert missing == []
    assert [key for key, label in labels.items() if label and label.isascii()] == []
