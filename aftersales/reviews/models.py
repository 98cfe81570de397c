"""The review (评价) of a trade by its buyer, the tally that caps a buyer–shop pair's points in a
month, and the moment each shop's reviews began. A review's timeline and notices are the
kernel's (``core.models.Event``, ``core.models.Notice``)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models import Q

from aftersales.core.lifecycle import Stateful
from aftersales.core.models import TimestampedModel
from aftersales.reviews.choices import Rating


class Review(Stateful, TimestampedModel):
    """The one review of an order (a trade), by its customer. Its state only ever changes through
    ``reviews.services`` and the kernel's gate."""

    number = models.CharField(max_length=32, unique=True)
    shop = models.ForeignKey("catalog.Shop", on_delete=models.PROTECT, related_name="reviews")
    customer = models.ForeignKey(
        "catalog.Customer", on_delete=models.PROTECT, related_name="reviews"
    )
    order = models.OneToOneField("catalog.Order", on_delete=models.PROTECT, related_name="review")
    # The policy version the window opened under decides every rule of the review.
    policy = models.ForeignKey("policy.Policy", on_delete=models.PROTECT, related_name="+")
    trade_ended_at = models.DateTimeField()
    window_ends_at = models.DateTimeField()
    # The calendar month (in the platform's time zone) of the order's creation: the cap's month.
    score_month = models.CharField(max_length=7)

    rating = models.CharField(max_length=10, choices=Rating.choices, blank=True)
    text = models.TextField(blank=True)
    is_automatic = models.BooleanField(default=False)
    rated_at = models.DateTimeField(null=True, blank=True)
    # Whether the review counts in the shop's score (its rate and points), and its points there;
    # a review beyond the pair's monthly cap is shown but not counted (``over_cap``).
    counted = models.BooleanField(default=False)
    points = models.SmallIntegerField(default=0)
    over_cap = models.BooleanField(default=False)
    # The buyer's change (only to positive) or deletion.
    previous_rating = models.CharField(max_length=10, choices=Rating.choices, blank=True)
    changes_used = models.PositiveSmallIntegerField(default=0)
    changed_at = models.DateTimeField(null=True, blank=True)
    # The shop's follow-up while it is held, and its public reply.
    contacted_at = models.DateTimeField(null=True, blank=True)
    reply = models.TextField(blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    events = GenericRelation(
        "core.Event",
        content_type_field="subject_type",
        object_id_field="subject_id",
        related_query_name="review",
    )
    notices = GenericRelation(
        "core.Notice",
        content_type_field="subject_type",
        object_id_field="subject_id",
        related_query_name="review",
    )

    class Meta:
        indexes = [
            # The desk's follow-up queue: a shop's held reviews, soonest published first.
            models.Index(fields=["shop", "state", "deadline_at", "id"], name="review_queue"),
            # The worker: only reviews whose deadline still has an action to take.
            models.Index(
                fields=["deadline_at"], condition=~Q(deadline_action=""), name="review_due"
            ),
            models.Index(fields=["customer", "id"], name="review_customer"),
            # The shop's score: its counted reviews.
            models.Index(
                fields=["shop", "rating"], condition=Q(counted=True), name="review_counted"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class ReviewTally(models.Model):
    """The points one customer's reviews gave one shop in one calendar month (the month of the
    orders' creation): positive and negative each stop at the policy's ``pair_monthly_cap``.
    Locked while a review is counted, so two reviews of the pair never both take the last
    point."""

    shop = models.ForeignKey("catalog.Shop", on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey("catalog.Customer", on_delete=models.CASCADE, related_name="+")
    month = models.CharField(max_length=7)
    positive_points = models.PositiveIntegerField(default=0)
    negative_points = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "customer", "month"], name="review_tally_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.shop_id}/{self.customer_id} {self.month}"


class ReviewStart(models.Model):
    """When reviews began for a shop: the worker opens a review for each order signed from then
    on; an order signed before gets one only when its buyer rates it."""

    shop = models.OneToOneField(
        "catalog.Shop", on_delete=models.CASCADE, related_name="review_start"
    )
    since = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.shop_id} since {self.since}"
