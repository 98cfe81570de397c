"""Counting a review in its shop's score: +1 / 0 / −1, the automatic positive only when the
policy scores it, and at most ``pair_monthly_cap`` positive and as many negative points between
one customer and one shop in a calendar month; a review beyond the cap is shown, not counted.

The pair's month is a locked ``ReviewTally`` row written at once (not at the end of a sweep's
batch), so two reviews of one pair in one batch, or in two workers, see each other's points."""

from __future__ import annotations

from aftersales.reviews.choices import POINTS
from aftersales.reviews.models import Review, ReviewTally
from aftersales.reviews.rules import review_rules


def _tally(review: Review) -> ReviewTally:
    ReviewTally.objects.get_or_create(
        shop_id=review.shop_id, customer_id=review.customer_id, month=review.score_month
    )
    return ReviewTally.objects.select_for_update().get(
        shop_id=review.shop_id, customer_id=review.customer_id, month=review.score_month
    )


def count_in(review: Review) -> None:
    """Count the review's rating as it is now (it is being shown)."""
    rules = review_rules(review.policy)
    review.points, review.counted, review.over_cap = 0, False, False
    if review.is_automatic and not rules["auto_positive_scored"]:
        return  # 如双方未评价,由系统自动评价则不计分
    points = POINTS[review.rating]
    if points == 0:
        review.counted = True  # neutral: no points, but it weighs on the positive rate
        return
    tally = _tally(review)
    field = "positive_points" if points > 0 else "negative_points"
    if getattr(tally, field) + abs(points) > rules["pair_monthly_cap"]:
        review.over_cap = True
        return
    setattr(tally, field, getattr(tally, field) + abs(points))
    tally.save(update_fields=[field])
    review.points, review.counted = points, True


def count_out(review: Review) -> None:
    """Take the review's points back out of its pair's month (it changes or goes)."""
    if review.counted and review.points:
        tally = _tally(review)
        field = "positive_points" if review.points > 0 else "negative_points"
        setattr(tally, field, max(0, getattr(tally, field) - abs(review.points)))
        tally.save(update_fields=[field])
    review.points, review.counted, review.over_cap = 0, False, False
