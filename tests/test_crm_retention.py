"""The retention queue: each trigger queues the customer once, with the rule's gesture; the
team marks items contacted or dismissed."""

from __future__ import annotations

import datetime as dt

import pytest

from aftersales.cases.models import Case
from aftersales.crm.models import RetentionItem, RetentionTrigger
from aftersales.crm.retention import retention_due, retention_sweep
from aftersales.feedback.models import Rating, Survey, SurveyRound, SurveyStatus
from tests.conftest import NOW, make_order, make_shop, make_user, open_case


@pytest.fixture
def case(customer):
    return Case.objects.get(number=open_case(customer, make_order(external_id="O2"))["number"])


def items() -> list[tuple[str, list[str], str]]:
    return [
        (i.customer.external_id, i.reasons, i.gesture)
        for i in RetentionItem.objects.select_related("customer").order_by("id")
    ]


def test_a_low_rating_queues_a_coupon_once(case, clock):
    Rating.objects.create(case=case, score=2, created_at=NOW)
    assert retention_sweep(now=NOW + dt.timedelta(minutes=1)) == 1
    assert items() == [("C1", ["low_score"], "coupon")]
    # run again (and again later): nothing new
    assert retention_sweep(now=NOW + dt.timedelta(minutes=2)) == 0
    assert retention_sweep(now=NOW + dt.timedelta(hours=5)) == 0
    assert RetentionTrigger.objects.count() == 1


def test_a_rating_of_three_is_not_a_risk(case):
    Rating.objects.create(case=case, score=3, created_at=NOW)
    assert retention_sweep(now=NOW + dt.timedelta(minutes=1)) == 0


def test_a_low_survey_answer_queues_the_customer(case):
    survey_round = SurveyRound.objects.create(
        shop_id=case.shop_id,
        month="2026-10",
        sample_rate=1,
        cooldown_days=0,
        seed=1,
        created_at=NOW,
    )
    Survey.objects.create(
        round=survey_round,
        shop_id=case.shop_id,
        case=case,
        customer_id=case.customer_id,
        kind=case.kind,
        channel="phone",
        token_salt="s",
        token_hash="h",
        state=SurveyStatus.ANSWERED,
        score=1,
        created_at=NOW,
        answered_at=NOW,
        resolved_at=NOW,
    )
    assert retention_sweep(now=NOW + dt.timedelta(minutes=1)) == 1
    assert items() == [("C1", ["low_score"], "coupon")]


def test_a_rejection_queues_an_explanation_call(case, agent, clock):
    assert agent.act(case.number, "reject", {"reason": "超出期限"}).status_code == 200
    assert retention_sweep(now=NOW + dt.timedelta(minutes=1)) == 1
    assert items() == [("C1", ["rejected"], "explanation_call")]


def test_a_complaint_queues_a_call_from_the_lead(case, customer):
    filed = customer.post(
        "/complaints", {"order_id": case.order_id, "type": "attitude", "description": "态度差"}
    )
    assert filed.status_code == 201
    assert retention_sweep(now=NOW + dt.timedelta(minutes=1)) == 1
    assert items() == [("C1", ["complaint"], "lead_call")]


def test_a_case_open_too_long_queues_an_apology(case, clock):
    # not yet: six days
    assert retention_sweep(now=NOW + dt.timedelta(days=6)) == 0
    # eight days open, still not resolved
    assert retention_sweep(now=NOW + dt.timedelta(days=8)) == 1
    assert items() == [("C1", ["slow_resolution"], "apology_compensation")]
    # the case ends later: the same experience, not queued again
    Case.objects.filter(pk=case.pk).update(state="closed", resolved_at=NOW + dt.timedelta(days=9))
    assert retention_sweep(now=NOW + dt.timedelta(days=10)) == 0


def test_a_case_resolved_slowly_queues_an_apology(case):
    Case.objects.filter(pk=case.pk).update(state="closed", resolved_at=NOW + dt.timedelta(days=8))
    # the first run looks back far enough to see it
    assert retention_sweep(now=NOW + dt.timedelta(days=8, hours=1)) == 1
    assert items() == [("C1", ["slow_resolution"], "apology_compensation")]


def test_a_case_resolved_quickly_is_not_a_risk(case):
    Case.objects.filter(pk=case.pk).update(state="closed", resolved_at=NOW + dt.timedelta(days=2))
    assert retention_sweep(now=NOW + dt.timedelta(days=3)) == 0


