"""Reviews over HTTP: parse, authorise, call a service or selector, present. Every read is
scoped to the caller: another shop's or another customer's review answers 404."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from aftersales.core.actors import Principal
from aftersales.core.api import add_action_operations
from aftersales.core.schemas import ERROR_RESPONSES, page_limit, refuse_unknown_parameters
from aftersales.reviews import selectors, services
from aftersales.reviews.choices import Rating, ReviewState
from aftersales.reviews.lifecycle import REVIEWS, available_actions
from aftersales.reviews.models import Review
from aftersales.reviews.rules import change_end
from aftersales.reviews.schemas import (
    ReviewIn,
    ReviewOut,
    ReviewPage,
    ReviewSummaryOut,
    ScoreSummaryOut,
)
from aftersales.reviews.timeline import events_for

router = Router(tags=["reviews"])


def present_row(review: Review, principal: Principal) -> dict:
    staff = principal.is_staff or principal.is_system
    return {
        "number": review.number,
        "shop": review.shop.code,
        "order_external_id": review.order.external_id,
        "customer": {"external_id": review.customer.external_id, "name": review.customer.name},
        "state": review.state,
        "state_label": str(ReviewState(review.state).label),
        "rating": review.rating or None,
        "rating_label": str(Rating(review.rating).label) if review.rating else "",
        "text": review.text,
        "is_automatic": review.is_automatic,
        "rated_at": review.rated_at,
        "window_ends_at": review.window_ends_at,
        "deadline_at": review.deadline_at,
        "deadline_action": (review.deadline_action or None) if staff else None,
        "counted": review.counted,
        "points": review.points,
        "over_cap": review.over_cap,
        "score_month": review.score_month,
        "reply": review.reply,
        "replied_at": review.replied_at,
        "created_at": review.created_at,
    }


def change_ends_at(review: Review):
    if review.rated_at is None or review.rating in ("", Rating.POSITIVE):
        return None
    return change_end(rated_at=review.rated_at, policy=review.policy, timezone=review.shop.timezone)


def present_review(review: Review, principal: Principal) -> dict:
    staff = principal.is_staff or principal.is_system
    return {
        **present_row(review, principal),
        "policy_version": review.policy.version,
        "previous_rating": review.previous_rating or None,
        "changes_used": review.changes_used,
        "changed_at": review.changed_at,
        "change_ends_at": change_ends_at(review),
        "contacted_at": review.contacted_at if staff else None,
        "customer_phone": review.customer.phone if staff else None,
        "customer_email": review.customer.email if staff else None,
        "order_cases": [case.number for case in review.order.cases.all()],
        "available_actions": available_actions(review, principal.role_in(review.shop_id)),
        "events": [
            dataclasses.asdict(entry) for entry in events_for(principal, review.events.all())
        ],
    }


@router.post("/reviews", response={201: ReviewOut, **ERROR_RESPONSES})
def create_review(request: HttpRequest, payload: ReviewIn):
    """Review a signed order (the buyer): positive is shown at once, neutral or negative is held
    for the shop to follow up first."""
    actor = request.auth
    review = services.review_rate(actor=actor, data=payload.model_dump(mode="json"))
    return Status(
        201, present_review(selectors.review_get(actor=actor, number=review.number), actor)
    )


# Ids the database can hold (a larger number would overflow SQLite: refused by the document).
RowId = Annotated[int, Field(ge=1, le=2**63 - 1)]


class ReviewQuery(Schema):
    state: list[ReviewState] | None = None
    rating: Rating | None = None
    shop: str | None = None
    order_id: RowId | None = None
    cursor: RowId | None = None
    limit: int = 50


@router.get("/reviews", response={200: ReviewPage, **ERROR_RESPONSES})
def list_reviews(request: HttpRequest, query: Query[ReviewQuery]):
    """The caller's reviews (a buyer's own, the staff's shops'), newest first."""
    refuse_unknown_parameters(request, ReviewQuery)
    actor = request.auth
    rows, next_cursor = selectors.review_list(
        actor=actor,
        filters=selectors.ReviewFilters(
            state=query.state, rating=query.rating, shop=query.shop, order_id=query.order_id
        ),
        cursor=query.cursor,
        limit=page_limit(query.limit),
    )
    return {"items": [present_row(row, actor) for row in rows], "next_cursor": next_cursor}


class SummaryQuery(Schema):
    shop: str | None = None


@router.get("/reviews/summary", response={200: ScoreSummaryOut, **ERROR_RESPONSES})
def review_score(request: HttpRequest, query: Query[SummaryQuery]):
    """A shop's review score (staff): points, counts by rating, positive rate."""
    refuse_unknown_parameters(request, SummaryQuery)
    return selectors.review_summary(actor=request.auth, shop=query.shop)


@router.get("/reviews/follow-up", response={200: list[ReviewSummaryOut], **ERROR_RESPONSES})
def list_reviews_to_follow_up(request: HttpRequest):
    """The held neutral and negative reviews of the caller's shops, soonest shown first."""
    actor = request.auth
    return [present_row(review, actor) for review in selectors.followup_queue(actor=actor)]


@router.get("/reviews/{number}", response={200: ReviewOut, **ERROR_RESPONSES})
def get_review(request: HttpRequest, number: str):
    actor = request.auth
    return present_review(selectors.review_get(actor=actor, number=number), actor)


def _take(request: HttpRequest, number: str, action: str, payload: dict | None):
    actor = request.auth
    review_id = selectors.review_id_for(actor=actor, number=number)
    services.review_transition(review_id=review_id, action=action, actor=actor, data=payload or {})
    return present_review(selectors.review_get(actor=actor, number=number), actor)


add_action_operations(
    router,
    REVIEWS,
    path="/reviews/{number}/actions/",
    noun="review",
    take=_take,
    response=ReviewOut,
)
