"""Invoices arrive with their order; each refund reverses its part with a credit note (红冲)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from aftersales.cases import deadlines
from aftersales.catalog.models import InvoiceDocument
from tests.conftest import make_order, open_case, order_payload

INVOICE = {
    "number": "FP-0001",
    "amount": "180.00",
    "issued_at": "2026-11-20T10:00:00+08:00",
    "title": "某某科技有限公司",
}


@pytest.fixture
def invoiced(agent, order):
    assert agent.post("/orders", {**order_payload(order), "invoice": INVOICE}).status_code == 200
    return order


def refund_one_unit(customer, agent, finance, order, key):
    number = open_case(customer, order, kind="refund_only", reason="missing_item")["number"]
    agent.act(number, "approve")
    return finance.act(number, "refund", {"idempotency_key": key}).json()


def test_each_refund_issues_a_credit_note_against_the_invoice(customer, agent, finance, invoiced):
    first = refund_one_unit(customer, agent, finance, invoiced, "a")
    second = refund_one_unit(customer, agent, finance, invoiced, "b")
    notes = list(InvoiceDocument.objects.filter(kind="credit_note").order_by("id"))
    assert [(n.reference, n.amount, n.title) for n in notes] == [
        ("FP-0001", Decimal("-90.00"), "某某科技有限公司"),
        ("FP-0001", Decimal("-90.00"), "某某科技有限公司"),
    ]
    assert [n.case.number for n in notes] == [first["number"], second["number"]]
    assert notes[0].number == f"CN20261124{notes[0].id:06d}"
    assert first["events"][-1]["data"]["credit_note"] == notes[0].number
    # the invoice and its reversals add up to what was kept
    total = sum(InvoiceDocument.objects.values_list("amount", flat=True))
    assert total == Decimal("0.00")


def test_a_retried_refund_issues_no_second_note(customer, agent, finance, invoiced):
    number = open_case(customer, invoiced, kind="refund_only", reason="missing_item")["number"]
    agent.act(number, "approve")
    finance.act(number, "refund", {"idempotency_key": "same"})
    finance.act(number, "refund", {"idempotency_key": "same"})
    assert InvoiceDocument.objects.filter(kind="credit_note").count() == 1


def test_automatic_refunds_issue_credit_notes_too(customer, agent, invoiced, clock):
    number = open_case(customer, invoiced, reason="quality_issue")["number"]
    agent.act(number, "approve")
    customer.act(number, "ship_return", {"carrier": "SF", "tracking_number": "SF1"})
    clock.shift(days=10)
    deadlines.sweep()
    note = InvoiceDocument.objects.get(kind="credit_note")
    assert (note.case.number, note.amount) == (number, Decimal("-90.00"))


def test_no_invoice_no_credit_note(customer, agent, finance, shop):
    order = make_order(external_id="NOINV")
    refund_one_unit(customer, agent, finance, order, "k")
    assert InvoiceDocument.objects.count() == 0


def test_the_accountant_lists_and_exports(customer, agent, finance, invoiced):
    refund_one_unit(customer, agent, finance, invoiced, "a")
    page = finance.get("/invoices", shop="shop").json()
    assert [(d["kind"], d["amount"]) for d in page["items"]] == [
        ("invoice", "180.00"),
        ("credit_note", "-90.00"),
    ]
    assert finance.get("/invoices", kind="credit_note").json()["items"][0]["reference"] == "FP-0001"
    response = finance.client.get("/api/v1/invoices/export.csv", {"shop": "shop"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(r["kind"], r["amount"], r["reference"]) for r in rows] == [
        ("invoice", "180.00", ""),
        ("credit_note", "-90.00", "FP-0001"),
    ]
    # a customer sees the documents of their own orders
    assert len(customer.get("/invoices").json()["items"]) == 2


def test_an_invoice_is_one_per_order_and_updated(agent, invoiced):
    assert InvoiceDocument.objects.filter(kind="invoice").count() == 1
    doc = InvoiceDocument.objects.get(kind="invoice")
    assert (doc.number, doc.amount) == ("FP-0001", Decimal("180.00"))
