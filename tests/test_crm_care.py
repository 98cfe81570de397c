"""Care campaigns: each kind's due rule at its boundary, nobody twice, the audience (tiers,
segments), opt-outs and erasure skipped, the API's refusals."""

import datetime as dt

import pytest

from aftersales.catalog.models import Customer
from aftersales.core.models import Notice
from aftersales.crm.care import care_due, care_sweep
from aftersales.crm.models import (
    CareCampaign,
    CareSend,
    CustomerPreference,
    CustomerProfile,
    MembershipTier,
)
from tests.conftest import NOW, make_order, make_shop, make_user

# NOW is 24 November 2026, 10:00 in Shanghai (the shop's time zone).
TODAY = dt.date(2026, 11, 24)


@pytest.fixture
def lead(shop):
    return make_user("lead", "lead", shop="shop")


def buyer(code, *, email=True, paid_at=NOW - dt.timedelta(days=40), order=None, **profile):
    make_order(external_id=order or f"O-{code}", customer=code, paid_at=paid_at)
    customer = Customer.objects.get(external_id=code)
    if email:
        customer.email = f"{code.lower()}@example.com"
        customer.save(update_fields=["email"])
    if profile:
        CustomerProfile.objects.update_or_create(
            customer=customer, defaults={"shop_id": customer.shop_id, **profile}
        )
    return customer


def campaign(lead, **fields):
    body = {
        "kind": "holiday",
        "name": "元旦",
        "subject": "{name}, happy new year from {shop}",
        "body": "Dear {name},\nthank you. {tier}",
        "send_on": TODAY.isoformat(),
        **fields,
    }
    response = lead.post("/shops/shop/care-campaigns", body)
    assert response.status_code == 201, response.json()
    return response.json()


def sent(campaign_id) -> list[tuple[str, str]]:
    rows = CareSend.objects.filter(campaign_id=campaign_id).select_related("customer")
    return sorted((row.customer.external_id, row.occasion) for row in rows)


def test_a_holiday_greeting_goes_on_its_day_once_with_the_words_rendered(lead, clock):
    ana = buyer("ANA")
    made = campaign(lead, send_on=(TODAY + dt.timedelta(days=1)).isoformat())
    assert care_sweep() == 0  # the day before
    clock.shift(days=1)
    assert care_sweep() == 1
    assert sent(made["id"]) == [("ANA", "holiday:2026-11-25")]
    notice = Notice.objects.get(kind="care_holiday")
    assert notice.payload["subject"] == f"{ana.name}, happy new year from shop 旗舰店"
    assert notice.payload["body"] == f"Dear {ana.name},\nthank you. "
    assert notice.payload["customer"] == ana.pk
    assert CareSend.objects.get().notice_id == notice.pk
    # nobody twice: the next rounds write nothing more
    clock.shift(hours=1)
    assert care_sweep() == 0
    assert Notice.objects.filter(kind="care_holiday").count() == 1


def test_a_dated_greeting_more_than_three_days_late_is_not_sent(lead, clock):
    buyer("ANA")
    campaign(lead, kind="new_arrival", send_on=(TODAY - dt.timedelta(days=4)).isoformat())
    assert care_sweep() == 0
    late = campaign(lead, kind="new_arrival", send_on=(TODAY - dt.timedelta(days=3)).isoformat())
    assert care_sweep() == 1
    assert sent(late["id"]) == [("ANA", "new_arrival:2026-11-21")]


