"""Complaints (投诉), the second subject of the lifecycle kernel, through the API: every row of the
table allowed and refused, the complaint window at its edges in the shop's time zone, every
automatic due time on a moved clock (a reminder at half the stage, then the escalation), scoping,
links, notices and e-mails, and every action complete (a row, a typed input, a label, a
visibility, the words of the notices it queues)."""

from __future__ import annotations

import datetime as dt
import inspect
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import translation

from aftersales.catalog.models import Customer
from aftersales.complaints.choices import Action, ComplaintState
from aftersales.complaints.lifecycle import COMPLAINTS, PERSON_ACTIONS, SYSTEM
from aftersales.complaints.models import Complaint
from aftersales.complaints.timeline import VISIBILITY
from aftersales.core.api import person_actions
from aftersales.core.lifecycle import NoInput, lifecycles
from aftersales.core.models import Notice
from aftersales.core.notices import registered_kinds
from aftersales.core.sweep import sweep
from aftersales.notify.models import Delivery
from aftersales.notify.services import notifications_deliver
from tests.conftest import NOW, make_order, make_shop, make_user, open_case

User = get_user_model()

S = ComplaintState


@pytest.fixture
def staff(agent):
    # a second member of the shop's staff, to hand a complaint to
    make_user("agent2", "agent", shop="shop")
    return agent


def file(api, order=None, type="not_as_described", description="与描述不符，客服态度差", **extra):
    body = {"type": type, "description": description, **extra}
    if order is not None:
        body["order_id"] = order.id
    return api.post("/complaints", body)


def filed(api, order, **extra) -> str:
    response = file(api, order, **extra)
    assert response.status_code == 201, response.content
    return response.json()["number"]


def act(api, number, action, body=None):
    return api.post(f"/complaints/{number}/actions/{action}", body or {})


# How to walk a complaint into each state: (role, action, body) steps from filing.
ACKNOWLEDGED = [("agent", "acknowledge", {"channel": "call", "note": "顾客情绪激动"})]
ANALYSED = [*ACKNOWLEDGED, ("agent", "analyse", {"root_cause": "详情页尺码表有误"})]
DECIDED = [*ANALYSED, ("agent", "decide", {"solution_kind": "coupon", "solution": "赠 20 元券"})]
EXECUTED = [*DECIDED, ("agent", "execute", {"outcome": "20 元券已发放，详情页已更正"})]
PATHS = {
    S.RECEIVED: [],
    S.ANALYSING: ACKNOWLEDGED,
    S.DECIDING: ANALYSED,
    S.EXECUTING: DECIDED,
    S.FOLLOWING_UP: EXECUTED,
    S.CLOSED: [*EXECUTED, ("customer", "answer", {"answer": "satisfied"})],
    S.WITHDRAWN: [("customer", "withdraw", {"reason": "已和店铺协商好"})],
}

# A role that may take each action, and a body that satisfies it.
ACTOR = {
    "acknowledge": ("agent", {"channel": "chat"}),
    "analyse": ("agent", {"root_cause": "仓库发错批次"}),
    "decide": ("agent", {"solution_kind": "refund", "solution": "退还差价"}),
    "execute": ("agent", {"outcome": "差价已退"}),
    "answer": ("customer", {"answer": "unsatisfied", "note": "太慢了"}),
    "withdraw": ("customer", {}),
    "assign": ("agent", {"owner": "agent2"}),
    "link": ("agent", {"order_number": "O-LINK"}),
}

FORWARD = {
    (S.RECEIVED, "acknowledge"): S.ANALYSING,
    (S.ANALYSING, "analyse"): S.DECIDING,
    (S.DECIDING, "decide"): S.EXECUTING,
    (S.EXECUTING, "execute"): S.FOLLOWING_UP,
    (S.FOLLOWING_UP, "answer"): S.CLOSED,
}
EXPECTED_NEXT = {
    **FORWARD,
    **{
        (state, action): state if action in ("assign", "link") else S.WITHDRAWN
        for state in (S.RECEIVED, S.ANALYSING, S.DECIDING, S.EXECUTING, S.FOLLOWING_UP)
        for action in ("assign", "link", "withdraw")
    },
}


@pytest.fixture
def apis(staff, customer):
    return {"agent": staff, "customer": customer}


