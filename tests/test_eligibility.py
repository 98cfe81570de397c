"""Opening a case: every refusal has its own code, is a 4xx, and changes nothing."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from aftersales.cases import services
from aftersales.cases.models import Case
from aftersales.core.errors import InvalidInput
from aftersales.core.models import Event, Notice
from tests.conftest import NOW, make_order, make_shop, make_user, open_case


def body(order, line=None, quantity=1, kind="return_refund", reason="quality_issue", **extra):
    line = line or order.lines.order_by("id").first()
    return {
        "order_id": order.id,
        "kind": kind,
        "reason": reason,
        "lines": [{"order_line_id": line.id, "quantity": quantity, **extra}],
    }


def assert_refused(response, status, code):
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert set(response.json()) >= {"code", "detail"}
    assert Case.objects.count() == Case.objects.filter(events__action="open").count()


@pytest.fixture
def counts():
    def snapshot():
        return (Case.objects.count(), Event.objects.count(), Notice.objects.count())

    return snapshot


def test_order_of_another_customer_is_404(customer, shop, counts):
    other = make_order(external_id="O2", customer="C2")
    before = counts()
    response = customer.post("/cases", body(other))
    assert_refused(response, 404, "order_not_found")
    assert counts() == before


def test_order_of_another_shop_is_404_for_staff(agent, db, counts):
    make_shop("other")
    foreign = make_order(shop="other", external_id="X1")
    before = counts()
    response = agent.post("/cases", body(foreign))
    assert_refused(response, 404, "order_not_found")
    assert counts() == before


def test_line_not_in_order(customer, order, counts):
    other = make_order(external_id="O2", customer="C1")
    before = counts()
    response = customer.post("/cases", body(order, line=other.lines.get()))
    assert_refused(response, 422, "line_not_in_order")
    assert counts() == before


def test_quantity_above_bought(customer, order, counts):
    before = counts()
    response = customer.post("/cases", body(order, quantity=3))
    assert_refused(response, 422, "quantity_exceeds_available")
    assert response.json()["available_quantity"] == 2
    assert counts() == before


def test_quantity_above_what_other_cases_claim(customer, order, counts):
    open_case(customer, order, quantity=1)
    open_case(customer, order, quantity=1)
    before = counts()
    response = customer.post("/cases", body(order, quantity=1))
    assert_refused(response, 422, "quantity_exceeds_available")
    assert response.json()["available_quantity"] == 0
    assert counts() == before


def test_a_closed_case_gives_its_units_back(customer, order):
    first = open_case(customer, order, quantity=2)
    assert customer.act(first["number"], "cancel").status_code == 200
    second = open_case(customer, order, quantity=2)
    assert second["requested_amount"] == "180.00"


def test_amount_above_paid(customer, order, counts):
    before = counts()
    response = customer.post("/cases", body(order, quantity=1, amount="180.01"))
    assert_refused(response, 422, "amount_exceeds_refundable")
    assert response.json()["refundable_amount"] == "180.00"
    assert counts() == before


def test_amount_above_paid_minus_refunded_and_requested(customer, order, agent, finance, counts):
    first = open_case(customer, order, kind="refund_only", reason="missing_item", amount="150.00")
    assert agent.act(first["number"], "approve").status_code == 200
    assert finance.act(first["number"], "refund", {"idempotency_key": "a"}).status_code == 200
    before = counts()
    response = customer.post(
        "/cases", body(order, kind="refund_only", reason="missing_item", amount="30.01")
    )
    assert_refused(response, 422, "amount_exceeds_refundable")
    assert response.json()["refundable_amount"] == "30.00"
    assert counts() == before
    assert open_case(customer, order, kind="refund_only", reason="missing_item", amount="30.00")


def test_default_amount_is_the_paid_share_and_the_last_unit_takes_the_rest(customer, db, shop):
    order = make_order(
        external_id="O3", lines=[("L1", "SKU-3", 3, Decimal("10.00"), Decimal("25.00"))]
    )
    first = open_case(customer, order, quantity=1)
    second = open_case(customer, order, quantity=2)
    assert (first["requested_amount"], second["requested_amount"]) == ("8.33", "16.67")


def test_money_deducted_on_one_case_is_not_refundable_on_the_next(customer, agent, finance, order):
    # given one of two units returned worn: 90.00 approved, 30.00 deducted, 60.00 refunded
    number = open_case(customer, order, quantity=1)["number"]
    agent.act(number, "approve")
    customer.act(number, "ship_return", {"carrier": "SF", "tracking_number": "1"})
    agent.act(number, "receive")
    agent.act(number, "inspect", {"result": "deduct", "deduction": "30.00", "reason": "worn"})
    finance.act(number, "refund", {"idempotency_key": "k"})
    # when the last unit is claimed, its default is its own share, not the deducted money too
    assert open_case(customer, order, quantity=1)["requested_amount"] == "90.00"


def test_no_reason_outside_the_window(customer, shop, clock, counts):
    # signed on 10 Nov (Shanghai): the window is 11 Nov 00:00 to the end of 17 Nov
    order = make_order(external_id="O4", paid_at=dt.datetime(2026, 11, 8, 2, tzinfo=dt.UTC))
    clock.set(dt.datetime(2026, 11, 17, 16, 0, tzinfo=dt.UTC))  # 18 Nov 00:00 in Shanghai
    before = counts()
    response = customer.post("/cases", body(order, reason="no_reason"))
    assert_refused(response, 422, "no_reason_window_closed")
    assert counts() == before


def test_no_reason_on_an_excluded_product(customer, shop, counts):
    order = make_order(
        external_id="O5",
        lines=[("L1", "SKU-TEA", 1, Decimal("50.00"), Decimal("50.00"))],
        flags=["perishable"],
    )
    before = counts()
    response = customer.post("/cases", body(order, reason="no_reason"))
    assert_refused(response, 422, "no_reason_excluded_product")
    assert counts() == before
    # the same product with a quality problem is fine
    assert open_case(customer, order, reason="quality_issue")


def test_not_received_on_a_signed_order(customer, order, counts):
    before = counts()
    response = customer.post("/cases", body(order, kind="refund_only", reason="not_received"))
    assert_refused(response, 422, "not_received_but_signed")
    assert counts() == before


def test_return_on_an_unshipped_order(customer, shop, counts):
    order = make_order(external_id="O6", shipped=False)
    before = counts()
    response = customer.post("/cases", body(order, kind="return_refund", reason="changed_mind"))
    assert_refused(response, 422, "order_not_shipped")
    assert counts() == before
    assert open_case(customer, order, kind="refund_only", reason="not_shipped")


def test_return_for_a_reason_without_goods(customer, shop, counts):
    order = make_order(external_id="O7", signed=False)
    before = counts()
    response = customer.post("/cases", body(order, kind="return_refund", reason="not_received"))
    assert_refused(response, 422, "reason_not_for_kind")
    assert counts() == before


def test_not_shipped_on_a_shipped_order(customer, order, counts):
    before = counts()
    response = customer.post("/cases", body(order, kind="refund_only", reason="not_shipped"))
    assert_refused(response, 422, "order_already_shipped")
    assert counts() == before


def test_unpaid_order(customer, shop, counts):
    order = make_order(external_id="O8", paid_at=None, shipped=False)
    before = counts()
    response = customer.post("/cases", body(order, kind="refund_only", reason="bought_by_mistake"))
    assert_refused(response, 422, "order_not_paid")
    assert counts() == before


def test_a_repair_needs_a_fault_of_the_goods(customer, order, counts):
    before = counts()
    response = customer.post("/cases", body(order, kind="repair", reason="wrong_size"))
    assert_refused(response, 422, "reason_not_for_kind")
    assert counts() == before


def test_an_exchange_needs_goods_to_send_back(customer, shop, counts):
    order = make_order(external_id="O9", shipped=False)
    before = counts()
    response = customer.post("/cases", body(order, kind="exchange", reason="wrong_size"))
    assert_refused(response, 422, "order_not_shipped")
    assert counts() == before


def test_the_same_line_twice(customer, order, counts):
    line = order.lines.get()
    payload = body(order)
    payload["lines"].append({"order_line_id": line.id, "quantity": 1})
    before = counts()
    response = customer.post("/cases", payload)
    assert_refused(response, 422, "duplicate_line")
    assert counts() == before


@pytest.mark.parametrize(
    "change",
    [
        {"kind": "teleport"},
        {"reason": "bored"},
        {"lines": []},
        {"lines": [{"order_line_id": 1, "quantity": 0}]},
        {"lines": [{"order_line_id": 1, "quantity": 1, "amount": "-1"}]},
        {"lines": [{"order_line_id": 1, "quantity": 1, "amount": "1.234"}]},
        {"order_id": "abc"},
        {"description": "x" * 5001},
    ],
)
def test_malformed_bodies_are_422(customer, order, counts, change):
    before = counts()
    response = customer.post("/cases", {**body(order), **change})
    assert_refused(response, 422, "validation_error")
    assert counts() == before


def test_unparsable_json_is_400(customer, order, counts):
    before = counts()
    response = customer.post("/cases", "{not json")
    assert_refused(response, 400, "malformed_request")
    assert counts() == before


def test_finance_cannot_open_cases(finance, order, counts):
    before = counts()
    response = finance.post("/cases", body(order))
    assert_refused(response, 403, "action_forbidden")
    assert counts() == before


def test_an_agent_opens_on_the_customers_behalf(agent, order):
    case = agent.post("/cases", body(order)).json()
    assert case["state"] == "awaiting_seller"
    assert case["events"][0]["role"] == "agent"


def test_fault_and_shipping_payer_follow_the_reason(customer, order):
    buyer = open_case(customer, order, reason="wrong_size")
    seller = open_case(customer, order, reason="quality_issue")
    assert (buyer["fault"], buyer["return_shipping_payer"]) == ("buyer", "buyer")
    assert (seller["fault"], seller["return_shipping_payer"]) == ("seller", "seller")


def test_carrier_damage_is_paid_by_the_shop(customer, order):
    case = open_case(customer, order, reason="damaged_in_transit")
    assert (case["fault"], case["return_shipping_payer"]) == ("carrier", "seller")


def test_case_numbers_are_readable_and_unique(customer, order):
    first = open_case(customer, order)["number"]
    second = open_case(customer, order)["number"]
    # the shop's local date (10:00 in Shanghai), then the case's id
    day = NOW.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y%m%d")
    ids = [Case.objects.get(number=n).id for n in (first, second)]
    assert (first, second) == (f"AS{day}{ids[0]:06d}", f"AS{day}{ids[1]:06d}")
    assert ids[1] > ids[0]


def test_a_customer_login_can_come_before_the_customers_orders(db, shop, agent):
    # given a login for a customer the shop has not imported yet
    buyer = make_user("early", "customer", shop="shop", customer="C-NEW")
    # when their order arrives, it fills in the customer and the login sees it
    order = make_order(external_id="LATE", customer="C-NEW")
    assert buyer.get(f"/orders/{order.id}").json()["customer"]["name"] == "顾客C-NEW"
    assert open_case(buyer, order)["state"] == "awaiting_seller"


# --- nothing to refund is no case; refusals in words, in the shop's time --------------------

ISO_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T")
FIELD_NAME = re.compile(r"\b[a-z]+_[a-z_]+\b")


@pytest.mark.parametrize("amount", ["0", "0.00", 0, "-0.01"])
def test_an_amount_of_nothing_is_refused(customer, order, counts, amount):
    # given an application for a return of nothing
    before = counts()
    # when it is sent
    response = customer.post("/cases", body(order, amount=amount))
    # then it is refused and nothing is written
    assert_refused(response, 422, "validation_error")
    assert response.json()["errors"][0]["field"] == "lines.0.amount"
    assert counts() == before


def test_the_forms_refuse_an_amount_of_nothing_too(customer, order, counts):
    # given an application that bypasses the API's schema, as the portal's form does
    line = order.lines.get()
    before = counts()
    # when it is opened with an amount of 0
    with pytest.raises(InvalidInput) as refused:
        services.case_open(
            actor=customer.principal,
            data={
                "order_id": order.id,
                "kind": "return_refund",
                "reason": "quality_issue",
                "lines": [{"order_line_id": line.id, "quantity": 1, "amount": "0.00"}],
            },
        )
    # then the opening's input refuses it, in words, naming the field for the form
    assert refused.value.code == "invalid_amount"
    assert refused.value.extra["field"] == "lines.0.amount"
    assert str(refused.value.detail) == "Amount must be more than 0."
    assert counts() == before


def test_a_modified_amount_of_nothing_is_refused(customer, agent, order):
    # given a rejected application
    number = open_case(customer, order)["number"]
    agent.act(number, "reject", {"reason": "照片不清"})
    case_id = Case.objects.get(number=number).id
    # when the customer resubmits it for nothing, by the API and by the form's path
    by_api = customer.act(number, "modify", {"amount": "0"})
    with pytest.raises(InvalidInput) as by_form:
        services.case_transition(
            case_id=case_id, action="modify", actor=customer.principal, data={"amount": "0"}
        )
    # then both are refused and the case stays rejected at its amount
    assert (by_api.status_code, by_api.json()["code"]) == (422, "invalid_amount")
    assert by_form.value.code == "invalid_amount"
    assert (
        Case.objects.get(number=number).state,
        Case.objects.get(number=number).requested_amount,
    ) == (
        "rejected",
        Decimal("90.00"),
    )


def test_the_closed_window_is_told_in_the_shops_time(customer, shop, clock):
    # given a no-reason window that ended with 17 Nov in Shanghai
    order = make_order(external_id="O4", paid_at=dt.datetime(2026, 11, 8, 2, tzinfo=dt.UTC))
    clock.set(dt.datetime(2026, 11, 17, 16, 0, tzinfo=dt.UTC))
    # when a no-reason return is asked for
    response = customer.post("/cases", body(order, reason="no_reason"))
    # then the refusal says when it ended, as people write it there
    detail = response.json()["detail"]
    assert detail == "The 7-day no-reason window ended at 2026-11-17 24:00."
    assert not ISO_TIMESTAMP.search(detail)
    assert response.json()["window_end"] == "2026-11-17T16:00:00+00:00"


def test_refusals_name_reasons_and_dates_in_words(customer, order, shop):
    # given an order signed on 22 Nov at 10:00 in Shanghai, and one not yet signed
    unsigned = make_order(external_id="O10", signed=False)
    # when a return for a reason without goods, and "not received" after signing, are asked for
    no_goods = customer.post("/cases", body(unsigned, kind="return_refund", reason="not_received"))
    signed = customer.post("/cases", body(order, kind="refund_only", reason="not_received"))
    # then the refusals name the reason by its label and the moment in local time
    assert no_goods.json()["detail"] == (
        "The reason Not received leaves no goods to send back; ask for a refund only."
    )
    assert signed.json()["detail"].startswith("The order was signed for on 2026-11-22 10:00;")
    for detail in (no_goods.json()["detail"], signed.json()["detail"]):
        assert not FIELD_NAME.search(detail), detail
        assert not ISO_TIMESTAMP.search(detail), detail
