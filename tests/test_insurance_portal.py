"""Shipping insurance (运费险) in the buyer's portal: the page of an order's insurance in both
languages, quote → insure → claim through its forms, the links from the order's and the case's
pages, another buyer's 404, bad input refused in place with nothing changed, a quote lapsing on
a moved clock, and a shop that does not offer it."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from aftersales.core.models import Event
from aftersales.core.sweep import sweep
from aftersales.insurance.models import Claim, Cover
from tests.conftest import NOW, make_order
from tests.test_insurance import offer, shipped_return


@pytest.fixture
def offered(shop):
    offer(shop)
    return shop


def portal_client(order) -> Client:
    """The portal as the buyer finds it: the order's number and the phone it was bought with."""
    client = Client()
    response = client.post("/", {"order": order.external_id, "phone": "13800000000"})
    assert response.status_code == 302, response.content
    return client


def page_of(order) -> str:
    return f"/insurance/orders/{order.id}/"


def act_on(order, action: str) -> str:
    return f"/insurance/orders/{order.id}/act/{action}/"


def visible(html: str) -> str:
    """The text a person reads: no tags, no attributes."""
    body = html.split("<body", 1)[1].split(">", 1)[1]
    body = re.sub(r"<script.*?</script>", " ", body, flags=re.S)
    return re.sub(r"<[^>]+>", " ", body)


def assert_no_codes(text: str) -> None:
    for raw in ("insurance_cover", "score_factor", "returns_factor", "requote", "quote_valid"):
        assert raw not in text, raw
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", text), "an ISO timestamp is shown"


# --- the page -----------------------------------------------------------------------------------