def walk(apis, order, state) -> str:
    number = filed(apis["customer"], order)
    for role, action, body in PATHS[state]:
        response = act(apis[role], number, action, body)
        assert response.status_code == 200, response.content
    assert Complaint.objects.get(number=number).state == state
    return number


# --- the table -----------------------------------------------------------------------------------


def test_the_complaints_table_is_registered_with_the_kernel():
    assert COMPLAINTS in lifecycles()
    assert COMPLAINTS.opening.action == Action.FILE


def test_the_expected_table_is_the_table():
    # given / when: the moves people take
    table = {(src, action) for (src, action) in COMPLAINTS.index if src and action in ACTOR}
    # then: exactly the rows this test expects (a new row needs a test)
    assert table == set(EXPECTED_NEXT)
    assert set(ACTOR) == set(PERSON_ACTIONS)


@pytest.mark.parametrize("state", list(ComplaintState))
@pytest.mark.parametrize("action", sorted(ACTOR))
def test_every_state_and_action(apis, order, state, action):
    # given a complaint in `state`, and an order of the same customer to link
    number = walk(apis, order, state)
    make_order(external_id="O-LINK")
    role, body = ACTOR[action]
    complaint = Complaint.objects.get(number=number)
    events_before, notices_before = complaint.events.count(), complaint.notices.count()
    # when the role that may take the action takes it
    response = act(apis[role], number, action, body)
    # then the table decides: the next state and one event, or a 409 that changes nothing
    complaint.refresh_from_db()
    if (state, action) in EXPECTED_NEXT:
        assert response.status_code == 200, response.content
        assert response.json()["state"] == EXPECTED_NEXT[(state, action)]
        assert complaint.state == EXPECTED_NEXT[(state, action)]
        assert complaint.events.count() == events_before + 1
        last = complaint.events.order_by("-id").first()
        assert (last.action, last.from_state, last.to_state) == (action, state, complaint.state)
    else:
        assert response.status_code == 409, response.content
        assert response.json()["code"] == "action_not_allowed"
        assert complaint.state == state
        assert complaint.events.count() == events_before
        assert complaint.notices.count() == notices_before


@pytest.mark.parametrize(
    ("role", "action", "body"),
    [
        ("customer", "acknowledge", {"channel": "call"}),
        ("customer", "assign", {"owner": "agent2"}),
        ("customer", "link", {"order_number": "O1"}),
        ("agent", "withdraw", {}),
        ("customer", "remind", {}),
        ("agent", "escalate", {}),
    ],
)
def test_a_role_outside_the_row_is_refused_with_403(apis, order, role, action, body):
    number = walk(apis, order, S.RECEIVED)
    response = act(apis[role], number, action, body)
    assert response.status_code == 403, response.content
    assert response.json()["code"] == "action_forbidden"
    complaint = Complaint.objects.get(number=number)
    assert (complaint.state, complaint.events.count()) == (S.RECEIVED, 1)


def test_an_unknown_action_is_404_and_filing_is_not_an_action(apis, order):
    number = walk(apis, order, S.RECEIVED)
    assert act(apis["agent"], number, "approve").json()["code"] == "unknown_action"
    assert act(apis["agent"], number, "file").status_code == 404


def test_the_whole_way_through_the_stages(apis, order, clock):
    # given a complaint filed by the customer
    customer, agent = apis["customer"], apis["agent"]
    number = filed(customer, order)
    # when the shop takes it through every stage and the customer answers
    for role, action, body in PATHS[S.CLOSED]:
        clock.shift(minutes=30)
        assert act(apis[role], number, action, body).status_code == 200
    # then it is closed with the customer's answer, owned by whoever took it up
    shown = agent.get(f"/complaints/{number}").json()
    assert shown["state"] == "closed"
    assert (shown["answer"], shown["owner"], shown["due_at"]) == ("satisfied", "agent", None)
    assert (shown["solution_kind"], shown["solution"]) == ("coupon", "赠 20 元券")
    assert shown["root_cause"] == "详情页尺码表有误"
    assert shown["resolved_at"] == (NOW + dt.timedelta(minutes=150)).isoformat().replace(
        "+00:00", "Z"
    )
    assert [step["state"] for step in shown["steps"]] == [
        "received",
        "analysing",
        "deciding",
        "executing",
        "following_up",
        "closed",
    ]
    # and each stage told the customer what they should hear
    assert list(
        Notice.objects.filter(complaint__number=number)
        .order_by("id")
        .values_list("kind", "audience")
    ) == [
        ("complaint_filed", "customer"),
        ("complaint_acknowledged", "customer"),
        ("complaint_solution", "customer"),
        ("complaint_executed", "customer"),
        ("complaint_answered", "lead"),
    ]