def test_a_birthday_greeting_from_its_days_before_to_the_day(lead, clock):
    buyer("EARLY", birthday=dt.date(1990, 11, 28))  # in 4 days
    buyer("DUE", birthday=dt.date(1985, 11, 27))  # in 3 days
    buyer("TODAY", birthday=dt.date(2000, 11, 24))
    buyer("PAST", birthday=dt.date(1999, 11, 23))
    buyer("NONE")
    made = campaign(lead, kind="birthday", days=3, send_on=None)
    assert care_sweep() == 2
    assert sent(made["id"]) == [("DUE", "birthday:2026"), ("TODAY", "birthday:2026")]
    clock.shift(days=1)
    assert care_sweep() == 1
    assert ("EARLY", "birthday:2026") in sent(made["id"])
    assert len(sent(made["id"])) == 3
    # a year later the same customers are greeted again, once
    clock.set(NOW + dt.timedelta(days=365))
    assert care_sweep() == 2
    assert ("TODAY", "birthday:2027") in sent(made["id"])


def test_a_birthday_early_in_january_is_next_years(lead, clock):
    clock.set(dt.datetime(2026, 12, 30, 2, tzinfo=dt.UTC))
    buyer("NEWYEAR", birthday=dt.date(1990, 1, 2))
    made = campaign(lead, kind="birthday", days=3, send_on=None)
    assert care_sweep() == 1
    assert sent(made["id"]) == [("NEWYEAR", "birthday:2027")]


def test_after_use_care_the_days_after_an_order_was_signed_for(lead, clock):
    # make_order signs two days after paying: signed 7 days ago, and 6 days ago
    buyer("SEVEN", paid_at=NOW - dt.timedelta(days=9))
    buyer("SIX", paid_at=NOW - dt.timedelta(days=8))
    made = campaign(lead, kind="after_use", days=7, send_on=None)
    assert care_sweep() == 1
    order = CareSend.objects.get().occasion
    assert sent(made["id"]) == [("SEVEN", order)]
    assert order.startswith("after_use:")
    clock.shift(days=1)
    assert care_sweep() == 1
    assert [row[0] for row in sent(made["id"])] == ["SEVEN", "SIX"]


def test_after_use_care_for_each_order(lead, clock):
    buyer("ANA", paid_at=NOW - dt.timedelta(days=9))
    make_order(external_id="O-ANA-2", customer="ANA", paid_at=NOW - dt.timedelta(days=9, hours=1))
    made = campaign(lead, kind="after_use", days=7, send_on=None)
    # one message per round to a customer; the other order's comes at the next
    assert care_sweep() == 1
    clock.shift(minutes=15)
    assert care_sweep() == 1
    assert len({occasion for _c, occasion in sent(made["id"])}) == 2
    clock.shift(minutes=15)
    assert care_sweep() == 0


def test_a_repurchase_reminder_the_days_after_the_last_paid_order(lead, clock):
    buyer("ANA", paid_at=NOW - dt.timedelta(days=30))
    buyer("BEN", paid_at=NOW - dt.timedelta(days=29))
    # CAT bought 30 days ago and again since: her last order is not due
    buyer("CAT", paid_at=NOW - dt.timedelta(days=30))
    make_order(external_id="O-CAT-2", customer="CAT", paid_at=NOW - dt.timedelta(days=2))
    made = campaign(lead, kind="repurchase", days=30, send_on=None)
    assert care_sweep() == 1
    assert [row[0] for row in sent(made["id"])] == ["ANA"]
    clock.shift(days=1)
    assert care_sweep() == 1
    assert [row[0] for row in sent(made["id"])] == ["ANA", "BEN"]


def test_opted_out_erased_and_unreachable_customers_are_skipped(lead, clock):
    buyer("ALL")
    for code, opt_outs in {
        "CARE": {"care_opt_out": True},
        "BOTH": {"email_opt_out": True, "sms_opt_out": True},
        "MAIL": {"email_opt_out": True},
    }.items():
        customer = buyer(code)
        CustomerPreference.objects.create(
            customer=customer, shop_id=customer.shop_id, updated_at=NOW, **opt_outs
        )
    buyer("GONE", erased_at=NOW)
    no_address = buyer("NOADDR", email=False)
    Customer.objects.filter(pk=no_address.pk).update(phone="")
    made = campaign(lead)
    assert care_sweep() == 2
    # e-mail alone refused: the text message may still carry it
    assert [row[0] for row in sent(made["id"])] == ["ALL", "MAIL"]


