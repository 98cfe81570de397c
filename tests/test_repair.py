"""Repair and warranty (维修 / 保修) end to end through the API: diagnosis by the shop, a supplier
or a service center; free under warranty, quoted out of it; the quote reminds, then returns the
goods unrepaired with a notice (never the silent cancellation of a JD.com repair, docs/domain.md);
三包 entitlements; costs; the paper invoice travelling with the goods; and every deadline with a
moved clock."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from aftersales.cases.models import Case
from aftersales.catalog.models import InvoiceDocument, Product, ServiceCenter
from aftersales.core.models import Notice
from aftersales.core.sweep import sweep
from tests.conftest import NOW, make_order, make_shop, open_case, order_payload

SHIP_BACK = {"carrier": "顺丰速运", "tracking_number": "SF-BACK-1"}


@pytest.fixture
def center(shop):
    return ServiceCenter.objects.create(
        shop=shop, name="耳机授权维修中心", address="杭州市文三路 90 号", turnaround_days=10
    )


def make_device_order(external_id="R1", *, signed_days_ago=2, warranty_days=365):
    paid = NOW - dt.timedelta(days=signed_days_ago + 2)
    order = make_order(
        external_id=external_id,
        paid_at=paid,
        lines=[("L1", "EARBUD", 1, Decimal("899.00"), Decimal("899.00"))],
    )
    Product.objects.filter(code="EARBUD").update(warranty_days=warranty_days)
    return order


def to_diagnosing(customer, agent, order, **receive):
    number = open_case(customer, order, kind="repair", reason="quality_issue")["number"]
    for api, action, body in [
        (agent, "approve", {}),
        (customer, "ship_return", {"carrier": "中通", "tracking_number": f"ZT-{order.id}"}),
        (agent, "receive", receive),
    ]:
        response = api.act(number, action, body)
        assert response.status_code == 200, response.content
    return number


def diagnose(agent, number, center=None, **extra):
    body = {"diagnosed_by": "shop", "fault_code": "左耳无声", **extra}
    if center is not None:
        body |= {"diagnosed_by": "service_center", "service_center_id": center.id}
    return agent.act(number, "diagnose", body)


def case_of(number) -> Case:
    return Case.objects.get(number=number)


def test_a_warranty_repair_is_free_and_runs_to_completion(customer, agent, center):
    order = make_device_order()
    number = to_diagnosing(customer, agent, order)
    assert case_of(number).state == "diagnosing"
    response = diagnose(agent, number, center, note="单元损坏,免费更换")
    assert response.status_code == 200, response.content
    case = response.json()
    assert case["state"] == "repairing"
    assert case["repair"]["under_warranty"] is True
    assert case["repair"]["quote_amount"] == "0.00"
    assert case["repair"]["service_center"]["name"] == "耳机授权维修中心"
    # the service center's turnaround sets the repair deadline
    assert case_of(number).deadline_at == NOW + dt.timedelta(days=10)
    shipped = agent.act(
        number, "ship_back", {**SHIP_BACK, "parts_cost": "45.00", "labour_cost": "30.00"}
    ).json()
    assert shipped["state"] == "shipped_to_customer"
    assert shipped["repair"]["repaired"] is True
    assert (shipped["repair"]["parts_cost"], shipped["repair"]["labour_cost"]) == ("45.00", "30.00")
    assert shipped["refunded_amount"] == "0.00"  # a repair costs the customer nothing
    # what the repair cost the shop is not the customer's, in the answer as in the timeline
    seen = customer.get(f"/cases/{number}").json()
    assert (seen["repair"]["parts_cost"], seen["repair"]["labour_cost"]) == (None, None)
    shown = [e for e in seen["events"] if e["action"] == "ship_back"]
    assert shown and not {"parts_cost", "labour_cost"} & set(shown[0]["data"])
    done = customer.act(number, "confirm_receipt").json()
    assert done["state"] == "completed"
    assert done["repair"]["parts_cost"] is None


def test_the_customer_sees_every_step_with_dates(customer, agent, center, clock):
    order = make_device_order(signed_days_ago=400)
    number = to_diagnosing(customer, agent, order)
    clock.shift(hours=5)
    diagnose(agent, number, center, quote_parts="120.00", quote_labour="60.00")
    clock.shift(hours=20)
    customer.act(number, "accept_quote", {"payment_reference": "维修费 P1"})
    clock.shift(days=4)
    agent.act(number, "ship_back", SHIP_BACK)
    steps = customer.get(f"/cases/{number}").json()["steps"]
    assert [(s["state"], s["at"][:10]) for s in steps[-4:]] == [
        ("diagnosing", "2026-11-24"),
        ("quote_pending", "2026-11-24"),
        ("repairing", "2026-11-25"),
        ("shipped_to_customer", "2026-11-29"),
    ]
    assert steps[-3]["detail"] == "At the service center: 耳机授权维修中心; Quote: 180.00 CNY"
    assert steps[-3]["label"] == "Repair quote awaiting the customer"
    assert steps[-1]["detail"] == "顺丰速运 SF-BACK-1"
    zh = customer.client.get(f"/api/v1/cases/{number}", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert zh["steps"][-3]["detail"].startswith("在维修中心")


def test_out_of_warranty_the_quote_goes_to_the_customer_who_accepts(customer, agent, center):
    order = make_device_order(signed_days_ago=400)
    number = to_diagnosing(customer, agent, order)
    no_quote = diagnose(agent, number, center)
    assert no_quote.status_code == 422
    assert no_quote.json()["code"] == "quote_required"
    quoted = diagnose(agent, number, center, quote_parts="120.00", quote_labour="60.00").json()
    assert quoted["state"] == "quote_pending"
    assert quoted["repair"]["under_warranty"] is False
    assert quoted["repair"]["quote_amount"] == "180.00"
    assert quoted["deadline_action"] == "remind"
    assert Notice.objects.filter(case__number=number, kind="case_quoted").exists()
    seen = customer.get(f"/cases/{number}").json()
    assert set(seen["available_actions"]) == {"accept_quote", "decline_quote"}
    assert agent.act(number, "accept_quote").json()["code"] == "action_forbidden"
    accepted = customer.act(number, "accept_quote").json()
    assert accepted["state"] == "repairing"
    assert accepted["repair"]["quote_decision"] == "accepted"


def test_a_declined_quote_sends_the_goods_back_unrepaired(customer, agent, center):
    order = make_device_order(signed_days_ago=400)
    number = to_diagnosing(customer, agent, order)
    diagnose(agent, number, center, quote_parts="120.00")
    declined = customer.act(number, "decline_quote", {"reason": "太贵了"}).json()
    assert declined["state"] == "return_unrepaired"
    assert declined["deadline_action"] == "escalate"
    back = agent.act(number, "ship_back", SHIP_BACK).json()
    assert back["state"] == "shipped_to_customer"
    assert back["repair"]["repaired"] is False


def test_the_quote_reminds_first_then_returns_the_goods_with_a_notice(
    customer, agent, center, clock
):
    order = make_device_order(signed_days_ago=400)
    number = to_diagnosing(customer, agent, order)
    diagnose(agent, number, center, quote_parts="120.00")
    quoted_at = clock.now
    # the first deadline (policy quote_reminder, 3 days) reminds the customer; nothing else
    clock.shift(days=3, seconds=-1)
    assert sweep().processed == 0
    clock.shift(seconds=1)
    assert sweep().acted == 1
    case = case_of(number)
    assert case.state == "quote_pending"
    assert case.quote_reminded_at == clock.now
    assert (case.deadline_at, case.deadline_action) == (
        quoted_at + dt.timedelta(days=7),
        "auto_decline",
    )
    reminder = Notice.objects.get(case=case, kind="quote_reminder")
    assert reminder.audience == "customer"
    assert customer.get(f"/cases/{number}").json()["steps"][-1]["label"] == (
        "Reminder: the repair quote is waiting for you"
    )
    # the last deadline (quote_response, 7 days from the quote) returns the goods, loudly
    clock.shift(days=4)
    assert sweep().acted == 1
    case = case_of(number)
    assert case.state == "return_unrepaired"
    assert case.quote_decision == "expired"
    assert Notice.objects.get(case=case, kind="quote_expired").audience == "customer"
    assert case.deadline_action == "escalate"  # and the shop must now ship them back
    assert case.state != "closed"  # never a JD.com repair's silent cancellation


def test_a_customer_may_still_answer_after_the_reminder(customer, agent, center, clock):
    order = make_device_order(signed_days_ago=400)
    number = to_diagnosing(customer, agent, order)
    diagnose(agent, number, center, quote_parts="120.00")
    clock.shift(days=3)
    sweep()
    assert customer.act(number, "accept_quote").json()["state"] == "repairing"


@pytest.mark.parametrize(
    ("state_steps", "timeout", "state"),
    [
        ([], dt.timedelta(days=7), "diagnosing"),  # policy: diagnosis
        (["free"], dt.timedelta(days=15), "repairing"),  # policy: repair (no service center)
        (["quote", "decline"], dt.timedelta(days=3), "return_unrepaired"),  # seller_ship_back
    ],
)
def test_waiting_states_of_a_repair_escalate_on_time(
    customer, agent, clock, state_steps, timeout, state
):
    order = make_device_order(signed_days_ago=400 if "quote" in state_steps else 2)
    number = to_diagnosing(customer, agent, order)
    if "free" in state_steps:
        diagnose(agent, number)
    if "quote" in state_steps:
        diagnose(agent, number, quote_parts="10.00")
        customer.act(number, "decline_quote")
    assert case_of(number).state == state
    clock.shift(**{"seconds": timeout.total_seconds() - 1})
    assert sweep().processed == 0
    clock.shift(seconds=1)
    assert sweep().acted == 1
    case = case_of(number)
    assert (case.state, case.escalated_at) == (state, clock.now)
    assert Notice.objects.filter(case=case, kind="case_escalated").exists()


def test_repaired_goods_confirm_themselves_after_the_timeout(customer, agent, clock):
    number = to_diagnosing(customer, agent, make_device_order())
    diagnose(agent, number)
    agent.act(number, "ship_back", SHIP_BACK)
    clock.shift(days=10)
    sweep()
    assert case_of(number).state == "completed"


def test_sanbao_return_within_7_days_exchange_within_15(customer, agent):
    early = to_diagnosing(customer, agent, make_device_order("R1", signed_days_ago=7))
    assert diagnose(agent, early).json()["repair"]["warranty_entitlement"] == "return"
    later = to_diagnosing(customer, agent, make_device_order("R2", signed_days_ago=15))
    assert diagnose(agent, later).json()["repair"]["warranty_entitlement"] == "exchange"
    late = to_diagnosing(customer, agent, make_device_order("R3", signed_days_ago=16))
    assert diagnose(agent, late).json()["repair"]["warranty_entitlement"] == ""


def test_sanbao_replacement_or_return_after_two_failed_repairs_of_the_same_fault(customer, agent):
    order = make_device_order("R4", signed_days_ago=100)
    for attempt in range(2):
        number = to_diagnosing(customer, agent, order)
        status = diagnose(agent, number).json()["repair"]
        assert status["warranty_entitlement"] == "", attempt
        agent.act(number, "ship_back", SHIP_BACK)
        customer.act(number, "confirm_receipt")
    # a different fault does not count
    other = to_diagnosing(customer, agent, order)
    assert (
        diagnose(agent, other, fault_code="充电异常").json()["repair"]["warranty_entitlement"] == ""
    )
    agent.act(other, "ship_back", SHIP_BACK)
    customer.act(other, "confirm_receipt")
    third = to_diagnosing(customer, agent, order)
    status = diagnose(agent, third).json()
    assert status["repair"]["warranty_entitlement"] == "replace_or_return"
    assert status["events"][-1]["data"]["failed_repairs"] == 2
    # the customer chooses a replacement: the agent converts the case to an exchange
    converted = agent.act(third, "convert", {"kind": "exchange", "reason": "三包:两次维修未修好"})
    assert converted.json()["state"] == "replacement_pending"


def test_a_repair_needs_a_service_center_of_the_shop(customer, agent, center):
    number = to_diagnosing(customer, agent, make_device_order())
    no_center = agent.act(number, "diagnose", {"diagnosed_by": "service_center", "fault_code": "F"})
    assert no_center.json()["code"] == "service_center_required"
    other_shop = make_shop("other")
    foreign = ServiceCenter.objects.create(shop=other_shop, name="外店", address="x")
    refused = diagnose(agent, number, foreign)
    assert refused.json()["code"] == "service_center_required"
    no_by = agent.act(number, "diagnose", {"fault_code": "F"})
    assert no_by.json()["code"] == "validation_error" or no_by.json()["code"] == (
        "diagnosed_by_required"
    )
    free_with_quote = diagnose(agent, number, center, quote_parts="5.00")
    assert free_with_quote.json()["code"] == "quote_not_allowed"
    assert case_of(number).state == "diagnosing"
    assert case_of(number).diagnosed_at is None


def test_the_invoice_travels_with_the_goods_and_comes_back(customer, agent, finance, center):
    order = make_device_order()
    invoice = {"number": "FP-R1", "amount": "899.00", "issued_at": "2026-11-20T10:00:00+08:00"}
    agent.post("/orders", {**order_payload(order), "invoice": invoice})
    number = to_diagnosing(customer, agent, order, invoice_enclosed=True)
    diagnose(agent, number, center)
    agent.act(number, "ship_back", SHIP_BACK)
    documents = finance.get("/invoices", order=order.id).json()["items"]
    assert [(d["kind"], d["reference"], d["amount"]) for d in documents] == [
        ("invoice", "", "899.00"),
        ("invoice_received", "FP-R1", "0.00"),
        ("invoice_returned", "FP-R1", "0.00"),
    ]
    assert all(d["case_number"] == number for d in documents[1:])
    assert InvoiceDocument.objects.filter(kind="invoice_returned").get().number.startswith("IB")


def test_an_irreparable_item_is_converted_to_a_return_and_refunded(
    customer, agent, finance, center
):
    order = make_device_order()
    number = to_diagnosing(customer, agent, order)
    broken = diagnose(agent, number, center, repairable=False).json()
    assert broken["state"] == "diagnosing"
    assert broken["repair"]["repairable"] is False
    assert "convert" in broken["available_actions"]
    converted = agent.act(number, "convert", {"kind": "return_refund", "reason": "无法修复"}).json()
    assert converted["state"] == "refund_pending"
    assert converted["kind"] == "return_refund"
    assert converted["converted_from"] == "repair"
    refunded = finance.act(number, "refund", {"idempotency_key": "irreparable"}).json()
    assert refunded["refunded_amount"] == "899.00"
    assert refunded["number"] == number


def test_service_centers_are_managed_by_admins(shop, agent):
    from tests.conftest import make_user

    shop_admin = make_user("boss", "admin", shop="shop")
    body = {"name": "上游供应商", "kind": "supplier", "address": "深圳", "turnaround_days": 5}
    created = shop_admin.post("/shops/shop/service-centers", body)
    assert created.status_code == 201, created.content
    assert created.json()["kind"] == "supplier"
    assert shop_admin.post("/shops/shop/service-centers", body).json()["code"] == (
        "service_center_exists"
    )
    refused = agent.post("/shops/shop/service-centers", {**body, "name": "x"})
    assert refused.status_code == 403
    assert [c["name"] for c in agent.get("/shops/shop/service-centers").json()] == ["上游供应商"]