def test_refusals_name_the_field_and_change_nothing(apis, order):
    number = walk(apis, order, S.ANALYSING)
    response = act(apis["agent"], number, "analyse", {"root_cause": "   "})
    assert response.status_code == 422
    assert response.json()["code"] == "root_cause_required"
    response = act(apis["agent"], number, "assign", {"owner": "buyer"})
    assert (response.status_code, response.json()["code"]) == (422, "unknown_owner")
    response = act(apis["agent"], number, "assign", {"owner": "agent"})
    assert (response.status_code, response.json()["code"]) == (409, "already_owner")
    complaint = Complaint.objects.get(number=number)
    assert (complaint.state, complaint.owner.username, complaint.events.count()) == (
        S.ANALYSING,
        "agent",
        2,
    )


def test_an_agent_records_the_answer_heard_on_a_call(apis, order):
    number = walk(apis, order, S.FOLLOWING_UP)
    response = act(apis["agent"], number, "answer", {"answer": "unsatisfied", "note": "电话回访"})
    assert response.status_code == 200
    assert (response.json()["answer"], response.json()["answer_note"]) == (
        "unsatisfied",
        "电话回访",
    )


def test_a_complaint_number_reads_ts_the_shops_date_and_its_id(customer, order, clock):
    # given 23:30 in Shanghai on 24 Nov (15:30 UTC)
    clock.set(dt.datetime(2026, 11, 24, 15, 30, tzinfo=dt.UTC))
    number = filed(customer, order)
    complaint = Complaint.objects.get(number=number)
    assert number == f"TS20261124{complaint.id:06d}"


# --- the window ---------------------------------------------------------------------------------

# The conftest order was signed at 10:00 on 22 Nov in Shanghai: 15 days run from 23 Nov to the
# end of 7 Dec, Shanghai time.
WINDOW_END = dt.datetime(2026, 12, 7, 16, 0, tzinfo=dt.UTC)


def test_a_complaint_a_second_before_the_window_ends_is_filed(customer, order, clock):
    clock.set(WINDOW_END - dt.timedelta(seconds=1))
    assert file(customer, order).status_code == 201


def test_a_complaint_when_the_window_ends_is_refused(customer, order, clock):
    clock.set(WINDOW_END)
    response = file(customer, order)
    assert response.status_code == 422
    assert response.json()["code"] == "complaint_window_closed"
    assert "2026-12-07 24:00" in response.json()["detail"]
    assert Complaint.objects.count() == 0


def test_the_window_follows_the_policy(customer, order, clock):
    from aftersales.catalog.models import Shop
    from aftersales.core.actors import SYSTEM as SYSTEM_ACTOR
    from aftersales.policy.services import policy_update

    policy_update(
        actor=SYSTEM_ACTOR,
        shop=Shop.objects.get(code="shop"),
        changes={"complaint_window_days": 20},
    )
    clock.set(WINDOW_END + dt.timedelta(days=5) - dt.timedelta(seconds=1))
    assert file(customer, order).status_code == 201
    clock.set(WINDOW_END + dt.timedelta(days=5))
    assert file(customer, order).json()["code"] == "complaint_window_closed"


def test_paid_but_not_shipped_is_filed_while_the_order_is_unshipped(customer, shop, clock):
    order = make_order(external_id="U1", shipped=False)
    response = file(customer, order, type="not_shipped")
    assert response.status_code == 201
    refused = file(customer, order, type="not_as_described")
    assert (refused.status_code, refused.json()["code"]) == (422, "trade_not_ended")


def test_a_trade_closed_by_its_after_sales_case_opens_the_window_again(customer, shop, clock):
    # given an order signed 38 days ago, its window long past, and a case opened on it back then
    order = make_order(external_id="OLD", paid_at=NOW - dt.timedelta(days=40))
    clock.set(NOW - dt.timedelta(days=37))
    case = open_case(customer, order)
    clock.set(NOW)
    assert file(customer, order).json()["code"] == "complaint_window_closed"
    # when the case ends today (the trade closed)
    assert customer.act(case["number"], "cancel").status_code == 200
    # then the customer may complain for 15 days from today
    assert file(customer, order).status_code == 201


