"""The sweep's set-wise writes (``core.batch``) against the one-by-one path: the same due cases
give the same ledger rows, order lines, cases, events, notices and credit notes either way."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from aftersales.cases.models import Case, CaseLine, RefundEntry
from aftersales.catalog.invoices import invoice_record
from aftersales.catalog.models import InvoiceDocument, OrderLine
from aftersales.core.models import Event, Notice
from aftersales.core.sweep import sweep
from tests.conftest import NOW, make_order, open_case


class _Undo(Exception):
    pass


def _open(customer, order, kind, reason, lines):
    body = {
        "order_id": order.id,
        "kind": kind,
        "reason": reason,
        "description": "测试",
        "lines": [{"order_line_id": line.id, "quantity": quantity} for line, quantity in lines],
    }
    response = customer.post("/cases", body)
    assert response.status_code == 201, response.content
    return response.json()["number"]


def _due_mix(customer, agent, finance, clock) -> dict[str, str]:
    """Due cases of every kind the sweep pays or closes, on shared and partly refunded lines."""
    numbers = {}
    # two lines of one order, refunded together; its order has an invoice (a credit note)
    two_lines = make_order(
        external_id="M1",
        lines=[
            ("L1", "SKU-1", 1, Decimal("100.00"), Decimal("100.00")),
            ("L2", "SKU-2", 1, Decimal("50.00"), Decimal("45.50")),
        ],
    )
    invoice_record(order=two_lines, number="INV-1", amount=Decimal("145.50"), issued_at=NOW)
    line_1, line_2 = two_lines.lines.order_by("id")
    numbers["two_lines"] = _open(
        customer, two_lines, "refund_only", "missing_item", [(line_1, 1), (line_2, 1)]
    )
    # two cases on one order line, both paid in the same batch
    shared = make_order(external_id="S1")
    line = shared.lines.get()
    numbers["shared_a"] = _open(customer, shared, "refund_only", "missing_item", [(line, 1)])
    numbers["shared_b"] = _open(customer, shared, "refund_only", "missing_item", [(line, 1)])
    # a line half refunded already by a person's refund; the new case pays the rest
    partial = make_order(external_id="P1")
    line = partial.lines.get()
    earlier = _open(customer, partial, "refund_only", "missing_item", [(line, 1)])
    agent.act(earlier, "approve")
    assert finance.act(earlier, "refund", {"idempotency_key": "pay-1"}).status_code == 200
    numbers["partial"] = _open(customer, partial, "refund_only", "missing_item", [(line, 1)])
    # returns: one approved by the clock (the default address), one never shipped (closed),
    # one in transit whose refund is already made (pays nothing), one a bug pushed above what
    # was paid (refused: escalated)
    numbers["return"] = open_case(customer, make_order(external_id="R1"))["number"]
    numbers["closing"] = open_case(customer, make_order(external_id="R2"))["number"]
    agent.act(numbers["closing"], "approve")
    for name, external_id in (("refunded_already", "R3"), ("too_much", "R4")):
        number = open_case(customer, make_order(external_id=external_id), quantity=2)["number"]
        agent.act(number, "approve")
        customer.act(number, "ship_return", {"carrier": "SF", "tracking_number": external_id})
        numbers[name] = number
    lines = CaseLine.objects.filter(case__number=numbers["refunded_already"])
    for case_line in lines:
        case_line.refunded_amount = case_line.approved_amount
        case_line.save(update_fields=["refunded_amount"])
    CaseLine.objects.filter(case__number=numbers["too_much"]).update(
        approved_amount=Decimal("180.01")
    )
    # a rejection nobody answered (closed)
    numbers["rejected"] = open_case(customer, make_order(external_id="J1"))["number"]
    agent.act(numbers["rejected"], "reject", {"reason": "请提供照片"})
    clock.shift(days=30)
    return numbers


def _without_document_id(data: dict) -> dict:
    # a credit note's number ends with its id: the undone run used up the first one
    if "credit_note" in data:
        return {**data, "credit_note": data["credit_note"][:-6]}
    return data


def _written(numbers: dict[str, str]) -> dict:
    """Every row the sweep writes, without the ids a rolled-back run used up."""
    cases = Case.objects.filter(number__in=numbers.values())
    case_ids = list(cases.values_list("id", flat=True))
    return {
        "cases": list(cases.order_by("number").values()),
        "case_lines": list(CaseLine.objects.filter(case_id__in=case_ids).order_by("id").values()),
        "order_lines": list(OrderLine.objects.order_by("id").values()),
        "entries": sorted(
            RefundEntry.objects.values_list(
                "order_line_id", "case_id", "amount", "idempotency_key", "created_at"
            )
        ),
        "events": sorted(
            [
                (*row[:-1], _without_document_id(row[-1]))
                for row in Event.objects.filter(subject_id__in=case_ids, role="system").values_list(
                    "subject_id", "action", "from_state", "to_state", "actor_name", "at", "data"
                )
            ],
            key=repr,
        ),
        "notices": sorted(
            Notice.objects.filter(subject_id__in=case_ids).values_list(
                "subject_id", "kind", "audience", "recipient_id", "payload", "created_at"
            ),
            key=repr,
        ),
        "documents": sorted(
            InvoiceDocument.objects.exclude(kind="invoice").values_list(
                "case_id", "kind", "amount", "reference", "issued_at"
            )
        ),
    }


def test_the_batch_writes_what_the_one_by_one_path_writes(customer, agent, finance, clock):
    # given a mix of due cases: multi-line, shared and partly refunded lines, a refund made
    # already, a refund the ledger refuses, returns to approve and to close, an invoice
    numbers = _due_mix(customer, agent, finance, clock)
    # when the one-by-one path sweeps them (then undone), and the batch path does
    try:
        with transaction.atomic():
            one_by_one = sweep(deferred=False)
            expected = _written(numbers)
            raise _Undo
    except _Undo:
        pass
    batched = sweep()
    # then both acted on the same cases and wrote the same rows
    assert (batched.acted, batched.escalated_on_error) == (one_by_one.acted, 1)
    assert batched.acted == 8
    written = _written(numbers)
    for table, rows in expected.items():
        assert written[table] == rows, table
    # and the rows are the ones the rules ask for
    state = dict(Case.objects.filter(number__in=numbers.values()).values_list("number", "state"))
    assert {name: state[number] for name, number in numbers.items()} == {
        "two_lines": "refunded",
        "shared_a": "refunded",
        "shared_b": "refunded",
        "partial": "refunded",
        "return": "awaiting_return",  # approved by the clock, with the default address
        "closing": "closed",
        "refunded_already": "refunded",
        "too_much": "return_in_transit",
        "rejected": "closed",
    }
    assert Case.objects.get(number=numbers["return"]).return_address.is_default
    assert OrderLine.objects.get(order__external_id="S1").refunded_amount == Decimal("180.00")
    assert OrderLine.objects.get(order__external_id="P1").refunded_amount == Decimal("180.00")
    assert OrderLine.objects.get(order__external_id="R4").refunded_amount == Decimal("0.00")
    assert not RefundEntry.objects.filter(case__number=numbers["refunded_already"]).exists()
    assert sorted(
        RefundEntry.objects.filter(case__number=numbers["two_lines"]).values_list(
            "amount", flat=True
        )
    ) == [Decimal("45.50"), Decimal("100.00")]
    assert InvoiceDocument.objects.get(kind="credit_note").amount == Decimal("-145.50")


def test_a_batch_of_refunds_takes_a_fixed_number_of_statements(customer, clock):
    # given three, then twelve refund-only cases due, each on its own order
    def sweep_queries(count: int, offset: int) -> int:
        for index in range(count):
            order = make_order(external_id=f"F{offset + index}")
            open_case(customer, order, kind="refund_only", reason="missing_item")
        clock.shift(days=6)
        with CaptureQueriesContext(connection) as queries:
            assert sweep().acted == count
        return len(queries)

    # then paying twelve takes the statements paying three does (no savepoint, no lookup or
    # write per case)
    assert sweep_queries(12, 100) == sweep_queries(3, 0)
    assert RefundEntry.objects.count() == 15


@pytest.mark.parametrize("deferred", [True, False])
def test_an_idempotency_key_paid_by_another_case_escalates(customer, agent, clock, deferred):
    # given a refund-only case whose automatic key a bug already used for another case's refund
    order = make_order(external_id="K1")
    other = open_case(customer, order, kind="refund_only", reason="missing_item")["number"]
    number = open_case(customer, order, kind="refund_only", reason="missing_item")["number"]
    RefundEntry.objects.create(
        order_line=order.lines.get(),
        case=Case.objects.get(number=other),
        amount=Decimal("1.00"),
        idempotency_key=f"auto:{number}",
        created_at=NOW,
    )
    clock.shift(days=6)
    # when the sweep comes round
    result = sweep(deferred=deferred)
    # then the case is not paid twice under one key: it goes to a person
    assert (result.acted, result.escalated_on_error) == (1, 1)
    case = Case.objects.get(number=number)
    assert (case.state, case.refunded_amount) == ("awaiting_seller", Decimal("0.00"))
    assert case.events.order_by("-id").first().data["code"] == "idempotency_key_reused"
    assert Case.objects.get(number=other).state == "refunded"
