"""The desk's pages of care campaigns and membership tiers: a lead reads, creates, changes,
pauses, resumes and deletes campaigns (in English and in Chinese), sees who a campaign reached
and why a message was not sent; a bad form shows its error beside the field and saves nothing;
another shop's campaign or tier is 404; an agent is refused the campaigns and reads the tiers
without changing them."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from aftersales.catalog.models import Customer
from aftersales.crm import care_views
from aftersales.crm.care import care_sweep
from aftersales.crm.models import CareCampaign, CareSend, CustomerPreference, MembershipTier
from aftersales.notify.deliveries import deliveries_sweep, delivery_attempt
from aftersales.notify.models import Delivery, DeliveryStatus
from aftersales.team.services import user_create
from tests.conftest import NOW, make_order, make_shop, make_user

# NOW is 24 November 2026, 10:00 in Shanghai (the shop's time zone).
TODAY = dt.date(2026, 11, 24)
PASSWORD = "pw-desk-12345"


def signed_in(username: str, role: str, shop: str = "shop") -> Client:
    user_create(username=username, role=role, shop_codes=[shop], password=PASSWORD)
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


@pytest.fixture
def lead(shop):
    return signed_in("lead-desk", "lead")


@pytest.fixture(autouse=True)
def channels(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.AFTERSALES_SMS_BACKEND = "aftersales.notify.sms.logging.LoggingSmsBackend"
    settings.AFTERSALES_SMS_KINDS = ["*"]


def text_of(response) -> str:
    html = response.content.decode()
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def errors_of(response) -> dict[str, str]:
    found = re.findall(r'data-error-for="([a-z_]+)">([^<]*)<', response.content.decode())
    return {field: unescape(text) for field, text in found}


def campaign_of(shop, **fields) -> CareCampaign:
    values = {
        "kind": "birthday",
        "name": "生日祝福",
        "subject": "Happy birthday, {name}",
        "body": "Dear {name}, all of {shop} wishes you well.",
        "days": 3,
        **fields,
    }
    return CareCampaign.objects.create(shop=shop, created_at=NOW, updated_at=NOW, **values)


FORM = {
    "shop": "shop",
    "kind": "holiday",
    "name": "元旦问候",
    "subject": "Happy new year, {name}",
    "body": "Dear {name},\nall of {shop} wishes you well.",
    "send_on": "2026-12-31",
    "days": "",
    "is_active": "1",
}


# --- the list, in both languages ---------------------------------------------------------------


def test_a_lead_reads_the_campaigns_in_words(lead, shop):
    gold = MembershipTier.objects.create(shop=shop, name="金卡", rank=2)
    campaign_of(shop, tier_ids=[gold.pk], segments=["champion"])
    campaign_of(
        shop, kind="repurchase", name="复购", days=30, is_active=False, subject="s", body="b"
    )
    response = lead.get("/desk/care/")
    assert response.status_code == 200
    page = text_of(response)
    assert "生日祝福" in page and "复购" in page
    assert "Birthday" in page and "Repurchase reminder" in page
    assert "3 days before the birthday" in page
    assert "30 days after the last paid order" in page
    assert "Tiers: 金卡" in page and "Classes: Champion" in page
    assert "Every customer" in page
    assert "E-mail · Text message" in page
    assert "Running" in page and "Paused" in page
    assert "0 messages" in page and "0 delivered · 0 not sent" in page
    # never the codes
    assert "repurchase" not in page and "champion" not in page
    # the desk's navigation leads here
    assert 'data-nav="care"' in response.content.decode()
    assert 'data-nav="tiers"' in response.content.decode()


def test_the_campaigns_read_in_chinese(lead, shop):
    campaign = campaign_of(shop, kind="holiday", days=None, send_on=dt.date(2026, 12, 31))
    response = lead.get("/desk/care/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in response.content.decode()
    page = text_of(response)
    assert "节日" in page  # the kind's label
    assert "2026-12-31" in page
    assert "电子邮件" in page and "短信" in page
    form = lead.get(f"/desk/care/{campaign.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert form.status_code == 200 and "节日" in text_of(form)
    tiers = lead.get("/desk/tiers/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert tiers.status_code == 200 and '<html lang="zh-hans">' in tiers.content.decode()


def test_an_agent_is_refused_the_campaigns(desk, shop):
    campaign = campaign_of(shop)
    response = desk.get("/desk/care/")
    assert response.status_code == 403
    assert "Your role does not include the care campaigns." in text_of(response)
    assert 'data-nav="care"' not in response.content.decode()
    assert desk.get(f"/desk/care/{campaign.pk}/").status_code == 403
    assert desk.get(f"/desk/care/{campaign.pk}/sends/").status_code == 403
    assert desk.post("/desk/care/new/", FORM).status_code == 403
    assert desk.post(f"/desk/care/{campaign.pk}/active/", {"is_active": "0"}).status_code == 403
    assert desk.post(f"/desk/care/{campaign.pk}/delete/").status_code == 403
    campaign.refresh_from_db()
    assert campaign.is_active is True
    assert CareCampaign.objects.count() == 1


# --- create, change, pause, resume, delete ----------------------------------------------------


def test_a_campaign_round_trip(lead, shop):
    gold = MembershipTier.objects.create(shop=shop, name="金卡", rank=2)
    # create
    form = lead.get("/desk/care/new/", {"shop": "shop"})
    assert form.status_code == 200 and 'name="send_on"' in form.content.decode()
    created = lead.post("/desk/care/new/", {**FORM, "tier_ids": [str(gold.pk)]})
    assert created.status_code == 302
    campaign = CareCampaign.objects.get()
    assert (campaign.kind, campaign.name, campaign.send_on, campaign.days) == (
        "holiday",
        "元旦问候",
        dt.date(2026, 12, 31),
        None,
    )
    assert campaign.tier_ids == [gold.pk] and campaign.segments == []
    assert campaign.body == "Dear {name},\nall of {shop} wishes you well."
    assert campaign.is_active is True
    # change (the kind stays whatever is posted)
    changed = lead.post(
        f"/desk/care/{campaign.pk}/",
        {
            **FORM,
            "kind": "birthday",
            "name": "新年问候",
            "send_on": "2027-01-01",
            "segments": ["loyal", "champion"],
        },
    )
    assert changed.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.kind, campaign.name, campaign.send_on) == (
        "holiday",
        "新年问候",
        dt.date(2027, 1, 1),
    )
    assert campaign.tier_ids == [] and campaign.segments == ["champion", "loyal"]
    # pause, resume
    assert lead.post(f"/desk/care/{campaign.pk}/active/", {"is_active": "0"}).status_code == 302
    campaign.refresh_from_db()
    assert campaign.is_active is False
    assert "Paused" in text_of(lead.get("/desk/care/"))
    assert lead.post(f"/desk/care/{campaign.pk}/active/", {"is_active": "1"}).status_code == 302
    campaign.refresh_from_db()
    assert campaign.is_active is True
    # delete: asked first, then removed
    question = lead.get(f"/desk/care/{campaign.pk}/delete/")
    assert question.status_code == 200
    assert "Delete the campaign 新年问候?" in text_of(question)
    assert CareCampaign.objects.count() == 1
    deleted = lead.post(f"/desk/care/{campaign.pk}/delete/")
    assert deleted.status_code == 302 and deleted["Location"] == "/desk/care/?shop=shop"
    assert CareCampaign.objects.count() == 0
    assert lead.get(f"/desk/care/{campaign.pk}/").status_code == 404


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"name": ""}, "name", "Fill this in."),
        ({"name": "   "}, "name", "Give the campaign a name, a subject and a message."),
        ({"body": "Dear {nme}"}, "body", "may use only {name}, {shop} and {tier}"),
        ({"subject": "Hello {name"}, "subject", "unmatched brace"),
        ({"name": "x" * 101}, "name", "Write at most 100 characters."),
        ({"send_on": ""}, "send_on", "Choose the day to send on."),
        ({"send_on": "31/12/2026"}, "send_on", "Write the date as year-month-day."),
        ({"kind": "birthday", "days": "31"}, "days", "Choose a number of days from 0 to 30."),
        ({"kind": "repurchase", "days": "0"}, "days", "Choose a number of days from 1 to 365."),
        ({"kind": "after_use", "days": "soon"}, "days", "Write the number of days as a whole"),
        ({"kind": "after_use", "days": "400"}, "days", "Choose a number of days from 0 to 365."),
        ({"kind": "gift"}, "kind", "Unknown kind of care."),
        ({"segments": ["vip"]}, "segments", "Unknown customer class."),
        ({"tier_ids": ["999"]}, "tier_ids", "No such tier in this shop."),
        ({"tier_ids": ["gold"]}, "tier_ids", "No such tier in this shop."),
    ],
)
def test_a_bad_form_shows_its_error_beside_the_field_and_saves_nothing(
    lead, shop, changes, field, words
):
    response = lead.post("/desk/care/new/", {**FORM, **changes})
    assert response.status_code == 422
    errors = errors_of(response)
    assert list(errors) == [field], errors
    assert words in errors[field]
    assert CareCampaign.objects.count() == 0
    # what was typed is kept in the form
    assert 'value="Happy new year, {name}"' in response.content.decode() or field == "subject"


def test_a_bad_change_saves_nothing(lead, shop):
    campaign = campaign_of(shop)
    response = lead.post(
        f"/desk/care/{campaign.pk}/", {**FORM, "name": "改名", "body": "Hi {name!r}", "days": "3"}
    )
    assert response.status_code == 422
    assert list(errors_of(response)) == ["body"]
    campaign.refresh_from_db()
    assert campaign.name == "生日祝福" and campaign.body.startswith("Dear {name}")


def test_another_shops_campaign_is_not_found(lead, shop):
    other = make_shop("other")
    campaign = campaign_of(other)
    for url in ("", "sends/", "delete/"):
        assert lead.get(f"/desk/care/{campaign.pk}/{url}").status_code == 404
    assert lead.post(f"/desk/care/{campaign.pk}/", FORM).status_code == 404
    assert lead.post(f"/desk/care/{campaign.pk}/active/", {"is_active": "0"}).status_code == 404
    assert lead.post(f"/desk/care/{campaign.pk}/delete/").status_code == 404
    assert lead.get("/desk/care/", {"shop": "other"}).status_code == 404
    assert lead.post("/desk/care/new/", {**FORM, "shop": "other"}).status_code == 404
    campaign.refresh_from_db()
    assert campaign.is_active is True and campaign.name == "生日祝福"
    assert CareCampaign.objects.filter(shop=shop).count() == 0


# --- who it reached ----------------------------------------------------------------------------


def customer_with_email(code: str) -> Customer:
    make_order(external_id=f"O-{code}", customer=code, paid_at=NOW - dt.timedelta(days=40))
    customer = Customer.objects.get(external_id=code)
    customer.email = f"{code.lower()}@example.com"
    customer.save(update_fields=["email"])
    return customer


def opt_out(customer: Customer, **fields) -> None:
    CustomerPreference.objects.update_or_create(
        customer=customer, defaults={"shop_id": customer.shop_id, "updated_at": NOW, **fields}
    )


@pytest.fixture
def greeted(shop, clock):
    """A holiday greeting today to three customers: Ana gets it by e-mail and text; Bob opted
    out of e-mail (his text goes); Cat opted out of care after it was written."""
    ana, bob, cat = (customer_with_email(code) for code in ("ANA", "BOB", "CAT"))
    opt_out(bob, email_opt_out=True)
    campaign = campaign_of(shop, kind="holiday", days=None, send_on=TODAY, name="元旦")
    assert care_sweep() == 3
    opt_out(cat, care_opt_out=True)
    deliveries_sweep()
    for delivery in Delivery.objects.filter(status=DeliveryStatus.PENDING):
        delivery_attempt(delivery.pk)
    return {"campaign": campaign, "ana": ana, "bob": bob, "cat": cat}


def test_the_sends_say_who_got_it_and_why_not(lead, greeted):
    campaign = greeted["campaign"]
    response = lead.get(f"/desk/care/{campaign.pk}/sends/")
    assert response.status_code == 200
    html = response.content.decode()
    sends = {send.customer_id: send.pk for send in CareSend.objects.all()}

    def row(customer) -> str:
        start = html.index(f'data-send="{sends[customer.pk]}"')
        return " ".join(
            unescape(re.sub(r"<[^>]+>", " ", html[start : html.index("</tr>", start)])).split()
        )

    ana, bob, cat = row(greeted["ana"]), row(greeted["bob"]), row(greeted["cat"])
    assert "E-mail: Delivered 2026-11-24 10:00" in ana and "Text message: Delivered" in ana
    assert "On 2026-11-24" in ana and "2026-11-24 10:00" in ana
    assert "E-mail: Not sent — The customer opted out of care messages by e-mail." in bob, bob
    assert "Text message: Delivered" in bob
    assert "E-mail: Not sent — The customer opted out of care messages by e-mail." in cat
    assert "Text message: Not sent — The customer opted out of care messages by text" in cat
    page = text_of(response)
    assert "opted out of care by" not in page  # the recorded reason, never shown raw
    assert "3 messages, newest first." in page
    # the list counts them
    listing = text_of(lead.get("/desk/care/"))
    assert "3 messages" in listing and "2 delivered · 1 not sent" in listing


def test_the_sends_in_chinese(lead, greeted):
    campaign = greeted["campaign"]
    response = lead.get(f"/desk/care/{campaign.pk}/sends/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    page = text_of(response)
    assert "未发送" in page and "已送达" in page and "电子邮件" in page


def test_the_sends_come_a_page_at_a_time(lead, greeted, monkeypatch):
    monkeypatch.setattr(care_views, "PAGE_SIZE", 2)
    url = f"/desk/care/{greeted['campaign'].pk}/sends/"
    first = lead.get(url)
    assert first.content.decode().count("data-send=") == 2
    assert f'href="{url}?page=2"' in first.content.decode()
    assert "Page 1 of 2." in text_of(first)
    second = lead.get(url, {"page": "2"})
    assert second.content.decode().count("data-send=") == 1
    assert f'href="{url}?page=1"' in second.content.decode()
    for page in ("3", "0", "x", "99999999999999999999"):
        assert lead.get(url, {"page": page}).status_code == 404


def test_the_sends_read_in_a_fixed_number_of_queries(lead, greeted, shop):
    url = f"/desk/care/{greeted['campaign'].pk}/sends/"
    with CaptureQueriesContext(connection) as before:
        assert lead.get(url).status_code == 200
    customer_with_email("DAN")
    customer_with_email("EVE")
    campaign = greeted["campaign"]
    CareSend.objects.filter(campaign=campaign).delete()
    assert care_sweep() == 4
    deliveries_sweep()
    with CaptureQueriesContext(connection) as after:
        assert lead.get(url).status_code == 200
    assert len(after.captured_queries) == len(before.captured_queries)


# --- the tiers ---------------------------------------------------------------------------------

TIER = {
    "shop": "shop",
    "name": "金卡",
    "rank": "2",
    "min_spend": "500.00",
    "min_orders": "2",
    "window_days": "365",
    "validity_days": "180",
    "benefits": "包邮",
}


def test_a_lead_adds_changes_and_deletes_a_tier(lead, shop):
    page = lead.get("/desk/tiers/")
    assert page.status_code == 200 and 'id="tier-form"' in page.content.decode()
    assert lead.post("/desk/tiers/new/", TIER).status_code == 302
    tier = MembershipTier.objects.get()
    assert (tier.name, tier.rank, str(tier.min_spend), tier.min_orders) == ("金卡", 2, "500.00", 2)
    assert (tier.window_days, tier.validity_days, tier.benefits) == (365, 180, "包邮")
    listing = text_of(lead.get("/desk/tiers/"))
    assert "500.00 CNY and 2 paid orders within 365 days" in listing
    assert "180 days" in listing and "包邮" in listing
    edit = lead.get(f"/desk/tiers/{tier.pk}/", {"shop": "shop"})
    assert edit.status_code == 200 and 'value="500.00"' in edit.content.decode()
    changed = lead.post(f"/desk/tiers/{tier.pk}/", {**TIER, "name": "白金卡", "min_orders": "1"})
    assert changed.status_code == 302
    tier.refresh_from_db()
    assert (tier.name, tier.min_orders) == ("白金卡", 1)
    question = lead.get(f"/desk/tiers/{tier.pk}/delete/", {"shop": "shop"})
    assert question.status_code == 200 and "Delete the tier 白金卡?" in text_of(question)
    assert lead.post(f"/desk/tiers/{tier.pk}/delete/", {"shop": "shop"}).status_code == 302
    assert MembershipTier.objects.count() == 0


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"name": ""}, "name", "Fill this in."),
        ({"rank": "top"}, "rank", "Write a whole number."),
        ({"rank": "101"}, "rank", "Write a whole number from 0 to 100."),
        ({"window_days": "0"}, "window_days", "Write a whole number from 1 to 3650."),
        ({"min_spend": "-1"}, "min_spend", "Write an amount of 0 or more"),
        ({"min_spend": "1.234"}, "min_spend", "Write an amount of 0 or more"),
    ],
)
def test_a_bad_tier_shows_its_error_and_saves_nothing(lead, shop, changes, field, words):
    response = lead.post("/desk/tiers/new/", {**TIER, **changes})
    assert response.status_code == 422
    errors = errors_of(response)
    assert list(errors) == [field], errors
    assert words in errors[field]
    assert MembershipTier.objects.count() == 0


def test_a_tier_taken_is_said_above_the_form(lead, shop):
    MembershipTier.objects.create(shop=shop, name="金卡", rank=1)
    response = lead.post("/desk/tiers/new/", TIER)
    assert response.status_code == 422
    assert errors_of(response) == {"form": "Another tier of the shop has this name or rank."}
    assert MembershipTier.objects.count() == 1


def test_an_agent_reads_the_tiers_without_changing_them(desk, shop):
    tier = MembershipTier.objects.create(shop=shop, name="金卡", rank=1)
    page = desk.get("/desk/tiers/")
    assert page.status_code == 200 and "金卡" in text_of(page)
    assert 'id="tier-form"' not in page.content.decode()
    assert 'data-nav="tiers"' in page.content.decode()
    assert desk.post("/desk/tiers/new/", TIER).status_code == 403
    assert desk.post(f"/desk/tiers/{tier.pk}/delete/", {"shop": "shop"}).status_code == 403
    assert MembershipTier.objects.count() == 1


def test_another_shops_tier_is_not_found_and_a_warehouse_is_refused(lead, shop):
    other = make_shop("other")
    tier = MembershipTier.objects.create(shop=other, name="金卡", rank=1)
    assert lead.get(f"/desk/tiers/{tier.pk}/", {"shop": "shop"}).status_code == 404
    assert lead.post(f"/desk/tiers/{tier.pk}/delete/", {"shop": "shop"}).status_code == 404
    assert lead.post(f"/desk/tiers/{tier.pk}/", {**TIER, "shop": "other"}).status_code == 404
    assert lead.get("/desk/tiers/", {"shop": "other"}).status_code == 404
    assert MembershipTier.objects.get().name == "金卡"
    warehouse = signed_in("warehouse", "logistics")
    refused = warehouse.get("/desk/tiers/")
    assert refused.status_code == 403
    assert "Your role does not include the membership tiers." in text_of(refused)
    assert 'data-nav="tiers"' not in refused.content.decode()


def test_the_apis_refusal_names_the_field_the_form_shows_it_beside(shop):
    api = make_user("lead-api", "lead", shop="shop")
    body = {"kind": "birthday", "name": "n", "subject": "Hi {who}", "body": "b", "days": 3}
    response = api.post("/shops/shop/care-campaigns", body)
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["field"]) == ("invalid_template", "subject")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"tier_ids": ["9" * 20]}, "tier_ids"),
        ({"kind": "birthday", "days": "9" * 20}, "days"),
        ({"send_on": "2026-02-30"}, "send_on"),
        ({"body": "x" * 4001}, "body"),
    ],
)
def test_values_out_of_any_range_are_refused_in_words(lead, shop, changes, field):
    response = lead.post("/desk/care/new/", {**FORM, **changes})
    assert response.status_code == 422
    assert list(errors_of(response)) == [field]
    assert CareCampaign.objects.count() == 0
