"""Return labels and packing slips carry what the receiving desk needs; the desk finds a case by
its RMA or tracking number."""

from __future__ import annotations

import pytest

from aftersales.cases.labels import BAR_WIDTH, BARCODE_HEIGHT
from tests import barcodes
from tests.conftest import make_order, make_shop, make_user, open_case


@pytest.fixture
def approved(customer, agent, order):
    number = open_case(customer, order, quantity=2, reason="wrong_size")["number"]
    agent.act(number, "approve")
    return number


def download(api, number, **params):
    return api.client.get(f"/api/v1/cases/{number}/label.pdf", params)


def test_the_label_carries_everything_the_desk_needs(customer, approved, order):
    response = download(customer, approved)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pdf = response.content
    words = barcodes.text(pdf)
    for expected in (
        approved,
        order.external_id,
        "顾客C1",  # the customer's name
        "13800000000",  # and phone
        "杭州市余杭区 1 号",  # the return address
        "SKU-1",
        "× 2",
        "2026-12-01 10:00 (Asia/Shanghai)",  # approved 24 Nov 10:00 local + 7 days
    ):
        assert expected in words, expected
    assert barcodes.decode(pdf, height=BARCODE_HEIGHT, module=BAR_WIDTH) == approved
    assert barcodes.qr_runs_in_pdf(pdf, approved) == barcodes.qr_runs_expected(approved)
    assert barcodes.qr_runs_expected(approved) != barcodes.qr_runs_expected("AS20261124999999")


def test_the_font_travels_with_the_label(customer, approved):
    # embedded (FontFile2: TrueType), so any reader or label printer can draw the Chinese text
    pdf = download(customer, approved).content
    assert b"/FontFile2" in pdf
    assert b"STSong" not in pdf


def test_the_label_shows_the_tracking_number_once_shipped(customer, approved):
    customer.act(
        approved, "ship_return", {"carrier": "顺丰速运", "tracking_number": "SF1234567890"}
    )
    words = barcodes.text(download(customer, approved).content)
    assert "顺丰速运" in words
    assert "SF1234567890" in words


def test_the_packing_slip_variant(agent, approved):
    response = download(agent, approved, variant="packing_slip")
    assert response.status_code == 200
    words = barcodes.text(response.content)
    assert "Packing slip" in words
    assert "Wrong size" in words
    assert barcodes.decode(response.content, height=BARCODE_HEIGHT, module=BAR_WIDTH) == approved


def test_labels_speak_the_callers_language(customer, approved):
    response = customer.client.get(
        f"/api/v1/cases/{approved}/label.pdf", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert "退货标签" in barcodes.text(response.content)


@pytest.mark.parametrize(
    ("setup", "code"),
    [("awaiting_seller", "label_not_available"), ("refund_only", "label_not_available")],
)
def test_no_label_without_a_return_shipment(customer, agent, order, setup, code):
    if setup == "refund_only":
        number = open_case(customer, order, kind="refund_only", reason="missing_item")["number"]
        agent.act(number, "approve")
    else:
        number = open_case(customer, order)["number"]
    response = download(customer, number)
    assert response.status_code == 409
    assert response.json()["code"] == code


def test_a_bad_variant_and_a_foreign_case(customer, approved, db):
    assert download(customer, approved, variant="poster").json()["code"] == "validation_error"
    make_shop("other")
    outsider = make_user("outsider", "agent", shop="other")
    assert download(outsider, approved).status_code == 404


def test_the_desk_finds_a_case_by_rma_or_tracking_number(customer, agent, approved, shop):
    customer.act(approved, "ship_return", {"carrier": "顺丰", "tracking_number": "SF777"})
    assert agent.get("/cases/lookup", code=approved).json()["number"] == approved
    assert agent.get("/cases/lookup", code=" SF777 ").json()["number"] == approved
    missing = agent.get("/cases/lookup", code="SF000")
    assert (missing.status_code, missing.json()["code"]) == (404, "case_not_found")


def test_one_tracking_number_for_two_cases_is_ambiguous(customer, agent, shop, approved):
    second = open_case(customer, make_order(external_id="O2"))["number"]
    agent.act(second, "approve")
    for number in (approved, second):
        customer.act(number, "ship_return", {"carrier": "SF", "tracking_number": "SF-SAME"})
    response = agent.get("/cases/lookup", code="SF-SAME")
    assert response.status_code == 409
    assert response.json()["code"] == "ambiguous_code"
    assert set(response.json()["numbers"]) == {approved, second}