def test_the_audience_by_tier_and_segment(lead, shop, clock):
    gold = MembershipTier.objects.create(shop=shop, name="金卡", rank=2)
    silver = MembershipTier.objects.create(shop=shop, name="银卡", rank=1)
    buyer("GOLD_CHAMP", tier=gold, segment="champion")
    buyer("GOLD_RISK", tier=gold, segment="at_risk")
    buyer("SILVER_CHAMP", tier=silver, segment="champion")
    buyer("PLAIN")
    by_tier = campaign(lead, tier_ids=[gold.pk])
    both = campaign(lead, name="b", tier_ids=[gold.pk], segments=["champion"])
    by_segment = campaign(lead, name="c", segments=["champion", "loyal"])
    care_sweep()
    assert [row[0] for row in sent(by_tier["id"])] == ["GOLD_CHAMP", "GOLD_RISK"]
    assert [row[0] for row in sent(both["id"])] == ["GOLD_CHAMP"]
    assert [row[0] for row in sent(by_segment["id"])] == ["GOLD_CHAMP", "SILVER_CHAMP"]
    tier_notice = Notice.objects.filter(kind="care_holiday", payload__campaign=by_tier["id"])
    assert {n.payload["body"].rsplit(" ", 1)[-1] for n in tier_notice} == {"金卡"}


def test_an_inactive_campaign_and_another_shops_customers_are_left_alone(lead, clock):
    buyer("ANA")
    make_shop("other")
    make_order(shop="other", external_id="X1", customer="ZED")
    Customer.objects.filter(external_id="ZED").update(email="zed@example.com")
    paused = campaign(lead, is_active=False)
    live = campaign(lead, name="live")
    assert care_sweep() == 1
    assert sent(paused["id"]) == []
    assert sent(live["id"]) == [("ANA", "holiday:2026-11-24")]


def test_the_worker_step_runs_at_most_every_fifteen_minutes(lead, clock):
    buyer("ANA")
    campaign(lead)
    assert care_due() == 1
    buyer("BEN")
    clock.shift(minutes=14)
    assert care_due() == 0
    clock.shift(minutes=1)
    assert care_due() == 1


def test_batches_go_on_until_everyone_due_is_written(lead, clock):
    for index in range(5):
        buyer(f"B{index}")
    made = campaign(lead)
    assert care_sweep(batch_size=2) == 5
    assert len(sent(made["id"])) == 5


# --- the API -------------------------------------------------------------------------------


def test_the_lead_lists_changes_and_deletes_campaigns(lead, clock):
    buyer("ANA")
    made = campaign(lead)
    care_sweep()
    listed = lead.get("/shops/shop/care-campaigns").json()["items"]
    assert [(c["id"], c["sent"], c["kind_label"]) for c in listed] == [(made["id"], 1, "Holiday")]
    changed = lead.patch(f"/care-campaigns/{made['id']}", {"is_active": False, "name": "春节"})
    assert changed.status_code == 200
    assert (changed.json()["is_active"], changed.json()["name"]) == (False, "春节")
    assert changed.json()["kind"] == "holiday"
    page = lead.get(f"/care-campaigns/{made['id']}/sends", size=1).json()
    assert (page["count"], page["page"], len(page["items"])) == (1, 1, 1)
    assert page["items"][0]["occasion"] == "holiday:2026-11-24"
    assert lead.delete(f"/care-campaigns/{made['id']}").status_code == 204
    assert not CareCampaign.objects.exists()
    assert not CareSend.objects.exists()


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"kind": "holiday", "send_on": None}, 422, "send_on_required"),
        ({"kind": "birthday", "days": 31, "send_on": None}, 422, "invalid_days"),
        ({"kind": "birthday", "send_on": None}, 422, "invalid_days"),
        ({"kind": "repurchase", "days": 0, "send_on": None}, 422, "invalid_days"),
        ({"kind": "christmas"}, 422, None),
        ({"subject": "{name.__class__}"}, 422, "invalid_template"),
        ({"body": "Hi {email}"}, 422, "invalid_template"),
        ({"body": "Hi {name!r}"}, 422, "invalid_template"),
        ({"body": "Hi {name"}, 422, "invalid_template"),
        ({"subject": "   "}, 422, "empty"),
        ({"tier_ids": [999]}, 422, "tier_not_found"),
        ({"segments": ["vip"]}, 422, None),
        ({"days": "3", "kind": "birthday", "send_on": None}, 422, None),
    ],
)
def test_bad_campaigns_are_refused(lead, fields, status, code):
    body = {"kind": "holiday", "name": "n", "subject": "s", "body": "b", "send_on": "2026-12-01"}
    response = lead.post("/shops/shop/care-campaigns", {**body, **fields})
    assert response.status_code == status, response.json()
    assert "detail" in response.json()
    if code:
        assert response.json()["code"] == code
    assert not CareCampaign.objects.exists()