def test_a_trade_complaint_names_its_order_and_everyday_disputes_need_none(customer, staff):
    refused = file(customer, None, type="harassment")
    assert (refused.status_code, refused.json()["code"]) == (422, "order_required")
    assert file(customer, None, type="attitude").status_code == 201
    # the shop's staff file for a customer they name
    missing = file(staff, None, type="logistics")
    assert (missing.status_code, missing.json()["code"]) == (422, "customer_required")
    on_behalf = file(staff, None, type="logistics", customer="C1")
    assert on_behalf.status_code == 201
    assert on_behalf.json()["customer"]["external_id"] == "C1"


# --- automatic due times on a moved clock --------------------------------------------------------

STAGES = [
    (S.RECEIVED, dt.timedelta(hours=2)),
    (S.ANALYSING, dt.timedelta(days=1)),
    (S.DECIDING, dt.timedelta(days=2)),
    (S.EXECUTING, dt.timedelta(days=3)),
    (S.FOLLOWING_UP, dt.timedelta(days=7)),
]


def _kinds(number) -> list[str]:
    return list(
        Notice.objects.filter(complaint__number=number)
        .order_by("id")
        .values_list("kind", flat=True)
    )


@pytest.mark.parametrize(("state", "timeout"), STAGES)
def test_each_stage_reminds_at_half_its_time_then_escalates(apis, order, clock, state, timeout):
    # given a complaint that entered `state` now
    number = walk(apis, order, state)
    complaint = Complaint.objects.get(number=number)
    entered = clock.now
    assert complaint.due_at == entered + timeout
    assert (complaint.deadline_at, complaint.deadline_action) == (entered + timeout / 2, "remind")
    notices = _kinds(number)
    # reminded by nobody a second before half its time
    clock.set(entered + timeout / 2 - dt.timedelta(seconds=1))
    assert sweep().acted == 0
    # at half its time: its owner is reminded (the lead, when nobody owns it yet)
    clock.set(entered + timeout / 2)
    assert sweep().acted == 1
    complaint.refresh_from_db()
    reminder = "complaint_reminder_lead" if state == S.RECEIVED else "complaint_reminder"
    assert _kinds(number) == [*notices, reminder]
    assert (complaint.state, complaint.deadline_at, complaint.deadline_action) == (
        state,
        entered + timeout,
        "escalate",
    )
    # a second before the stage is due: nothing more
    clock.set(entered + timeout - dt.timedelta(seconds=1))
    assert sweep().acted == 0
    # when it is due: escalated to the team lead, still in its stage, showing overdue
    clock.set(entered + timeout)
    assert sweep().acted == 1
    complaint.refresh_from_db()
    assert (complaint.state, complaint.escalated_at) == (state, entered + timeout)
    assert (complaint.deadline_at, complaint.deadline_action) == (entered + timeout, "")
    assert _kinds(number) == [*notices, reminder, "complaint_escalated"]
    assert list(complaint.events.order_by("id").values_list("action", "role"))[-2:] == [
        ("remind", "system"),
        ("escalate", "system"),
    ]
    clock.shift(minutes=1)
    shown = apis["agent"].get(f"/complaints/{number}").json()
    assert (shown["is_overdue"], shown["is_escalated"]) == (True, True)
    # and the clock acts no more on it
    clock.shift(days=30)
    assert sweep().acted == 0


def test_an_owned_complaint_reminds_its_owner_and_moving_on_starts_the_next_stage(
    apis, order, clock
):
    # given a received complaint given to agent2
    number = walk(apis, order, S.RECEIVED)
    assert act(apis["agent"], number, "assign", {"owner": "agent2"}).status_code == 200
    clock.shift(hours=1)
    sweep()
    assert _kinds(number)[-1] == "complaint_reminder"
    reminder = Complaint.objects.get(number=number).events.order_by("-id").first()
    assert reminder.data["owner"] == "agent2"
    # and the owner alone is told, of the assignment and of the reminder
    agent2 = User.objects.get(username="agent2")
    told = Notice.objects.filter(kind__in=["complaint_assigned", "complaint_reminder"])
    assert sorted(told.values_list("kind", "recipient_id")) == [
        ("complaint_assigned", agent2.pk),
        ("complaint_reminder", agent2.pk),
    ]
    # when it is taken up after its reminder
    clock.shift(minutes=30)
    assert act(apis["agent"], number, "acknowledge", {"channel": "call"}).status_code == 200
    # then the analysis stage starts with its own due time and reminder
    complaint = Complaint.objects.get(number=number)
    assert complaint.due_at == clock.now + dt.timedelta(days=1)
    assert (complaint.deadline_at, complaint.deadline_action) == (
        clock.now + dt.timedelta(hours=12),
        "remind",
    )
    assert complaint.owner.username == "agent2"  # the owner carries over


