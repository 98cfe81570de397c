"""Every row of the state table, allowed and refused, through the API."""

from __future__ import annotations

import pytest

from aftersales.cases.choices import CaseState
from aftersales.cases.lifecycle import CASES, USER_ACTIONS
from aftersales.cases.models import Case
from aftersales.catalog.models import Sku
from tests.conftest import open_case

# How to walk a case into each state: its kind and reason, then (role, action, body) steps.
RETURN = ("return_refund", "quality_issue")
EXCHANGE = ("exchange", "wrong_size")
REPAIR = ("repair", "quality_issue")
SENT_BACK = [
    ("agent", "approve", {}),
    ("customer", "ship_return", {"carrier": "SF", "tracking_number": "SF1"}),
    ("agent", "receive", {}),
]
QUOTED = [
    *SENT_BACK,
    ("agent", "diagnose", {"diagnosed_by": "shop", "fault_code": "F1", "quote_parts": "10.00"}),
]
REPLACING = [*SENT_BACK, ("agent", "inspect", {"result": "pass"})]
SHIPPED = [*REPLACING, ("agent", "ship_replacement", {"carrier": "SF", "tracking_number": "X1"})]
PATHS = {
    CaseState.AWAITING_SELLER: (RETURN, []),
    CaseState.REJECTED: (RETURN, [("agent", "reject", {"reason": "请先沟通"})]),
    CaseState.AWAITING_RETURN: (RETURN, [("agent", "approve", {})]),
    CaseState.RETURN_IN_TRANSIT: (RETURN, SENT_BACK[:2]),
    CaseState.INSPECTING: (RETURN, SENT_BACK),
    CaseState.REFUND_PENDING: (RETURN, [*SENT_BACK, ("agent", "inspect", {"result": "pass"})]),
    CaseState.REFUNDED: (
        RETURN,
        [
            *SENT_BACK,
            ("agent", "inspect", {"result": "pass"}),
            ("finance", "refund", {"idempotency_key": "r1"}),
        ],
    ),
    CaseState.REPLACEMENT_PENDING: (EXCHANGE, REPLACING),
    CaseState.SHIPPED_TO_CUSTOMER: (EXCHANGE, SHIPPED),
    CaseState.COMPLETED: (EXCHANGE, [*SHIPPED, ("customer", "confirm_receipt", {})]),
    CaseState.DIAGNOSING: (REPAIR, SENT_BACK),
    CaseState.QUOTE_PENDING: (REPAIR, QUOTED),
    CaseState.REPAIRING: (REPAIR, [*QUOTED, ("customer", "accept_quote", {})]),
    CaseState.RETURN_UNREPAIRED: (REPAIR, [*QUOTED, ("customer", "decline_quote", {})]),
    CaseState.CLOSED: (RETURN, [("customer", "cancel", {})]),
}

# The kind each state's case converts to in the table test (one the conversion rules allow).
CONVERT_TO = {
    CaseState.REFUND_PENDING: "exchange",
    CaseState.REPLACEMENT_PENDING: "return_refund",
    CaseState.DIAGNOSING: "return_refund",
    CaseState.REPAIRING: "return_refund",
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
    "convert": ("agent", {"reason": "顾客同意"}),
    "ship_replacement": ("agent", {"carrier": "SF", "tracking_number": "X2"}),
    "offer": ("agent", {"note": "换成 M 码可以吗？"}),
    "diagnose": (
        "agent",
        {"diagnosed_by": "shop", "fault_code": "F2", "quote_labour": "20.00"},
    ),
    "accept_quote": ("customer", {}),
    "decline_quote": ("customer", {}),
    "ship_back": ("agent", {"carrier": "SF", "tracking_number": "B1"}),
    "confirm_receipt": ("customer", {}),
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
    (CaseState.REFUND_PENDING, "convert"): CaseState.REPLACEMENT_PENDING,
    (CaseState.REPLACEMENT_PENDING, "ship_replacement"): CaseState.SHIPPED_TO_CUSTOMER,
    (CaseState.REPLACEMENT_PENDING, "offer"): CaseState.REPLACEMENT_PENDING,
    (CaseState.REPLACEMENT_PENDING, "convert"): CaseState.REFUND_PENDING,
    (CaseState.DIAGNOSING, "diagnose"): CaseState.QUOTE_PENDING,
    (CaseState.DIAGNOSING, "convert"): CaseState.REFUND_PENDING,
    (CaseState.QUOTE_PENDING, "accept_quote"): CaseState.REPAIRING,
    (CaseState.QUOTE_PENDING, "decline_quote"): CaseState.RETURN_UNREPAIRED,
    (CaseState.REPAIRING, "ship_back"): CaseState.SHIPPED_TO_CUSTOMER,
    (CaseState.REPAIRING, "convert"): CaseState.REFUND_PENDING,
    (CaseState.RETURN_UNREPAIRED, "ship_back"): CaseState.SHIPPED_TO_CUSTOMER,
    (CaseState.SHIPPED_TO_CUSTOMER, "confirm_receipt"): CaseState.COMPLETED,
}


@pytest.fixture
def apis(agent, finance, customer):
    return {"agent": agent, "finance": finance, "customer": customer}


def walk(apis, order, state):
    Sku.objects.update(stock=100)  # replacements in stock
    (kind, reason), steps = PATHS[state]
    case = open_case(apis["customer"], order, kind=kind, reason=reason)
    for role, action, body in steps:
        response = apis[role].act(case["number"], action, body)
        assert response.status_code == 200, response.content
    assert Case.objects.get(number=case["number"]).state == state
    return case["number"]


def test_the_expected_table_is_the_table():
    # given / when: the user moves of the table
    table = {(src, action) for (src, action) in CASES.index if src and action in USER_ACTIONS}
    # then: exactly the rows this test expects (a new row needs a test)
    assert table == set(EXPECTED_NEXT)


@pytest.mark.parametrize("state", list(CaseState))
@pytest.mark.parametrize("action", sorted(ACTOR))
def test_every_state_and_action(apis, order, state, action):
    # given a case in `state`
    number = walk(apis, order, state)
    role, body = ACTOR[action]
    if action == "convert":
        body = {**body, "kind": CONVERT_TO.get(state, "exchange")}
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
