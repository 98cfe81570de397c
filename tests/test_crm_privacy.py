"""PIPL: a customer's data exported whole and logged; erased without breaking the ledger,
refused while a case is open, for administrators only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType

from aftersales.cases.models import Case, RefundEntry
from aftersales.catalog.models import Customer, Order, OrderLine
from aftersales.conversations.models import Message
from aftersales.conversations.services import message_post
from aftersales.core.models import Event
from aftersales.crm.models import CustomerPreference, CustomerProfile, DataAccessLog
from aftersales.feedback.models import Rating
from aftersales.team.models import ContactLog
from tests.conftest import NOW, make_order, make_user, open_case


@pytest.fixture
def shop_admin(shop):
    return make_user("shopadmin", "admin", shop="shop")


@pytest.fixture
def lead(shop):
    return make_user("lead", "lead", shop="shop")


@pytest.fixture
def refunded(customer, agent, finance):
    """A refund-only case refunded in full, with a message, a contact and a rating."""
    order = make_order(external_id="R1", shipped=False)
    number = open_case(customer, order, kind="refund_only", reason="not_shipped")["number"]
    message_post(
        actor=customer.principal, subject_type="case", number=number, text="我的电话 13812345678"
    )
    assert agent.act(number, "approve").status_code == 200
    refund = finance.act(number, "refund", {"idempotency_key": "k1"})
    assert refund.status_code == 200, refund.content
    case = Case.objects.get(number=number)
    assert case.state == "refunded"
    ContactLog.objects.create(
        subject_type=ContentType.objects.get_for_model(Case),
        subject_id=case.pk,
        shop_id=case.shop_id,
        channel="call",
        summary="顾客住在杭州市西湖区",
        by_name="agent",
        created_at=NOW,
    )
    Rating.objects.create(case=case, score=5, comment="张三很满意", created_at=NOW)
    Customer.objects.filter(pk=case.customer_id).update(
        phone="13812345678", email="zhang@example.com"
    )
    CustomerProfile.objects.create(
        customer_id=case.customer_id, shop_id=case.shop_id, birthday="1990-05-17"
    )
    return case


def test_export_holds_everything_unmasked_and_is_logged(refunded, lead, agent):
    url = f"/customers/{refunded.customer_id}/export"
    assert agent.get(url).status_code == 403  # agents do not export
    response = lead.get(url)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["phone"], body["email"], body["birthday"]) == (
        "13812345678",
        "zhang@example.com",
        "1990-05-17",
    )
    assert [c["number"] for c in body["cases"]] == [refunded.number]
    assert [r["amount"] for r in body["refunds"]] == [str(refunded.refunded_amount)]
    assert any("13812345678" in m["text"] for m in body["messages"])
    log = DataAccessLog.objects.get()
    assert (log.kind, log.actor_name, log.customer_id, log.shop_id) == (
        "export",
        "lead",
        refunded.customer_id,
        refunded.shop_id,
    )
    assert "cases" in log.what["sections"]


def test_erasure_keeps_the_ledger(refunded, shop_admin):
    # given
    line = OrderLine.objects.get(order__external_id="R1")
    ledger_before = (line.paid_amount, line.refunded_amount, list(RefundEntry.objects.values()))
    assert line.refunded_amount > Decimal("0")
    # when
    response = shop_admin.post(f"/customers/{refunded.customer_id}/erase")
    # then
    assert response.status_code == 200, response.content
    customer = Customer.objects.get(pk=refunded.customer_id)
    assert (customer.name, customer.phone, customer.email, customer.external_id) == (
        "[erased]",
        "",
        "",
        f"erased-{customer.pk}",
    )
    line.refresh_from_db()
    assert (line.paid_amount, line.refunded_amount, list(RefundEntry.objects.values())) == (
        ledger_before
    )
    case = Case.objects.get(pk=refunded.pk)
    assert (case.state, case.refunded_amount, case.description) == (
        "refunded",
        refunded.refunded_amount,
        "[erased]",
    )
    assert Order.objects.filter(customer=customer).count() == 2
    assert ContactLog.objects.get().summary == "[erased]"
    assert Rating.objects.get().comment == ""
    assert all(m.text == "[erased]" for m in Message.objects.filter(direction="in"))
    assert CustomerProfile.objects.get(customer=customer).birthday is None
    preference = CustomerPreference.objects.get(customer=customer)
    assert (preference.email_opt_out, preference.sms_opt_out, preference.care_opt_out) == (
        True,
        True,
        True,
    )
    # nor do the timelines and the conversation say the customer's name, and their portal
    # account keeps none and no longer signs in
    case_type = ContentType.objects.get_for_model(Case)
    by_customer = Event.objects.filter(subject_type=case_type, subject_id=case.pk, role="customer")
    assert by_customer.exists()
    assert set(by_customer.values_list("actor_name", flat=True)) == {"[erased]"}
    assert set(Message.objects.filter(direction="in").values_list("author_name", flat=True)) == {
        "[erased]"
    }
    account = get_user_model().objects.get(membership__customer=customer)
    assert (account.first_name, account.last_name, account.email, account.is_active) == (
        "",
        "",
        "",
        False,
    )
    log = DataAccessLog.objects.get()
    assert (log.kind, log.actor_name, log.what["contact_log"]) == ("erasure", "shopadmin", 1)
    # the desk shows the placeholders, nothing personal
    profile = shop_admin.get(f"/customers/{customer.pk}/profile").json()
    assert profile["erased_at"] is not None and profile["phone"] == ""


def test_erasure_is_refused_while_a_case_is_open(customer, shop_admin):
    open_case(customer, make_order(external_id="OPEN"))
    response = shop_admin.post(f"/customers/{customer.principal.customer_id}/erase")
    assert (response.status_code, response.json()["code"]) == (409, "customer_has_open_cases")
    assert Customer.objects.get(pk=customer.principal.customer_id).phone == "13800000000"
    assert not DataAccessLog.objects.exists()


@pytest.mark.parametrize("role", ["lead", "agent", "finance"])
def test_only_an_administrator_erases(refunded, role, lead, agent, finance):
    api = {"lead": lead, "agent": agent, "finance": finance}[role]
    response = api.post(f"/customers/{refunded.customer_id}/erase")
    assert response.status_code == 403
    assert Customer.objects.get(pk=refunded.customer_id).phone == "13812345678"


def test_unknown_customer_ids_are_404(shop_admin):
    for url in ("/customers/999999/export", "/customers/999999/profile"):
        assert shop_admin.get(url).json()["code"] == "customer_not_found"
    assert shop_admin.post("/customers/999999/erase").status_code == 404
    assert shop_admin.get("/customers/0/profile").status_code == 422