def test_the_buyer_reads_the_quote_with_its_calculation_in_both_languages(offered, customer, order):
    # given the buyer in the portal, on an order of a shop that offers the insurance
    portal = portal_client(order)
    before = portal.get(page_of(order))
    assert before.status_code == 200
    assert 'data-action="quote"' in before.content.decode()
    # when they get a quote from the page
    done = portal.post(act_on(order, "quote"))
    # then the order is quoted (5.50 × 1.00 × 1.00 for a full score and no returns)
    assert (done.status_code, done["Location"]) == (302, page_of(order))
    cover = Cover.objects.get(order=order)
    assert (cover.state, cover.premium) == ("quoted", Decimal("5.50"))
    # and the page says the premium, its calculation and its validity, in English
    english = portal.get(page_of(order), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    text = visible(english)
    assert "Quoted, not insured" in text
    assert "5.50 × 1.00 × 1.00 = 5.50 CNY" in text
    assert "service score is 5.00" in text and "×1.00" in text
    assert "in the 90 days before the quote: 0; 0 or more give the factor ×1.00" in text
    # valid 24 hours (the preset), a countdown to 10:00 on the 25th in the shop's time
    valid_until = (NOW + dt.timedelta(hours=24)).isoformat()
    assert f'datetime="{valid_until}"' in english
    assert "2026-11-25 10:00" in text
    assert 'data-action="insure"' in english and 'data-action="requote"' in english
    assert_no_codes(text)
    # and in Chinese
    chinese = visible(portal.get(page_of(order), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode())
    assert "运费险" in chinese and "保费" in chinese and "已报价，未投保" in chinese
    assert "5.50 × 1.00 × 1.00 = 5.50 CNY" in chinese
    assert_no_codes(chinese)


def test_quote_insure_and_claim_through_the_page(offered, customer, agent, order):
    # given a return case of the order whose goods are on their way back
    number = shipped_return(customer, agent, order)
    portal = portal_client(order)
    # the order's page links to its insurance, not yet insured
    order_page = portal.get(f"/orders/{order.id}/").content.decode()
    assert f'href="{page_of(order)}"' in order_page and "data-insurance-link" in order_page
    # when the buyer quotes and insures on the page
    assert portal.post(act_on(order, "quote")).status_code == 302
    assert portal.post(act_on(order, "insure")).status_code == 302
    cover = Cover.objects.get(order=order)
    assert cover.state == "insured" and cover.insured_at == NOW
    # then the case's page offers to claim its return postage on the insurance page
    case_page = portal.get(f"/cases/{number}/").content.decode()
    assert f'href="{page_of(order)}#claim-{number}"' in case_page
    page = portal.get(page_of(order), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'id="claim-{number}"' in page
    assert "at most 25.00 CNY" in visible(page)  # the taobao preset's cap
    # when the buyer claims 30.00 of postage
    claimed = portal.post(
        act_on(order, "claim"),
        {"case_number": number, "postage": "30.00", "sender_address": "北京市朝阳区 1 号"},
    )
    # then the cap is paid, once, and the page and the case say so
    assert claimed.status_code == 302
    claim = Claim.objects.get()
    assert (claim.stated_postage, claim.payout) == (Decimal("30.00"), Decimal("25.00"))
    page = visible(portal.get(page_of(order), HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert "25.00 CNY: the postage 30.00, paid up to the cap of 25.00" in page
    assert 'id="claim-' not in page
    case_page = portal.get(f"/cases/{number}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "data-claim-paid" in case_page and "data-claim-link" not in case_page
    # a second claim on the case is refused in place
    again = portal.post(
        act_on(order, "claim"),
        {"case_number": number, "postage": "8.00", "sender_address": "北京市朝阳区 1 号"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert again.status_code == 422
    assert "This case has been claimed already." in again.content.decode()
    assert Claim.objects.count() == 1


def test_another_buyer_cannot_see_or_act_on_the_insurance(offered, customer, order):
    # given the first buyer's quote, and another buyer of the shop with an order of their own
    assert portal_client(order).post(act_on(order, "quote")).status_code == 302
    other_order = make_order(external_id="O2", customer="C2")
    other = portal_client(other_order)
    # when the other buyer edits the URL to the first buyer's order
    # then it is not found, and nothing is quoted again
    assert other.get(page_of(order)).status_code == 404
    events = Event.objects.count()
    assert other.post(act_on(order, "requote")).status_code == 404
    assert other.post(act_on(order, "insure")).status_code == 404
    assert Event.objects.count() == events
    assert Cover.objects.get(order=order).state == "quoted"
    # and a visitor who has not found an order is sent to find one
    assert Client().get(page_of(order)).status_code == 302


def test_bad_input_is_refused_in_place_and_changes_nothing(offered, customer, agent, order):
    # given an order with a return not yet shipped back
    portal = portal_client(order)
    not_shipped = customer.post(
        "/cases",
        {
            "order_id": order.id,
            "kind": "return_refund",
            "reason": "quality_issue",
            "description": "测试",
            "lines": [{"order_line_id": order.lines.get().id, "quantity": 1}],
        },
    ).json()["number"]
    # insuring before any quote says so
    refused = portal.post(act_on(order, "insure"), HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 422
    assert "This order has no shipping insurance." in refused.content.decode()
    assert not Cover.objects.exists()
    # an unknown action is not found
    assert portal.post(act_on(order, "record_postage")).status_code == 404
    assert portal.post(act_on(order, "lapse")).status_code == 404
    # the claim of a return not shipped yet is refused, with the words the page shows
    assert portal.post(act_on(order, "quote")).status_code == 302
    assert portal.post(act_on(order, "insure")).status_code == 302
    page = portal.get(page_of(order), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Claim once the return is on its way" in page and f'id="claim-{not_shipped}"' not in page
    events = Event.objects.count()
    early = portal.post(
        act_on(order, "claim"),
        {"case_number": not_shipped, "postage": "8.00", "sender_address": "上海"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert early.status_code == 422
    assert "The return has not been shipped yet" in early.content.decode()
    # a postage that is not an amount is refused under its field, the input kept
    assert agent.act(not_shipped, "approve").status_code == 200
    assert (
        customer.act(
            not_shipped, "ship_return", {"carrier": "顺丰", "tracking_number": "SF9"}
        ).status_code
        == 200
    )
    events = Event.objects.count()
    for postage in ("abc", "0", "1000.01", ""):
        bad = portal.post(
            act_on(order, "claim"),
            {"case_number": not_shipped, "postage": postage, "sender_address": "上海市 1 号"},
            HTTP_ACCEPT_LANGUAGE="en",
        )
        assert bad.status_code == 422, postage
        html = bad.content.decode()
        assert 'class="field has-error"' in html and "data-error" in html, postage
        assert 'value="上海市 1 号"' in html
    no_address = portal.post(
        act_on(order, "claim"),
        {"case_number": not_shipped, "postage": "8.00", "sender_address": ""},
    )
    assert no_address.status_code == 422
    assert not Claim.objects.exists()
    assert Event.objects.count() == events


def test_a_lapsed_quote_says_so_and_offers_to_quote_again(offered, customer, order, clock):
    # given a quote valid 24 hours
    portal = portal_client(order)
    assert portal.post(act_on(order, "quote")).status_code == 302
    # a second before its end it may still be insured
    clock.shift(hours=24, seconds=-1)
    page = portal.get(page_of(order), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-action="insure"' in page and "data-lapsed" not in page
    # when its validity ends, before the sweep has run
    clock.shift(seconds=1)
    page = portal.get(page_of(order), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # then the page says it lapsed and offers only to quote again
    assert "data-lapsed" in page and 'data-action="insure"' not in page
    assert 'data-action="requote"' in page and "data-valid-until" not in page
    # and insuring it is refused (through the page and the API), nothing changed
    refused = portal.post(act_on(order, "insure"), HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 422
    assert "This quote is no longer valid; quote again to insure." in refused.content.decode()
    api = customer.post(f"/insurance/orders/{order.id}/insure")
    assert (api.status_code, api.json()["code"]) == (409, "quote_lapsed")
    assert Cover.objects.get(order=order).state == "quoted"
    # once the sweep lapses it, the page says the same in Chinese
    assert sweep().acted == 1
    chinese = portal.get(page_of(order), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "报价已失效" in chinese and "data-lapsed" in chinese
    assert 'data-action="insure"' not in chinese
    # when the buyer quotes again, it is valid anew and may be insured
    assert portal.post(act_on(order, "requote")).status_code == 302
    cover = Cover.objects.get(order=order)
    assert (cover.state, cover.deadline_at) == ("quoted", clock.now + dt.timedelta(hours=24))
    page = portal.get(page_of(order)).content.decode()
    assert 'data-action="insure"' in page
    assert portal.post(act_on(order, "insure")).status_code == 302
    assert Cover.objects.get(order=order).state == "insured"


def test_a_shop_that_does_not_offer_it_says_so(shop, customer, order):
    # given a shop that has not chosen to offer shipping insurance (the default)
    portal = portal_client(order)
    # the order's page does not link to it
    assert "data-insurance-link" not in portal.get(f"/orders/{order.id}/").content.decode()
    # when the buyer opens its page anyway
    page = portal.get(page_of(order), HTTP_ACCEPT_LANGUAGE="en")
    # then it says so, with nothing to press
    assert page.status_code == 200
    html = page.content.decode()
    assert "This shop does not offer shipping insurance" in html
    assert 'data-action="quote"' not in html
    # and a quote posted all the same is refused in place
    refused = portal.post(act_on(order, "quote"), HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 422
    assert "never forced on it" in refused.content.decode()
    assert not Cover.objects.exists()


def test_a_shop_that_stops_offering_it_keeps_the_claims_of_an_insured_order(
    offered, customer, agent, order
):
    # given an insured order
    portal = portal_client(order)
    assert portal.post(act_on(order, "quote")).status_code == 302
    assert portal.post(act_on(order, "insure")).status_code == 302
    number = shipped_return(customer, agent, order)
    # when the shop stops offering the insurance
    offer(order.shop, offered=False)
    # then the page says so, and the insured order's return may still be claimed
    page = portal.get(page_of(order), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "no longer offers shipping insurance" in page
    assert f'id="claim-{number}"' in page and 'data-action="requote"' not in page


def test_staff_are_sent_to_find_an_order_and_make_no_quote(offered, desk, order):
    # the portal's page is the buyer's; the shop's staff read the desk's
    assert desk.get(page_of(order)).status_code == 302
    assert desk.post(act_on(order, "quote")).status_code == 302
    assert not Cover.objects.exists()


def test_a_signed_in_buyer_reads_the_page(offered, customer, order):
    # given a buyer with an account (not through the order's number and phone)
    user = get_user_model().objects.get(username="buyer")
    user.set_password("pw-buyer-1234")
    user.save()
    client = Client()
    assert client.login(username="buyer", password="pw-buyer-1234")
    # when they quote from the page, then it is theirs
    assert client.post(act_on(order, "quote")).status_code == 302
    assert Cover.objects.get(order=order).customer.external_id == "C1"
