"""The inspection (鉴定): a case's goods sent to the platform's inspection center with a label,
received there, and judged genuine, counterfeit or inconclusive with a written report. Its
verdict is the case's proof (``cases.moves.inspection``); a counterfeit one records a violation
on the shop and grants the ten-fold compensation. Its timeline and notices are the kernel's."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models import Q

from aftersales.cases.choices import Authenticity, FeePayer
from aftersales.core.lifecycle import Stateful
from aftersales.core.models import TimestampedModel
from aftersales.inspections.choices import Sender

MONEY = {"max_digits": 12, "decimal_places": 2, "default": Decimal("0.00")}


class Inspection(Stateful, TimestampedModel):
    """One inspection of one case's goods. Its state only ever changes through
    ``inspections.services.inspection_transition``."""

    number = models.CharField(max_length=32, unique=True)
    shop = models.ForeignKey("catalog.Shop", on_delete=models.PROTECT, related_name="inspections")
    customer = models.ForeignKey(
        "catalog.Customer", on_delete=models.PROTECT, related_name="inspections"
    )
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="inspections")
    # The dispute it was sent from, if any (the platform decides the dispute with the verdict).
    dispute = models.ForeignKey(
        "disputes.Dispute",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inspections",
    )
    # The policy version it was opened under decides its due times and its fee.
    policy = models.ForeignKey("policy.Policy", on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    sender = models.CharField(max_length=10, choices=Sender.choices)
    # The code on the label that goes with the goods: the center confirms receipt by it.
    label = models.CharField(max_length=40, unique=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Whether opening paused the case's deadline (the end of the inspection restarts it).
    case_paused = models.BooleanField(default=False)
    carrier = models.CharField(max_length=100, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    verdict = models.CharField(max_length=20, choices=Authenticity.choices, blank=True)
    report = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by_name = models.CharField(max_length=150, blank=True)
    # The authentication fee and who owes it, per the policy's rule for the verdict.
    fee = models.DecimalField(**MONEY)
    fee_payer = models.CharField(max_length=10, choices=FeePayer.choices, blank=True)
    # What a counterfeit verdict did: the violation recorded on the shop, the compensation given.
    violation_number = models.CharField(max_length=32, blank=True)
    compensation_code = models.CharField(max_length=40, blank=True)
    compensation_amount = models.DecimalField(**MONEY)

    events = GenericRelation(
        "core.Event",
        content_type_field="subject_type",
        object_id_field="subject_id",
        related_query_name="inspection",
    )
    notices = GenericRelation(
        "core.Notice",
        content_type_field="subject_type",
        object_id_field="subject_id",
        related_query_name="inspection",
    )

    class Meta:
        indexes = [
            # The center's queue: inspections in a state, soonest due first.
            models.Index(fields=["state", "deadline_at", "id"], name="inspection_queue"),
            models.Index(fields=["shop", "state", "id"], name="inspection_shop"),
            # The worker: only inspections whose deadline still has an action to take.
            models.Index(
                fields=["deadline_at"], condition=~Q(deadline_action=""), name="inspection_due"
            ),
            models.Index(fields=["customer", "id"], name="inspection_customer"),
            models.Index(fields=["case", "state"], name="inspection_case"),
        ]

    def __str__(self) -> str:
        return self.number