def test_an_escalated_stage_is_history_once_the_complaint_moves_on(apis, order, clock):
    number = walk(apis, order, S.RECEIVED)
    clock.shift(hours=1)
    sweep()
    clock.shift(hours=1)
    sweep()
    assert apis["agent"].get(f"/complaints/{number}").json()["is_escalated"] is True
    act(apis["agent"], number, "acknowledge", {"channel": "call"})
    shown = apis["agent"].get(f"/complaints/{number}").json()
    assert (shown["is_escalated"], shown["is_overdue"]) == (False, False)


# --- scoping ------------------------------------------------------------------------------------


def test_another_customers_complaint_is_not_found(apis, order):
    number = walk(apis, order, S.RECEIVED)
    make_order(external_id="O2", customer="C2")
    other = make_user("buyer2", "customer", shop="shop", customer="C2")
    assert other.get(f"/complaints/{number}").status_code == 404
    assert act(other, number, "withdraw").json()["code"] == "complaint_not_found"
    assert other.get("/complaints").json()["items"] == []
    # nor may they complain about an order that is not theirs
    assert file(other, order).json()["code"] == "order_not_found"
    assert Complaint.objects.get(number=number).state == S.RECEIVED


def test_another_shops_staff_cannot_see_or_act(apis, order):
    number = walk(apis, order, S.RECEIVED)
    make_shop("other")
    outsider = make_user("outsider", "agent", shop="other")
    assert outsider.get(f"/complaints/{number}").status_code == 404
    response = act(outsider, number, "acknowledge", {"channel": "call"})
    assert response.status_code == 404
    assert outsider.get("/complaints").json()["items"] == []
    # nor can a complaint be handed to their staff
    response = act(apis["agent"], number, "assign", {"owner": "outsider"})
    assert response.json()["code"] == "unknown_owner"


def test_the_customer_sees_stages_and_the_solution_not_the_staffs_work(apis, order):
    number = walk(apis, order, S.FOLLOWING_UP)
    act(apis["agent"], number, "assign", {"owner": "agent2"})
    mine = apis["customer"].get(f"/complaints/{number}").json()
    assert (mine["owner"], mine["root_cause"], mine["deadline_action"]) == (None, "", None)
    assert mine["solution"] == "赠 20 元券" and mine["outcome"] == "20 元券已发放，详情页已更正"
    assert mine["available_actions"] == ["answer", "withdraw"]
    assert [event["action"] for event in mine["events"]] == [
        "file",
        "acknowledge",
        "analyse",
        "decide",
        "execute",
    ]
    for event in mine["events"]:
        assert not {"note", "root_cause", "owner"} & set(event["data"])
        assert event["actor"] in ("buyer", "The shop")
    staff_view = apis["agent"].get(f"/complaints/{number}").json()
    assert [event["action"] for event in staff_view["events"]][-1] == "assign"
    assert staff_view["available_actions"] == ["answer", "assign", "link"]


def test_the_list_is_scoped_soonest_due_first_filtered_and_paged(apis, order, clock):
    customer, agent = apis["customer"], apis["agent"]
    first = filed(customer, order)
    clock.shift(minutes=10)
    second = filed(customer, order, type="attitude")
    act(agent, first, "acknowledge", {"channel": "call"})  # due in a day now
    listed = agent.get("/complaints").json()
    assert [item["number"] for item in listed["items"]] == [second, first]
    assert agent.get("/complaints", state="analysing").json()["items"][0]["number"] == first
    assert [i["number"] for i in agent.get("/complaints", type="attitude").json()["items"]] == [
        second
    ]
    page = agent.get("/complaints", limit=1).json()
    assert [item["number"] for item in page["items"]] == [second]
    rest = agent.get("/complaints", limit=1, cursor=page["next_cursor"]).json()
    assert ([item["number"] for item in rest["items"]], rest["next_cursor"]) == ([first], None)
    assert agent.get("/complaints", stage="x").json()["code"] == "unknown_parameter"


