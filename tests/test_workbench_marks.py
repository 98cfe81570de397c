"""The workbench's marks on a case by the API and the desk (its owner, priority and flag), and
the service levels on the desk: a badge per clock still to meet on the queue, the case page and
the complaints list, and the filter by a case's worst clock. A changed priority changes the
targets the clocks are measured by."""

from __future__ import annotations

import pytest
from django.utils import translation

from aftersales.cases.models import Case
from aftersales.core.models import Event
from aftersales.sla.models import Clock
from aftersales.sla.refresh import sla_sweep
from tests.conftest import make_order, make_user, open_case

OFFICE = {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


@pytest.fixture
def levels(admin, shop):
    """Normal cases are answered within 4 working hours; urgent ones within 30 minutes."""
    assert admin.put("/shops/shop/business-hours", {"windows": OFFICE}).status_code == 200
    targets = [
        {"subject_type": "case", "first_response": "PT4H", "warn_before": "PT30M"},
        {
            "subject_type": "case",
            "priority": "urgent",
            "first_response": "PT30M",
            "warn_before": "PT10M",
        },
        {"subject_type": "complaint", "first_response": "PT1H", "warn_before": "PT10M"},
    ]
    response = admin.put("/shops/shop/sla-targets", {"targets": targets})
    assert response.status_code == 200, response.content
    return admin


def first_response(number: str) -> Clock:
    case = Case.objects.get(number=number)
    return Clock.objects.get(
        subject_type__model="case", subject_id=case.pk, metric="first_response"
    )


# --- priority ---------------------------------------------------------------------------------


def test_a_higher_priority_measures_the_case_by_its_own_targets(
    levels, agent, customer, order, clock
):
    # given a normal case, answered within 4 hours (opened Tuesday 10:00)
    number = open_case(customer, order)["number"]
    sla_sweep()
    assert first_response(number).due_at.hour == 6  # 14:00 in Shanghai is 06:00 UTC

    # when an agent makes it urgent
    response = agent.put(f"/cases/{number}/priority", {"priority": "urgent"})

    # then the case says so, the timeline has a staff-only entry, and the worker's next pass
    # measures it against the urgent target: 30 minutes from the opening
    assert response.status_code == 200, response.content
    assert response.json()["priority"] == "urgent"
    event = Event.objects.get(action="prioritize")
    assert (event.data, event.actor_name) == ({"from": "normal", "to": "urgent"}, "agent")
    sla_sweep()
    clock_now = first_response(number)
    assert (clock_now.priority, clock_now.due_at.hour, clock_now.due_at.minute) == (
        "urgent",
        2,
        30,
    )
    # the customer sees neither the priority nor the entry
    shown = customer.get(f"/cases/{number}").json()
    assert shown["priority"] is None
    assert "prioritize" not in [entry["action"] for entry in shown["events"]]


def test_the_same_priority_again_writes_nothing(agent, customer, order):
    number = open_case(customer, order)["number"]
    assert agent.put(f"/cases/{number}/priority", {"priority": "normal"}).status_code == 200
    assert not Event.objects.filter(action="prioritize").exists()


@pytest.mark.parametrize(
    ("who", "body", "status", "code"),
    [
        ("agent", {"priority": "critical"}, 422, None),
        ("agent", {}, 422, None),
        ("customer", {"priority": "high"}, 403, "forbidden"),
        ("finance", {"priority": "high"}, 403, "forbidden"),
    ],
)
def test_priority_refusals_change_nothing(agent, finance, customer, order, who, body, status, code):
    number = open_case(customer, order)["number"]
    caller = {"agent": agent, "finance": finance, "customer": customer}[who]
    response = caller.put(f"/cases/{number}/priority", body)
    assert response.status_code == status, response.content
    assert set(response.json()) >= {"code", "detail"}
    if code:
        assert response.json()["code"] == code
    assert Case.objects.get(number=number).priority == "normal"
    assert not Event.objects.filter(action="prioritize").exists()


def test_another_shops_case_is_not_found(agent, order, db):
    from tests.conftest import make_shop

    make_shop("other")
    other_order = make_order(shop="other", external_id="X1", customer="C9")
    buyer = make_user("buyer9", "customer", shop="other", customer="C9")
    number = open_case(buyer, other_order)["number"]
    response = agent.put(f"/cases/{number}/priority", {"priority": "high"})
    assert (response.status_code, response.json()["code"]) == (404, "case_not_found")


# --- assignee and flag ------------------------------------------------------------------------


def test_the_assignee_is_set_and_cleared_and_an_unknown_name_refused(agent, customer, order):
    make_user("agent2", "agent", shop="shop")
    number = open_case(customer, order)["number"]

    given = agent.put(f"/cases/{number}/assignee", {"assignee": "agent2"})
    assert (given.status_code, given.json()["assignee"]) == (200, "agent2")
    refused = agent.put(f"/cases/{number}/assignee", {"assignee": "nobody-here"})
    assert (refused.status_code, refused.json()["code"]) == (422, "unknown_assignee")
    assert Case.objects.get(number=number).assignee.username == "agent2"
    cleared = agent.put(f"/cases/{number}/assignee", {"assignee": None})
    assert (cleared.status_code, cleared.json()["assignee"]) == (200, None)
    assert customer.get(f"/cases/{number}").json()["assignee"] is None


def test_the_flag_is_set_and_taken_off(agent, customer, order):
    number = open_case(customer, order)["number"]
    assert agent.put(f"/cases/{number}/flag", {"flag": "red"}).json()["flag"] == "red"
    refused = agent.put(f"/cases/{number}/flag", {"flag": "pink"})
    assert refused.status_code == 422
    assert Case.objects.get(number=number).flag == "red"
    # an empty body is refused, not read as "no flag" or "nobody"
    assert agent.put(f"/cases/{number}/flag", {}).status_code == 422
    assert agent.put(f"/cases/{number}/assignee", {}).status_code == 422
    assert Case.objects.get(number=number).flag == "red"
    assert agent.put(f"/cases/{number}/flag", {"flag": ""}).json()["flag"] == ""
    assert customer.get(f"/cases/{number}").json()["flag"] is None


# --- the desk ---------------------------------------------------------------------------------


def test_the_queue_shows_each_clock_still_to_meet_and_filters_by_the_worst(
    levels, desk, customer, order, clock
):
    # given a case whose first response is overdue and one that is on time (Tuesday)
    late = open_case(customer, order)["number"]
    clock.shift(hours=3, minutes=40)
    on_time = open_case(customer, make_order(external_id="O2"))["number"]
    clock.shift(minutes=25)  # 14:05: the first is 5 minutes late
    sla_sweep()

    with translation.override("en"):
        page = desk.get("/desk/", {"tab": "all"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        breached = desk.get("/desk/", {"tab": "all", "sla": "breached"}).content.decode()
    row = page.split(f'data-case="{late}"')[1].split("</tr>")[0]
    assert 'class="badge sla-breached"' in row
    assert "First response: Overdue · 2026-11-24 14:00" in row
    other = page.split(f'data-case="{on_time}"')[1].split("</tr>")[0]
    assert 'class="badge sla-running"' in other
    assert f'data-case="{late}"' in breached and f'data-case="{on_time}"' not in breached
    assert '<option value="breached" selected>' in breached


def test_the_case_page_shows_the_clocks_and_sets_the_priority(levels, desk, customer, order, clock):
    number = open_case(customer, order)["number"]
    sla_sweep()
    with translation.override("en"):
        page = desk.get(f"/desk/cases/{number}/").content.decode()
    assert "First response: On time · 2026-11-24 14:00" in page
    assert 'name="priority"' in page

    response = desk.post(f"/desk/cases/{number}/priority/", {"priority": "urgent"})
    assert response.status_code == 302
    assert Case.objects.get(number=number).priority == "urgent"
    refused = desk.post(
        f"/desk/cases/{number}/priority/", {"priority": "soon"}, HTTP_HX_REQUEST="true"
    )
    assert refused.status_code == 422
    assert 'role="alert"' in refused.content.decode()
    assert Case.objects.get(number=number).priority == "urgent"


def test_the_complaints_list_shows_badges_and_filters_by_service_level(
    levels, desk, customer, order, clock
):
    from aftersales.complaints.models import Complaint

    filed = customer.post("/complaints", {"type": "attitude", "description": "态度差"})
    assert filed.status_code == 201, filed.content
    number = filed.json()["number"]
    clock.shift(hours=1, minutes=5)
    sla_sweep()
    with translation.override("en"):
        listed = desk.get("/desk/complaints/", {"sla": "breached"}).content.decode()
        none = desk.get("/desk/complaints/", {"sla": "running"}).content.decode()
        page = desk.get(f"/desk/complaints/{number}/").content.decode()
    assert f'data-complaint="{number}"' in listed and 'class="badge sla-breached"' in listed
    assert f'data-complaint="{number}"' not in none
    assert "First response: Overdue" in page
    assert Complaint.objects.get(number=number)
