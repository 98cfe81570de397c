"""The KPI feed's bookkeeping: an event is counted once however often and however finely the
feed runs, an event that commits after a later one is still counted (once), a rebuild agrees
with the incremental rollups and the check says when they do not; and who may read what."""

from __future__ import annotations

import datetime as dt
import io
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from aftersales.cases.models import Case
from aftersales.core.models import Event
from aftersales.insights import selectors
from aftersales.insights.feed import (
    PENDING_HORIZON,
    cursor_position,
    pending_ids,
    rollup_advance,
    rollup_check,
    rollup_rows,
)
from aftersales.insights.models import DailyRollup, Fact
from tests.conftest import make_order, make_shop, make_user, open_case

SINCE, UNTIL = dt.date(2026, 11, 1), dt.date(2026, 12, 31)


@pytest.fixture
def lead(shop):
    return make_user("lead", "lead", shop="shop")


def shop_row(lead) -> dict:
    rows = selectors.kpis(actor=lead.principal, since=SINCE, until=UNTIL, group_by="shop")
    return rows[0] if rows else {}


def compensate(agent, number, amount="5.00"):
    response = agent.post(
        f"/cases/{number}/compensations",
        {"reason": "goodwill", "kind": "coupon", "amount": amount},
    )
    assert response.status_code == 201, response.content


def test_running_the_feed_again_counts_nothing_twice(customer, agent, order, lead, clock):
    # given a case opened, answered and compensated
    number = open_case(customer, order)["number"]
    clock.shift(hours=1)
    agent.act(number, "approve", {})
    compensate(agent, number)
    # when the feed runs one event at a time, then again and again
    while rollup_advance(batch_size=1).consumed:
        pass
    rollup_advance()
    rollup_advance()
    # then each figure is counted once
    row = shop_row(lead)
    assert (row["opened"], row["first_responses"], row["compensations"]) == (1, 1, 1)
    assert row["first_response_hours"] == 1.0
    assert Fact.objects.count() == 3
    assert cursor_position() == Event.objects.order_by("-id").first().id


def test_an_event_committed_after_a_later_one_is_counted_once(customer, agent, order, lead, clock):
    # given a compensation whose event (id n) is not committed yet when the feed passes a later
    # event (n + 1): the row is taken away and put back, as a late commit would look
    number = open_case(customer, order)["number"]
    compensate(agent, number)
    late = Event.objects.get(action="compensate")
    Event.objects.filter(pk=late.pk).delete()
    open_case(customer, make_order(external_id="O2"))
    first = rollup_advance()
    assert first.consumed == 2
    assert late.pk in pending_ids()
    assert shop_row(lead)["compensations"] == 0
    # when it commits, and the feed runs twice more
    late.save(force_insert=True)
    assert rollup_advance().late == 1
    rollup_advance()
    # then it is counted, once, and nothing stays pending
    row = shop_row(lead)
    assert (row["opened"], row["compensations"], str(row["compensation_amount"])) == (
        2,
        1,
        "5.00",
    )
    assert late.pk not in pending_ids()
    assert rollup_check().differences == []


def test_an_id_that_never_commits_is_forgotten_after_the_horizon(customer, order, clock):
    # given an id skipped (a transaction rolled back)
    open_case(customer, order)
    skipped = Event.objects.get().pk
    Event.objects.filter(pk=skipped).delete()
    open_case(customer, make_order(external_id="O2"))
    rollup_advance()
    assert skipped in pending_ids()
    # when the horizon passes
    clock.shift(seconds=PENDING_HORIZON.total_seconds() - 1)
    rollup_advance()
    assert skipped in pending_ids()
    clock.shift(seconds=2)
    rollup_advance()
    # then it is looked for no more
    assert pending_ids() == []


