"""Every row of the state table, allowed and refused, through the API."""

from __future__ import annotations

import pytest

from aftersales.cases.choices import CaseState
from aftersales.cases.models import Case
from aftersales.cases.transitions import MOVE_INDEX, USER_ACTIONS
from tests.conftest import open_case

# How to walk a return-and-refund case into each state, as (role, action, body) steps.
PATHS = {
    CaseState.AWAITING_SELLER: [],
    CaseState.REJECTED: [("agent", "reject", {"reason": "请先沟通"})],
    CaseState.AWAITING_RETURN: [("agent", "approve", {})],
    CaseState.RETURN_IN_TRANSIT: [
        ("agent", "approve", {}),
        ("customer", "ship_return", {"carrier": "SF", "tracking_number": "SF1"}),
    ],
    CaseState.INSPECTING: [
        ("agent", "approve", {}),
        ("customer", "ship_return", {"carrier": "SF", "tracking_number": "SF1"}),
        ("agent", "receive", {}),
    ],
    CaseState.REFUND_PENDING: [
        ("agent", "approve", {}),
        ("customer", "ship_return", {"carrier": "SF", "tracking_number": "SF1"}),
        ("agent", "receive", {}),
        ("agent", "inspect", {"result": "pass"}),
    ],
    CaseState.REFUNDED: [
        ("agent", "approve", {}),
        ("customer", "ship_return", {"carrier": "SF", "tracking_number": "SF1"}),
        ("agent", "receive", {}),
        ("agent", "inspect", {"result": "pass"}),
        ("finance", "refund", {"idempotency_key": "r1"}),
    ],
    CaseState.CLOSED: [("customer", "cancel", {})],
}

# A role that may take each action, and a body that satisfies it.
ACTOR = {
    "approve": ("agent", {}),
    "reject": ("agent", {"reason": "不符合条件"}),
    "cancel": ("customer", {}),
    "modify": ("customer", {"description": "补充说明"}),
    "ship_return": ("customer", {"carrier": "SF", "tracking_number": "SF2"}),
    "receive": ("agent", {}),
    "inspect": ("agent", {"result": "pass"}),
    "refund": ("finance", {"idempotency_key": "k-table"}),
}

EXPECTED_NEXT = {
    (CaseState.AWAITING_SELLER, "approve"): CaseState.AWAITING_RETURN,
    (CaseState.AWAITING_SELLER, "reject"): CaseState.REJECTED,
    (CaseState.AWAITING_SELLER, "cancel"): CaseState.CLOSED,
    (CaseState.REJECTED, "modify"): CaseState.AWAITING_SELLER,
    (CaseState.REJECTED, "cancel"): CaseState.CLOSED,
    (CaseState.AWAITING_RETURN, "ship_return"): CaseState.RETURN_IN_TRANSIT,
    (CaseState.AWAITING_RETURN, "cancel"): CaseState.CLOSED,
    (CaseState.RETURN_IN_TRANSIT, "receive"): CaseState.INSPECTING,
    (CaseState.INSPECTING, "inspect"): CaseState.REFUND_PENDING,
    (CaseState.REFUND_PENDING, "refund"): CaseState.REFUNDED,
}


@pytest.fixture
def apis(agent, finance, customer):
    return {"agent": agent, "finance": finance, "customer": customer}


def walk(apis, order, state):
    case = open_case(apis["customer"], order)
    for role, action, body in PATHS[state]:
        response = apis[role].act(case["number"], action, body)
        assert response.status_code == 200, response.content
    assert Case.objects.get(number=case["number"]).state == state
    return case["number"]


def test_the_expected_table_is_the_table():
    # given / when: the user moves of the table
    table = {(src, action) for (src, action) in MOVE_INDEX if src and action in USER_ACTIONS}
    # then: exactly the rows this test expects (a new row needs a test)
    assert table == set(EXPECTED_NEXT)


@pytest.mark.parametrize("state", list(CaseState))
@pytest.mark.parametrize("action", sorted(ACTOR))
def test_every_state_and_action(apis, order, state, action):
    # given a case in `state`
    number = walk(apis, order, state)
    role, body = ACTOR[action]
    events_before = Case.objects.get(number=number).events.count()
    # when the role that may take the action takes it
    response = apis[role].act(number, action, body)
    # then the table decides: the next state, or a 409 that changes nothing
    case = Case.objects.get(number=number)
    if (state, action) in EXPECTED_NEXT:
        assert response.status_code == 200, response.content
        assert response.json()["state"] == EXPECTED_NEXT[(state, action)]
        assert case.state == EXPECTED_NEXT[(state, action)]
        assert case.events.count() == events_before + 1
        last = case.events.order_by("-id").first()
        assert (last.action, last.from_state, last.to_state) == (action, state, case.state)
    else:
        assert response.status_code == 409, response.content
        assert response.json()["code"] == "action_not_allowed"
        assert case.state == state
        assert case.events.count() == events_before


def test_refund_only_approval_goes_to_refund_pending(apis, order):
    case = open_case(apis["customer"], order, kind="refund_only", reason="missing_item")
    response = apis["agent"].act(case["number"], "approve")
    assert response.status_code == 200
    assert response.json()["state"] == "refund_pending"
    assert response.json()["deadline_action"] == "escalate"


@pytest.mark.parametrize(
    ("role", "action", "body"),
    [
        ("customer", "approve", {}),
        ("customer", "reject", {"reason": "x"}),
        ("agent", "cancel", {}),
        ("finance", "approve", {}),
        ("agent", "refund", {"idempotency_key": "k"}),
        ("customer", "auto_approve", {}),
        ("agent", "escalate", {}),
    ],
)
def test_a_role_outside_the_row_is_refused_with_403(apis, order, role, action, body):
    number = open_case(apis["customer"], order)["number"]
    response = apis[role].act(number, action, body)
    assert response.status_code == 403
    assert response.json()["code"] == "action_forbidden"
    assert Case.objects.get(number=number).state == CaseState.AWAITING_SELLER


def test_unknown_action_is_404(apis, order):
    number = open_case(apis["customer"], order)["number"]
    response = apis["agent"].act(number, "teleport")
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_action"


def test_reject_needs_a_reason(apis, order):
    number = open_case(apis["customer"], order)["number"]
    response = apis["agent"].act(number, "reject", {})
    assert response.status_code == 422
    assert response.json()["code"] == "reason_required"
    assert Case.objects.get(number=number).state == CaseState.AWAITING_SELLER


def test_ship_return_needs_carrier_and_tracking(apis, order):
    number = walk(apis, order, CaseState.AWAITING_RETURN)
    response = apis["customer"].act(number, "ship_return", {"carrier": "SF"})
    assert response.status_code == 422
    assert response.json()["code"] == "tracking_number_required"


def test_available_actions_follow_the_table_and_the_role(apis, order):
    number = open_case(apis["customer"], order)["number"]
    assert apis["agent"].get(f"/cases/{number}").json()["available_actions"] == [
        "approve",
        "reject",
    ]
    assert apis["customer"].get(f"/cases/{number}").json()["available_actions"] == ["cancel"]
    assert apis["finance"].get(f"/cases/{number}").json()["available_actions"] == []


def test_final_states_stay_final(apis, order):
    number = walk(apis, order, CaseState.REFUNDED)
    for action, (role, body) in ACTOR.items():
        assert apis[role].act(number, action, body).status_code == 409, action
    case = Case.objects.get(number=number)
    assert case.deadline_at is None
    assert case.deadline_action == ""
    assert case.resolved_at is not None
