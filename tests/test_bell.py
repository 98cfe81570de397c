"""The desk's bell: notices to one person (assigned to you, your customer replied) or to the
shop's staff or leads, read by each member of staff on their own; the notice a while before a
deadline acts, written once per deadline by the worker's step."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from aftersales.cases.models import Case
from aftersales.conversations.bell import deadline_warnings
from aftersales.conversations.models import NoticeRead
from aftersales.core.models import Notice
from aftersales.core.notices import notice_build
from aftersales.team.services import user_create
from aftersales.team.workbench import assign
from tests.conftest import make_shop, make_user, open_case


@pytest.fixture
def number(customer, order):
    return open_case(customer, order)["number"]


@pytest.fixture
def team(agent):
    return {
        "agent": agent,
        "colleague": make_user("colleague", "agent", shop="shop"),
        "lead": make_user("shoplead", "admin", shop="shop"),
    }


def kinds(api, **params) -> list[str]:
    return [item["kind"] for item in api.get("/me/notices", **params).json()["items"]]


def test_an_assignment_rings_the_assignees_bell_only(team, number):
    # when the lead gives the case to the agent
    case_id = Case.objects.get(number=number).id
    assign(
        actor=team["lead"].principal, subject_type="case", subject_ids=[case_id], username="agent"
    )
    # then the agent's bell has it, for them, with its words and where it leads
    [item] = team["agent"].get("/me/notices").json()["items"]
    assert (item["kind"], item["summary"], item["number"]) == (
        "assigned",
        "Assigned to you",
        number,
    )
    assert (item["url"], item["is_personal"], item["is_read"]) == (
        f"/desk/cases/{number}/",
        True,
        False,
    )
    # and nobody else's
    assert kinds(team["colleague"]) == [] and kinds(team["lead"]) == []


def test_nobody_is_told_what_they_did_themselves(team, number):
    case_id = Case.objects.get(number=number).id
    assign(
        actor=team["agent"].principal, subject_type="case", subject_ids=[case_id], username="agent"
    )
    assert kinds(team["agent"]) == []


def test_a_reply_goes_to_the_assignee_or_to_the_whole_shop(team, customer, number):
    # given nobody has the case: the customer's reply is for the shop's staff
    customer.client.post(f"/api/v1/cases/{number}/messages", {"text": "在吗"})
    assert [kinds(team[n]) for n in ("agent", "colleague", "lead")] == [["customer_replied"]] * 3
    # given the agent has it: the next reply is for the agent only
    case_id = Case.objects.get(number=number).id
    assign(
        actor=team["lead"].principal, subject_type="case", subject_ids=[case_id], username="agent"
    )
    customer.client.post(f"/api/v1/cases/{number}/messages", {"text": "急"})
    assert kinds(team["agent"]) == ["customer_replied", "assigned", "customer_replied"]
    assert kinds(team["colleague"]) == ["customer_replied"]


def test_lead_notices_go_to_the_leads_and_other_shops_see_nothing(team, number):
    case = Case.objects.get(number=number)
    notice_build(case, "case_escalated").save()  # audience: lead
    make_shop("other")
    outsider = make_user("outsider", "admin", shop="other")
    assert kinds(team["lead"]) == ["case_escalated"]
    assert kinds(team["agent"]) == [] and kinds(outsider) == []


def test_reading_is_each_persons_own(team, customer, number):
    # given two replies for the whole shop
    for text in ("一", "二"):
        customer.client.post(f"/api/v1/cases/{number}/messages", {"text": text})
    first, second = team["agent"].get("/me/notices").json()["items"]
    assert team["agent"].get("/me/notices").json()["unread"] == 2

    # when the agent reads one
    read = team["agent"].post("/me/notices/read", {"ids": [first["id"]]})

    # then it is read for the agent only
    assert read.json() == {"read": 1, "unread": 1}
    assert [i["id"] for i in team["agent"].get("/me/notices", unread="true").json()["items"]] == [
        second["id"]
    ]
    assert team["colleague"].get("/me/notices").json()["unread"] == 2
    # reading it again reads nothing new; all reads the rest
    assert team["agent"].post("/me/notices/read", {"ids": [first["id"]]}).json()["read"] == 0
    assert team["agent"].post("/me/notices/read", {"all": True}).json() == {"read": 1, "unread": 0}


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 422, "ids_required"),
        ({"ids": [999999]}, 404, "notice_not_found"),
        ({"ids": ["1"]}, 422, None),
    ],
)
def test_marking_refusals_change_nothing(team, customer, number, body, status, code):
    customer.client.post(f"/api/v1/cases/{number}/messages", {"text": "在吗"})
    notice = Notice.objects.get(kind="customer_replied")
    if body.get("ids") == [999999]:
        body = {"ids": [notice.id, 999999]}
    response = team["agent"].post("/me/notices/read", body)
    assert response.status_code == status
    if code:
        assert response.json()["code"] == code
    assert not NoticeRead.objects.exists()


def test_a_customer_has_no_bell(customer, number):
    assert customer.get("/me/notices").json() == {"items": [], "unread": 0}


def test_a_notice_comes_once_before_a_deadline_acts(team, number, clock, settings):
    # given the case's deadline (the shop must answer) and a warning two hours before it
    settings.AFTERSALES_DEADLINE_WARNING_MINUTES = 120
    case = Case.objects.get(number=number)
    # when the worker looks before the warning time: nothing
    clock.set(case.deadline_at - dt.timedelta(hours=2, minutes=1))
    assert deadline_warnings() == 0
    # when it looks within it: one notice, for the shop's staff (nobody has the case)
    clock.set(case.deadline_at - dt.timedelta(hours=1))
    assert deadline_warnings() == 1
    assert kinds(team["colleague"]) == ["deadline_soon"]
    # and never twice for the same deadline
    clock.shift(minutes=30)
    assert deadline_warnings() == 0
    notice = Notice.objects.get(kind="deadline_soon")
    assert notice.payload["deadline_at"] == case.deadline_at.isoformat()


def test_a_deadline_warning_goes_to_the_assignee(team, number, clock):
    case = Case.objects.get(number=number)
    assign(
        actor=team["lead"].principal, subject_type="case", subject_ids=[case.id], username="agent"
    )
    clock.set(case.deadline_at - dt.timedelta(minutes=10))
    assert deadline_warnings() == 1
    assert Notice.objects.get(kind="deadline_soon").recipient.username == "agent"
    assert kinds(team["colleague"]) == []


def test_the_desk_shows_the_bell_and_marks_read(team, customer, number):
    user_create(username="desk", role="agent", shop_codes=["shop"], password="pw-desk-12345")
    desk = Client()
    desk.login(username="desk", password="pw-desk-12345")
    customer.client.post(f"/api/v1/cases/{number}/messages", {"text": "在吗"})
    # the header holds the bell, its count comes with the badge
    assert 'id="bell"' in desk.get("/desk/").content.decode()
    badge = desk.get("/desk/bell/").content.decode()
    assert "data-bell-count" in badge and ">1<" in badge
    # following a notice marks it read and leads to its case
    notice = Notice.objects.get(kind="customer_replied")
    followed = desk.post(
        "/desk/notices/read/", {"notice": notice.id, "next": f"/desk/cases/{number}/"}
    )
    assert followed["Location"] == f"/desk/cases/{number}/"
    assert "data-bell-count" not in desk.get("/desk/bell/").content.decode()
    # the list page reads in words
    page = desk.get("/desk/notices/").content.decode()
    assert "The customer replied" in page and number in page