def test_reasons_gather_on_one_open_item_and_the_gravest_gesture_wins(case, customer, agent):
    Rating.objects.create(case=case, score=1, created_at=NOW)
    retention_sweep(now=NOW + dt.timedelta(minutes=1))
    customer.post(
        "/complaints", {"order_id": case.order_id, "type": "attitude", "description": "x"}
    )
    retention_sweep(now=NOW + dt.timedelta(minutes=2))
    assert items() == [("C1", ["low_score", "complaint"], "lead_call")]


def test_a_late_row_within_the_overlap_is_still_seen(case):
    retention_sweep(now=NOW + dt.timedelta(minutes=10))
    # a rating stamped before the cursor, committed after the last run
    Rating.objects.create(case=case, score=1, created_at=NOW + dt.timedelta(minutes=5))
    assert retention_sweep(now=NOW + dt.timedelta(minutes=20)) == 1


def test_contacted_and_dismissed(case, agent, finance):
    Rating.objects.create(case=case, score=1, created_at=NOW)
    retention_sweep(now=NOW + dt.timedelta(minutes=1))
    item = RetentionItem.objects.get()
    listed = agent.get("/shops/shop/retention").json()["items"]
    assert [(i["id"], i["gesture"]) for i in listed] == [(item.pk, "coupon")]
    assert finance.get("/shops/shop/retention").status_code == 403
    no_note = agent.post(f"/retention/{item.pk}/resolve", {"outcome": "dismissed"})
    assert (no_note.status_code, no_note.json()["code"]) == (422, "note_required")
    bad = agent.post(f"/retention/{item.pk}/resolve", {"outcome": "maybe"})
    assert bad.status_code == 422
    done = agent.post(f"/retention/{item.pk}/resolve", {"outcome": "contacted", "note": "送券"})
    assert done.status_code == 200, done.content
    assert (done.json()["state"], done.json()["handled_by"]) == ("contacted", "agent")
    again = agent.post(f"/retention/{item.pk}/resolve", {"outcome": "contacted"})
    assert (again.status_code, again.json()["code"]) == (409, "retention_item_handled")
    assert agent.get("/shops/shop/retention").json()["items"] == []
    assert (
        agent.get("/shops/shop/retention", state="contacted").json()["items"][0]["note"] == "送券"
    )
    # a new bad experience opens a new item
    buyer = make_user("b2", "customer", shop="shop", customer="C1")
    second = Case.objects.get(number=open_case(buyer, make_order(external_id="O3"))["number"])
    Rating.objects.create(case=second, score=1, created_at=NOW + dt.timedelta(minutes=3))
    assert retention_sweep(now=NOW + dt.timedelta(minutes=4)) == 1
    assert RetentionItem.objects.filter(state="open").count() == 1


def test_another_shops_item_is_not_found(case, agent):
    make_shop("other")
    outsider = make_user("outsider", "agent", shop="other")
    Rating.objects.create(case=case, score=1, created_at=NOW)
    retention_sweep(now=NOW + dt.timedelta(minutes=1))
    item = RetentionItem.objects.get()
    refused = outsider.post(f"/retention/{item.pk}/resolve", {"outcome": "contacted"})
    assert refused.status_code == 404
    assert outsider.get("/shops/shop/retention").status_code == 404


def test_the_desk_page(case, desk):
    Rating.objects.create(case=case, score=1, created_at=NOW)
    retention_sweep(now=NOW + dt.timedelta(minutes=1))
    item = RetentionItem.objects.get()
    page = desk.get("/desk/retention/")
    assert page.status_code == 200 and f'data-item="{item.pk}"'.encode() in page.content
    assert b"A coupon" in page.content
    desk.post(f"/desk/retention/{item.pk}/resolve/", {"outcome": "dismissed", "shop": "shop"})
    assert RetentionItem.objects.get().state == "open"  # a dismissal needs a note
    desk.post(
        f"/desk/retention/{item.pk}/resolve/",
        {"outcome": "dismissed", "note": "顾客已满意", "shop": "shop"},
    )
    assert RetentionItem.objects.get().state == "dismissed"


def test_the_worker_step_reads_every_ten_minutes(case):
    assert retention_due(now=NOW) == 0  # the first round sets the cursor
    Rating.objects.create(case=case, score=1, created_at=NOW + dt.timedelta(minutes=1))
    assert retention_due(now=NOW + dt.timedelta(minutes=5)) == 0
    assert retention_due(now=NOW + dt.timedelta(minutes=10)) == 1