def test_a_breach_told_after_the_end_turns_the_end_from_met_to_breached(
    customer, agent, order, lead, clock
):
    # given a case that ended with no breach on its timeline, counted as met
    number = open_case(customer, order, kind="refund_only")["number"]
    customer.act(number, "cancel", {})
    rollup_advance()
    assert (shop_row(lead)["sla_met"], shop_row(lead)["sla_breached"]) == (1, 0)
    # when the service levels tell a breach afterwards (their sweep ran late)
    case = Case.objects.get(number=number)
    Event.objects.create(
        subject_type_id=Event.objects.get(action="open").subject_type_id,
        subject_id=case.pk,
        shop_id=case.shop_id,
        actor_name="system",
        role="system",
        action="sla_breach",
        from_state="closed",
        to_state="closed",
        data={"metric": "first_response"},
        at=clock.now,
    )
    rollup_advance()
    # then the end counts as breached, and a rebuild says the same
    row = shop_row(lead)
    assert (row["sla_met"], row["sla_breached"], row["sla_breaches"]) == (0, 1, 1)
    assert row["sla_met_percent"] == 0.0
    assert rollup_check().differences == []


def test_rebuild_agrees_and_check_finds_a_difference(customer, agent, finance, order, clock):
    # given a refunded case, counted incrementally
    number = open_case(customer, order, kind="refund_only")["number"]
    agent.act(number, "approve", {})
    clock.shift(hours=3)
    finance.act(number, "refund", {"idempotency_key": "k1"})
    rollup_advance()
    before = rollup_rows()
    # when the rollups are rebuilt from scratch
    out = io.StringIO()
    call_command("insights_rebuild", stdout=out)
    # then they are the same, and the check agrees
    assert rollup_rows() == before
    assert "from 3 events" in out.getvalue()
    call_command("insights_check", stdout=out)
    assert "agree" in out.getvalue()
    # and a rollup row that drifted is found (and the check leaves the tables as they were)
    DailyRollup.objects.update(refunds=7)
    with pytest.raises(CommandError, match="1 KPI rollup rows differ"):
        call_command("insights_check", stdout=io.StringIO())
    assert DailyRollup.objects.get().refunds == 7


def test_the_drill_down_names_the_cases_behind_each_number(customer, agent, order, lead, clock):
    # given three cases, two of them rejected by the agent
    numbers = [open_case(customer, make_order(external_id=f"D{i}"))["number"] for i in range(3)]
    for number in numbers[:2]:
        agent.act(number, "reject", {"reason": "照片看不清"})
    rollup_advance()
    assert shop_row(lead)["rejected"] == 2
    # when a lead asks for the rejected cases, a page of one at a time
    query = {"measure": "rejected", "since": "2026-11-01", "until": "2026-11-30", "limit": 1}
    first = lead.get("/insights/kpis/cases", **query).json()
    second = lead.get("/insights/kpis/cases", **query, cursor=first["next_cursor"]).json()
    # then the two pages hold the two cases
    assert first["total"] == 2
    assert [first["items"][0]["number"], second["items"][0]["number"]] == numbers[:2]
    assert second["next_cursor"] is None
    # and the opened ones, filtered by the groups' keys, are all three
    opened = lead.get(
        "/insights/kpis/cases",
        measure="opened",
        since="2026-11-01",
        until="2026-11-30",
        kind="return_refund",
        agent="none",
        platform="none",
        reason="quality_issue",
    ).json()
    assert [item["number"] for item in opened["items"]] == numbers


