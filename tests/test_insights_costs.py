"""The cost per case and the platform store as a key of the KPIs: a repair's parts and labour
(recorded when its goods go back), compensation, the goods scrapped at inspection (written off at
their unit price), the parcels the shop pays (the customer's return when the shop pays it, the
replacement or repaired goods going out) and the staff time of the contact log (at the shop's
rate when logged) make a case's cost; the cost per case is that cost over the cases ended; a
marketplace case's figures fall under its store, named, and the drill-down finds the cases behind
each cost and each store. Bad amounts and minutes are refused and change nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from aftersales.cases.models import Case, CaseLine, Compensation
from aftersales.catalog.models import Product, Sku
from aftersales.connectors.models import PlatformRequest, Store
from aftersales.core.models import Event
from aftersales.insights import selectors
from aftersales.insights.feed import rollup_advance, rollup_check, rollup_rows
from aftersales.team.models import ContactLog
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


# --- goods written off, shipping both ways, staff time -------------------------------------------


def act(api, number, action, body=None):
    response = api.act(number, action, body or {})
    assert response.status_code == 200, (action, response.content)
    return response.json()


def returned(customer, agent, finance, order, *, disposition, receive=None, quantity=2) -> str:
    """A return of ``quantity`` units (unit price 100.00) that the shop pays the shipping of
    (a quality issue), received, graded damaged with ``disposition`` and refunded."""
    number = open_case(customer, order, quantity=quantity)["number"]
    line = order.lines.get()
    act(agent, number, "approve")
    act(customer, number, "ship_return", SHIP)
    act(agent, number, "receive", receive)
    grade = {"order_line_id": line.id, "condition": "damaged", "disposition": disposition}
    act(agent, number, "inspect", {"lines": [grade]})
    act(finance, number, "refund", {"idempotency_key": f"k-{number}"})
    return number


def contact(api, number, **body):
    return api.post(f"/cases/{number}/contacts", {"channel": "call", "summary": "回访顾客", **body})


def shop_row(lead) -> dict:
    (row,) = selectors.kpis(actor=lead.principal, since=SINCE, until=UNTIL)
    return row


@pytest.mark.parametrize(
    ("disposition", "written_off"),
    [
        ("scrap", Decimal("200.00")),  # 2 units × the unit price 100.00 (not the 180.00 paid)
        ("restock", Decimal("0.00")),
        ("refurbish", Decimal("0.00")),
        ("return_to_vendor", Decimal("0.00")),  # the vendor credits it
    ],
)
def test_scrapped_goods_are_written_off_at_their_unit_price(
    customer, agent, finance, order, lead, clock, disposition, written_off
):
    # given a return whose goods the inspection disposes of
    number = returned(customer, agent, finance, order, disposition=disposition)
    # when the feed reads it
    feed()
    # then only scrapped goods are written off, at the order line's unit price
    row = shop_row(lead)
    assert (row["written_off_amount"], row["cost_amount"]) == (written_off, written_off)
    inspected = Event.objects.get(action="inspect")
    assert inspected.data.get("written_off") == (str(written_off) if written_off else None)
    items, _next, _total = selectors.kpi_cases(
        actor=lead.principal, measure="written_off_amount", since=SINCE, until=UNTIL
    )
    assert [(i["number"], i["amount"]) for i in items] == (
        [(number, written_off)] if written_off else []
    )
    assert rollup_check().differences == []


def test_units_that_never_arrived_are_not_written_off(customer, agent, finance, order, lead, clock):
    line = order.lines.get()
    receive = {"lines": [{"order_line_id": line.id, "quantity": 1}]}
    returned(customer, agent, finance, order, disposition="scrap", receive=receive)
    feed()
    assert shop_row(lead)["written_off_amount"] == Decimal("100.00")


def test_the_shipping_the_shop_pays_both_ways_is_counted_and_kept_from_the_customer(
    customer, agent, lead, clock
):
    # given an exchange whose return the shop pays (a quality issue), received with its cost,
    # and its replacement shipped with the parcel's cost
    number = open_case(customer, make_order(external_id="E1"), kind="exchange")["number"]
    Sku.objects.update(stock=5)
    act(agent, number, "approve")
    act(customer, number, "ship_return", SHIP)
    act(agent, number, "receive", {"shipping_cost": "12.00"})
    act(agent, number, "inspect", {"result": "pass"})
    act(agent, number, "ship_replacement", {**SHIP, "shipping_cost": "9.50"})
    act(customer, number, "confirm_receipt")
    # and a repair whose goods go back with the parcel's cost
    repair = repaired(customer, agent, make_order(external_id="R1"), shipping_cost="7.25")
    # when the feed reads them
    feed()
    # then the shipping is the parcels' costs, in the cost per case
    row = shop_row(lead)
    assert (row["ended"], row["shipping_amount"]) == (2, Decimal("28.75"))
    assert (row["cost_amount"], row["cost_per_case"]) == (Decimal("28.75"), Decimal("14.38"))
    items, _next, _total = selectors.kpi_cases(
        actor=lead.principal, measure="shipping_amount", since=SINCE, until=UNTIL
    )
    assert [(i["number"], i["amount"]) for i in items] == [
        (number, Decimal("12.00")),
        (number, Decimal("9.50")),
        (repair, Decimal("7.25")),
    ]
    # and the case keeps them, for staff only
    staff = agent.get(f"/cases/{number}").json()
    assert (staff["return_shipping_cost"], staff["outbound_shipping_cost"]) == ("12.00", "9.50")
    mine = customer.get(f"/cases/{number}").json()
    assert (mine["return_shipping_cost"], mine["outbound_shipping_cost"]) == (None, None)
    assert [e["data"].get("shipping_cost") for e in mine["events"]] == [None] * len(mine["events"])
    seen = {e["action"]: e["data"].get("shipping_cost") for e in staff["events"]}
    assert (seen["receive"], seen["ship_replacement"]) == ("12.00", "9.50")
    assert rollup_check().differences == []


def test_a_return_the_customer_pays_has_no_shipping_cost_for_the_shop(customer, agent, clock):
    # given a return of the customer's own doing (wrong size): the customer pays the shipping
    number = open_case(customer, make_order(external_id="B1"), reason="wrong_size")["number"]
    act(agent, number, "approve")
    act(customer, number, "ship_return", SHIP)
    events = Event.objects.count()
    # when the desk records a shipping cost on receipt
    response = agent.act(number, "receive", {"shipping_cost": "10.00"})
    # then it is refused and nothing changes
    assert response.status_code == 422
    assert response.json()["code"] == "shipping_cost_not_paid_by_shop"
    case = Case.objects.get(number=number)
    assert (case.state, case.return_shipping_cost, Event.objects.count()) == (
        "return_in_transit",
        Decimal("0.00"),
        events,
    )


@pytest.mark.parametrize("bad", ["-1.00", "abc", "12.345", True])
@pytest.mark.parametrize("action", ["receive", "ship_replacement"])
def test_a_bad_shipping_cost_is_refused_and_changes_nothing(customer, agent, clock, bad, action):
    number = open_case(customer, make_order(external_id="X1"), kind="exchange")["number"]
    Sku.objects.update(stock=5)
    act(agent, number, "approve")
    act(customer, number, "ship_return", SHIP)
    if action == "ship_replacement":
        act(agent, number, "receive")
        act(agent, number, "inspect", {"result": "pass"})
    before = Case.objects.get(number=number)
    events = Event.objects.count()
    body = (
        {**SHIP, "shipping_cost": bad} if action == "ship_replacement" else {"shipping_cost": bad}
    )
    response = agent.act(number, action, body)
    assert response.status_code == 422, response.content
    assert (response.json()["code"], response.json()["field"]) == (
        "invalid_amount",
        "shipping_cost",
    )
    after = Case.objects.get(number=number)
    assert (after.state, after.return_shipping_cost, after.outbound_shipping_cost) == (
        before.state,
        Decimal("0.00"),
        Decimal("0.00"),
    )
    assert Event.objects.count() == events


def test_staff_time_costs_the_rate_of_the_moment_it_is_logged(
    admin, customer, agent, order, lead, clock
):
    # given a shop whose staff cost 90.00 an hour
    response = admin.put("/shops/shop/policy", {"insights": {"staff_cost_per_hour": "90.00"}})
    assert response.status_code == 200, response.content
    assert response.json()["insights"] == {"staff_cost_per_hour": "90.00"}
    number = open_case(customer, order)["number"]
    # when an agent logs a 20-minute call, the rate goes up, and a 30-minute call is logged
    first = contact(agent, number, minutes=20)
    assert first.status_code == 201, first.content
    assert (first.json()["minutes"], first.json()["channel_label"]) == (20, "Phone call")
    admin.put("/shops/shop/policy", {"insights": {"staff_cost_per_hour": "120.00"}})
    assert contact(agent, number, minutes=30, follow_up_on="2026-11-30").status_code == 201
    assert contact(agent, number).status_code == 201  # no time recorded: no cost
    # then each contact's cost is frozen at the rate of its moment
    logged = [e.data for e in Event.objects.filter(action="contact").order_by("id")]
    assert [(d.get("minutes"), d.get("staff_cost")) for d in logged] == [
        (20, "30.00"),
        (30, "60.00"),
        (None, None),
    ]
    # and the KPIs count 50 minutes and 90.00, on the case, for staff only
    feed()
    row = shop_row(lead)
    assert (row["staff_minutes"], row["staff_hours"], row["staff_cost_amount"]) == (
        50,
        0.83,
        Decimal("90.00"),
    )
    items, _next, _total = selectors.kpi_cases(
        actor=lead.principal, measure="staff_minutes", since=SINCE, until=UNTIL
    )
    assert [(i["number"], i["hours"], i["amount"]) for i in items] == [
        (number, 0.33, Decimal("30.00")),
        (number, 0.5, Decimal("60.00")),
    ]
    mine = customer.get(f"/cases/{number}").json()
    assert "contact" not in [e["action"] for e in mine["events"]]
    assert rollup_check().differences == []


def test_at_the_default_rate_of_zero_minutes_count_but_cost_nothing(
    customer, agent, order, lead, clock
):
    number = open_case(customer, order)["number"]
    assert contact(agent, number, minutes=45).status_code == 201
    feed()
    row = shop_row(lead)
    assert (row["staff_minutes"], row["staff_cost_amount"], row["cost_amount"]) == (
        45,
        Decimal("0.00"),
        Decimal("0.00"),
    )
    assert Event.objects.get(action="contact").data["staff_cost"] == "0.00"


@pytest.mark.parametrize("bad", [0, 601, -5, 1.5, "abc", "", True, [30]])
def test_bad_minutes_are_refused_and_nothing_is_logged(customer, agent, order, clock, bad):
    number = open_case(customer, order)["number"]
    events = Event.objects.count()
    response = contact(agent, number, minutes=bad)
    assert response.status_code == 422, response.content
    assert (response.json()["code"], response.json()["field"]) == ("invalid_minutes", "minutes")
    assert (ContactLog.objects.count(), Event.objects.count()) == (0, events)


def test_a_customer_may_not_log_a_contact(customer, order, clock):
    number = open_case(customer, order)["number"]
    assert contact(customer, number, minutes=5).status_code == 403
    assert ContactLog.objects.count() == 0


def test_the_desk_logs_the_time_a_contact_took(desk, customer, order, clock):
    number = open_case(customer, order)["number"]
    url = reverse("desk:contact", args=[number])
    # a bad time is refused in words, and nothing is logged
    refused = desk.post(url, {"channel": "call", "summary": "回访", "minutes": "ten"})
    assert refused.status_code == 422
    assert ContactLog.objects.count() == 0
    # a good one is logged and shown
    desk.post(url, {"channel": "call", "summary": "回访", "minutes": "15"})
    assert ContactLog.objects.get().minutes == 15
    page = desk.get(reverse("desk:case", args=[number])).content.decode()
    assert "15 minutes spent" in page
    assert 'name="minutes"' in page


def test_the_desk_asks_a_return_shipping_cost_only_when_the_shop_pays_it(desk, customer, clock):
    from aftersales.cases.views.forms import action_fields

    paid = Case.objects.get(number=open_case(customer, make_order(external_id="P1"))["number"])
    theirs = open_case(customer, make_order(external_id="P2"), reason="wrong_size")["number"]
    theirs = Case.objects.get(number=theirs)
    assert "shipping_cost" in [f.name for f in action_fields("receive", paid)]
    assert "shipping_cost" not in [f.name for f in action_fields("receive", theirs)]
    for action in ("ship_replacement", "ship_back"):
        assert "shipping_cost" in [f.name for f in action_fields(action, paid)]


def test_the_cost_per_case_is_every_cost_from_the_raw_rows_and_a_rebuild_agrees(
    admin, customer, agent, finance, lead, clock
):
    # given cases with every kind of cost, at a rate of 75.00 an hour
    admin.put("/shops/shop/policy", {"insights": {"staff_cost_per_hour": "75.00"}})
    scrapped = returned(
        customer,
        agent,
        finance,
        make_order(external_id="S1"),
        disposition="scrap",
        receive={"shipping_cost": "11.00"},
    )
    assert contact(agent, scrapped, minutes=12).status_code == 201
    fixed = repaired(
        customer,
        agent,
        make_order(external_id="R1"),
        parts_cost="45.00",
        labour_cost="30.50",
        shipping_cost="8.00",
    )
    response = agent.post(
        f"/cases/{fixed}/compensations",
        {"reason": "goodwill", "kind": "coupon", "amount": "10.00"},
    )
    assert response.status_code == 201, response.content
    assert contact(agent, fixed, minutes=7).status_code == 201
    # when the feed reads them
    feed()
    # then the cost is the sum of the raw rows
    cases = Case.objects.all()
    scrap = sum(
        (
            line.order_line.unit_price * line.received_quantity
            for line in CaseLine.objects.filter(disposition="scrap")
        ),
        Decimal("0.00"),
    )
    shipping = sum((c.return_shipping_cost + c.outbound_shipping_cost for c in cases), Decimal(0))
    repairs = sum((c.parts_cost + c.labour_cost for c in cases), Decimal(0))
    compensation = sum((c.amount for c in Compensation.objects.all()), Decimal(0))
    minutes = sum(entry.minutes or 0 for entry in ContactLog.objects.all())
    staff = sum(
        (
            (Decimal(entry.minutes) * Decimal("75.00") / 60).quantize(Decimal("0.01"))
            for entry in ContactLog.objects.all()
        ),
        Decimal(0),
    )
    total = scrap + shipping + repairs + compensation + staff
    row = shop_row(lead)
    assert (row["written_off_amount"], row["shipping_amount"]) == (scrap, shipping)
    assert (row["staff_minutes"], row["staff_cost_amount"]) == (minutes, staff)
    assert (
        row["cost_amount"]
        == total
        == Decimal("200.00") + 19 + Decimal("75.50") + 10 + 15 + Decimal("8.75")
    )
    assert row["cost_per_case"] == (total / 2).quantize(Decimal("0.01"))
    # and a rebuild from the timeline gives the same figures
    before = rollup_rows()
    call_command("insights_rebuild", stdout=io.StringIO())
    assert rollup_rows() == before
    assert rollup_check().differences == []


def test_the_export_lists_each_cases_costs(admin, customer, agent, finance, lead, clock):
    admin.put("/shops/shop/policy", {"insights": {"staff_cost_per_hour": "60.00"}})
    number = returned(
        customer,
        agent,
        finance,
        make_order(external_id="S1"),
        disposition="scrap",
        receive={"shipping_cost": "11.00"},
    )
    contact(agent, number, minutes=30)
    feed()
    response = lead.get("/insights/cases.csv", since=SINCE.isoformat(), until=UNTIL.isoformat())
    assert response.status_code == 200
    header, row = csv.reader(io.StringIO(response.content.decode("utf-8-sig")))
    found = dict(zip(header, row, strict=True))
    assert (
        found["Goods written off"],
        found["Shipping paid"],
        found["Staff minutes"],
        found["Staff cost"],
    ) == ("200.00", "11.00", "30", "30.00")
