"""Service-level clocks on a moved clock, through the API and the sweep: the first response, the
reply to a customer's message and the resolution counted in the shop's business hours, paused
while the shop waits on the customer, warned then breached once each, recomputed when the hours
change, presets, badges and filters, "% met", and the API's refusals."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from aftersales.cases.models import Case
from aftersales.cases.services import case_open
from aftersales.complaints.models import Complaint
from aftersales.conversations.services import message_post
from aftersales.core.actors import SYSTEM
from aftersales.core.models import Event, Notice
from aftersales.sla import selectors
from aftersales.sla.clocks import measure
from aftersales.sla.hours import calendar_for
from aftersales.sla.models import BusinessHours, Clock, Holiday, Target
from aftersales.sla.refresh import sla_sweep, target_for
from aftersales.sla.schemas import TargetIn, TargetsIn
from aftersales.sla.services import targets_set
from tests.conftest import make_order, make_shop, make_user, open_case
from tests.test_concurrency import race

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
HOUR = dt.timedelta(hours=1)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
OFFICE = {day: [["09:00", "12:00"], ["13:30", "18:00"]] for day in WEEKDAYS}
TARGET = {
    "subject_type": "case",
    "first_response": "PT2H",
    "next_response": "PT1H",
    "resolution": "PT8H",
    "warn_before": "PT30M",
}


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture
def levels(admin, shop):
    """The shop works 09:00–12:00 and 13:30–18:00 on weekdays (China's holidays) and answers a
    case within 2 working hours, a message within 1, resolves it within 8."""
    assert admin.put("/shops/shop/business-hours", {"windows": OFFICE}).status_code == 200
    response = admin.put("/shops/shop/sla-targets", {"targets": [TARGET]})
    assert response.status_code == 200, response.content
    return admin


def clock_of(number: str, metric: str) -> Clock:
    case = Case.objects.get(number=number)
    return Clock.objects.get(subject_id=case.pk, metric=metric, subject_type__model="case")


def customer_writes(number: str, customer, text="还没收到回复"):
    # the customer's reply on the portal: a "customer_message" on the case's timeline
    message_post(actor=customer.principal, subject_type="case", number=number, text=text)


def test_the_first_response_is_warned_then_breached_once(levels, agent, customer, order, clock):
    number = open_case(customer, order)["number"]  # Tuesday 24 Nov 2026, 10:00
    sla_sweep()
    first = clock_of(number, "first_response")
    assert (first.state, first.started_at, first.warn_at, first.due_at) == (
        "running",
        at("2026-11-24 10:00"),
        at("2026-11-24 11:30"),
        at("2026-11-24 12:00"),
    )
    resolution = clock_of(number, "resolution")
    assert (resolution.warn_at, resolution.due_at) == (
        at("2026-11-25 10:00"),
        at("2026-11-25 10:30"),
    )

    clock.shift(minutes=100)  # 11:40
    assert (sla_sweep().warned, sla_sweep().warned) == (1, 0)
    assert clock_of(number, "first_response").state == "warned"
    clock.shift(minutes=25)  # 12:05
    assert sla_sweep().breached == 1
    assert sla_sweep().breached == 0
    case = Case.objects.get(number=number)
    told = list(
        Event.objects.filter(case=case, action__startswith="sla_").values_list(
            "action", "role", "data__metric"
        )
    )
    assert told == [
        ("sla_warning", "system", "first_response"),
        ("sla_breach", "system", "first_response"),
    ]
    notices = list(
        Notice.objects.filter(case=case, kind__startswith="sla_").values_list("kind", "audience")
    )
    assert notices == [("sla_warning", "shop"), ("sla_breach", "lead")]

    assert agent.act(number, "approve").status_code == 200  # answered late, at 12:05
    sla_sweep()
    first = clock_of(number, "first_response")
    assert (first.state, first.met_at, first.breached_at, first.rounds_met) == (
        "breached",
        at("2026-11-24 12:05"),
        at("2026-11-24 12:00"),
        0,
    )
    # Awaiting the customer's return: the resolution waits too.
    resolution = clock_of(number, "resolution")
    assert (resolution.state, resolution.due_at, resolution.warn_at) == ("paused", None, None)


def test_a_lunch_break_does_not_count(levels, customer, order, clock):
    clock.set(at("2026-11-24 11:00"))
    number = open_case(customer, order)["number"]
    sla_sweep()
    first = clock_of(number, "first_response")
    assert (first.warn_at, first.due_at) == (at("2026-11-24 14:00"), at("2026-11-24 14:30"))


def test_the_resolution_pauses_while_the_shop_waits_on_the_customer(
    levels, agent, customer, order, clock
):
    number = open_case(customer, order)["number"]  # Tuesday 10:00
    clock.shift(hours=1)
    assert agent.act(number, "reject", {"reason": "照片不清楚"}).status_code == 200
    sla_sweep()
    first = clock_of(number, "first_response")
    assert (first.state, first.met_at, first.rounds_met) == ("met", at("2026-11-24 11:00"), 1)
    assert clock_of(number, "resolution").state == "paused"

    clock.set(at("2026-11-25 10:00"))  # a day later the customer answers
    assert customer.act(number, "modify", {"description": "补充了照片"}).status_code == 200
    sla_sweep()
    resolution = clock_of(number, "resolution")
    # 1 h counted before the pause, 7 h after it: Wednesday 10–12, 13:30–18, Thursday 09–09:30.
    assert (resolution.state, resolution.warn_at, resolution.due_at) == (
        "running",
        at("2026-11-25 18:00"),
        at("2026-11-26 09:30"),
    )


def test_each_customer_message_wants_a_reply(levels, agent, customer, order, clock):
    number = open_case(customer, order)["number"]
    clock.shift(minutes=30)
    # 10:30
    message_post(actor=agent.principal, subject_type="case", number=number, text="您好，已收到")
    clock.shift(minutes=30)
    customer_writes(number, customer)  # 11:00
    sla_sweep()
    reply = clock_of(number, "next_response")
    assert (reply.state, reply.started_at, reply.warn_at, reply.due_at) == (
        "running",
        at("2026-11-24 11:00"),
        at("2026-11-24 11:30"),
        at("2026-11-24 12:00"),
    )
    clock.shift(minutes=45)
    assert sla_sweep().warned == 1
    clock.shift(minutes=5)
    # 11:50
    message_post(actor=agent.principal, subject_type="case", number=number, text="正在处理")
    sla_sweep()
    reply = clock_of(number, "next_response")
    assert (reply.state, reply.met_at, reply.rounds, reply.rounds_met) == (
        "met",
        at("2026-11-24 11:50"),
        1,
        1,
    )

    clock.set(at("2026-11-24 17:30"))
    customer_writes(number, customer, "怎么还没处理")
    sla_sweep()
    reply = clock_of(number, "next_response")
    assert (reply.state, reply.due_at, reply.rounds) == ("running", at("2026-11-25 09:30"), 2)
    clock.set(at("2026-11-25 10:00"))
    assert sla_sweep().breached == 1
    reply = clock_of(number, "next_response")
    assert (reply.state, reply.breached_at, reply.rounds, reply.rounds_met) == (
        "breached",
        at("2026-11-25 09:30"),
        2,
        1,
    )


def test_changed_hours_move_the_open_clocks_at_once(levels, customer, order, clock):
    clock.set(at("2026-11-24 17:00"))
    number = open_case(customer, order)["number"]
    sla_sweep()
    assert clock_of(number, "first_response").due_at == at("2026-11-25 10:00")
    longer = {day: [["09:00", "12:00"], ["13:30", "20:00"]] for day in WEEKDAYS}
    assert levels.put("/shops/shop/business-hours", {"windows": longer}).status_code == 200
    assert clock_of(number, "first_response").due_at == at("2026-11-24 19:00")
    # A 24/7 shop: every hour counts.
    always = {day: [["00:00", "24:00"]] for day in (*WEEKDAYS, "sat", "sun")}
    levels.put("/shops/shop/business-hours", {"windows": always, "region": ""})
    assert clock_of(number, "first_response").due_at == at("2026-11-24 19:00")
    levels.put("/shops/shop/sla-targets", {"targets": [{**TARGET, "first_response": "PT30M"}]})
    assert clock_of(number, "first_response").due_at == at("2026-11-24 17:30")


def test_amazon_counts_weekends_and_holidays(levels, customer, order, clock):
    response = levels.put("/shops/shop/sla-targets", {"preset": "amazon"})
    body = response.json()
    assert body["preset"] == "amazon"
    assert body["targets"][0] == {
        "subject_type": "case",
        "kind": "",
        "priority": "",
        "first_response": "PT24H",
        "next_response": "PT24H",
        "resolution": None,
        "warn_before": "PT4H",
        "business_hours_only": False,
    }
    assert (
        body["sources"][0]["url"] == "https://sellercentral.amazon.com/gp/help/external/200549770"
    )
    clock.set(at("2026-11-27 17:00"))  # a Friday evening
    number = open_case(customer, make_order(external_id="O2"))["number"]
    sla_sweep()
    assert clock_of(number, "first_response").due_at == at("2026-11-28 17:00")


def test_elemes_complaints_are_answered_within_five_minutes(admin, customer, order, clock):
    response = admin.put("/shops/shop/sla-targets", {"preset": "eleme"})
    assert response.status_code == 200
    complaint = {t["subject_type"]: t for t in response.json()["targets"]}["complaint"]
    assert (complaint["first_response"], complaint["warn_before"]) == ("PT5M", "PT2M")
    filed = customer.post(
        "/complaints",
        {"type": "not_as_described", "description": "与描述不符", "order_id": order.id},
    )
    assert filed.status_code == 201, filed.content
    sla_sweep()  # no business hours set: every hour counts
    complaint_row = Complaint.objects.get(number=filed.json()["number"])
    first = Clock.objects.get(
        subject_type__model="complaint", subject_id=complaint_row.pk, metric="first_response"
    )
    assert (first.kind, first.priority, first.warn_at, first.due_at) == (
        "not_as_described",
        "normal",
        at("2026-11-24 10:03"),
        at("2026-11-24 10:05"),
    )


def test_badges_and_the_case_filter(levels, agent, customer, order, clock):
    late = open_case(customer, order)["number"]
    clock.shift(hours=1)
    on_time = open_case(customer, make_order(external_id="O2"))["number"]
    clock.shift(minutes=65)  # 12:05: the first is overdue, the second is not yet warned
    sla_sweep()
    listed = {
        state: [row["number"] for row in agent.get("/cases", sla=state).json()["items"]]
        for state in ("breached", "warned", "running", "met")
    }
    assert listed == {"breached": [late], "warned": [], "running": [on_time], "met": []}
    with translation.override("en"):
        found = selectors.badges("case", [Case.objects.get(number=late).pk])
    assert [(b.metric, b.state, b.label, b.due) for b in next(iter(found.values()))] == [
        ("first_response", "breached", "First response: Overdue", "2026-11-24 12:00"),
        ("resolution", "running", "Resolution: On time", "2026-11-25 10:30"),
    ]
    assert agent.get("/cases", sla="late").status_code == 422


def test_percent_met_for_the_kpis(levels, agent, customer, order, clock):
    met = open_case(customer, order)["number"]
    missed = open_case(customer, make_order(external_id="O2"))["number"]
    clock.shift(minutes=30)
    agent.act(met, "approve")
    clock.shift(hours=2)
    agent.act(missed, "approve")
    sla_sweep()
    response = agent.get("/sla/report", shop="shop", **{"from": "2026-11-24", "to": "2026-11-24"})
    assert response.status_code == 200, response.content
    assert response.json()["rows"] == [
        {
            "subject_type": "case",
            "metric": "first_response",
            "metric_label": "First response",
            "kind": "return_refund",
            "measured": 2,
            "met": 1,
            "breached": 1,
            "percent_met": 50.0,
        }
    ]


@pytest.mark.parametrize(
    ("targets", "kind", "priority", "chosen"),
    [
        (
            [("", ""), ("repair", ""), ("repair", "urgent")],
            "repair",
            "urgent",
            ("repair", "urgent"),
        ),
        ([("", ""), ("repair", ""), ("", "urgent")], "repair", "normal", ("repair", "")),
        ([("", ""), ("", "urgent")], "exchange", "urgent", ("", "urgent")),
        ([("", ""), ("repair", "")], "exchange", "normal", ("", "")),
        ([("repair", "")], "exchange", "normal", None),
    ],
)
def test_the_most_specific_target_wins(targets, kind, priority, chosen):
    rows = [Target(subject_type="case", kind=k, priority=p) for k, p in targets]
    found = target_for(rows, "case", kind, priority)
    assert (None if found is None else (found.kind, found.priority)) == chosen


@pytest.mark.parametrize(
    ("who", "method", "path", "body", "status", "code"),
    [
        ("customer", "get", "/shops/shop/business-hours", None, 403, "forbidden"),
        ("customer", "get", "/shops/shop/sla-targets", None, 403, "forbidden"),
        ("agent", "put", "/shops/shop/business-hours", {"windows": OFFICE}, 403, "forbidden"),
        ("agent", "put", "/shops/shop/sla-targets", {"preset": "generic"}, 403, "forbidden"),
        ("outsider", "get", "/shops/shop/business-hours", None, 404, "shop_not_found"),
        (
            "admin",
            "put",
            "/shops/shop/business-hours",
            {"windows": {"mon": [["9", "18"]]}},
            422,
            "validation_error",
        ),
        (
            "admin",
            "put",
            "/shops/shop/business-hours",
            {"region": "china"},
            422,
            "validation_error",
        ),
        ("admin", "put", "/shops/shop/business-hours", {"windows": {}}, 422, "no_working_hours"),
        ("admin", "put", "/shops/shop/sla-targets", {"preset": "nope"}, 422, "unknown_preset"),
        (
            "admin",
            "put",
            "/shops/shop/sla-targets",
            {"targets": [{**TARGET, "first_response": "PT0S"}]},
            422,
            "validation_error",
        ),
        (
            "admin",
            "put",
            "/shops/shop/sla-targets",
            {"targets": [TARGET, TARGET]},
            422,
            "duplicate_target",
        ),
        (
            "admin",
            "put",
            "/shops/shop/sla-targets",
            {"targets": [{"subject_type": "case", "warn_before": "PT1H"}]},
            422,
            "empty_target",
        ),
        (
            "admin",
            "put",
            "/shops/shop/sla-targets",
            {"targets": [{**TARGET, "subject_type": "dispute"}]},
            422,
            "validation_error",
        ),
    ],
)
def test_refusals_change_nothing(admin, agent, customer, who, method, path, body, status, code):
    make_shop("other")
    apis = {
        "admin": admin,
        "agent": agent,
        "customer": customer,
        "outsider": make_user("outsider", "agent", shop="other"),
    }
    api = apis[who]
    response = api.get(path) if method == "get" else api.put(path, body)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert (BusinessHours.objects.count(), Target.objects.count()) == (0, 0)


@pytest.mark.parametrize(
    ("since", "until", "status", "code"),
    [
        ("2026-11-25", "2026-11-24", 422, "invalid_period"),
        ("2025-01-01", "2026-11-24", 422, "invalid_period"),
        ("yesterday", "2026-11-24", 422, "validation_error"),
    ],
)
def test_the_report_refuses_a_bad_period(agent, customer, since, until, status, code):
    response = agent.get("/sla/report", shop="shop", **{"from": since, "to": until})
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert (
        customer.get("/sla/report", shop="shop", **{"from": until, "to": until}).status_code == 403
    )


def test_holidays_import_is_idempotent(db, capsys):
    call_command("holidays_import", "--country", "de", "--year", "2027")
    call_command("holidays_import", "--country", "DE", "--year", "2027")
    days = list(Holiday.objects.filter(country="DE").values_list("date", flat=True))
    assert len(days) == 9
    assert dt.date(2027, 5, 6) in days  # Ascension Day
    assert "DE 2027: 9 holidays stored" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("holidays_import", "--country", "CN", "--year", "2027")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_several_workers_tell_each_breach_once(clock):
    shop = make_shop()
    targets_set(
        actor=SYSTEM,
        shop=shop,
        data=TargetsIn(targets=[TargetIn(subject_type="case", first_response=2 * HOUR)]),
    )
    customer = make_user("buyer", "customer", shop="shop", customer="C1").principal
    for index in range(12):
        order = make_order(external_id=f"R{index}")
        case_open(
            actor=customer,
            data={
                "order_id": order.id,
                "kind": "refund_only",
                "reason": "missing_item",
                "lines": [{"order_line_id": order.lines.get().id, "quantity": 1}],
            },
        )
    clock.shift(hours=3)
    results, errors = race(lambda index: sla_sweep(batch_size=5).breached, count=4)
    assert (errors, sum(results)) == ([], 12)
    assert Event.objects.filter(action="sla_breach").count() == 12
    assert Notice.objects.filter(kind="sla_breach").count() == 12


def office_calendar():
    return calendar_for(timezone="Asia/Shanghai", region="CN", windows=OFFICE)


def test_an_answer_after_the_due_time_is_late_even_after_closing():
    def answered(moment):
        return measure(
            office_calendar(),
            metric="first_response",
            target=2 * HOUR,
            warn_before=None,
            start=at("2026-11-24 16:00"),
            end=at(moment),
            pauses=(),
            now=at(moment),
        )

    on_time = answered("2026-11-24 18:00")
    assert (on_time.state, on_time.breached_at, on_time.rounds_met) == ("met", None, 1)
    late = answered("2026-11-24 19:00")
    assert (late.state, late.breached_at, late.rounds_met) == (
        "breached",
        at("2026-11-24 18:00"),
        0,
    )


@pytest.mark.parametrize(
    ("pauses", "state", "due"),
    [
        # 1 h, a pause overnight, 1 h, then paused again: nothing is due while it waits.
        ([("2026-11-24 11:00", "2026-11-25 10:00"), ("2026-11-25 11:00", None)], "paused", None),
        # 1 h before the pause, 7 h after it.
        ([("2026-11-24 11:00", "2026-11-25 10:00")], "running", "2026-11-26 09:30"),
        # A pause that ended before the clock started changes nothing: overdue at 10:30.
        ([("2026-11-23 11:00", "2026-11-23 15:00")], "breached", "2026-11-25 10:30"),
    ],
)
def test_pauses(pauses, state, due):
    result = measure(
        office_calendar(),
        metric="resolution",
        target=8 * HOUR,
        warn_before=None,
        start=at("2026-11-24 10:00"),
        end=None,
        pauses=[(at(a), at(b) if b else None) for a, b in pauses],
        now=at("2026-11-25 12:00"),
    )
    assert (result.state, result.due_at) == (state, at(due) if due else None)


def test_the_badges_partial_reads_words_and_the_shops_time():
    badge = selectors.Badge(
        metric="first_response",
        state="breached",
        label="First response: Overdue",
        due="2026-11-24 12:00",
    )
    with translation.override("en"):
        html = render_to_string("sla/_badges.html", {"badges": [badge]})
    assert html.strip() == (
        '<span class="sla-badges"><span class="badge sla-breached" title="Due 2026-11-24 12:00">'
        "First response: Overdue · 2026-11-24 12:00</span></span>"
    )
    assert render_to_string("sla/_badges.html", {"badges": []}).strip() == ""


def test_a_recompute_writes_the_shops_clocks_in_one_statement_without_a_case_per_row(
    levels, customer, order, clock
):
    # given: two open cases with clocks
    clock.set(at("2026-11-24 17:00"))
    first = open_case(customer, order)["number"]
    second = open_case(customer, make_order(external_id="O2"))["number"]
    sla_sweep()
    # when: the shop's hours change (every open clock recomputed)
    longer = {day: [["09:00", "12:00"], ["13:30", "20:00"]] for day in WEEKDAYS}
    with CaptureQueriesContext(connection) as queries:
        assert levels.put("/shops/shop/business-hours", {"windows": longer}).status_code == 200
    # then: the clocks moved, written by one UPDATE … FROM VALUES (Django's bulk_update's
    # CASE per row and field is quadratic on PostgreSQL)
    assert clock_of(first, "first_response").due_at == at("2026-11-24 19:00")
    assert clock_of(second, "first_response").due_at == at("2026-11-24 19:00")
    updates = [q["sql"] for q in queries if q["sql"].startswith('WITH v("_pk"')]
    assert len(updates) == 1 and "sla_clock" in updates[0]
    assert not [q["sql"] for q in queries if "CASE WHEN" in q["sql"] and "sla_clock" in q["sql"]]
