"""Races on PostgreSQL, with real threads and real transactions: exactly one winner each time."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection

from aftersales.cases.models import Case, RefundEntry
from aftersales.cases.services import case_open, case_transition
from aftersales.core.errors import ApplicationError
from aftersales.core.models import Event
from aftersales.core.sweep import sweep
from tests.conftest import make_order, make_shop, make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20


def race(work, count=THREADS):
    """Start ``count`` threads on ``work`` at the same instant; return (results, errors)."""
    barrier = threading.Barrier(count)
    results, errors = [], []
    lock = threading.Lock()

    def run(index):
        try:
            barrier.wait()
            outcome = work(index)
            with lock:
                results.append(outcome)
        except ApplicationError as error:
            with lock:
                errors.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    close_old_connections()
    return results, errors


@pytest.fixture
def world(db):
    make_shop()
    order = make_order(lines=[("L1", "SKU-1", 1, Decimal("100.00"), Decimal("100.00"))])
    return {
        "order": order,
        "line": order.lines.get(),
        "customer": make_user("buyer", "customer", shop="shop", customer="C1").principal,
        "agent": make_user("agent", "agent", shop="shop").principal,
        "finance": make_user("finance", "finance", shop="shop").principal,
    }


def open_one(world, **kwargs):
    return case_open(
        actor=world["customer"],
        data={
            "order_id": world["order"].id,
            "kind": kwargs.get("kind", "refund_only"),
            "reason": kwargs.get("reason", "missing_item"),
            "lines": [{"order_line_id": world["line"].id, "quantity": 1}],
        },
    )


def test_cases_racing_for_the_last_unit(world):
    results, errors = race(lambda i: open_one(world).number)
    assert len(results) == 1
    assert errors == ["quantity_exceeds_available"] * (THREADS - 1)
    assert Case.objects.count() == 1


def test_simultaneous_approvals(world):
    case = open_one(world)
    results, errors = race(
        lambda i: case_transition(case_id=case.id, action="approve", actor=world["agent"]).state
    )
    assert results == ["refund_pending"]
    assert errors == ["action_not_allowed"] * (THREADS - 1)
    assert Event.objects.filter(case=case, action="approve").count() == 1


def test_simultaneous_refunds_with_different_keys(world):
    case = open_one(world)
    case_transition(case_id=case.id, action="approve", actor=world["agent"])
    results, errors = race(
        lambda i: (
            case_transition(
                case_id=case.id,
                action="refund",
                actor=world["finance"],
                data={"idempotency_key": f"k{i}"},
            ).state
        )
    )
    assert results == ["refunded"]
    assert errors == ["action_not_allowed"] * (THREADS - 1)
    assert RefundEntry.objects.count() == 1
    world["line"].refresh_from_db()
    assert world["line"].refunded_amount == Decimal("100.00")


def test_simultaneous_refunds_with_the_same_key_pay_once(world):
    case = open_one(world)
    case_transition(case_id=case.id, action="approve", actor=world["agent"])
    results, errors = race(
        lambda i: (
            case_transition(
                case_id=case.id,
                action="refund",
                actor=world["finance"],
                data={"idempotency_key": "same"},
            ).state
        )
    )
    # one pays, the others see the retry of a done request and answer with the case
    assert len(results) == THREADS
    assert errors == []
    assert RefundEntry.objects.count() == 1
    assert Case.objects.get(pk=case.id).refunded_amount == Decimal("100.00")


def test_two_workers_never_act_on_a_case_twice(world, time_machine):
    import datetime as dt

    from tests.conftest import NOW

    time_machine.move_to(NOW, tick=False)
    numbers = []
    for index in range(40):
        order = make_order(external_id=f"R{index}", shipped=False)
        numbers.append(
            case_open(
                actor=world["agent"],
                data={
                    "order_id": order.id,
                    "kind": "refund_only",
                    "reason": "not_shipped",
                    "lines": [{"order_line_id": order.lines.get().id, "quantity": 1}],
                },
            ).number
        )
    time_machine.move_to(NOW + dt.timedelta(days=3), tick=False)
    results, errors = race(lambda i: sweep(batch_size=5).acted, count=2)
    assert errors == []
    assert sum(results) == 40
    assert set(Case.objects.filter(number__in=numbers).values_list("state", flat=True)) == {
        "refunded"
    }
    assert Event.objects.filter(action="auto_approve").count() == 40
    assert RefundEntry.objects.filter(case__number__in=numbers).count() == 40


def test_two_workers_racing_over_refunds_on_shared_lines_pay_each_once(world, time_machine):
    import datetime as dt

    from aftersales.catalog.models import OrderLine
    from tests.conftest import NOW

    # given 30 orders of one two-unit line, each with two refund-only cases due: the two cases
    # of a line may be claimed by two workers' batches at once
    time_machine.move_to(NOW, tick=False)
    numbers = []
    for index in range(30):
        order = make_order(external_id=f"W{index}", shipped=False)
        line = order.lines.get()
        for _case in range(2):
            numbers.append(
                case_open(
                    actor=world["agent"],
                    data={
                        "order_id": order.id,
                        "kind": "refund_only",
                        "reason": "not_shipped",
                        "lines": [{"order_line_id": line.id, "quantity": 1}],
                    },
                ).number
            )
    time_machine.move_to(NOW + dt.timedelta(days=3), tick=False)
    # when two workers sweep them at the same instant, in small set-wise batches
    results, errors = race(lambda i: sweep(batch_size=7).acted, count=2)
    # then every case was paid exactly once, and every line exactly what it was paid
    assert errors == []
    assert sum(results) == 60
    assert set(Case.objects.filter(number__in=numbers).values_list("state", flat=True)) == {
        "refunded"
    }
    entries = RefundEntry.objects.filter(case__number__in=numbers)
    assert entries.count() == 60
    assert set(entries.values_list("idempotency_key", flat=True)) == {
        f"auto:{number}" for number in numbers
    }
    lines = OrderLine.objects.filter(order__external_id__startswith="W")
    assert {(line.refunded_amount, line.paid_amount) for line in lines} == {
        (Decimal("180.00"), Decimal("180.00"))
    }
    assert Event.objects.filter(action="auto_approve").count() == 60
