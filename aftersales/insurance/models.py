"""Shipping insurance (运费险): the cover of an order (its quote with the
inputs it was priced from), the claims paid on its return cases, and the abuse flags a platform
operator reviews. The cover and the flag are subjects of the lifecycle kernel. The shop's service
score the premium is graded by is the violations app's one score (``violations.ServiceScore``)."""

from __future__ import annotations

from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models import Q

from aftersales.core.lifecycle import Stateful
from aftersales.core.models import TimestampedModel

MONEY = {"max_digits": 12, "decimal_places": 2}


class Cover(Stateful, TimestampedModel):
    """The shipping insurance of one order: quoted (with the inputs its premium was priced from)
    and then insured. Its state only changes through ``services`` (the kernel's gate)."""

    shop = models.ForeignKey("catalog.Shop", on_delete=models.PROTECT, related_name="+")
    order = models.OneToOneField(
        "catalog.Order", on_delete=models.PROTECT, related_name="insurance_cover"
    )
    customer = models.ForeignKey("catalog.Customer", on_delete=models.PROTECT, related_name="+")
    # The policy version the quote was priced under: its cap pays the claims.
    policy = models.ForeignKey("policy.Policy", on_delete=models.PROTECT, related_name="+")
    premium = models.DecimalField(**MONEY)
    # The inputs, stored with the quote (``inputs`` has the whole calculation).
    formula_version = models.PositiveSmallIntegerField()
    service_score = models.DecimalField(max_digits=3, decimal_places=2)
    returns_counted = models.PositiveIntegerField()
    score_factor = models.DecimalField(max_digits=5, decimal_places=2)
    returns_factor = models.DecimalField(max_digits=5, decimal_places=2)
    inputs = models.JSONField(default=dict)
    quoted_at = models.DateTimeField()
    insured_at = models.DateTimeField(null=True, blank=True)

    events = GenericRelation(
        "core.Event",
        content_type_field="subject_type",
        object_id_field="subject_id",
        related_query_name="insurance_cover",
    )

    class Meta:
        indexes = [
            models.Index(fields=["shop", "state", "id"], name="cover_shop_state"),
            models.Index(fields=["customer", "id"], name="cover_customer"),
            models.Index(
                fields=["deadline_at"], condition=~Q(deadline_action=""), name="cover_due"
            ),
        ]

    def __str__(self) -> str:
        return f"cover {self.pk} of order {self.order_id}"

    @property
    def number(self) -> str:
        return str(self.pk)


class Claim(models.Model):
    """A claim paid on one return case of an insured order: the return shipping up to the cap.
    Money from the insurer to the buyer, not a refund of the shop (it is not in the refund
    ledger). At most one per case."""

    cover = models.ForeignKey(Cover, on_delete=models.PROTECT, related_name="claims")
    shop = models.ForeignKey("catalog.Shop", on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey("catalog.Customer", on_delete=models.PROTECT, related_name="+")
    case = models.OneToOneField(
        "cases.Case", on_delete=models.PROTECT, related_name="insurance_claim"
    )
    # What the buyer says the return shipment cost, and where they sent it from.
    stated_postage = models.DecimalField(**MONEY)
    sender_address = models.CharField(max_length=500)
    # The address reduced for comparison (``signals.address_key``).
    address_key = models.CharField(max_length=500)
    payout_cap = models.DecimalField(**MONEY)
    payout = models.DecimalField(**MONEY)
    # The postage on the carrier's bill, when the shop records it.
    actual_postage = models.DecimalField(**MONEY, null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["shop", "address_key"], name="claim_shop_address"),
            models.Index(fields=["customer", "created_at"], name="claim_customer"),
        ]

    def __str__(self) -> str:
        return f"claim on case {self.case_id}"


class AbuseFlag(Stateful, TimestampedModel):
    """A buyer flagged for review: the signals found, each with its calculation; a platform
    operator clears it or confirms the abuse, with a written reason."""

    shop = models.ForeignKey("catalog.Shop", on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey("catalog.Customer", on_delete=models.PROTECT, related_name="+")
    # [{"signal": …, "calculation": …, "value": …, "threshold": …, …}]
    reasons = models.JSONField(default=list)
    # What the reasons rest on: a new flag is raised only when it differs from the last one's.
    signature = models.CharField(max_length=200)
    review_reason = models.TextField(blank=True)
    reviewed_by = models.CharField(max_length=150, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)

    events = GenericRelation(
        "core.Event",
        content_type_field="subject_type",
        object_id_field="subject_id",
        related_query_name="insurance_flag",
    )

    class Meta:
        indexes = [
            models.Index(fields=["state", "id"], name="flag_state"),
            models.Index(fields=["customer", "id"], name="flag_customer"),
            models.Index(fields=["deadline_at"], condition=~Q(deadline_action=""), name="flag_due"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=Q(state="open"), name="one_open_flag_per_buyer"
            )
        ]

    def __str__(self) -> str:
        return f"flag {self.pk}"

    @property
    def number(self) -> str:
        return str(self.pk)
