"""The lifecycle kernel through the case's table: one gate for people and the clock, effects that
leave nothing when they fail half-way, only changed columns written, and every action complete
(a row, a typed input, an effect, its words)."""

from __future__ import annotations

import inspect
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from aftersales.cases import ledger, wording
from aftersales.cases.choices import Action, DeadlineAction
from aftersales.cases.lifecycle import CASES, SYSTEM
from aftersales.cases.models import Case, CaseLine, RefundEntry
from aftersales.cases.timeline import VISIBILITY
from aftersales.catalog.models import OrderLine
from aftersales.core import lifecycle as kernel
from aftersales.core.api import person_actions
from aftersales.core.errors import Conflict
from aftersales.core.lifecycle import NoInput, lifecycles, preconditions_for, register_precondition
from aftersales.core.models import Event, Notice
from aftersales.core.notices import registered_kinds
from aftersales.core.sweep import sweep
from tests.conftest import is_postgres, make_order, open_case


def test_the_cases_table_is_registered_with_the_kernel():
    assert CASES in lifecycles()
    assert CASES.opening.action == Action.OPEN


# --- a move that fails half-way leaves nothing ----------------------------------------------------


def _failing_after_paying(real):
    def refund_post(**kwargs):
        real(**kwargs)  # the ledger is written…
        raise Conflict("the payment provider refused", code="payment_refused")  # …then refused

    return refund_post


def test_an_automatic_move_that_fails_half_way_leaves_nothing(customer, shop, clock, monkeypatch):
    # given a refund-only case the shop never answers: its auto-approval writes its lines, then
    # pays through the ledger, and the payment is refused after the ledger was written
    order = make_order(external_id="U1", shipped=False)
    number = open_case(customer, order, kind="refund_only", reason="not_shipped")["number"]
    monkeypatch.setattr(ledger, "refund_post", _failing_after_paying(ledger.refund_post))
    clock.shift(days=3)

    # when the clock acts
    result = sweep()

    # then none of the effect's writes stayed: the lines, the ledger, the order line
    assert (result.acted, result.escalated_on_error) == (0, 1)
    case = Case.objects.get(number=number)
    assert case.state == "awaiting_seller"
    assert case.approved_amount == Decimal("0.00")
    assert list(CaseLine.objects.filter(case=case).values_list("approved_amount", flat=True)) == [
        Decimal("0.00")
    ]
    assert RefundEntry.objects.count() == 0
    assert OrderLine.objects.get(order=order).refunded_amount == Decimal("0.00")
    # and the case went to the team lead, loudly, instead of staying overdue in silence
    assert case.deadline_action == ""
    assert case.escalated_at == clock.now
    escalation = Event.objects.get(case=case, action="escalate")
    assert escalation.data["failed_action"] == "auto_approve"
    assert escalation.data["code"] == "payment_refused"
    assert list(Notice.objects.filter(case=case).values_list("kind", flat=True)) == [
        "case_opened",
        "case_escalated",
    ]


def test_a_persons_move_that_fails_half_way_leaves_nothing(customer, agent, finance, order):
    # given a case waiting for its refund, and a ledger that refuses after writing
    number = open_case(customer, order)["number"]
    for api, action, body in [
        (agent, "approve", {}),
        (customer, "ship_return", {"carrier": "SF", "tracking_number": "SF1"}),
        (agent, "receive", {}),
        (agent, "inspect", {"result": "pass"}),
    ]:
        assert api.act(number, action, body).status_code == 200
    real = ledger.refund_post
    ledger.refund_post = _failing_after_paying(real)
    try:
        # when finance refunds
        response = finance.act(number, "refund", {"idempotency_key": "r-1"})
    finally:
        ledger.refund_post = real

    # then the refusal is answered and nothing of it remains
    assert response.status_code == 409
    assert response.json()["code"] == "payment_refused"
    case = Case.objects.get(number=number)
    assert (case.state, case.refunded_amount) == ("refund_pending", Decimal("0.00"))
    assert RefundEntry.objects.count() == 0
    assert not Event.objects.filter(case=case, action="refund").exists()


# --- the gate writes only what changed -----------------------------------------------------------


def test_the_gate_writes_only_the_columns_a_move_changed(customer, agent, order, clock):
    number = open_case(customer, order)["number"]
    clock.shift(minutes=30)
    with CaptureQueriesContext(connection) as queries:
        assert agent.act(number, "reject", {"reason": "请补充照片"}).status_code == 200
    updates = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "cases_case"')]
    assert len(updates) == 1
    columns = set(re.findall(r'"(\w+)" = ', updates[0].split(" WHERE ")[0]))
    assert columns == {
        "state",
        "reject_reason",
        "first_response_at",
        "deadline_at",
        "deadline_action",
        "updated_at",
    }
    assert "description" not in columns and "requested_amount" not in columns