# --- links --------------------------------------------------------------------------------------


def test_a_complaint_links_its_customers_cases_and_orders(apis, order):
    number = walk(apis, order, S.ANALYSING)
    case = open_case(apis["customer"], order)["number"]
    make_order(external_id="O-MORE")
    response = act(apis["agent"], number, "link", {"case_number": case, "order_number": "O-MORE"})
    assert response.status_code == 200
    assert (response.json()["linked_cases"], response.json()["linked_orders"]) == (
        [case],
        ["O-MORE"],
    )
    again = act(apis["agent"], number, "link", {"case_number": case})
    assert (again.status_code, again.json()["code"]) == (409, "already_linked")


def test_linking_another_customers_case_is_refused_and_links_nothing(apis, order):
    # given a complaint and a case of another customer of the same shop
    number = walk(apis, order, S.ANALYSING)
    theirs = make_order(external_id="O2", customer="C2")
    other = make_user("buyer2", "customer", shop="shop", customer="C2")
    their_case = open_case(other, theirs)["number"]
    events = Complaint.objects.get(number=number).events.count()
    # when the agent links it, with an order of the customer's in the same request
    make_order(external_id="O-MINE")
    response = act(
        apis["agent"], number, "link", {"case_number": their_case, "order_number": "O-MINE"}
    )
    # then it is refused in words, and neither link is made
    assert response.status_code == 422
    assert response.json()["code"] == "link_other_customer"
    assert their_case in response.json()["detail"]
    complaint = Complaint.objects.get(number=number)
    assert complaint.linked_cases.count() == complaint.linked_orders.count() == 0
    assert complaint.events.count() == events
    # nor is another customer's order linked
    response = act(apis["agent"], number, "link", {"order_number": "O2"})
    assert response.json()["code"] == "link_other_customer"


def test_another_shops_case_is_not_found_to_link(apis, order):
    number = walk(apis, order, S.ANALYSING)
    make_shop("other")
    make_order(shop="other", external_id="X1", customer="C1")
    response = act(apis["agent"], number, "link", {"case_number": "AS20261124999999"})
    assert (response.status_code, response.json()["code"]) == (404, "case_not_found")
    response = act(apis["agent"], number, "link", {"order_number": "X1"})
    assert (response.status_code, response.json()["code"]) == (404, "order_not_found")


# --- notices and e-mails ------------------------------------------------------------------------


def sent_already() -> None:
    """What was written so far went out (so the test reads only what comes next)."""
    Notice.objects.update(delivered_at=NOW)
    Delivery.objects.update(status="delivered", delivered_at=NOW)


def test_the_customer_is_written_to_in_their_language_with_the_shops_due_time(apis, order):
    # given a customer with an address who reads English
    Customer.objects.filter(external_id="C1").update(email="buyer@example.com", language="en")
    number = walk(apis, order, S.EXECUTING)
    mail.outbox.clear()
    sent_already()
    # when the shop carries out the solution and the notices go out
    act(apis["agent"], number, "execute", {"outcome": "Coupon sent; the size chart is fixed"})
    notifications_deliver()
    # then one short e-mail tells what was done and asks for the answer
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == f"Complaint {number}: done; are you satisfied?"
    assert message.to == ["buyer@example.com"]
    assert "What was done: Coupon sent; the size chart is fixed" in message.body
    assert "Stage: Done: waiting for your answer" in message.body
    assert "The shop follows up with you by 1 Dec 2026, 10:00" in message.body
    assert f"/complaints/{number}/" in message.body


def test_staff_notices_are_recorded_without_an_e_mail(apis, order, clock):
    Customer.objects.filter(external_id="C1").update(email="buyer@example.com")
    number = walk(apis, order, S.RECEIVED)
    sent_already()
    act(apis["agent"], number, "assign", {"owner": "agent2"})
    mail.outbox.clear()
    assert notifications_deliver() == 1
    assert mail.outbox == []
    assert Notice.objects.get(kind="complaint_assigned").channel == "log"


# --- every action complete ----------------------------------------------------------------------


