"""The review's moves: opening its window, the buyer's rating, the clock's automatic positive
and publication after the hold, the buyer's change (only to positive) or deletion, and the shop's
follow-up (a logged contact) and public reply. Each action's typed input is its API body and its
form."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aftersales.cases.moves.common import labelled, required_text, text
from aftersales.cases.trade import trade_ended_at
from aftersales.catalog.models import Order
from aftersales.core.errors import Ineligible, NotFound
from aftersales.core.lifecycle import ActionInput, Context
from aftersales.core.schemas import WholeId
from aftersales.core.timeline import readable_time
from aftersales.policy.services import policy_current
from aftersales.reviews.choices import Rating, ReviewState
from aftersales.reviews.models import Review
from aftersales.reviews.rules import change_end, review_rules, score_month, window_end
from aftersales.reviews.score import count_in, count_out
from aftersales.team.models import ContactChannel

ReviewText = text(500, gettext_noop("Your review"), widget="textarea")


class ReviewOpenIn(ActionInput):
    """Open the review window of a signed order (the worker, or the buyer's first rating)."""

    order_id: labelled(WholeId, gettext_noop("Order"))


class RateIn(ActionInput):
    """Rate the order within the review window: positive, neutral or negative, with words."""

    rating: labelled(Rating, gettext_noop("Rating"))
    text: ReviewText = ""


class ChangeIn(ActionInput):
    """Change a neutral or negative review, once, within the change period: only to positive."""

    rating: labelled(Rating, gettext_noop("New rating"))
    text: ReviewText = ""


class DeleteIn(ActionInput):
    """Delete a neutral or negative review within the change period."""


class ContactIn(ActionInput):
    """The shop reached the buyer about a neutral or negative review (staff only)."""

    channel: labelled(ContactChannel, gettext_noop("Channel"))
    note: text(2000, gettext_noop("Note"), widget="textarea") = ""


class ReplyIn(ActionInput):
    """The shop's public reply under the review (shown to everyone who reads it)."""

    reply: required_text(500, gettext_noop("Reply"), widget="textarea")


# --- opening --------------------------------------------------------------------------------------


def review_number(review: Review, now: dt.datetime) -> str:
    """``PJ`` + the shop's local date + the review id, e.g. ``PJ20261124000042``."""
    day = now.astimezone(zoneinfo.ZoneInfo(review.shop.timezone)).strftime("%Y%m%d")
    return f"PJ{day}{review.id:06d}"


def open_review(review: Review, ctx: Context) -> None:
    """The window of a trade that ended: from its end, ``window_days`` days, fixed now."""
    order = Order.objects.select_related("shop", "customer").filter(pk=ctx.input.order_id).first()
    if order is None:
        raise NotFound(_("No order %(id)s.") % {"id": ctx.input.order_id}, code="order_not_found")
    ended = trade_ended_at(order)
    if ended is None:
        raise Ineligible(
            _("Order %(order)s can be reviewed once it is signed for.")
            % {"order": order.external_id},
            code="trade_not_ended",
        )
    policy = policy_current(shop=order.shop)
    review.number = f"~{uuid.uuid4().hex[:30]}"  # replaced once the id exists
    review.shop, review.customer, review.order, review.policy = (
        order.shop,
        order.customer,
        order,
        policy,
    )
    review.trade_ended_at = ended
    review.window_ends_at = window_end(
        trade_ended_at=ended, policy=policy, timezone=order.shop.timezone
    )
    review.score_month = score_month(order, policy)

    def after_insert(review: Review) -> None:
        review.number = review_number(review, ctx.now)
        Review.objects.filter(pk=review.pk).update(number=review.number)

    ctx.after_insert.append(after_insert)
    ctx.event_data.update(order=order.external_id, window_ends_at=review.window_ends_at.isoformat())


# --- the buyer's rating and the clock's ---------------------------------------------------------


def window_closed(review: Review) -> Ineligible:
    return Ineligible(
        _("The %(days)s-day review window of order %(order)s ended at %(end)s.")
        % {
            "days": review_rules(review.policy)["window_days"],
            "order": review.order.external_id,
            "end": readable_time(review.window_ends_at, review.shop.timezone, ends_period=True),
        },
        code="review_window_closed",
        window_end=review.window_ends_at.isoformat(),
    )


def check_window(review: Review, ctx: Context) -> None:
    if ctx.now >= review.window_ends_at:
        raise window_closed(review)


def rate(review: Review, ctx: Context) -> None:
    """A positive review is shown at once; a neutral or negative one is held (not shown, not
    counted) for the shop to reach the buyer."""
    data: RateIn = ctx.input
    review.rating, review.text, review.rated_at = data.rating, data.text, ctx.now
    if data.rating == Rating.POSITIVE:
        count_in(review)
    ctx.event_data.update(rating=data.rating, text=data.text)


def after_rating(review: Review) -> str:
    return ReviewState.PUBLISHED if review.rating == Rating.POSITIVE else ReviewState.HELD


def auto_positive(review: Review, ctx: Context) -> None:
    review.rating, review.is_automatic, review.rated_at = Rating.POSITIVE, True, ctx.now
    count_in(review)
    ctx.event_data.update(rating=Rating.POSITIVE, counted=review.counted)


def publish(review: Review, ctx: Context) -> None:
    count_in(review)
    ctx.event_data.update(counted=review.counted, over_cap=review.over_cap)


# --- the buyer's change or deletion -------------------------------------------------------------


def check_changeable(review: Review, now: dt.datetime, *, deleting: bool) -> None:
    """Refuse a change (or a deletion) the policy or the period does not allow now."""
    rules = review_rules(review.policy)
    if deleting and not rules["may_delete"]:
        raise Ineligible(
            _("Under this shop's rules a review cannot be deleted."),
            code="review_delete_not_allowed",
        )
    if not deleting and rules["changes"] == 0:
        raise Ineligible(
            _("Under this shop's rules a review cannot be changed."),
            code="review_change_not_allowed",
        )
    if review.rating == Rating.POSITIVE:
        raise Ineligible(
            _("A positive review cannot be changed or deleted."),
            code="review_change_not_allowed",
        )
    if not deleting and review.changes_used >= rules["changes"]:
        raise Ineligible(
            _("This review was already changed; it can be changed only %(times)s time(s).")
            % {"times": rules["changes"]},
            code="review_change_used",
        )
    end = change_end(rated_at=review.rated_at, policy=review.policy, timezone=review.shop.timezone)
    if now >= end:
        raise Ineligible(
            _("A review can be changed or deleted within %(days)s days; that ended at %(end)s.")
            % {
                "days": rules["change_days"],
                "end": readable_time(end, review.shop.timezone, ends_period=True),
            },
            code="review_change_window_closed",
            change_end=end.isoformat(),
        )


def check_change(review: Review, ctx: Context) -> None:
    check_changeable(review, ctx.now, deleting=False)
    if ctx.input.rating != Rating.POSITIVE:
        raise Ineligible(
            _("A review can only be changed to positive."),
            code="review_change_only_positive",
            field="rating",
        )


def check_delete(review: Review, ctx: Context) -> None:
    check_changeable(review, ctx.now, deleting=True)


def change(review: Review, ctx: Context) -> None:
    data: ChangeIn = ctx.input
    count_out(review)
    review.previous_rating, review.rating = review.rating, Rating.POSITIVE
    if data.text:
        review.text = data.text
    review.changes_used += 1
    review.changed_at = ctx.now
    count_in(review)
    ctx.notify("review_changed")
    ctx.event_data.update(
        previous_rating=review.previous_rating, rating=review.rating, text=data.text
    )


def delete(review: Review, ctx: Context) -> None:
    count_out(review)
    ctx.notify("review_deleted")
    ctx.event_data.update(rating=review.rating)


# --- the shop's follow-up -----------------------------------------------------------------------


def contact(review: Review, ctx: Context) -> None:
    data: ContactIn = ctx.input
    review.contacted_at = ctx.now
    ctx.event_data.update(channel=data.channel, note=data.note)


def reply(review: Review, ctx: Context) -> None:
    review.reply, review.replied_at, review.replied_by_id = (
        ctx.input.reply,
        ctx.now,
        ctx.actor.user_id,
    )
    ctx.event_data.update(reply=ctx.input.reply)
