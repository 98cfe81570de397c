"""Reviews (评价), the marketplace's review of a trade, through the API, the desk and the portal:
the window to the second in the shop's time zone, the automatic positive (scored or not), the
48-hour hold and its follow-up queue, the buyer's one change (only to positive) or deletion
within the change period, the +1 / 0 / −1 score with the buyer–shop monthly cap at 00:00
Asia/Shanghai, the Taobao and Tmall presets on the same scenario, scoping and bad input."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from aftersales.core.models import Notice
from aftersales.core.sweep import sweep
from aftersales.reviews.lifecycle import PERSON_ACTIONS, REVIEWS
from aftersales.reviews.models import Review, ReviewStart, ReviewTally
from aftersales.reviews.services import reviews_open_due
from aftersales.reviews.timeline import VISIBILITY
from aftersales.team.services import user_create
from tests.conftest import NOW, make_order, make_shop, make_user

UTC = dt.UTC
SECOND = dt.timedelta(seconds=1)
# The fixture's order was signed on 2026-11-22 at 10:00 in Shanghai (02:00 UTC): its 15-day
# window runs from the 23rd to the end of 7 December, 24:00 in Shanghai = 16:00 UTC.
SIGNED = dt.datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
WINDOW_END = dt.datetime(2026, 12, 7, 16, 0, tzinfo=UTC)


@pytest.fixture
def apis(customer, agent):
    return {"customer": customer, "agent": agent}


def rate(api, order, rating="positive", text="很好"):
    return api.post("/reviews", {"order_id": order.id, "rating": rating, "text": text})


def rated(api, order, rating="positive", text="很好") -> str:
    response = rate(api, order, rating, text)
    assert response.status_code == 201, response.content
    return response.json()["number"]


def act(api, number, action, body=None):
    return api.post(f"/reviews/{number}/actions/{action}", body or {})


def review(number) -> Review:
    return Review.objects.get(number=number)


# --- the table is complete -------------------------------------------------------------------


def test_every_action_has_a_label_a_visibility_and_a_matrix_row():
    from aftersales.core.permissions import MATRIX

    for action in REVIEWS.actions | {REVIEWS.escalate_action}:
        assert REVIEWS.action_label(action)
        assert action in VISIBILITY
    for action in PERSON_ACTIONS:
        assert f"review.{action}" in MATRIX
    assert {"rate", "change", "delete", "contact", "reply"} == PERSON_ACTIONS


# --- rating within the window -------------------------------------------------------------------


def test_a_positive_review_is_shown_and_scored_at_once(apis, order):
    # when the buyer rates the signed order positive
    response = rate(apis["customer"], order, "positive", "质量好，发货快")
    # then it is published and counts +1
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"].startswith("PJ20261124")
    assert (body["state"], body["rating"], body["points"], body["counted"]) == (
        "published",
        "positive",
        1,
        True,
    )
    assert body["window_ends_at"] == "2026-12-07T16:00:00Z"
    assert body["score_month"] == "2026-11"
    assert body["customer_phone"] is None  # the buyer's own contact is the staff's to read
    summary = apis["agent"].get("/reviews/summary").json()
    assert summary == {
        "shop": "shop",
        "points": 1,
        "positive": 1,
        "neutral": 0,
        "negative": 0,
        "positive_rate": "1.0000",
        "shown": 1,
        "not_counted": 0,
        "held": 0,
        "pending": 0,
    }


@pytest.mark.parametrize(("moment", "allowed"), [(WINDOW_END - SECOND, True), (WINDOW_END, False)])
def test_the_window_ends_at_midnight_in_the_shops_zone_to_the_second(
    apis, order, clock, moment, allowed
):
    clock.set(moment)
    response = rate(apis["customer"], order)
    if allowed:
        assert response.status_code == 201, response.content
    else:
        assert response.status_code == 422
        assert response.json()["code"] == "review_window_closed"
        assert "2026-12-07 24:00" in response.json()["detail"]
        assert Review.objects.count() == 0  # nothing was opened either


def test_an_order_not_signed_for_cannot_be_reviewed(apis, shop):
    unsigned = make_order(external_id="O5", signed=False)
    response = rate(apis["customer"], unsigned)
    assert (response.status_code, response.json()["code"]) == (422, "trade_not_ended")
    assert Review.objects.count() == 0


def test_an_order_is_reviewed_once(apis, order):
    number = rated(apis["customer"], order, "neutral")
    again = rate(apis["customer"], order, "positive")
    assert (again.status_code, again.json()["code"]) == (409, "already_reviewed")
    assert review(number).rating == "neutral"


# --- the automatic positive -----------------------------------------------------------------------


def _start_reviews(since):
    from aftersales.catalog.models import Shop

    for shop in Shop.objects.all():
        ReviewStart.objects.update_or_create(shop=shop, defaults={"since": since})


def test_the_worker_opens_windows_only_for_orders_signed_since_reviews_began(shop, clock):
    old = make_order(external_id="OLD")  # signed two days ago
    # when the worker first runs, reviews begin now for the shop: the old order gets none
    assert reviews_open_due() == 0
    assert ReviewStart.objects.get().since == NOW
    # an order signed afterwards gets its window, its end the deadline of the automatic review
    clock.shift(days=3)
    new = make_order(external_id="NEW", paid_at=clock.now - dt.timedelta(days=2))
    assert reviews_open_due() == 1
    opened = Review.objects.get()
    assert (opened.order_id, opened.state, opened.deadline_action) == (
        new.id,
        "pending",
        "auto_positive",
    )
    assert not Review.objects.filter(order=old).exists()
    assert reviews_open_due() == 0  # never twice


def test_the_worker_marks_the_orders_it_has_done_and_reads_only_the_others(apis, shop, clock):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from aftersales.catalog.models import Order

    assert reviews_open_due() == 0  # reviews begin now
    clock.shift(days=3)
    rated_first = make_order(external_id="RATED", paid_at=clock.now - dt.timedelta(days=2))
    waiting = make_order(external_id="NEW", paid_at=clock.now - dt.timedelta(days=2))
    unsigned = make_order(external_id="UNSIGNED", signed=False)
    # the buyer rates one order before the worker comes to it
    rated(apis["customer"], rated_first, "positive")
    # the worker opens the other's review, counts only that one, and marks both
    assert reviews_open_due() == 1
    marks = dict(Order.objects.values_list("external_id", "review_opened"))
    # (O1 was signed before reviews began: never read, never marked)
    assert marks == {"O1": False, "RATED": True, "NEW": True, "UNSIGNED": False}
    assert Review.objects.filter(order=waiting).exists()
    # the next rounds read no order at all: what is marked is out of the step's index
    with CaptureQueriesContext(connection) as queries:
        assert reviews_open_due() == 0
    reads = [q["sql"] for q in queries.captured_queries if '"catalog_order"' in q["sql"]]
    assert len(reads) == 1 and "review_opened" in reads[0]
    assert not Review.objects.filter(order=unsigned).exists()


def test_the_upgrade_marks_the_orders_that_have_a_review(transactional_db, clock):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from aftersales.catalog.models import Order
    from aftersales.reviews.services import review_open

    make_shop()
    reviewed, other = make_order(external_id="R1"), make_order(external_id="R2")
    review_open(order_id=reviewed.id)
    Order.objects.update(review_opened=False)  # as before the column
    executor = MigrationExecutor(connection)
    executor.migrate([("reviews", "0001_reviews")])
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    marks = dict(Order.objects.values_list("external_id", "review_opened"))
    assert marks == {"R1": True, "R2": False}
    assert other.id in Order.objects.filter(review_opened=False).values_list("id", flat=True)


def test_at_the_window_end_a_positive_review_is_given_unscored(apis, order, clock):
    _start_reviews(SIGNED - dt.timedelta(days=1))
    assert reviews_open_due() == 1
    pending = Review.objects.get()
    assert (pending.state, pending.deadline_at) == ("pending", WINDOW_END)
    clock.set(WINDOW_END - SECOND)
    sweep()
    assert Review.objects.get().state == "pending"
    clock.set(WINDOW_END)
    assert sweep().acted == 1
    given = Review.objects.get()
    assert (given.state, given.rating, given.is_automatic) == ("published", "positive", True)
    # 如双方未评价,由系统自动评价则不计分
    assert (given.counted, given.points) == (False, 0)
    summary = apis["agent"].get("/reviews/summary").json()
    assert (summary["points"], summary["shown"], summary["not_counted"]) == (0, 1, 1)
    assert summary["positive_rate"] is None
    # and the buyer can no longer rate it
    late = rate(apis["customer"], order, "negative")
    assert (late.status_code, late.json()["code"]) == (422, "review_window_closed")


def test_a_policy_that_scores_the_automatic_positive_counts_it(db, clock):
    make_shop("scored", reviews={"auto_positive_scored": True})
    make_order(shop="scored")
    _start_reviews(SIGNED - dt.timedelta(days=1))
    reviews_open_due()
    clock.set(WINDOW_END)
    sweep()
    given = Review.objects.get()
    assert (given.counted, given.points) == (True, 1)


def test_a_policy_without_the_automatic_positive_closes_the_window_unrated(db, clock):
    make_shop("quiet", reviews={"auto_positive": False})
    make_order(shop="quiet")
    _start_reviews(SIGNED - dt.timedelta(days=1))
    reviews_open_due()
    assert Review.objects.get().deadline_action == "expire"
    clock.set(WINDOW_END)
    sweep()
    closed = Review.objects.get()
    assert (closed.state, closed.rating, closed.counted) == ("expired", "", False)


def test_a_pending_window_is_rated_through_the_same_review(apis, order):
    _start_reviews(SIGNED - dt.timedelta(days=1))
    reviews_open_due()
    pending = Review.objects.get()
    number = rated(apis["customer"], order, "positive")
    assert number == pending.number
    assert Review.objects.count() == 1


# --- the hold and the follow-up -----------------------------------------------------------------


def test_a_negative_review_is_held_48_hours_then_published_and_scored(apis, order, clock):
    number = rated(apis["customer"], order, "negative", "质量差")
    held = review(number)
    assert (held.state, held.deadline_at, held.counted) == (
        "held",
        NOW + dt.timedelta(hours=48),
        False,
    )
    assert Notice.objects.filter(kind="review_held", subject_id=held.id).count() == 1
    clock.set(NOW + dt.timedelta(hours=48) - SECOND)
    sweep()
    assert review(number).state == "held"
    clock.set(NOW + dt.timedelta(hours=48))
    sweep()
    shown = review(number)
    assert (shown.state, shown.counted, shown.points) == ("published", True, -1)
    summary = apis["agent"].get("/reviews/summary").json()
    assert (summary["points"], summary["negative"], summary["positive_rate"]) == (-1, 1, "0.0000")


def test_a_neutral_review_scores_nothing_but_weighs_on_the_positive_rate(apis, order, clock):
    rated(apis["customer"], order, "neutral")
    second = make_order(external_id="O2")
    rated(apis["customer"], second, "positive")
    clock.shift(hours=48)
    sweep()
    summary = apis["agent"].get("/reviews/summary").json()
    assert (summary["points"], summary["positive"], summary["neutral"]) == (1, 1, 1)
    assert summary["positive_rate"] == "0.5000"


def test_the_follow_up_queue_shows_held_reviews_with_the_buyers_contact(apis, order, clock):
    number = rated(apis["customer"], order, "negative", "包装破损")
    positive = rated(apis["customer"], make_order(external_id="O2"), "positive")
    queue = apis["agent"].get("/reviews/follow-up").json()
    assert [row["number"] for row in queue] == [number]
    assert queue[0]["deadline_at"] == "2026-11-26T02:00:00Z"
    # the staff log the contact and reply; the buyer sees the reply, not the contact's note
    contacted = act(apis["agent"], number, "contact", {"channel": "call", "note": "已补发"})
    assert contacted.status_code == 200, contacted.content
    assert contacted.json()["customer_phone"] == "13800000000"
    replied = act(apis["agent"], number, "reply", {"reply": "抱歉，已为您补发"})
    assert replied.json()["reply"] == "抱歉，已为您补发"
    seen = apis["customer"].get(f"/reviews/{number}").json()
    assert seen["reply"] == "抱歉，已为您补发"
    assert [e["action"] for e in seen["events"]] == ["open", "rate", "reply"]
    assert "已补发" not in str(seen)
    assert seen["contacted_at"] is None
    assert positive not in [row["number"] for row in apis["agent"].get("/reviews/follow-up").json()]


def test_the_desk_lists_reviews_to_follow_up_and_takes_their_forms(apis, order, desk):
    number = rated(apis["customer"], order, "negative", "包装破损")
    page = desk.get("/desk/reviews/").content.decode()
    assert re.findall(r'data-review="(\w+)"', page) == [number]
    assert "13800000000" in page and 'class="countdown' in page
    assert "data-points>0<" in page
    assert "/desk/reviews/" in desk.get("/desk/").content.decode()  # the nav's link
    detail = desk.get(f"/desk/reviews/{number}/").content.decode()
    assert 'data-action="contact"' in detail and 'data-action="reply"' in detail
    assert 'data-action="change"' not in detail
    refused = desk.post(f"/desk/reviews/{number}/act/reply/", {"reply": ""})
    assert refused.status_code == 422 and 'data-error-for="reply"' in refused.content.decode()
    done = desk.post(f"/desk/reviews/{number}/act/contact/", {"channel": "call", "note": "已联系"})
    assert done.status_code == 302
    assert review(number).contacted_at == NOW


# --- the buyer's change or deletion, Taobao vs Tmall ---------------------------------------------


@pytest.mark.parametrize(
    ("preset", "change_status", "change_code"),
    [("taobao", 200, None), ("tmall", 422, "review_change_not_allowed")],
)
def test_changing_a_negative_review_to_positive_by_preset(
    db, clock, preset, change_status, change_code
):
    # the same scenario on each preset
    make_shop("s", preset=preset)
    order = make_order(shop="s")
    buyer = make_user("buyer", "customer", shop="s", customer="C1")
    number = rated(buyer, order, "negative", "质量差")
    response = act(buyer, number, "change", {"rating": "positive", "text": "商家处理很好"})
    assert response.status_code == change_status, response.content
    after = review(number)
    if change_code is None:
        assert (after.state, after.rating, after.previous_rating) == (
            "changed",
            "positive",
            "negative",
        )
        assert (after.counted, after.points, after.changes_used) == (True, 1, 1)
        # once: a positive review cannot be changed again
        again = act(buyer, number, "change", {"rating": "positive"})
        assert again.status_code == 409
    else:
        assert response.json()["code"] == change_code
        assert (after.state, after.rating, after.changes_used) == ("held", "negative", 0)


@pytest.mark.parametrize(
    ("preset", "status", "state"), [("taobao", 200, "deleted"), ("tmall", 422, "published")]
)
def test_deleting_a_published_negative_review_by_preset(db, clock, preset, status, state):
    make_shop("s", preset=preset)
    order = make_order(shop="s")
    buyer = make_user("buyer", "customer", shop="s", customer="C1")
    number = rated(buyer, order, "negative")
    clock.shift(hours=48)
    sweep()
    assert ReviewTally.objects.get().negative_points == 1
    response = act(buyer, number, "delete")
    assert response.status_code == status, response.content
    assert review(number).state == state
    if status == 422:
        assert response.json()["code"] == "review_delete_not_allowed"
        assert ReviewTally.objects.get().negative_points == 1
    else:
        assert ReviewTally.objects.get().negative_points == 0
        assert review(number).counted is False


def test_a_review_changes_only_to_positive(apis, order):
    number = rated(apis["customer"], order, "negative")
    response = act(apis["customer"], number, "change", {"rating": "neutral"})
    assert (response.status_code, response.json()["code"]) == (422, "review_change_only_positive")
    assert review(number).rating == "negative"


def test_a_positive_review_cannot_be_changed_or_deleted(apis, order):
    number = rated(apis["customer"], order, "positive")
    for action, body in (("change", {"rating": "positive"}), ("delete", {})):
        response = act(apis["customer"], number, action, body)
        assert (response.status_code, response.json()["code"]) == (422, "review_change_not_allowed")
    assert review(number).state == "published"


# Rated on 2026-11-24 at 10:00 in Shanghai: the 30 days run to the end of 24 December (24:00 in
# Shanghai, 16:00 UTC).
CHANGE_END = dt.datetime(2026, 12, 24, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(("moment", "allowed"), [(CHANGE_END - SECOND, True), (CHANGE_END, False)])
def test_the_change_period_ends_to_the_second(apis, order, clock, moment, allowed):
    number = rated(apis["customer"], order, "negative")
    assert (
        apis["customer"].get(f"/reviews/{number}").json()["change_ends_at"]
        == "2026-12-24T16:00:00Z"
    )
    clock.set(moment)
    sweep()
    response = act(apis["customer"], number, "change", {"rating": "positive"})
    if allowed:
        assert response.status_code == 200, response.content
        assert review(number).state == "changed"
    else:
        assert (response.status_code, response.json()["code"]) == (
            422,
            "review_change_window_closed",
        )
        assert review(number).rating == "negative"


# --- the monthly cap per buyer and shop --------------------------------------------------------


def test_at_most_six_points_per_buyer_and_shop_in_a_month(apis, shop, clock):
    orders = [make_order(external_id=f"P{i}") for i in range(7)]
    numbers = [rated(apis["customer"], order) for order in orders]
    counted = [review(n).counted for n in numbers]
    assert counted == [True] * 6 + [False]
    last = apis["customer"].get(f"/reviews/{numbers[-1]}").json()
    assert (last["over_cap"], last["points"], last["state"]) == (True, 0, "published")
    summary = apis["agent"].get("/reviews/summary").json()
    assert (summary["points"], summary["positive"], summary["not_counted"]) == (6, 6, 1)
    # negative points have their own cap: the first negative still counts
    negative = rated(apis["customer"], make_order(external_id="N1"), "negative")
    clock.shift(hours=48)
    sweep()
    assert (review(negative).counted, review(negative).points) == (True, -1)
    # another buyer is another pair
    their_order = make_order(external_id="Q1", customer="C2")
    other = make_user("buyer2", "customer", shop="shop", customer="C2")
    theirs = rated(other, their_order)
    assert review(theirs).counted is True


def test_the_caps_month_turns_at_midnight_in_shanghai(apis, shop, clock):
    clock.set(dt.datetime(2026, 12, 3, 2, 0, tzinfo=UTC))
    # six positives of orders created in November fill November's cap
    for i in range(6):
        rated(
            apis["customer"],
            make_order(external_id=f"P{i}", paid_at=dt.datetime(2026, 11, 20, tzinfo=UTC)),
        )
    # 23:59:59 on 30 November in Shanghai: still November, over the cap
    november = make_order(
        external_id="NOV", paid_at=dt.datetime(2026, 11, 30, 15, 59, 59, tzinfo=UTC)
    )
    # 00:00:00 on 1 December in Shanghai (16:00 UTC on the 30th): December, counted
    december = make_order(
        external_id="DEC", paid_at=dt.datetime(2026, 11, 30, 16, 0, 0, tzinfo=UTC)
    )
    late_nov, early_dec = rated(apis["customer"], november), rated(apis["customer"], december)
    assert (review(late_nov).score_month, review(late_nov).counted) == ("2026-11", False)
    assert (review(early_dec).score_month, review(early_dec).counted) == ("2026-12", True)


# --- scoping and bad input ------------------------------------------------------------------------


def test_another_shops_staff_and_another_buyer_get_404(apis, order):
    number = rated(apis["customer"], order, "negative")
    make_shop("other")
    stranger = make_user("stranger", "agent", shop="other")
    assert stranger.get(f"/reviews/{number}").status_code == 404
    assert act(stranger, number, "reply", {"reply": "x"}).status_code == 404
    assert stranger.get("/reviews").json()["items"] == []
    assert number not in str(stranger.get("/reviews/follow-up").json())
    # another buyer of the same shop
    make_order(external_id="O3", customer="C2")
    other = make_user("buyer2", "customer", shop="shop", customer="C2")
    assert other.get(f"/reviews/{number}").status_code == 404
    assert act(other, number, "delete").status_code == 404
    theirs = rate(other, order)
    assert (theirs.status_code, theirs.json()["code"]) == (404, "order_not_found")
    assert review(number).state == "held"


def test_the_staff_cannot_rate_and_the_buyer_cannot_reply(apis, order):
    refused = rate(apis["agent"], order)
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    number = rated(apis["customer"], order, "negative")
    assert act(apis["customer"], number, "reply", {"reply": "hi"}).status_code == 403
    assert act(apis["agent"], number, "change", {"rating": "positive"}).status_code == 403
    assert act(apis["agent"], number, "publish").status_code == 403  # the clock's own
    assert apis["customer"].get("/reviews/summary").status_code == 403
    assert review(number).state == "held"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"rating": "great"}, "validation_error"),
        ({"rating": "positive", "text": "好" * 501}, "validation_error"),
        ({}, "validation_error"),
        ({"rating": "positive", "order_id": 0}, "validation_error"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(apis, order, body, code):
    response = apis["customer"].post("/reviews", {"order_id": order.id, **body})
    assert response.status_code == 422, response.content
    assert response.json()["code"] == code
    assert Review.objects.count() == 0


def test_bad_action_input_is_refused_and_changes_nothing(apis, order):
    number = rated(apis["customer"], order, "negative")
    assert (
        act(apis["agent"], number, "contact", {"channel": "pigeon"}).json()["code"]
        == "invalid_channel"
    )
    assert act(apis["agent"], number, "reply", {"reply": "  "}).json()["code"] == "reply_required"
    assert act(apis["agent"], number, "bogus").status_code == 404
    assert act(apis["customer"], number, "change", {}).json()["code"] == "rating_required"
    after = review(number)
    assert (after.reply, after.contacted_at, after.rating) == ("", None, "negative")


def test_the_document_declares_the_bodies(admin):
    document = admin.client.get("/api/v1/openapi.json").json()
    paths = document["paths"]
    assert {"/api/v1/reviews", "/api/v1/reviews/summary", "/api/v1/reviews/{number}"} <= set(paths)
    assert (
        paths["/api/v1/reviews/{number}/actions/change"]["post"]["operationId"] == "change_review"
    )
    schemas = document["components"]["schemas"]
    assert "#/components/schemas/Rating" in str(schemas["ChangeIn"]["properties"]["rating"])
    assert schemas["Rating"]["enum"] == ["positive", "neutral", "negative"]
    assert schemas["ReplyIn"]["properties"]["reply"]["maxLength"] == 500


# --- the portal ---------------------------------------------------------------------------------


def _portal(order) -> Client:
    client = Client()
    response = client.post("/", {"order": order.external_id, "phone": "13800000000"})
    assert response.status_code == 302, response.content
    return client


def test_the_buyer_rates_changes_and_deletes_on_the_portal(customer, order, clock):
    client = _portal(order)
    assert f"/reviews/order/{order.id}/" in client.get(f"/orders/{order.id}/").content.decode()
    form = client.get(f"/reviews/order/{order.id}/").content.decode()
    assert 'name="rating"' in form and "2026-12-07 24:00" in form
    refused = client.post(f"/reviews/order/{order.id}/", {"text": "没有评分"})
    assert refused.status_code == 422 and "data-error" in refused.content.decode()
    assert Review.objects.count() == 0
    done = client.post(f"/reviews/order/{order.id}/", {"rating": "negative", "text": "包装破损"})
    assert done.status_code == 302
    page = client.get(f"/reviews/order/{order.id}/").content.decode()
    assert "data-held" in page and 'data-action="change"' in page and 'data-action="delete"' in page
    assert 'data-action="contact"' not in page
    number = Review.objects.get().number
    changed = client.post(f"/reviews/{number}/act/change/", {"rating": "positive"})
    assert changed.status_code == 302
    assert review(number).state == "changed"
    assert client.post(f"/reviews/{number}/act/delete/").status_code == 422


def test_the_portal_never_shows_another_buyers_review(apis, order):
    number = rated(apis["customer"], order, "negative")
    theirs = make_order(external_id="O2", customer="C2")
    client = _portal(theirs)
    assert client.get(f"/reviews/order/{order.id}/").status_code == 404
    assert client.post(f"/reviews/{number}/act/delete/").status_code == 404
    assert review(number).state == "held"


def test_another_shops_desk_gets_a_404(apis, order):
    number = rated(apis["customer"], order, "negative")
    make_shop("other")
    user_create(username="stranger", role="agent", shop_codes=["other"], password="pw-x-1234567")
    client = Client()
    assert client.login(username="stranger", password="pw-x-1234567")
    assert client.get(f"/desk/reviews/{number}/").status_code == 404
    assert number not in client.get("/desk/reviews/").content.decode()


def test_the_tmall_portal_offers_no_change_or_deletion(db, clock):
    make_shop("s", preset="tmall")
    order = make_order(shop="s")
    client = _portal(order)
    assert client.post(f"/reviews/order/{order.id}/", {"rating": "negative"}).status_code == 302
    page = client.get(f"/reviews/order/{order.id}/").content.decode()
    assert "data-held" in page and "data-change-ends" not in page
    assert 'data-action="change"' not in page and 'data-action="delete"' not in page


def test_the_desk_shows_the_score_and_a_changed_reviews_story(apis, order, desk):
    number = rated(apis["customer"], order, "negative", "包装破损")
    act(apis["customer"], number, "change", {"rating": "positive", "text": "商家处理很好"})
    page = desk.get("/desk/reviews/").content.decode()
    assert "data-positive-rate>100%<" in page and "data-points>1<" in page
    assert 'data-review="' not in page  # nothing left to follow up
    detail = desk.get(f"/desk/reviews/{number}/").content.decode()
    assert 'data-state="changed"' in detail and "Negative → Positive" in detail
    assert 'data-action="reply"' in detail and 'data-action="contact"' not in detail


def test_the_portal_shows_the_automatic_positive_and_no_form(customer, order, clock):
    _start_reviews(SIGNED - dt.timedelta(days=1))
    reviews_open_due()
    client = _portal(order)
    assert 'name="rating"' in client.get(f"/reviews/order/{order.id}/").content.decode()
    clock.set(WINDOW_END)
    sweep()
    page = client.get(f"/reviews/order/{order.id}/").content.decode()
    assert "Given automatically" in page and 'name="rating"' not in page
    late = client.post(f"/reviews/order/{order.id}/", {"rating": "negative"})
    assert late.status_code == 422 and "2026-12-07 24:00" in late.content.decode()
    assert Review.objects.get().rating == "positive"


def test_the_bell_warns_before_a_held_review_is_shown_not_before_each_automatic_positive(
    apis, order, clock
):
    from aftersales.conversations.bell import deadline_warnings

    _start_reviews(SIGNED - dt.timedelta(days=1))
    reviews_open_due()
    pending = Review.objects.get()
    held = rated(apis["customer"], make_order(external_id="O2"), "negative")
    # within the warning time of both deadlines (two hours)
    clock.set(NOW + dt.timedelta(hours=47))
    assert review(held).deadline_at - clock.now == dt.timedelta(hours=1)
    assert deadline_warnings() == 1
    warned = Notice.objects.get(kind="deadline_soon")
    assert warned.subject_id == review(held).id
    clock.set(WINDOW_END - dt.timedelta(hours=1))
    assert deadline_warnings() == 0
    assert not Notice.objects.filter(kind="deadline_soon", subject_id=pending.id).exists()


# --- races on PostgreSQL -------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_buyer_and_worker_opening_one_orders_review_at_once_make_one(clock):
    from aftersales.reviews.services import review_open
    from tests.test_concurrency import race

    make_shop()
    order = make_order()
    results, errors = race(lambda i: review_open(order_id=order.id).id, count=8)
    assert errors == [] and len(set(results)) == 1
    assert Review.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ratings_racing_for_the_last_point_of_the_cap_count_once(clock):
    from aftersales.reviews.services import review_rate
    from tests.test_concurrency import race

    make_shop()
    orders = [make_order(external_id=f"P{i}") for i in range(13)]
    buyer = make_user("buyer", "customer", shop="shop", customer="C1").principal
    for order in orders[:5]:
        review_rate(actor=buyer, data={"order_id": order.id, "rating": "positive"})
    racing = orders[5:]
    counted, errors = race(
        lambda i: (
            review_rate(actor=buyer, data={"order_id": racing[i].id, "rating": "positive"}).counted
        ),
        count=len(racing),
    )
    assert errors == [] and sorted(counted) == [False] * 7 + [True]
    assert Review.objects.filter(counted=True).count() == 6
    assert ReviewTally.objects.get().positive_points == 6
