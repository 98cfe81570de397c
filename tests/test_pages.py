"""The workbench and the portal, server side: who sees what, the forms, errors in place, CSRF, and
pinned query counts. The browser journeys are in ``test_browser.py``."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from aftersales.cases.models import Case
from aftersales.team.models import ContactLog, Note, ReplyTemplate
from aftersales.team.services import user_create
from tests.conftest import make_order, open_case


@pytest.fixture
def case_number(customer, order):
    return open_case(customer, order)["number"]


def portal_client(order) -> Client:
    client = Client()
    response = client.post("/", {"order": order.external_id, "phone": "13800000000"})
    assert response.status_code == 302, response.content
    return client


def test_the_desk_wants_a_login(db):
    response = Client().get("/desk/")
    assert response.status_code == 302
    assert response["Location"].startswith("/desk/login/")


def test_the_queue_lists_open_cases_with_countdowns(
    desk, case_number, django_assert_max_num_queries
):
    with django_assert_max_num_queries(15):  # as tests/test_queue.py counts them
        response = desk.get("/desk/")
    assert response.status_code == 200
    html = response.content.decode()
    assert case_number in html
    assert 'class="countdown' in html
    assert desk.get("/desk/", {"q": case_number}).content.decode().count('data-case="') == 1
    assert desk.get("/desk/", {"q": "nothing"}).content.decode().count('data-case="') == 0
    assert desk.get("/desk/", {"state": "refunded"}).content.decode().count('data-case="') == 0


def test_an_agent_approves_from_the_case_page(desk, case_number, django_assert_max_num_queries):
    with django_assert_max_num_queries(25):
        page = desk.get(f"/desk/cases/{case_number}/")
    assert page.status_code == 200
    assert 'data-action="approve"' in page.content.decode()
    assert 'data-action="refund"' not in page.content.decode()  # not offered in this state
    response = desk.post(f"/desk/cases/{case_number}/act/approve/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert Case.objects.get(number=case_number).state == "awaiting_return"
    assert 'id="case"' in response.content.decode()


def test_every_timeline_entry_on_the_case_page_is_named(desk, case_number):
    # given a case opened and approved
    desk.post(f"/desk/cases/{case_number}/act/approve/")
    # when the desk shows it
    page = desk.get(f"/desk/cases/{case_number}/").content.decode()
    # then each timeline entry opens with its kind in words
    headings = re.findall(r'<li data-action="(\w+)"><strong>([^<]*)</strong>', page)
    assert [action for action, _label in headings] == ["open", "approve"]
    assert all(label.strip() for _action, label in headings), headings


def test_a_refused_action_shows_its_error_in_place(desk, case_number):
    response = desk.post(
        f"/desk/cases/{case_number}/act/reject/", {"reason": ""}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert 'data-error-for="reject"' in response.content.decode()
    assert Case.objects.get(number=case_number).state == "awaiting_seller"


def test_notes_flags_contacts_and_templates(desk, case_number):
    desk.post(f"/desk/cases/{case_number}/note/", {"text": "已电话联系"})
    desk.post(f"/desk/cases/{case_number}/flag/", {"flag": "purple"})
    desk.post(
        f"/desk/cases/{case_number}/contact/",
        {"channel": "call", "summary": "顾客同意退货", "follow_up_on": "2026-11-26"},
    )
    case = Case.objects.get(number=case_number)
    assert case.flag == "purple"
    assert str(case.follow_up_on) == "2026-11-26"
    assert Note.objects.get().text == "已电话联系"
    assert ContactLog.objects.get().channel == "call"
    template = ReplyTemplate.objects.get(language="zh-hans", title="快递延误致歉")
    filled = desk.get(f"/desk/cases/{case_number}/template/", {"template_id": template.id})
    assert "顾客C1" in filled.content.decode()
    desk.post(f"/desk/cases/{case_number}/message/", {"text": "您好", "template_id": template.id})
    assert case.events.filter(action="message").exists()
    queue = desk.get("/desk/", {"flagged": "1"}).content.decode()
    assert "flag-purple" in queue and "2026-11-26" in queue


def test_bulk_approval_takes_refund_only_cases_only(desk, customer, shop):
    refund_only = open_case(
        customer, make_order(external_id="B1"), kind="refund_only", reason="missing_item"
    )
    returned = open_case(customer, make_order(external_id="B2"))
    ids = list(Case.objects.values_list("id", flat=True))
    response = desk.post("/desk/bulk/", {"operation": "approve", "case": ids})
    assert response.status_code == 302
    assert Case.objects.get(number=refund_only["number"]).state == "refund_pending"
    assert Case.objects.get(number=returned["number"]).state == "awaiting_seller"


def test_the_receiving_desk_opens_the_case(desk, case_number):
    response = desk.get("/desk/receiving/", {"code": case_number})
    assert response.status_code == 302
    assert response["Location"] == f"/desk/cases/{case_number}/#action-receive"
    missing = desk.get("/desk/receiving/", {"code": "NOPE"})
    assert missing.status_code == 200 and "NOPE" in missing.content.decode()


def test_staff_of_another_shop_get_a_404(case_number):
    from tests.conftest import make_shop

    make_shop("other")
    user_create(username="stranger", role="agent", shop_codes=["other"], password="pw-x-123456")
    client = Client()
    client.login(username="stranger", password="pw-x-123456")
    assert client.get(f"/desk/cases/{case_number}/").status_code == 404


def test_the_portal_finds_an_order_by_number_and_phone(
    order, case_number, django_assert_max_num_queries
):
    client = Client()
    wrong = client.post("/", {"order": order.external_id, "phone": "13900000000"})
    assert wrong.status_code == 422
    client = portal_client(order)
    with django_assert_max_num_queries(10):
        page = client.get(f"/orders/{order.id}/")
    assert case_number in page.content.decode()
    with django_assert_max_num_queries(15):
        case_page = client.get(f"/cases/{case_number}/")
    html = case_page.content.decode()
    assert "approved automatically" in html
    assert 'data-action="cancel"' in html


def test_the_portal_checks_eligibility_before_submitting(order, shop):
    client = portal_client(order)
    line = order.lines.get()
    body = {"kind": "return_refund", "reason": "no_reason", f"qty-{line.id}": "1", "check": "1"}
    checked = client.post(f"/orders/{order.id}/apply/", body, HTTP_HX_REQUEST="true")
    assert 'data-eligible="1"' in checked.content.decode()
    assert not Case.objects.exists()  # a check writes nothing
    too_many = client.post(
        f"/orders/{order.id}/apply/", {**body, f"qty-{line.id}": "3"}, HTTP_HX_REQUEST="true"
    )
    assert 'data-code="quantity_exceeds_available"' in too_many.content.decode()
    body.pop("check")
    submitted = client.post(f"/orders/{order.id}/apply/", body)
    assert submitted.status_code == 302
    assert Case.objects.get().kind == "return_refund"


def test_a_customer_cannot_open_another_customers_case(order, customer, shop):
    other = make_order(external_id="O2", customer="C2")
    theirs = open_case(customer, order)["number"]
    client = portal_client(other)
    assert client.get(f"/cases/{theirs}/").status_code == 404
    assert client.get(f"/orders/{order.id}/").status_code == 404
    assert client.post(f"/cases/{theirs}/act/cancel/").status_code == 404
    assert Case.objects.get(number=theirs).state == "awaiting_seller"


def test_forms_need_the_csrf_token(order, case_number):
    client = Client(enforce_csrf_checks=True)
    assert client.post("/", {"order": order.external_id, "phone": "13800000000"}).status_code == 403


def test_the_portal_look_up_limits_guesses_per_order_number(order):
    # given five wrong phone numbers for one order, each from another address
    for n in range(5):
        wrong = Client(REMOTE_ADDR=f"10.0.0.{n}").post("/", {"order": "O1", "phone": "13900000000"})
        assert wrong.status_code == 422

    # then even the right phone from a new address waits
    refused = Client(REMOTE_ADDR="10.0.9.9").post("/", {"order": "O1", "phone": "13800000000"})
    assert refused.status_code == 422
    assert "Too many attempts" in refused.content.decode()