def _queued_notices(effect) -> set[str]:
    source = inspect.getsource(effect) if effect is not None else ""
    return set(re.findall(r'(?:notices\.append|notify)\("(\w+)"', source))


@pytest.mark.parametrize("action", sorted(COMPLAINTS.actions))
def test_every_complaint_action_has_its_row_input_label_visibility_and_words(action):
    moves = [m for m in COMPLAINTS.moves if m.action == action]
    # a row of the table, with one typed input wherever it appears
    assert moves
    assert len({m.input for m in moves}) == 1
    model = moves[0].input
    automatic = all(m.roles == SYSTEM for m in moves)
    if automatic:
        assert model is NoInput, "the clock gives no input"
    # every field of its input has a label
    for name, info in model.model_fields.items():
        assert info.title, (action, name)
    # the action's label, its one visibility on the timeline
    assert action in Action.values
    assert action in VISIBILITY
    # every notice its effect queues is registered with its subject line and staff words
    for move in moves:
        for kind in _queued_notices(move.effect):
            assert kind in registered_kinds(), (action, kind)
            assert registered_kinds()[kind].subject and registered_kinds()[kind].summary
    # a person's action has its own API operation with its input as the body
    if not automatic and action != Action.FILE:
        assert action in person_actions(COMPLAINTS)


def test_every_complaint_notice_kind_is_queued_by_some_action():
    queued = set().union(*(_queued_notices(m.effect) for m in COMPLAINTS.moves))
    registered = {kind for kind in registered_kinds() if kind.startswith("complaint_")}
    assert queued == registered


def test_every_complaint_word_reads_chinese():
    from aftersales.complaints.choices import (
        ComplaintType,
        DeadlineAction,
        Satisfaction,
        Solution,
    )
    from aftersales.complaints.wording import CUSTOMER_DUE, CUSTOMER_STATE_LABELS

    with translation.override("zh-hans"):
        words = [
            *(label for _value, label in Action.choices),
            *(label for _value, label in ComplaintState.choices),
            *(label for _value, label in ComplaintType.choices),
            *(label for _value, label in DeadlineAction.choices),
            *(label for _value, label in Satisfaction.choices),
            *(label for _value, label in Solution.choices),
            *CUSTOMER_STATE_LABELS.values(),
            *CUSTOMER_DUE.values(),
            *(
                translation.gettext(info.title)
                for model in COMPLAINTS.inputs().values()
                for info in model.model_fields.values()
            ),
            *(
                word
                for code, kind in registered_kinds().items()
                if code.startswith("complaint_")
                for word in (kind.subject, kind.summary)
            ),
        ]
        untranslated = sorted({str(word) for word in words if str(word).isascii()})
    assert untranslated == []


def test_the_api_document_shows_one_body_per_action(admin):
    document = admin.client.get("/api/v1/openapi.json").json()
    for action in person_actions(COMPLAINTS):
        body = document["paths"][f"/api/v1/complaints/{{number}}/actions/{action}"]["post"]
        schema = body["requestBody"]["content"]["application/json"]["schema"]
        assert schema == {"$ref": f"#/components/schemas/{COMPLAINTS.inputs()[action].__name__}"}
    filing = document["paths"]["/api/v1/complaints"]["post"]["requestBody"]
    assert "FileIn" in str(filing)


def test_an_anonymous_caller_is_refused(db):
    assert Client().get("/api/v1/complaints").status_code == 401


# --- the pages (server side; the journeys in a browser are in test_complaints_browser.py) -------


def _signed_in(username: str, role: str = "agent") -> Client:
    from aftersales.team.services import user_create

    user_create(username=username, role=role, shop_codes=["shop"], password="pw-desk-12345")
    client = Client()
    assert client.login(username=username, password="pw-desk-12345")
    return client


def _portal(order) -> Client:
    client = Client()
    response = client.post("/", {"order": order.external_id, "phone": "13800000000"})
    assert response.status_code == 302, response.content
    return client