def test_a_bad_change_is_refused_and_changes_nothing(lead):
    made = campaign(lead, kind="birthday", days=3, send_on=None)
    response = lead.patch(f"/care-campaigns/{made['id']}", {"days": 90})
    assert (response.status_code, response.json()["code"]) == (422, "invalid_days")
    assert CareCampaign.objects.get().days == 3


def test_another_shops_tier_is_not_a_tier_of_this_shop(lead):
    other = make_shop("other")
    tier = MembershipTier.objects.create(shop=other, name="金卡", rank=1)
    response = lead.post(
        "/shops/shop/care-campaigns",
        {"kind": "holiday", "name": "n", "subject": "s", "body": "b", "send_on": "2026-12-01"}
        | {"tier_ids": [tier.pk]},
    )
    assert (response.status_code, response.json()["code"]) == (422, "tier_not_found")


def test_agents_do_not_manage_care_and_another_shops_campaign_is_404(lead, agent):
    made = campaign(lead)
    assert agent.get("/shops/shop/care-campaigns").status_code == 403
    assert agent.patch(f"/care-campaigns/{made['id']}", {"name": "x"}).status_code == 403
    make_shop("other")
    stranger = make_user("lead2", "lead", shop="other")
    response = stranger.get(f"/care-campaigns/{made['id']}/sends")
    assert (response.status_code, response.json()["code"]) == (404, "care_campaign_not_found")
    assert stranger.get("/shops/shop/care-campaigns").status_code == 404


def test_deleting_a_tier_leaves_no_campaign_aimed_at_everyone(lead, shop, clock):
    # given one campaign for gold members only and one for gold and silver members
    gold = MembershipTier.objects.create(shop=shop, name="金卡", rank=2)
    silver = MembershipTier.objects.create(shop=shop, name="银卡", rank=1)
    gold_only = campaign(lead, tier_ids=[gold.pk])
    both = campaign(lead, name="b", tier_ids=[gold.pk, silver.pk])
    # when the gold tier is deleted
    admin = make_user("boss", "admin", shop="shop")
    assert admin.delete(f"/shops/shop/tiers/{gold.pk}").status_code == 204
    # then the gold-only campaign is paused (with no tier it would reach everyone) and stays
    # changeable; the other keeps its silver members
    paused = CareCampaign.objects.get(pk=gold_only["id"])
    assert (paused.tier_ids, paused.is_active) == ([], False)
    kept = CareCampaign.objects.get(pk=both["id"])
    assert (kept.tier_ids, kept.is_active) == ([silver.pk], True)
    response = lead.patch(f"/care-campaigns/{gold_only['id']}", {"name": "元旦（暂停）"})
    assert response.status_code == 200, response.json()