# --- every action is complete: row, input, effect, words -----------------------------------------


def _queued_notices(effect) -> set[str]:
    source = inspect.getsource(effect) if effect is not None else ""
    return set(re.findall(r'(?:notices\.append|notify)\("(\w+)"', source))


@pytest.mark.parametrize("action", sorted(CASES.actions))
def test_every_case_action_has_its_row_input_effect_and_words(action, rf):
    moves = [m for m in CASES.moves if m.action == action]
    # a row of the table, with its typed input (one model wherever it appears) and its effect
    assert moves
    assert len({m.input for m in moves}) == 1
    model = moves[0].input
    automatic = all(m.roles == SYSTEM for m in moves)
    if automatic:
        assert model is NoInput, "the clock gives no input"
    # every field of its input has a label, in both languages
    with translation.override("zh-hans"):
        for name, info in model.model_fields.items():
            assert info.title, (action, name)
            assert not translation.gettext(info.title).isascii(), (action, name)
    # its words: the action's label in Chinese, its visibility on the timeline, its description
    with translation.override("zh-hans"):
        assert not str(Action(action).label).isascii()
    assert action in VISIBILITY
    # every notice its effect queues is registered with its wording
    for move in moves:
        assert _queued_notices(move.effect) <= set(registered_kinds()), action
    # a person's action has its own API operation; a deadline's, the customer's sentence
    if not automatic and action != Action.OPEN:
        assert action in person_actions(CASES)
    if automatic and action in DeadlineAction.values:
        assert action in wording.CUSTOMER_CONSEQUENCES


def test_every_timeline_entry_can_be_described(customer, order):
    # the words of every action, for an entry with no data at all (never an error)
    case = Case.objects.get(number=open_case(customer, order)["number"])
    for action in sorted(CASES.actions):
        event = Event(action=action, data={}, from_state="", to_state="")
        assert isinstance(wording.describe(event, case), list)


def test_the_api_document_shows_one_body_per_action(admin):
    document = admin.client.get("/api/v1/openapi.json").json()
    for action in person_actions(CASES):
        body = document["paths"][f"/api/v1/cases/{{number}}/actions/{action}"]["post"]
        schema = body["requestBody"]["content"]["application/json"]["schema"]
        assert schema == {"$ref": f"#/components/schemas/{CASES.inputs()[action].__name__}"}


# --- the preview is a pure evaluation ------------------------------------------------------------


@pytest.mark.postgres
def test_the_eligibility_preview_burns_no_case_number(customer, order):
    from aftersales.cases.services import case_preview

    first = Case.objects.get(number=open_case(customer, order)["number"])
    application = {
        "order_id": order.id,
        "kind": "return_refund",
        "reason": "quality_issue",
        "lines": [{"order_line_id": order.lines.get().id, "quantity": 1}],
    }
    assert case_preview(actor=customer.principal, data=application)["eligible"] is True
    second = Case.objects.get(number=open_case(customer, order)["number"])
    assert is_postgres() and second.id == first.id + 1


# --- preconditions: a higher app's word before a person's move -----------------------------------


def test_a_precondition_is_asked_before_a_persons_move_and_never_by_the_clock(
    customer, agent, order, clock, monkeypatch
):
    # given a precondition that refuses every move of a case
    asked = []

    def refuse(case, *, action, actor, input):
        asked.append((case.number, action, actor.role, type(input).__name__))
        raise Conflict("wait", code="precondition_refused")

    monkeypatch.setitem(kernel._PRECONDITIONS, "case", [refuse])
    number = open_case(customer, order)["number"]
    assert asked == []  # opening is not a move of an existing subject
    events = Event.objects.count()
    # when an agent approves
    answer = agent.act(number, "approve")
    # then it is refused after the table's checks and the input, and nothing is written
    assert (answer.status_code, answer.json()["code"]) == (409, "precondition_refused")
    assert asked == [(number, "approve", "agent", "ApproveIn")]
    assert Case.objects.get(number=number).state == "awaiting_seller"
    assert Event.objects.count() == events
    # a move the table refuses never reaches it
    assert agent.act(number, "refund").status_code == 403
    assert len(asked) == 1
    # and the clock's automatic move never asks
    clock.shift(days=5)
    assert sweep().acted == 1
    assert Case.objects.get(number=number).state == "awaiting_return"
    assert len(asked) == 1


def test_a_precondition_registers_once_per_subject_type(monkeypatch):
    monkeypatch.setattr(kernel, "_PRECONDITIONS", {})

    def check(subject, **context):
        return None

    register_precondition("case", check)
    register_precondition("case", check)
    assert preconditions_for("case") == (check,)
    assert preconditions_for("complaint") == ()