def test_a_lead_reads_their_shops_only_and_agents_and_customers_not_at_all(
    customer, agent, order, lead, clock
):
    # given a case in each of two shops
    open_case(customer, order)
    make_shop("other")
    other_buyer = make_user("buyer2", "customer", shop="other", customer="C9")
    open_case(other_buyer, make_order(shop="other", external_id="X1", customer="C9"))
    rollup_advance()
    root = make_user("root", "admin")
    query = {"since": "2026-11-01", "until": "2026-11-30"}
    # then the lead sees their shop, the installation's admin both
    assert [r["key"] for r in lead.get("/insights/kpis", **query).json()["rows"]] == ["shop"]
    assert [r["key"] for r in root.get("/insights/kpis", **query).json()["rows"]] == [
        "other",
        "shop",
    ]
    # and another shop is not found for the lead; agents and customers are refused
    assert lead.get("/insights/kpis", **query, shop="other").status_code == 404
    for api in (agent, customer):
        response = api.get("/insights/kpis", **query)
        assert (response.status_code, response.json()["code"]) == (403, "forbidden")
        response = api.get("/insights/kpis/cases", measure="opened", **query)
        assert response.status_code == 403


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("/insights/kpis", {"since": "2026-11-30", "until": "2026-11-01"}, 422, "invalid_period"),
        (
            "/insights/kpis",
            {"since": "2020-01-01", "until": "2026-11-01"},
            422,
            "period_too_long",
        ),
        ("/insights/kpis", {"since": "soon", "until": "2026-11-01"}, 422, "validation_error"),
        (
            "/insights/kpis",
            {"since": "2026-11-01", "until": "2026-11-30", "group_by": "sku"},
            422,
            "validation_error",
        ),
        (
            "/insights/kpis",
            {"since": "2026-11-01", "until": "2026-11-30", "colour": "red"},
            422,
            "unknown_parameter",
        ),
        (
            "/insights/kpis",
            {"since": "2026-11-01", "until": "2026-11-30", "shop": "nope"},
            404,
            "shop_not_found",
        ),
        (
            "/insights/kpis/cases",
            {"measure": "happiness", "since": "2026-11-01", "until": "2026-11-30"},
            422,
            "validation_error",
        ),
        (
            "/insights/kpis/cases",
            {"measure": "opened", "since": "2026-11-01", "until": "2026-11-30", "cursor": "-1"},
            422,
            "validation_error",
        ),
    ],
)
def test_bad_parameters_are_refused_in_words(lead, path, params, status, code):
    response = lead.get(path, **params)
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert response.json()["detail"]


def test_an_unknown_owner_finds_nothing(customer, order, lead, clock):
    open_case(customer, order)
    rollup_advance()
    response = lead.get(
        "/insights/kpis/cases",
        measure="opened",
        since="2026-11-01",
        until="2026-11-30",
        agent="nobody-here",
    )
    assert (response.status_code, response.json()["total"]) == (200, 0)


# --- PostgreSQL: a real transaction that commits after a later one --------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_event_committed_late_by_another_connection_is_counted(clock):
    # given a case, counted
    make_shop()
    buyer = make_user("buyer", "customer", shop="shop", customer="C1")
    agent = make_user("agent", "agent", shop="shop")
    number = open_case(buyer, make_order())["number"]
    rollup_advance()
    case = Case.objects.get(number=number)
    template = Event.objects.get(action="open")
    inserted, release, done = threading.Event(), threading.Event(), threading.Event()

    def slow_writer():
        # a compensation event whose transaction stays open while a later event commits
        try:
            with transaction.atomic():
                Event.objects.create(
                    subject_type_id=template.subject_type_id,
                    subject_id=case.pk,
                    shop_id=case.shop_id,
                    actor_name="agent",
                    role="agent",
                    action="compensate",
                    data={"amount": "8.00"},
                    at=clock.now,
                )
                inserted.set()
                release.wait(10)
        finally:
            connection.close()
            done.set()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    try:
        assert inserted.wait(10)
        # when a later event commits and the feed passes it
        agent.act(number, "approve", {})
        waiting = set(pending_ids())
        rollup_advance()
        lead = make_user("lead", "lead", shop="shop")
        assert shop_row(lead)["compensations"] == 0
        (slow,) = set(pending_ids()) - waiting
    finally:
        # and then the slow transaction commits
        release.set()
        assert done.wait(10)
        thread.join()
    rollup_advance()
    rollup_advance()
    # then its event is counted once
    row = shop_row(lead)
    assert (row["compensations"], str(row["compensation_amount"]), row["first_responses"]) == (
        1,
        "8.00",
        1,
    )
    assert Event.objects.get(action="compensate").pk == slow
    assert slow not in pending_ids()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_feeding_at_once_count_each_event_once(clock):
    # given five cases opened
    make_shop()
    buyer = make_user("buyer", "customer", shop="shop", customer="C1")
    for index in range(5):
        open_case(buyer, make_order(external_id=f"W{index}"))
    start = threading.Barrier(2)
    errors = []

    def worker():
        try:
            start.wait(10)
            while rollup_advance(batch_size=1).consumed:
                pass
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    # when two workers feed at the same moment, one event at a time
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    # then each case is counted once
    assert errors == []
    lead = make_user("lead", "lead", shop="shop")
    assert shop_row(lead)["opened"] == 5
    assert Fact.objects.count() == 5


