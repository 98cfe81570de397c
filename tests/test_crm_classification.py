"""Membership tiers and the RFM classification on known datasets."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command

from aftersales.catalog.models import Customer, OrderLine
from aftersales.crm.classification import customers_recompute, quintile_scores, segment_for
from aftersales.crm.models import CustomerProfile, MembershipTier
from tests.conftest import NOW, make_order, make_shop

D = Decimal


def buy(customer: str, external_id: str, days_ago: int, paid: str):
    return make_order(
        external_id=external_id,
        customer=customer,
        paid_at=NOW - dt.timedelta(days=days_ago),
        lines=[("L1", "SKU-1", 1, D(paid), D(paid))],
    )


def profile(external_id: str) -> CustomerProfile:
    return CustomerProfile.objects.select_related("tier").get(customer__external_id=external_id)


def test_quintiles_share_scores_on_ties():
    assert quintile_scores({1: 10, 2: 20, 3: 30, 4: 40, 5: 50}) == {1: 1, 2: 2, 3: 3, 4: 4, 5: 5}
    assert quintile_scores({1: 5, 2: 5, 3: 9}) == {1: 1, 2: 1, 3: 4}
    assert quintile_scores({1: 3, 2: 30}, lower_is_better=True) == {1: 3, 2: 1}
    assert quintile_scores({1: 7}) == {1: 1}


@pytest.mark.parametrize(
    ("scores", "figures", "segment"),
    [
        ((1, 1, 1), {"frequency": 1, "recency_days": 30}, "new"),
        ((5, 5, 5), {"frequency": 6, "recency_days": 2}, "champion"),
        ((3, 4, 2), {"frequency": 4, "recency_days": 40}, "loyal"),
        ((2, 3, 1), {"frequency": 3, "recency_days": 200}, "at_risk"),
        ((1, 1, 4), {"frequency": 1, "recency_days": 300}, "at_risk"),
        ((1, 2, 2), {"frequency": 1, "recency_days": 300}, "hibernating"),
        ((3, 3, 3), {"frequency": 2, "recency_days": 60}, "regular"),
    ],
)
def test_segments(scores, figures, segment):
    assert segment_for(*scores, figures) == segment


@pytest.fixture
def dataset(shop):
    # given five buyers: A bought often, lately and much; E once, long ago, little
    for n in range(5):
        buy("A", f"A{n}", 2 + n, "500.00")
    for n in range(4):
        buy("B", f"B{n}", 20 + n, "200.00")
    for n in range(3):
        buy("C", f"C{n}", 100 + n, "300.00")
    buy("D", "D0", 10, "50.00")
    buy("E", "E0", 400, "20.00")
    # a refund lowers C's net spending; an unpaid order counts nothing
    OrderLine.objects.filter(order__external_id="C0").update(refunded_amount=D("300.00"))
    make_order(external_id="X0", customer="E", paid_at=None, shipped=False)


def test_rfm_on_a_known_dataset(dataset, shop):
    # when
    assert customers_recompute(shop=shop, now=NOW) == 5
    # then
    rows = {
        c: (
            profile(c).recency_days,
            profile(c).frequency,
            profile(c).monetary,
            profile(c).average_order_value,
            (profile(c).recency_score, profile(c).frequency_score, profile(c).monetary_score),
            profile(c).segment,
        )
        for c in "ABCDE"
    }
    assert rows == {
        "A": (2, 5, D("2500.00"), D("500.00"), (5, 5, 5), "champion"),
        "B": (20, 4, D("800.00"), D("200.00"), (3, 4, 4), "loyal"),
        "C": (100, 3, D("600.00"), D("200.00"), (2, 3, 3), "at_risk"),
        "D": (10, 1, D("50.00"), D("50.00"), (4, 1, 2), "new"),
        "E": (400, 1, D("20.00"), D("20.00"), (1, 1, 1), "hibernating"),
    }


def test_a_customer_without_a_paid_order_is_not_classified(shop):
    make_order(external_id="U", customer="U", paid_at=None, shipped=False)
    Customer.objects.get(external_id="U")
    assert customers_recompute(shop=shop, now=NOW) == 0
    assert not CustomerProfile.objects.filter(customer__external_id="U").exists()


@pytest.fixture
def tiers(shop):
    silver = MembershipTier.objects.create(
        shop=shop, name="银卡", rank=1, min_spend=D("500.00"), window_days=365, validity_days=30
    )
    gold = MembershipTier.objects.create(
        shop=shop,
        name="金卡",
        rank=2,
        min_spend=D("1000.00"),
        min_orders=3,
        window_days=90,
        validity_days=30,
    )
    return silver, gold


def test_tier_thresholds(dataset, tiers, shop):
    customers_recompute(shop=shop, now=NOW)
    assert {c: getattr(profile(c).tier, "name", None) for c in "ABCDE"} == {
        "A": "金卡",  # 2500 in 5 orders within 90 days
        "B": "银卡",  # 800 within a year, but below 1000 for gold
        "C": "银卡",  # 600 net of the refund, within a year
        "D": None,
        "E": None,  # 20, and more than a year ago
    }
    assert profile("A").tier_until == NOW + dt.timedelta(days=30)


def test_the_spend_must_reach_the_threshold_exactly(shop, tiers):
    buy("F", "F0", 1, "499.99")
    buy("G", "G0", 1, "500.00")
    customers_recompute(shop=shop, now=NOW)
    assert profile("F").tier is None
    assert profile("G").tier.name == "银卡"


def test_a_tier_holds_for_its_validity_then_drops(shop, tiers):
    buy("H", "H0", 1, "600.00")
    customers_recompute(shop=shop, now=NOW)
    assert profile("H").tier.name == "银卡"
    # when the spending leaves the window (refunded) the tier still holds until its end …
    OrderLine.objects.filter(order__external_id="H0").update(refunded_amount=D("600.00"))
    customers_recompute(shop=shop, now=NOW + dt.timedelta(days=29))
    assert profile("H").tier.name == "银卡"
    # … and then drops
    customers_recompute(shop=shop, now=NOW + dt.timedelta(days=31))
    assert profile("H").tier is None


def test_recompute_is_idempotent_and_the_command_runs(dataset, tiers, shop, clock):
    customers_recompute(shop=shop, now=NOW)
    before = list(CustomerProfile.objects.order_by("id").values())
    call_command("crm_recompute", "--shop", "shop")
    assert list(CustomerProfile.objects.order_by("id").values()) == before


def test_tiers_api(shop, agent, admin):
    lead_free = agent.post("/shops/shop/tiers", {"name": "银卡", "rank": 1})
    assert lead_free.status_code == 403
    created = admin.post(
        "/shops/shop/tiers",
        {"name": "银卡", "rank": 1, "min_spend": "500.00", "benefits": "包邮"},
    )
    assert created.status_code == 201, created.content
    tier = created.json()
    assert (tier["min_spend"], tier["window_days"], tier["validity_days"]) == ("500.00", 365, 365)
    duplicate = admin.post("/shops/shop/tiers", {"name": "银卡", "rank": 2})
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "tier_exists")
    changed = admin.put(f"/shops/shop/tiers/{tier['id']}", {"name": "银卡", "rank": 3})
    assert changed.json()["rank"] == 3
    assert [t["name"] for t in agent.get("/shops/shop/tiers").json()["items"]] == ["银卡"]
    for body in ({"name": "", "rank": 1}, {"name": "x", "rank": 1, "min_spend": "-1"}):
        refused = admin.post("/shops/shop/tiers", body)
        assert refused.status_code == 422, body
    assert admin.delete(f"/shops/shop/tiers/{tier['id']}").status_code == 204
    assert admin.delete(f"/shops/shop/tiers/{tier['id']}").status_code == 404
    make_shop("other")
    assert admin.get("/shops/nope/tiers").status_code == 404


def test_classification_api(dataset, shop, agent):
    customers_recompute(shop=shop, now=NOW)
    customer = Customer.objects.get(external_id="A")
    body = agent.get(f"/customers/{customer.pk}/classification").json()
    assert (body["segment"], body["recency_score"], body["monetary"]) == (
        "champion",
        5,
        "2500.00",
    )
