"""API shapes of reviews (types only; rules live in the moves and services). The bodies of the
actions are the actions' own typed inputs (``reviews.moves``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import Field

from aftersales.cases.moves.common import labelled
from aftersales.cases.schemas import CustomerRef, EventOut
from aftersales.core.schemas import Input, Output, WholeId
from aftersales.reviews.choices import Rating, ReviewState
from aftersales.reviews.moves import ReviewText


class ReviewIn(Input):
    """Review one of your signed orders within its review window."""

    order_id: WholeId
    rating: labelled(Rating, "Rating")
    text: ReviewText = ""


class ReviewSummaryOut(Output):
    """A review as a list shows it. The buyer's words are shown once it is published; the
    buyer's contact only to the shop's staff."""

    number: str
    shop: str
    order_external_id: str
    customer: CustomerRef
    state: ReviewState
    state_label: str
    rating: Rating | None
    rating_label: str
    text: str
    is_automatic: bool
    rated_at: dt.datetime | None
    # The end of the review window; the end of the hold while held (the next automatic step).
    window_ends_at: dt.datetime
    deadline_at: dt.datetime | None
    deadline_action: str | None
    # Counted in the shop's score, its points there, and whether the pair's monthly cap left it
    # out.
    counted: bool
    points: int = Field(ge=-1, le=1)
    over_cap: bool
    score_month: str
    reply: str
    replied_at: dt.datetime | None
    created_at: dt.datetime


class ReviewOut(ReviewSummaryOut):
    policy_version: int
    previous_rating: Rating | None
    changes_used: int
    changed_at: dt.datetime | None
    # Until when the buyer may change or delete it (neutral and negative reviews only).
    change_ends_at: dt.datetime | None
    contacted_at: dt.datetime | None
    customer_phone: str | None
    customer_email: str | None
    order_cases: list[str]
    available_actions: list[str]
    events: list[EventOut]


class ReviewPage(Output):
    items: list[ReviewSummaryOut]
    next_cursor: int | None


class ScoreSummaryOut(Output):
    """A shop's score: counted reviews by rating, their points (+1 / 0 / −1, within each
    buyer's monthly cap), the positive rate among them, and what is still held or pending."""

    shop: str
    points: int
    positive: int
    neutral: int
    negative: int
    positive_rate: Decimal | None = Field(ge=0, le=1)
    shown: int
    not_counted: int
    held: int
    pending: int
