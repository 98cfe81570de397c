"""Deadlines act on their own: each automatic action with a moved clock, through the sweep."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command

from aftersales.cases.models import Case, RefundEntry
from aftersales.catalog.models import ReturnAddress
from aftersales.core.models import Notice
from aftersales.core.sweep import sweep
from tests.conftest import NOW, make_order, open_case


def case_of(number) -> Case:
    return Case.objects.get(number=number)


def last_event(number):
    return case_of(number).events.order_by("-id").first()


def test_seller_response_is_five_days_once_shipped_and_48_hours_before(customer, shop, order):
    shipped = open_case(customer, order)
    unshipped_order = make_order(external_id="U1", shipped=False)
    unshipped = open_case(customer, unshipped_order, kind="refund_only", reason="not_shipped")
    assert case_of(shipped["number"]).deadline_at == NOW + dt.timedelta(days=5)
    assert case_of(unshipped["number"]).deadline_at == NOW + dt.timedelta(hours=48)
    assert shipped["deadline_action"] == unshipped["deadline_action"] == "auto_approve"


def test_nothing_happens_before_the_deadline(customer, order, clock):
    number = open_case(customer, order)["number"]
    clock.shift(days=5, seconds=-1)
    assert sweep().processed == 0
    assert case_of(number).state == "awaiting_seller"


def test_auto_approve_a_return_sends_the_default_address(customer, order, clock):
    number = open_case(customer, order)["number"]
    clock.shift(days=5)
    result = sweep()
    case = case_of(number)
    assert result.acted == 1
    assert case.state == "awaiting_return"
    assert case.return_address == ReturnAddress.objects.get(is_default=True)
    assert case.approved_amount == Decimal("90.00")
    assert case.deadline_at == clock.now + dt.timedelta(days=7)
    assert case.deadline_action == "auto_close"
    event = last_event(number)
    assert (event.actor_name, event.role, event.action) == ("system", "system", "auto_approve")
    assert case.first_response_at is None  # the shop never answered


def test_auto_approve_refund_only_refunds_at_once(customer, shop, clock):
    order = make_order(external_id="U2", shipped=False)
    number = open_case(customer, order, kind="refund_only", reason="not_shipped", quantity=2)[
        "number"
    ]
    clock.shift(hours=48)
    sweep()
    case = case_of(number)
    assert case.state == "refunded"
    assert case.refunded_amount == Decimal("180.00")
    assert case.deadline_at is None
    assert order.lines.get().refunded_amount == Decimal("180.00")
    assert RefundEntry.objects.get(case=case).idempotency_key == f"auto:{number}"


def test_auto_close_after_a_rejection(customer, agent, order, clock):
    number = open_case(customer, order)["number"]
    agent.act(number, "reject", {"reason": "请提供照片"})
    assert case_of(number).deadline_action == "auto_close"
    clock.shift(days=7)
    sweep()
    assert case_of(number).state == "closed"
    assert last_event(number).action == "auto_close"


def test_modify_restarts_the_seller_deadline(customer, agent, order, clock):
    number = open_case(customer, order)["number"]
    agent.act(number, "reject", {"reason": "请提供照片"})
    clock.shift(days=1)
    response = customer.act(
        number, "modify", {"description": "已补充照片", "reason": "not_as_described"}
    )
    assert response.status_code == 200
    case = case_of(number)
    assert case.state == "awaiting_seller"
    assert case.deadline_at == clock.now + dt.timedelta(days=5)
    assert (case.reason, case.fault, case.return_shipping_payer) == (
        "not_as_described",
        "seller",
        "seller",
    )


def test_auto_close_when_the_buyer_never_ships(customer, agent, order, clock):
    number = open_case(customer, order)["number"]
    agent.act(number, "approve")
    clock.shift(days=7)
    sweep()
    assert case_of(number).state == "closed"


def test_auto_refund_when_the_seller_never_confirms_receipt(customer, agent, admin, order, clock):
    admin.put("/shops/shop/policy", {"deduct_buyer_shipping": True})
    number = open_case(customer, order, reason="wrong_size")["number"]
    agent.act(number, "approve")
    customer.act(number, "ship_return", {"carrier": "顺丰", "tracking_number": "SF123"})
    assert case_of(number).deadline_at == clock.now + dt.timedelta(days=10)
    clock.shift(days=10)
    sweep()
    case = case_of(number)
    assert case.state == "refunded"
    # wrong size is the buyer's reason, and this shop deducts the 10.00 shipping it paid
    assert (case.shipping_deduction, case.refunded_amount) == (Decimal("10.00"), Decimal("80.00"))
    assert order.lines.get().refunded_amount == Decimal("80.00")


@pytest.mark.parametrize("state", ["inspecting", "refund_pending"])
def test_the_refund_duty_escalates_and_never_goes_silent(customer, agent, order, clock, state):
    number = open_case(customer, order)["number"]
    agent.act(number, "approve")
    customer.act(number, "ship_return", {"carrier": "SF", "tracking_number": "SF9"})
    clock.shift(days=1)
    agent.act(number, "receive")
    received = clock.now
    if state == "refund_pending":
        clock.shift(days=2)
        agent.act(number, "inspect", {"result": "pass"})
    assert case_of(number).deadline_at == received + dt.timedelta(days=7)
    clock.shift(days=7)
    assert sweep().acted == 1
    case = case_of(number)
    assert case.state == state
    assert case.escalated_at == clock.now
    assert case.deadline_action == ""
    assert case.deadline_at == received + dt.timedelta(days=7)  # still shown as overdue
    assert Notice.objects.filter(case=case, kind="case_escalated", audience="lead").exists()
    # escalated once, not on every sweep
    assert sweep().processed == 0


def test_a_refused_automatic_action_escalates_instead(customer, order, clock):
    ReturnAddress.objects.all().delete()
    number = open_case(customer, order)["number"]
    clock.shift(days=5)
    result = sweep()
    case = case_of(number)
    assert result.escalated_on_error == 1
    assert case.state == "awaiting_seller"
    assert case.deadline_action == ""
    assert case.escalated_at == clock.now
    event = last_event(number)
    assert event.action == "escalate"
    assert event.data["code"] == "return_address_required"


def test_a_case_that_moved_on_is_skipped(customer, agent, order, clock):
    number = open_case(customer, order)["number"]
    clock.shift(days=5)
    # the deadline has passed, but the agent approves before the worker comes round
    agent.act(number, "approve")
    result = sweep()
    assert result.processed == 0
    assert case_of(number).state == "awaiting_return"
    assert case_of(number).events.filter(role="system").count() == 0


def test_a_refused_refund_leaves_nothing_half_done(customer, agent, order, clock):
    # given a return in transit whose approved amount a bug pushed above what was paid
    number = open_case(customer, order, quantity=2)["number"]
    agent.act(number, "approve")
    customer.act(number, "ship_return", {"carrier": "SF", "tracking_number": "SF1"})
    case = case_of(number)
    case.lines.update(approved_amount=Decimal("180.01"))
    clock.shift(days=10)
    # when the worker's auto-refund is refused by the ledger
    result = sweep()
    # then nothing was paid, the case is escalated, and the rest of the batch went on
    assert result.escalated_on_error == 1
    assert RefundEntry.objects.count() == 0
    case = case_of(number)
    assert (case.state, case.refunded_amount, case.deadline_action) == (
        "return_in_transit",
        Decimal("0.00"),
        "",
    )
    assert last_event(number).data["code"] == "refund_exceeds_paid"


def test_the_case_keeps_the_timeouts_of_its_policy_version(customer, admin, order, clock):
    number = open_case(customer, order)["number"]
    admin.put("/shops/shop/policy", {"timeouts": {"buyer_return_shipment": "P3D"}})
    clock.shift(days=5)
    sweep()
    assert case_of(number).deadline_at == clock.now + dt.timedelta(days=7)


def test_sweep_processes_in_batches(customer, shop, clock):
    numbers = []
    for index in range(5):
        order = make_order(external_id=f"B{index}")
        numbers.append(open_case(customer, order)["number"])
    clock.shift(days=6)
    result = sweep(batch_size=2)
    assert result.acted == 5
    assert set(Case.objects.values_list("state", flat=True)) == {"awaiting_return"}


def test_the_sweep_command(customer, order, clock, capsys):
    open_case(customer, order)
    clock.shift(days=5)
    call_command("sweep")
    assert "acted=1" in capsys.readouterr().out


def _sweep_queries(count: int, clock, customer, agent, offset: int) -> int:
    """The queries of one sweep that closes ``count`` rejected cases (rejected, then timed out)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for index in range(count):
        number = open_case(customer, make_order(external_id=f"Q{offset + index}"))["number"]
        agent.act(number, "reject", {"reason": "请补充照片"})
    clock.shift(days=30)
    with CaptureQueriesContext(connection) as queries:
        assert sweep().acted == count
    return len(queries)


def test_a_sweep_s_queries_do_not_grow_with_its_batch(customer, agent, shop, clock, settings):
    # one case, then ten: closing them (no effect to run) reads no relation of any of them, and
    # writes the cases, events, notices, deliveries and tasks in a fixed number of statements
    settings.AFTERSALES_SMS_KINDS = ["*"]
    settings.AFTERSALES_SMS_BACKEND = "aftersales.notify.sms.logging.LoggingSmsBackend"
    one = _sweep_queries(1, clock, customer, agent, 0)
    ten = _sweep_queries(10, clock, customer, agent, 100)
    assert ten == one
    assert set(Case.objects.values_list("state", flat=True)) == {"closed"}
