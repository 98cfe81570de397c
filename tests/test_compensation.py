"""Coupons and store credit: by the policy's rules, on their own ledger, never a refund."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aftersales.cases.compensation import counterfeit_proven
from aftersales.cases.models import Case, Compensation
from aftersales.catalog.models import OrderLine
from aftersales.core.models import Event
from tests.conftest import make_order, make_user, open_case


def grant(api, number, **body):
    return api.post(f"/cases/{number}/compensations", body)


@pytest.fixture
def unshipped(customer, shop):
    order = make_order(
        external_id="OOS",
        shipped=False,
        lines=[("L1", "SKU-TV", 1, Decimal("3000.00"), Decimal("2800.00"))],
    )
    return open_case(customer, order, kind="refund_only", reason="not_shipped")["number"]


def test_out_of_stock_is_five_percent_capped_at_thirty(agent, unshipped):
    response = grant(agent, unshipped, reason="out_of_stock", kind="coupon")
    assert response.status_code == 201, response.content
    assert response.json()["amount"] == "30.00"  # 5% of 2800.00 is 140.00, capped at 30.00
    assert response.json()["code"].startswith("CP")
    case = agent.get(f"/cases/{unshipped}").json()
    assert case["compensations"][0]["reason"] == "out_of_stock"
    assert case["events"][-1]["action"] == "compensate"
    assert case["refunded_amount"] == "0.00"
    assert OrderLine.objects.get(external_id="L1", order__external_id="OOS").refunded_amount == 0


def test_a_small_order_gets_at_least_one_yuan(customer, agent, shop):
    order = make_order(
        external_id="TINY",
        shipped=False,
        lines=[("L1", "SKU-PEN", 1, Decimal("9.90"), Decimal("9.90"))],
    )
    number = open_case(customer, order, kind="refund_only", reason="not_shipped")["number"]
    assert (
        grant(agent, number, reason="late_shipment", kind="store_credit").json()["amount"] == "1.00"
    )


def test_limits_and_once_per_case(agent, unshipped):
    above = grant(agent, unshipped, reason="out_of_stock", kind="coupon", amount="31.00")
    assert (above.status_code, above.json()["code"]) == (422, "compensation_above_limit")
    assert (
        grant(agent, unshipped, reason="out_of_stock", kind="coupon", amount="20.00").status_code
        == 201
    )
    again = grant(agent, unshipped, reason="out_of_stock", kind="coupon")
    assert (again.status_code, again.json()["code"]) == (409, "already_compensated")


def test_goodwill_has_a_cap_per_case(agent, unshipped):
    assert (
        grant(agent, unshipped, reason="goodwill", kind="coupon", amount="30.00").status_code == 201
    )
    over = grant(agent, unshipped, reason="goodwill", kind="coupon", amount="20.01")
    assert over.json()["code"] == "compensation_above_limit"
    assert over.json()["limit"] == "20.00"
    assert (
        grant(agent, unshipped, reason="goodwill", kind="coupon").json()["code"]
        == "amount_required"
    )


def test_a_retried_grant_gives_once(agent, unshipped):
    first = grant(
        agent, unshipped, reason="goodwill", kind="coupon", amount="5.00", idempotency_key="g1"
    )
    again = grant(
        agent, unshipped, reason="goodwill", kind="coupon", amount="5.00", idempotency_key="g1"
    )
    assert first.json()["code"] == again.json()["code"]
    assert Compensation.objects.count() == 1


def inspect(agent, customer, number, **inspection):
    """Bring a return to the inspection bench and inspect it as ``inspection`` says."""
    assert agent.act(number, "approve").status_code == 200
    shipped = customer.act(number, "ship_return", {"carrier": "SF", "tracking_number": "SF1"})
    assert shipped.status_code == 200
    assert agent.act(number, "receive").status_code == 200
    response = agent.act(number, "inspect", {"result": "pass", **inspection})
    assert response.status_code == 200, response.content
    return response.json()


def test_ten_fold_for_a_counterfeit_decided_by_an_admin(customer, agent, order, db):
    # given a counterfeit claim whose goods the inspection found counterfeit
    number = open_case(customer, order, reason="counterfeit")["number"]
    inspect(agent, customer, number, authenticity="counterfeit")
    shop_admin = make_user("boss", "admin", shop="shop")
    # when an agent, then an admin grants ten-fold
    refused_to_agent = grant(agent, number, reason="counterfeit", kind="store_credit")
    response = grant(shop_admin, number, reason="counterfeit", kind="store_credit")
    # then only the admin may, and it is ten times the price of 100.00
    assert refused_to_agent.status_code == 403
    assert response.status_code == 201, response.content
    assert response.json()["amount"] == "1000.00"


def test_ten_fold_is_only_for_a_counterfeit_claim(customer, order, db):
    # given a quality complaint
    number = open_case(customer, order, reason="quality_issue")["number"]
    shop_admin = make_user("boss", "admin", shop="shop")
    # when an admin grants ten-fold on it
    refused = grant(shop_admin, number, reason="counterfeit", kind="store_credit")
    # then it is refused
    assert (refused.status_code, refused.json()["code"]) == (422, "not_a_counterfeit_case")


def test_ten_fold_needs_the_goods_proven_counterfeit(customer, order, db):
    # given a counterfeit claim nobody has inspected
    number = open_case(customer, order, reason="counterfeit")["number"]
    shop_admin = make_user("boss", "admin", shop="shop")
    # when an admin grants ten-fold
    refused = grant(shop_admin, number, reason="counterfeit", kind="store_credit")
    # then it is refused for want of proof, in words, and nothing is given
    assert (refused.status_code, refused.json()["code"]) == (409, "counterfeit_not_proven")
    assert refused.json()["detail"] == (
        "Ten-fold compensation needs proof: record the inspection's verdict “Counterfeit” first."
    )
    assert Compensation.objects.count() == 0
    assert not Event.objects.filter(action="compensate").exists()


@pytest.mark.parametrize("verdict", [None, "genuine", "inconclusive"])
def test_an_inspection_without_a_counterfeit_verdict_is_no_proof(
    customer, agent, order, db, verdict
):
    # given a counterfeit claim inspected without finding the goods counterfeit
    number = open_case(customer, order, reason="counterfeit")["number"]
    inspect(agent, customer, number, **({"authenticity": verdict} if verdict else {}))
    shop_admin = make_user("boss", "admin", shop="shop")
    # when an admin grants ten-fold
    refused = grant(shop_admin, number, reason="counterfeit", kind="store_credit")
    # then it is refused
    assert (refused.status_code, refused.json()["code"]) == (409, "counterfeit_not_proven")
    assert Compensation.objects.count() == 0


def test_the_verdict_is_recorded_on_the_case_and_its_timeline(customer, agent, order):
    # given a counterfeit claim at the inspection bench
    number = open_case(customer, order, reason="counterfeit")["number"]
    # when the inspector finds the goods counterfeit
    case = inspect(agent, customer, number, authenticity="counterfeit")
    # then the case keeps the verdict and the inspection's event says it
    assert Case.objects.get(number=number).authenticity_verdict == "counterfeit"
    assert counterfeit_proven(Case.objects.get(number=number))
    assert case["events"][-1]["action"] == "inspect"
    assert case["events"][-1]["data"]["authenticity"] == "counterfeit"


def test_an_unknown_verdict_is_refused(customer, agent, order):
    # given a return at the inspection bench
    number = open_case(customer, order, reason="counterfeit")["number"]
    agent.act(number, "approve")
    customer.act(number, "ship_return", {"carrier": "SF", "tracking_number": "SF1"})
    agent.act(number, "receive")
    # when the verdict is not one of the words
    response = agent.act(number, "inspect", {"result": "pass", "authenticity": "fake-ish"})
    # then it is refused and the case waits still
    assert (response.status_code, response.json()["code"]) == (422, "invalid_authenticity")
    assert Case.objects.get(number=number).state == "inspecting"


def test_customers_and_finance_do_not_grant(customer, finance, unshipped):
    assert (
        grant(customer, unshipped, reason="goodwill", kind="coupon", amount="5").status_code == 403
    )
    assert (
        grant(finance, unshipped, reason="goodwill", kind="coupon", amount="5").status_code == 403
    )


def test_the_rules_are_policy(admin, agent, unshipped):
    response = admin.put(
        "/shops/shop/policy",
        {"compensation": {"out_of_stock": {"percent": 10, "min": "1.00", "max": "50.00"}}},
    )
    assert response.status_code == 200
    assert response.json()["compensation"]["late_shipment"]["max"] == "30.00"
    bad = admin.put("/shops/shop/policy", {"compensation": {"counterfeit": {"multiple": 11}}})
    assert bad.json()["code"] == "invalid_policy"
    # the open case keeps its own version's rules
    assert grant(agent, unshipped, reason="out_of_stock", kind="coupon").json()["amount"] == "30.00"