def test_the_desk_lists_open_complaints_soonest_due_first(
    apis, order, clock, django_assert_max_num_queries
):
    # given a complaint taken up (due in a day), a newer one due in two hours, and a closed one
    older = walk(apis, order, S.ANALYSING)
    ended = walk(apis, order, S.WITHDRAWN)
    newer = filed(apis["customer"], order, type="logistics")
    desk = _signed_in("desk-agent")
    # when the desk lists them
    with django_assert_max_num_queries(10):
        page = desk.get("/desk/complaints/").content.decode()
    # then the open ones, soonest due first, with their countdown, type, stage and owner
    assert re.findall(r'data-complaint="(\w+)"', page) == [newer, older]
    assert ended not in page
    assert page.count('class="countdown') == 2
    assert "Logistics dispute" in page and "Analysing the root cause" in page
    assert ">agent<" in page
    by_stage = desk.get("/desk/complaints/", {"state": "analysing"}).content.decode()
    assert re.findall(r'data-complaint="(\w+)"', by_stage) == [older]
    by_type = desk.get("/desk/complaints/", {"type": "logistics"}).content.decode()
    assert re.findall(r'data-complaint="(\w+)"', by_type) == [newer]
    assert "/desk/complaints/" in desk.get("/desk/").content.decode()  # the nav's link


def test_the_desk_takes_a_complaint_through_its_forms(apis, order):
    number = walk(apis, order, S.RECEIVED)
    desk = _signed_in("desk-agent")
    page = desk.get(f"/desk/complaints/{number}/").content.decode()
    assert 'data-action="acknowledge"' in page and 'data-action="answer"' not in page
    # the owner is chosen from the shop's staff
    owners = re.search(r'<select id="assign-owner" name="owner">(.*?)</select>', page).group(1)
    assert re.findall(r'<option value="([\w-]+)"', owners) == ["agent", "agent2", "desk-agent"]
    response = desk.post(
        f"/desk/complaints/{number}/act/acknowledge/", {"channel": "call"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and 'id="complaint"' in response.content.decode()
    refused = desk.post(
        f"/desk/complaints/{number}/act/analyse/", {"root_cause": ""}, HTTP_HX_REQUEST="true"
    )
    assert refused.status_code == 422
    assert 'data-error-for="analyse"' in refused.content.decode()
    unknown = desk.post(f"/desk/complaints/{number}/act/bogus/", HTTP_HX_REQUEST="true")
    assert unknown.status_code == 422
    complaint = Complaint.objects.get(number=number)
    assert (complaint.state, complaint.owner.username) == (S.ANALYSING, "desk-agent")


def test_another_shops_desk_gets_a_404(apis, order):
    number = walk(apis, order, S.RECEIVED)
    make_shop("other")
    from aftersales.team.services import user_create

    user_create(username="stranger", role="agent", shop_codes=["other"], password="pw-x-1234567")
    client = Client()
    assert client.login(username="stranger", password="pw-x-1234567")
    assert client.get(f"/desk/complaints/{number}/").status_code == 404
    assert number not in client.get("/desk/complaints/").content.decode()


def test_a_customer_files_from_the_order_page_and_follows_it(customer, order):
    client = _portal(order)
    assert f"/complaints/file/{order.id}/" in client.get(f"/orders/{order.id}/").content.decode()
    form = client.get(f"/complaints/file/{order.id}/").content.decode()
    assert 'name="type"' in form and 'name="order_id"' not in form and 'name="customer"' not in form
    refused = client.post(f"/complaints/file/{order.id}/", {"type": "harassment"})
    assert refused.status_code == 422 and "data-error" in refused.content.decode()
    response = client.post(
        f"/complaints/file/{order.id}/", {"type": "harassment", "description": "客服半夜打电话"}
    )
    complaint = Complaint.objects.get()
    assert (complaint.order_id, complaint.customer.external_id) == (order.id, "C1")
    assert response["Location"] == f"/complaints/{complaint.number}/"
    page = client.get(response["Location"]).content.decode()
    assert "Complaint received" in page
    assert "The shop contacts you by 2026-11-24 12:00." in page
    withdrawn = client.post(f"/complaints/{complaint.number}/act/withdraw/", {"reason": "算了"})
    assert withdrawn.status_code == 302
    assert Complaint.objects.get().state == S.WITHDRAWN


def test_the_portal_never_shows_another_customers_complaint(apis, order):
    number = walk(apis, order, S.RECEIVED)
    theirs = make_order(external_id="O2", customer="C2")
    client = _portal(theirs)
    assert client.get(f"/complaints/{number}/").status_code == 404
    assert client.post(f"/complaints/{number}/act/withdraw/").status_code == 404
    assert client.get(f"/complaints/file/{order.id}/").status_code == 404
    assert Complaint.objects.get(number=number).state == S.RECEIVED
