"""A customer's profile: scoped to the caller's shops, whole, masked per role; preferences."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aftersales.cases.models import Case
from aftersales.catalog.models import Customer
from aftersales.crm.access import mask_email, mask_phone
from aftersales.crm.models import CustomerPreference, CustomerProfile
from aftersales.feedback.models import Rating
from aftersales.team.models import ContactLog
from aftersales.team.services import user_create
from tests.conftest import NOW, make_order, make_shop, open_case


@pytest.fixture
def world(shop, customer, agent, finance):
    # given a customer with a case, a complaint, a contact and a rating in "shop", and a
    # customer of another shop
    number = open_case(customer, make_order(external_id="O2"))["number"]
    case = Case.objects.get(number=number)
    ContactLog.objects.create(
        subject_type=ContentType.objects.get_for_model(Case),
        subject_id=case.pk,
        shop_id=case.shop_id,
        channel="call",
        summary="答应三天内回电",
        by_name="agent",
        created_at=NOW,
    )
    Rating.objects.create(case=case, score=4, comment="还行", created_at=NOW)
    complaint = customer.post(
        "/complaints", {"order_id": case.order_id, "type": "attitude", "description": "态度差"}
    )
    assert complaint.status_code == 201, complaint.content
    Customer.objects.filter(pk=case.customer_id).update(
        phone="13812345678", email="alice@example.com"
    )
    make_shop("other")
    foreign = make_order(shop="other", external_id="F1", customer="F")
    return {"customer": case.customer_id, "case": number, "foreign": foreign.customer_id}


def test_masking_rules():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("12345") == "***45"
    assert mask_phone("") == ""
    assert mask_email("alice@example.com") == "a***@example.com"


def test_an_agent_reads_the_whole_profile_with_the_contact_details(world, agent):
    response = agent.get(f"/customers/{world['customer']}/profile")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["phone"], body["email"], body["masked"]) == (
        "13812345678",
        "alice@example.com",
        False,
    )
    assert [o["external_id"] for o in body["orders"]] == ["O2", "O1"]
    assert [(c["number"], c["state"], c["state_label"]) for c in body["cases"]] == [
        (world["case"], "awaiting_seller", "Awaiting seller")
    ]
    assert [c["type"] for c in body["complaints"]] == ["attitude"]
    assert [(c["subject"], c["summary"]) for c in body["contacts"]] == [
        (world["case"], "答应三天内回电")
    ]
    assert [(r["score"], r["self_selected"]) for r in body["ratings"]] == [(4, True)]
    assert body["preferences"] == {
        "email_opt_out": False,
        "sms_opt_out": False,
        "care_opt_out": False,
        "language": "zh-hans",
    }


def test_finance_sees_the_phone_and_email_masked(world, finance):
    body = finance.get(f"/customers/{world['customer']}/profile").json()
    assert (body["phone"], body["email"], body["masked"]) == (
        "138****5678",
        "a***@example.com",
        True,
    )


def test_another_shops_customer_is_not_found(world, agent, admin):
    response = agent.get(f"/customers/{world['foreign']}/profile")
    assert (response.status_code, response.json()["code"]) == (404, "customer_not_found")
    # the installation's admin reaches every shop
    assert admin.get(f"/customers/{world['foreign']}/profile").status_code == 200


def test_a_customer_may_not_read_profiles(world, customer):
    assert customer.get(f"/customers/{world['customer']}/profile").status_code == 403


def test_preferences_change_only_what_is_given(world, agent):
    url = f"/customers/{world['customer']}/preferences"
    response = agent.put(url, {"sms_opt_out": True, "language": "en", "birthday": "1990-05-17"})
    assert response.status_code == 200, response.content
    assert response.json() == {
        "email_opt_out": False,
        "sms_opt_out": True,
        "care_opt_out": False,
        "language": "en",
    }
    assert agent.put(url, {"care_opt_out": True}).json()["sms_opt_out"] is True
    preference = CustomerPreference.objects.get(customer_id=world["customer"])
    assert (preference.sms_opt_out, preference.care_opt_out) == (True, True)
    profile = CustomerProfile.objects.get(customer_id=world["customer"])
    assert profile.birthday == dt.date(1990, 5, 17)
    assert agent.get(f"/customers/{world['customer']}/profile").json()["birthday"] == "1990-05-17"
    assert agent.put(url, {"birthday": None}).status_code == 200
    profile.refresh_from_db()
    assert profile.birthday is None


@pytest.mark.parametrize(
    "body",
    [
        {"language": "fr"},
        {"birthday": "2030-01-01"},
        {"birthday": "1800-01-01"},
        {"birthday": "yesterday"},
        {"sms_opt_out": "yes"},
    ],
)
def test_bad_preferences_are_refused(world, agent, body):
    response = agent.put(f"/customers/{world['customer']}/preferences", body)
    assert response.status_code == 422, (body, response.content)
    assert set(response.json()) >= {"code", "detail"}


def test_finance_may_not_change_preferences(world, finance):
    response = finance.put(f"/customers/{world['customer']}/preferences", {"sms_opt_out": True})
    assert response.status_code == 403


def test_the_desk_pages(world, desk):
    listing = desk.get("/desk/customers/", {"q": "5678"})
    assert listing.status_code == 200
    assert f'data-customer="{world["customer"]}"'.encode() in listing.content
    assert b"13812345678" in listing.content
    assert f'data-customer="{world["foreign"]}"'.encode() not in listing.content
    page = desk.get(f"/desk/customers/{world['customer']}/")
    assert page.status_code == 200
    assert world["case"].encode() in page.content and "答应三天内回电".encode() in page.content
    assert desk.get(f"/desk/customers/{world['foreign']}/").status_code == 404
    saved = desk.post(
        f"/desk/customers/{world['customer']}/preferences/",
        {"sms_opt_out": "1", "language": "zh-hans", "birthday": "1990-05-17"},
    )
    assert saved.status_code == 302
    assert CustomerPreference.objects.get(customer_id=world["customer"]).sms_opt_out is True
    bad = desk.post(f"/desk/customers/{world['customer']}/preferences/", {"birthday": "x"})
    assert bad.status_code == 302
    assert CustomerProfile.objects.get(customer_id=world["customer"]).birthday == dt.date(
        1990, 5, 17
    )


def test_the_desk_masks_for_finance(world, client):
    user_create(username="fin-desk", role="finance", shop_codes=["shop"], password="pw-fin-123")
    assert client.login(username="fin-desk", password="pw-fin-123")
    page = client.get(f"/desk/customers/{world['customer']}/")
    assert page.status_code == 200
    assert b"138****5678" in page.content and b"13812345678" not in page.content


def _queries(api, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert api.get(url).status_code == 200
    return len(captured.captured_queries)


def test_the_profile_reads_in_a_fixed_number_of_queries(world, agent, customer):
    url = f"/customers/{world['customer']}/profile"
    before = _queries(agent, url)
    # more orders, cases and ratings: no more queries
    for n in range(3):
        number = open_case(customer, make_order(external_id=f"Q{n}"))["number"]
        Rating.objects.create(case=Case.objects.get(number=number), score=5, created_at=NOW)
    assert _queries(agent, url) == before
