"""Exchange (换货) end to end through the API: the return's waiting states, then a replacement
shipped from stock (the same SKU or another variant), a price difference charged or refunded
through the ledger, out-of-stock handled by an offer or a conversion to a refund, the invoice
endorsed (背书), and completion by the customer or by the policy's timeout."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from aftersales.cases.models import Case, RefundEntry
from aftersales.catalog.models import InvoiceDocument, OrderLine, Product, Sku
from aftersales.core.models import Notice
from aftersales.core.sweep import sweep
from tests.conftest import make_order, open_case, order_payload

SHIP = {"carrier": "顺丰速运", "tracking_number": "SF100200300"}


@pytest.fixture
def sized(shop):
    """A cardigan in M (bought) with an L variant of the same product on the shelf."""
    order = make_order(
        external_id="EX1", lines=[("L1", "CARDIGAN-M", 2, Decimal("299.00"), Decimal("598.00"))]
    )
    product = Product.objects.get(code="CARDIGAN-M")
    Sku.objects.filter(code="CARDIGAN-M").update(stock=0)
    Sku.objects.create(shop=shop, product=product, code="CARDIGAN-L", title="L码", stock=3)
    Sku.objects.create(
        shop=shop,
        product=Product.objects.create(shop=shop, code="OTHER", name="别的商品"),
        code="OTHER-1",
        stock=10,
    )
    return order


def to_replacement_pending(customer, agent, order, **inspect):
    number = open_case(customer, order, kind="exchange", reason="wrong_size")["number"]
    for api, action, body in [
        (agent, "approve", {}),
        (customer, "ship_return", {"carrier": "中通", "tracking_number": "ZT1"}),
        (agent, "receive", {}),
        (agent, "inspect", {"result": "pass", **inspect}),
    ]:
        response = api.act(number, action, body)
        assert response.status_code == 200, response.content
    return number


def case_of(number) -> Case:
    return Case.objects.get(number=number)


def test_an_exchange_goes_through_the_return_states_then_waits_for_the_replacement(
    customer, agent, sized
):
    number = open_case(customer, sized, kind="exchange", reason="wrong_size")["number"]
    approved = agent.act(number, "approve").json()
    # the goods come back first, to the shop's return address
    assert approved["state"] == "awaiting_return"
    assert approved["return_address"]["name"] == "售后仓"
    assert approved["shipping_deduction"] == "0.00"
    number = to_replacement_pending(customer, agent, make_order(external_id="EX2"))
    case = agent.get(f"/cases/{number}").json()
    assert case["state"] == "replacement_pending"
    assert case["deadline_action"] == "escalate"
    assert set(case["available_actions"]) == {"ship_replacement", "offer", "convert"}


def test_ship_another_variant_takes_its_stock_and_completes_on_confirmation(customer, agent, sized):
    number = to_replacement_pending(customer, agent, sized)
    response = agent.act(number, "ship_replacement", {**SHIP, "sku": "CARDIGAN-L"})
    assert response.status_code == 200, response.content
    case = response.json()
    assert case["state"] == "shipped_to_customer"
    assert case["outbound_tracking_number"] == "SF100200300"
    assert case["lines"][0]["replacement_sku"] == "CARDIGAN-L"
    assert case["deadline_action"] == "auto_confirm"
    assert Sku.objects.get(code="CARDIGAN-L").stock == 2
    assert Sku.objects.get(code="CARDIGAN-M").stock == 0
    # nothing was refunded: an exchange is not a refund
    assert not RefundEntry.objects.exists()
    assert customer.get(f"/cases/{number}").json()["available_actions"] == ["confirm_receipt"]
    done = customer.act(number, "confirm_receipt").json()
    assert done["state"] == "completed"
    assert done["confirmed_at"] is not None
    assert done["deadline_at"] is None
    assert Notice.objects.filter(case__number=number, kind="case_completed").exists()


def test_the_units_of_a_completed_exchange_can_be_claimed_again(customer, agent, sized):
    number = to_replacement_pending(customer, agent, sized)
    agent.act(number, "ship_replacement", {**SHIP, "sku": "CARDIGAN-L"})
    customer.act(number, "confirm_receipt")
    # the replacement is with the customer: it may go back again (say the L is faulty)
    again = customer.post(
        "/cases",
        {
            "order_id": sized.id,
            "kind": "return_refund",
            "reason": "quality_issue",
            "lines": [{"order_line_id": sized.lines.get().id, "quantity": 1}],
        },
    )
    assert again.status_code == 201, again.content


def test_out_of_stock_is_refused_and_changes_nothing(customer, agent, sized):
    number = to_replacement_pending(customer, agent, sized)
    response = agent.act(number, "ship_replacement", SHIP)  # the same SKU: none left
    assert response.status_code == 409
    assert response.json()["code"] == "replacement_out_of_stock"
    assert response.json()["stock"] == 0
    case = case_of(number)
    assert case.state == "replacement_pending"
    assert case.outbound_tracking_number == ""
    assert Sku.objects.get(code="CARDIGAN-M").stock == 0


def test_only_a_variant_of_the_same_product_replaces(customer, agent, sized):
    number = to_replacement_pending(customer, agent, sized)
    other = agent.act(number, "ship_replacement", {**SHIP, "sku": "OTHER-1"})
    assert other.status_code == 422
    assert other.json()["code"] == "replacement_not_same_product"
    missing = agent.act(number, "ship_replacement", {**SHIP, "sku": "NOPE"})
    assert missing.json()["code"] == "replacement_sku_not_found"
    assert Sku.objects.get(code="OTHER-1").stock == 10
    assert case_of(number).state == "replacement_pending"


def test_an_offer_is_recorded_and_reaches_the_customer(customer, agent, sized):
    number = to_replacement_pending(customer, agent, sized)
    response = agent.act(
        number,
        "offer",
        {"note": "M码缺货,可换L码或补偿 20 元", "sku": "CARDIGAN-L", "discount": "20"},
    )
    assert response.status_code == 200, response.content
    case = response.json()
    assert case["state"] == "replacement_pending"
    assert case["deadline_action"] == "escalate"  # the shop still owes a shipment
    event = case["events"][-1]
    assert event["action"] == "offer"
    assert event["data"] == {
        "note": "M码缺货,可换L码或补偿 20 元",
        "sku": "CARDIGAN-L",
        "stock": 3,
        "discount": "20.00",
    }
    assert case["steps"][-1]["label"] == "The shop offers an alternative"
    assert Notice.objects.filter(case__number=number, kind="case_offer").exists()
    assert agent.act(number, "offer", {}).json()["code"] == "note_required"


def test_a_cheaper_variant_refunds_the_difference_through_the_ledger(customer, agent, sized):
    number = to_replacement_pending(customer, agent, sized)
    response = agent.act(
        number, "ship_replacement", {**SHIP, "sku": "CARDIGAN-L", "price_difference": "-30.00"}
    )
    assert response.status_code == 200, response.content
    case = response.json()
    assert case["price_difference"] == "-30.00"
    assert case["refunded_amount"] == "30.00"
    entry = RefundEntry.objects.get()
    assert (entry.amount, entry.idempotency_key) == (Decimal("30.00"), f"exchange:{number}")
    assert OrderLine.objects.get(order=sized).refunded_amount == Decimal("30.00")


def test_a_discount_is_refunded_and_a_dearer_variant_needs_a_payment(customer, agent, sized):
    number = to_replacement_pending(customer, agent, sized)
    Sku.objects.filter(code="CARDIGAN-M").update(stock=5)
    unpaid = agent.act(number, "ship_replacement", {**SHIP, "price_difference": "50.00"})
    assert unpaid.status_code == 422
    assert unpaid.json()["code"] == "payment_reference_required"
    assert Sku.objects.get(code="CARDIGAN-M").stock == 5
    paid = agent.act(
        number,
        "ship_replacement",
        {
            **SHIP,
            "price_difference": "50.00",
            "discount": "10.00",
            "payment_reference": "补差价 T1",
        },
    ).json()
    assert paid["state"] == "shipped_to_customer"
    assert paid["payment_reference"] == "补差价 T1"
    assert paid["refunded_amount"] == "0.00"  # the customer paid 40 more; nothing goes back
    assert not RefundEntry.objects.exists()


def test_a_refund_of_the_difference_cannot_exceed_the_goods(customer, agent, sized):
    number = to_replacement_pending(customer, agent, sized)
    response = agent.act(
        number, "ship_replacement", {**SHIP, "sku": "CARDIGAN-L", "price_difference": "-300.00"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "amount_exceeds_refundable"
    assert not RefundEntry.objects.exists()
    assert Sku.objects.get(code="CARDIGAN-L").stock == 3


def test_the_invoice_is_endorsed_for_the_exchange(customer, agent, finance, sized):
    invoice = {"number": "FP-EX", "amount": "598.00", "issued_at": "2026-11-20T10:00:00+08:00"}
    agent.post("/orders", {**order_payload(sized), "invoice": invoice})
    number = to_replacement_pending(customer, agent, sized)
    agent.act(number, "ship_replacement", {**SHIP, "sku": "CARDIGAN-L", "price_difference": "-9"})
    documents = finance.get("/invoices", kind="endorsement").json()["items"]
    assert len(documents) == 1
    endorsement = documents[0]
    assert endorsement["reference"] == "FP-EX"
    assert endorsement["case_number"] == number
    assert endorsement["number"].startswith("EN20261124")
    assert endorsement["amount"] == "-9.00"
    assert "CARDIGAN-M → CARDIGAN-L × 1" in endorsement["note"]
    # the refunded difference has its credit note as well
    assert InvoiceDocument.objects.filter(kind="credit_note", amount=Decimal("-9.00")).exists()


def test_replacement_receipt_confirms_itself_after_the_policy_timeout(
    customer, agent, sized, clock
):
    number = to_replacement_pending(customer, agent, sized)
    agent.act(number, "ship_replacement", {**SHIP, "sku": "CARDIGAN-L"})
    clock.shift(days=10, seconds=-1)
    assert sweep().processed == 0
    clock.shift(seconds=1)
    assert sweep().acted == 1
    case = case_of(number)
    assert case.state == "completed"
    assert case.confirmed_at == clock.now
    assert case.deadline_action == ""
    event = case.events.order_by("-id").first()
    assert (event.action, event.role) == ("auto_confirm", "system")


def test_an_unshipped_replacement_escalates_after_three_days(customer, agent, sized, clock):
    number = to_replacement_pending(customer, agent, sized)
    clock.shift(days=3)
    assert sweep().acted == 1
    case = case_of(number)
    assert case.state == "replacement_pending"
    assert case.escalated_at == clock.now
    assert Notice.objects.filter(case=case, kind="case_escalated").exists()


def test_an_exchange_parcel_the_shop_never_confirms_goes_to_a_person(customer, agent, sized, clock):
    number = open_case(customer, sized, kind="exchange", reason="wrong_size")["number"]
    agent.act(number, "approve")
    customer.act(number, "ship_return", {"carrier": "中通", "tracking_number": "ZT1"})
    assert case_of(number).deadline_action == "escalate"  # not a refund: nothing to refund
    clock.shift(days=10)
    sweep()
    case = case_of(number)
    assert (case.state, case.refunded_amount) == ("return_in_transit", Decimal("0.00"))
    assert case.escalated_at == clock.now


def test_an_unanswered_exchange_is_approved_like_a_return(customer, sized, clock):
    number = open_case(customer, sized, kind="exchange", reason="wrong_size")["number"]
    clock.shift(days=5)
    sweep()
    case = case_of(number)
    assert case.state == "awaiting_return"
    assert case.return_address is not None
    clock.shift(days=7)
    sweep()
    assert case_of(number).state == "closed"


def test_deadlines_are_shown_to_both_sides(customer, agent, sized):
    number = to_replacement_pending(customer, agent, sized)
    agent.act(number, "ship_replacement", {**SHIP, "sku": "CARDIGAN-L"})
    seen = customer.get(f"/cases/{number}").json()
    assert dt.datetime.fromisoformat(seen["deadline_at"]) == case_of(number).deadline_at
    assert [step["state"] for step in seen["steps"]] == [
        "awaiting_seller",
        "awaiting_return",
        "return_in_transit",
        "inspecting",
        "replacement_pending",
        "shipped_to_customer",
    ]
    assert seen["steps"][-1]["detail"] == "顺丰速运 SF100200300"


def test_an_exchange_has_a_return_label(customer, agent, sized):
    number = open_case(customer, sized, kind="exchange", reason="wrong_size")["number"]
    agent.act(number, "approve")
    response = customer.client.get(f"/api/v1/cases/{number}/label.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
