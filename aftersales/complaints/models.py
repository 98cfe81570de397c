"""The complaint (投诉): a customer's grievance about the shop's conduct, worked through the
complaint-handling stages. Its timeline and notices are the kernel's (``core.models.Event``,
``core.models.Notice``)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models import Q

from aftersales.complaints.choices import ComplaintType, Satisfaction, Solution
from aftersales.core.lifecycle import Stateful
from aftersales.core.models import TimestampedModel


class Complaint(Stateful, TimestampedModel):
    """A complaint against one shop, by one customer, usually about one order. Its state (its
    stage) only ever changes through ``complaints.services.complaint_transition``."""

    number = models.CharField(max_length=32, unique=True)
    shop = models.ForeignKey("catalog.Shop", on_delete=models.PROTECT, related_name="complaints")
    customer = models.ForeignKey(
        "catalog.Customer", on_delete=models.PROTECT, related_name="complaints"
    )
    order = models.ForeignKey(
        "catalog.Order",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="complaints",
    )
    # The policy version the complaint was filed under decides its due times.
    policy = models.ForeignKey("policy.Policy", on_delete=models.PROTECT, related_name="+")
    type = models.CharField(max_length=30, choices=ComplaintType.choices)
    description = models.TextField()

    # Who works the stage it is in (a member of the shop's staff), and when that stage is due.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    stage_started_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)

    acknowledged_at = models.DateTimeField(null=True, blank=True)
    root_cause = models.TextField(blank=True)
    solution_kind = models.CharField(max_length=20, choices=Solution.choices, blank=True)
    solution = models.TextField(blank=True)
    # What was done, as the customer was told.
    outcome = models.TextField(blank=True)
    answer = models.CharField(max_length=20, choices=Satisfaction.choices, blank=True)
    answer_note = models.TextField(blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # Cases and orders of the same shop and customer that the complaint concerns.
    linked_cases = models.ManyToManyField("cases.Case", blank=True, related_name="complaints")
    linked_orders = models.ManyToManyField(
        "catalog.Order", blank=True, related_name="linked_complaints"
    )

    events = GenericRelation(
        "core.Event",
        content_type_field="subject_type",
        object_id_field="subject_id",
        related_query_name="complaint",
    )
    notices = GenericRelation(
        "core.Notice",
        content_type_field="subject_type",
        object_id_field="subject_id",
        related_query_name="complaint",
    )

    class Meta:
        indexes = [
            # The desk's list: a shop's complaints in a stage, soonest due first.
            models.Index(fields=["shop", "state", "due_at", "id"], name="complaint_queue"),
            models.Index(fields=["shop", "due_at", "id"], name="complaint_shop_due"),
            # The worker: only complaints whose deadline still has an action to take.
            models.Index(
                fields=["deadline_at"], condition=~Q(deadline_action=""), name="complaint_due"
            ),
            models.Index(fields=["customer", "id"], name="complaint_customer"),
            models.Index(fields=["order"], name="complaint_order"),
        ]

    def __str__(self) -> str:
        return self.number