def daily_by_month() -> dict[tuple, tuple]:
    """The daily rollups summed by calendar month, computed here."""
    from aftersales.insights.models import ROLLUP_MEASURES

    found: dict[tuple, list] = {}
    for row in DailyRollup.objects.all():
        key = (row.shop_id, row.day.replace(day=1), *row.key[2:])
        sums = found.setdefault(key, [0] * len(ROLLUP_MEASURES))
        for index, name in enumerate(ROLLUP_MEASURES):
            sums[index] += getattr(row, name)
    return {key: tuple(sums) for key, sums in found.items()}


def monthly_rows() -> dict[tuple, tuple]:
    from aftersales.insights.models import ROLLUP_MEASURES, MonthlyRollup

    return {
        row.key: tuple(getattr(row, name) for name in ROLLUP_MEASURES)
        for row in MonthlyRollup.objects.all()
    }


def test_the_monthly_rollups_are_the_days_summed_by_month(customer, agent, order, lead, clock):
    # given cases opened and answered over three months, the feed run between them
    for index in range(3):
        number = open_case(customer, make_order(external_id=f"M{index}"))["number"]
        clock.shift(hours=2)
        agent.act(number, "approve", {})
        compensate(agent, number, amount=f"{index + 1}.00")
        rollup_advance()
        clock.shift(days=20)
    rollup_advance()
    # then each month's row is the sum of its days' rows, for every key
    months = monthly_rows()
    assert len({key[1] for key in months}) >= 2
    assert months == daily_by_month()
    # and periods of whole months and of months with days at their ends count each case once
    for since, until, expected in (
        (SINCE, UNTIL, (2, 2, "3.00")),  # November and December: the third is in January
        (dt.date(2026, 11, 24), dt.date(2027, 1, 3), (3, 3, "6.00")),
        (dt.date(2026, 12, 1), dt.date(2027, 2, 28), (2, 2, "5.00")),
    ):
        row = selectors.kpis(actor=lead.principal, since=since, until=until, group_by="shop")[0]
        got = (row["opened"], row["compensations"], str(row["compensation_amount"]))
        assert got == expected, (since, until)


def test_upgrading_fills_the_months_from_the_days_already_counted(customer, agent, lead, clock):
    # given days counted and months missing (an installation before the monthly rollups)
    from importlib import import_module

    from django.apps import apps

    from aftersales.insights.models import MonthlyRollup

    for index in range(2):
        open_case(customer, make_order(external_id=f"U{index}"))
        clock.shift(days=25)
    rollup_advance()
    before = monthly_rows()
    MonthlyRollup.objects.all().delete()
    # when the migration's step runs
    migration = import_module("aftersales.insights.migrations.0004_monthly_rollups")
    migration.months_from_days(apps, None)
    # then the months are what the feed had kept
    assert monthly_rows() == before == daily_by_month()
