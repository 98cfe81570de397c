"""Reads of reviews, always scoped to the caller: a customer their own, staff their shops'. The
follow-up queue (held reviews, soonest shown first) and a shop's score."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from aftersales.cases.models import Case
from aftersales.catalog.models import Shop
from aftersales.core.actors import Principal
from aftersales.core.errors import InvalidInput, NotFound
from aftersales.core.models import Event
from aftersales.core.permissions import narrowed
from aftersales.reviews.choices import SHOWN_STATES, Rating, ReviewState
from aftersales.reviews.models import Review


def reviews_for(actor: Principal) -> QuerySet[Review]:
    return actor.scope(Review.objects.all())


def _not_found(number: str) -> NotFound:
    return NotFound(_("No review %(number)s.") % {"number": number}, code="review_not_found")


def review_get(*, actor: Principal, number: str) -> Review:
    """One review with everything its page shows, in a fixed number of queries."""
    review = (
        reviews_for(actor)
        .select_related("shop", "customer", "order", "policy", "replied_by")
        .prefetch_related(
            Prefetch("events", queryset=Event.objects.order_by("at", "id")),
            Prefetch(
                "order__cases",
                queryset=Case.objects.order_by("id").only("id", "number", "order_id", "state"),
            ),
        )
        .filter(number=number)
        .first()
    )
    if review is None:
        raise _not_found(number)
    return review


def review_id_for(*, actor: Principal, number: str) -> int:
    found = reviews_for(actor).filter(number=number).values_list("id", flat=True).first()
    if found is None:
        raise _not_found(number)
    return found


def review_of_order(*, actor: Principal, order_id: int) -> Review | None:
    return (
        reviews_for(actor)
        .select_related("shop", "customer", "order", "policy")
        .prefetch_related(Prefetch("events", queryset=Event.objects.order_by("at", "id")))
        .filter(order_id=order_id)
        .first()
    )


@dataclass(frozen=True)
class ReviewFilters:
    state: list[str] | None = None
    rating: str | None = None
    shop: str | None = None
    order_id: int | None = None


def review_list(
    *, actor: Principal, filters: ReviewFilters, cursor: int | None = None, limit: int = 50
) -> tuple[list[Review], int | None]:
    """A page of reviews, newest first; the cursor is the last row's id."""
    reviews = reviews_for(actor).select_related("shop", "customer", "order")
    if filters.state:
        reviews = reviews.filter(state__in=filters.state)
    if filters.rating:
        reviews = reviews.filter(rating=filters.rating)
    if filters.shop:
        reviews = reviews.filter(shop__code=filters.shop)
    if filters.order_id:
        reviews = reviews.filter(order_id=filters.order_id)
    if cursor:
        reviews = reviews.filter(id__lt=cursor)
    rows = list(reviews.order_by("-id")[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = rows[-1].id
    return rows, next_cursor


def followup_queue(*, actor: Principal, limit: int = 200) -> list[Review]:
    """The held (neutral and negative) reviews of the caller's shops, soonest shown first, with
    the buyer's contact and the order's cases."""
    return list(
        reviews_for(narrowed(actor, "desk.use"))
        .filter(state=ReviewState.HELD)
        .select_related("shop", "customer", "order")
        .prefetch_related(
            Prefetch(
                "order__cases",
                queryset=Case.objects.order_by("id").only("id", "number", "order_id", "state"),
            )
        )
        .order_by("deadline_at", "id")[:limit]
    )


def _shop_for(actor: Principal, code: str | None) -> Shop:
    """The shop whose score is asked: named by code, or the caller's only shop."""
    readable = narrowed(actor, "desk.use")
    shops = Shop.objects.all()
    if readable.shop_ids is not None:
        shops = shops.filter(id__in=readable.shop_ids)
    if code:
        shop = shops.filter(code=code).first()
        if shop is None:
            raise NotFound(_("No shop %(code)s.") % {"code": code}, code="shop_not_found")
        return shop
    only = list(shops.order_by("id")[:2])
    if len(only) != 1:
        raise InvalidInput(
            _("%(field)s is required for this action.") % {"field": _("Shop")},
            code="shop_required",
            field="shop",
        )
    return only[0]


def review_summary(*, actor: Principal, shop: str | None = None) -> dict:
    """A shop's score: the counted reviews by rating, their points, the positive rate (positive
    among counted ratings), and how many are held or waiting for the buyer."""
    chosen = _shop_for(actor, shop)
    reviews = Review.objects.filter(shop=chosen)
    counted = reviews.filter(counted=True, state__in=SHOWN_STATES).aggregate(
        positive=Count("id", filter=Q(rating=Rating.POSITIVE)),
        neutral=Count("id", filter=Q(rating=Rating.NEUTRAL)),
        negative=Count("id", filter=Q(rating=Rating.NEGATIVE)),
        points=Sum("points"),
    )
    states = dict(
        reviews.filter(state__in=[ReviewState.HELD, ReviewState.PENDING])
        .values("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    shown = reviews.filter(state__in=SHOWN_STATES).aggregate(
        shown=Count("id"), not_counted=Count("id", filter=Q(counted=False))
    )
    rated = counted["positive"] + counted["neutral"] + counted["negative"]
    rate = (
        (Decimal(counted["positive"]) / Decimal(rated)).quantize(
            Decimal("0.0001"), rounding=ROUND_HALF_UP
        )
        if rated
        else None
    )
    return {
        "shop": chosen.code,
        "points": counted["points"] or 0,
        "positive": counted["positive"],
        "neutral": counted["neutral"],
        "negative": counted["negative"],
        "positive_rate": rate,
        "shown": shown["shown"],
        "not_counted": shown["not_counted"],
        "held": states.get(ReviewState.HELD, 0),
        "pending": states.get(ReviewState.PENDING, 0),
    }
