"""Who sees what of a case's timeline: one visibility per event kind, for the API and the pages."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import pytest

from aftersales.cases.choices import Action
from aftersales.cases.models import Case
from aftersales.cases.timeline import VISIBILITY, events_for, readable_time
from aftersales.conversations.services import message_post
from aftersales.core.actors import SYSTEM
from aftersales.core.sweep import sweep
from aftersales.team.models import ReplyTemplate
from aftersales.team.workbench import assign, contact_log_add
from tests.conftest import NOW, open_case


def test_every_event_kind_has_one_visibility():
    # given every kind of event the timeline can hold
    kinds = set(Action.values)
    # when their visibilities are looked up
    missing = kinds - set(VISIBILITY)
    # then none is missing and none is left over
    assert missing == set()
    assert set(VISIBILITY) == kinds


@pytest.fixture
def template(shop):
    return ReplyTemplate.objects.create(shop=shop, title="寄回", body="请寄回")


@pytest.fixture
def busy_case(customer, agent, order, clock, template):
    """A return with internal entries: a contact, an assignment, a message from a template, a
    receiving note and an escalation by the worker."""
    number = open_case(customer, order)["number"]
    case_id = Case.objects.get(number=number).id
    agent.act(number, "approve")
    contact_log_add(
        actor=agent.principal,
        subject_type="case",
        subject_id=case_id,
        channel="call",
        summary="客户情绪激动，已安抚",
    )
    assign(actor=agent.principal, subject_type="case", subject_ids=[case_id], username="agent")
    message_post(
        actor=agent.principal,
        subject_type="case",
        number=number,
        text="请寄回",
        template_id=template.id,
    )
    customer.act(number, "ship_return", {"carrier": "SF", "tracking_number": "SF1"})
    agent.act(number, "receive", {"note": "外箱破损，疑似二次销售"})
    clock.shift(days=8)  # past the refund duty: the worker escalates the inspection
    assert sweep().acted == 1
    return number


def test_a_customer_sees_no_staff_only_entry_or_data(customer, busy_case):
    # given a case with internal entries
    # when the customer reads it
    events = customer.get(f"/cases/{busy_case}").json()["events"]
    # then the contact, the assignment and the escalation are not there
    assert [event["action"] for event in events] == [
        "open",
        "approve",
        "message",
        "ship_return",
        "receive",
    ]
    # and neither the receiving note nor the reply template
    line_id = events[0]["data"]["lines"][0]["order_line_id"]
    assert events[4]["data"] == {"received": {str(line_id): 1}}
    assert events[2]["data"] == {"text": "请寄回"}
    # and no member of staff by name: the shop speaks as the shop
    assert [event["actor"] for event in events] == [
        "buyer",
        "The shop",
        "The shop",
        "buyer",
        "The shop",
    ]
    assert "agent" not in json.dumps([event["actor"] for event in events])
    assert "疑似二次销售" not in json.dumps(events, ensure_ascii=False)


def test_the_shop_is_named_in_the_customers_language(customer, busy_case):
    # given a case the shop has answered
    # when the customer reads it in Chinese
    response = customer.client.get(f"/api/v1/cases/{busy_case}", HTTP_ACCEPT_LANGUAGE="zh-hans")
    # then the shop's entries are signed by the shop
    assert response.json()["events"][1]["actor"] == "本店"


def test_an_agent_sees_every_entry_with_its_data(agent, busy_case, template):
    # given a case with internal entries
    # when an agent reads it
    events = agent.get(f"/cases/{busy_case}").json()["events"]
    # then every entry is there, by name, with all its data
    assert [event["action"] for event in events] == [
        "open",
        "approve",
        "contact",
        "assign",
        "message",
        "ship_return",
        "receive",
        "escalate",
    ]
    assert [event["actor"] for event in events] == [
        "buyer",
        "agent",
        "agent",
        "agent",
        "agent",
        "buyer",
        "agent",
        "system",
    ]
    assert events[2]["data"]["summary"] == "客户情绪激动，已安抚"
    assert events[3]["data"] == {"assignee": "agent"}
    assert events[4]["data"] == {"text": "请寄回", "template_id": template.id}
    assert events[6]["data"]["note"] == "外箱破损，疑似二次销售"
    assert events[7]["action_label"] == "Escalated on timeout"


def _event(action: str, role: str, data: dict):
    return SimpleNamespace(
        action=action,
        actor_name="li.lei",
        role=role,
        from_state="inspecting",
        to_state="inspecting",
        at=NOW,
        data=data,
    )


@pytest.mark.parametrize("action", Action.values)
def test_each_kind_shows_the_customer_only_what_it_may(customer, agent, action):
    # given an event of this kind by an agent, holding every key staff keep to themselves
    visibility = VISIBILITY[action]
    data = {"shared": 1, **dict.fromkeys(visibility.staff_only_keys, "internal")}
    event = _event(action, "agent", data)
    # when the customer and an agent read it
    seen_by_customer = events_for(customer.principal, [event])
    seen_by_agent = events_for(agent.principal, [event])
    # then the customer sees a visible kind without the staff's keys, signed by the shop
    if visibility.customer:
        assert [entry.data for entry in seen_by_customer] == [{"shared": 1}]
        assert [entry.actor for entry in seen_by_customer] == ["The shop"]
    else:
        assert seen_by_customer == []
    # and the agent sees it whole
    assert [(entry.actor, entry.data) for entry in seen_by_agent] == [("li.lei", data)]


def test_an_event_of_an_unknown_kind_is_for_staff_only(customer):
    # given an event whose kind the vocabulary does not know
    event = _event("teleport", "agent", {"where": "moon"})
    # when the customer and the system read it
    # then only the system sees it
    assert events_for(customer.principal, [event]) == []
    assert [entry.action for entry in events_for(SYSTEM, [event])] == ["teleport"]


@pytest.mark.parametrize(
    ("moment", "ends_period", "text"),
    [
        (dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC), False, "2026-11-24 10:00"),
        (dt.datetime(2026, 11, 17, 16, 0, tzinfo=dt.UTC), True, "2026-11-17 24:00"),
        (dt.datetime(2026, 11, 17, 16, 0, tzinfo=dt.UTC), False, "2026-11-18 00:00"),
        (dt.datetime(2026, 11, 17, 16, 1, tzinfo=dt.UTC), True, "2026-11-18 00:01"),
    ],
)
def test_moments_read_in_the_shops_time_zone(moment, ends_period, text):
    # given a moment in UTC
    # when it is written for people in Shanghai
    written = readable_time(moment, "Asia/Shanghai", ends_period=ends_period)
    # then it reads as local time, and the end of a day as 24:00 of that day
    assert written == text
