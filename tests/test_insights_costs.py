"""The cost per case and the platform store as a key of the KPIs: a repair's parts and labour
(recorded when its goods go back) and compensation make a case's cost; the cost per case is that
cost over the cases ended; a marketplace case's figures fall under its store, named, and the
drill-down finds the cases behind each cost and each store."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from aftersales.cases.models import Case
from aftersales.catalog.models import Product
from aftersales.connectors.models import PlatformRequest, Store
from aftersales.insights import selectors
from aftersales.insights.feed import rollup_advance, rollup_check
from tests.conftest import make_order, make_user, open_case

SINCE, UNTIL = dt.date(2026, 11, 1), dt.date(2026, 12, 31)
SHIP = {"carrier": "中通", "tracking_number": "ZT1"}


@pytest.fixture
def lead(shop):
    return make_user("lead", "lead", shop="shop")


def repaired(customer, agent, order, **costs) -> str:
    """A repair under warranty, run until its goods go back with ``costs``, then confirmed."""
    Product.objects.update(warranty_days=365)
    number = open_case(customer, order, kind="repair", reason="quality_issue")["number"]
    for api, action, body in [
        (agent, "approve", {}),
        (customer, "ship_return", {"carrier": "中通", "tracking_number": f"ZT-{order.id}"}),
        (agent, "receive", {}),
        (agent, "diagnose", {"diagnosed_by": "shop", "fault_code": "不开机"}),
        (agent, "ship_back", {**SHIP, **costs}),
        (customer, "confirm_receipt", {}),
    ]:
        response = api.act(number, action, body)
        assert response.status_code == 200, (action, response.content)
    return number


def feed() -> None:
    while rollup_advance(batch_size=50).consumed:
        pass


def test_the_cost_per_case_is_compensation_and_repairs_over_the_cases_ended(
    customer, agent, lead, clock
):
    # given two repairs ended, one with parts and labour and compensation, one with labour only
    first = repaired(
        customer, agent, make_order(external_id="R1"), parts_cost="45.00", labour_cost="30.50"
    )
    response = agent.post(
        f"/cases/{first}/compensations",
        {"reason": "goodwill", "kind": "coupon", "amount": "10.00"},
    )
    assert response.status_code == 201, response.content
    repaired(customer, agent, make_order(external_id="R2"), labour_cost="12.25")
    # when the feed has read the timeline
    feed()
    # then the costs are the recorded amounts, and the cost per case their sum over the ends
    (row,) = selectors.kpis(actor=lead.principal, since=SINCE, until=UNTIL)
    assert row["ended"] == 2
    assert (row["repair_parts_amount"], row["repair_labour_amount"]) == (
        Decimal("45.00"),
        Decimal("42.75"),
    )
    assert row["cost_amount"] == Decimal("97.75")  # 10 + 45 + 30.50 + 12.25
    assert row["cost_per_case"] == Decimal("48.88")  # 97.75 / 2, to the cent
    # and the drill-down names the cases behind a cost
    items, _next, total = selectors.kpi_cases(
        actor=lead.principal, measure="repair_parts_amount", since=SINCE, until=UNTIL
    )
    assert (total, [i["number"] for i in items], items[0]["amount"]) == (
        1,
        [first],
        Decimal("45.00"),
    )
    assert rollup_check().differences == []


def test_no_case_ended_has_no_cost_per_case(customer, agent, order, lead, clock):
    open_case(customer, order)
    feed()
    (row,) = selectors.kpis(actor=lead.principal, since=SINCE, until=UNTIL)
    assert (row["cost_amount"], row["cost_per_case"]) == (Decimal("0.00"), None)


def test_a_marketplace_case_counts_under_its_store(shop, customer, agent, lead, clock):
    # given a case the platform store's request opened, and one of the shop's own
    store = Store.objects.create(shop=shop, platform="taobao", name="淘宝旗舰店", seller_id="S1")
    linked = open_case(customer, make_order(external_id="M1"))["number"]
    own = open_case(customer, make_order(external_id="M2"))["number"]
    PlatformRequest.objects.create(
        store=store,
        request_id="R1",
        order_id="P1",
        status="WAIT_SELLER_AGREE",
        platform_created_at=clock.now,
        modified_at=clock.now,
        amount=Decimal("100.00"),
        first_seen_at=clock.now,
        updated_at=clock.now,
        case=Case.objects.get(number=linked),
    )
    # when the feed reads them
    feed()
    # then each counts under its store, named
    rows = selectors.kpis(actor=lead.principal, since=SINCE, until=UNTIL, group_by="store")
    assert [(r["key"], r["label"], r["opened"]) for r in rows] == [
        (str(store.pk), "淘宝旗舰店", 1),
        ("none", "No platform store", 1),
    ]
    # and the drill-down by store finds each case
    for key, number in ((str(store.pk), linked), ("none", own)):
        items, _next, _total = selectors.kpi_cases(
            actor=lead.principal,
            measure="opened",
            since=SINCE,
            until=UNTIL,
            filters=selectors.Drill(store=key),
        )
        assert [i["number"] for i in items] == [number]
    assert rollup_check().differences == []


def test_the_api_groups_by_store_and_reports_the_cost_per_case(customer, agent, lead, clock):
    repaired(customer, agent, make_order(external_id="R1"), parts_cost="20.00")
    feed()
    response = lead.get(
        "/insights/kpis", since=SINCE.isoformat(), until=UNTIL.isoformat(), group_by="store"
    )
    assert response.status_code == 200, response.content
    (row,) = response.json()["rows"]
    assert (row["key"], row["cost_amount"], row["cost_per_case"]) == ("none", "20.00", "20.00")
