"""Violation points on a shop (违规扣分) and the penalties they bring: both are subjects of the
lifecycle kernel, their states change only through ``violations.services`` (the gate), their
timelines and notices are the kernel's (``core.models.Event``, ``core.models.Notice``). And the
shop's service score on the marketplace, with every change of it."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models import Q

from aftersales.core.lifecycle import Stateful
from aftersales.core.models import TimestampedModel
from aftersales.violations.choices import (
    AppealDecision,
    ScoreOrigin,
    ViolationClass,
    ViolationKind,
)


class Appealable(models.Model):
    """The one appeal a violation or a penalty may have: the shop's text, the platform's
    decision and its written reason."""

    appeal_text = models.TextField(blank=True, default="")
    appealed_at = models.DateTimeField(null=True, blank=True)
    appealed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    appeal_decision = models.CharField(
        max_length=10, choices=AppealDecision.choices, blank=True, default=""
    )
    decision_reason = models.TextField(blank=True, default="")
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        abstract = True


class Violation(Stateful, Appealable, TimestampedModel):
    """One violation recorded on a shop: its kind, class and points (from the policy version it
    was recorded under), the reason in words, the calculation (which rule, which points, the
    year's total before and after), who recorded it and when. Its points count toward its class's
    total of its ``year`` (the calendar year in the policy's ``violations.timezone``) unless it is
    withdrawn on appeal."""

    number = models.CharField(max_length=32, unique=True)
    shop = models.ForeignKey("catalog.Shop", on_delete=models.PROTECT, related_name="violations")
    policy = models.ForeignKey("policy.Policy", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=30, choices=ViolationKind.choices)
    violation_class = models.CharField(max_length=10, choices=ViolationClass.choices)
    points = models.PositiveIntegerField()
    year = models.PositiveIntegerField()
    reason = models.TextField()
    calculation = models.JSONField(default=dict)
    # What caused it, when another part recorded it (a dispute, an inspection): type and id.
    source_type = models.CharField(max_length=30, blank=True, default="")
    source_id = models.BigIntegerField(null=True, blank=True)
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_by_name = models.CharField(max_length=150)

    events = GenericRelation(
        "core.Event",
        content_type_field="subject_type",
        object_id_field="subject_id",
        related_query_name="violation",
    )

    class Meta:
        indexes = [
            # A class's total of a year.
            models.Index(
                fields=["shop", "year", "violation_class", "state"], name="violation_year"
            ),
            models.Index(fields=["state", "id"], name="violation_state"),
            models.Index(
                fields=["deadline_at"], condition=~Q(deadline_action=""), name="violation_due"
            ),
            models.Index(fields=["source_type", "source_id"], name="violation_source"),
        ]

    def __str__(self) -> str:
        return self.number


class Penalty(Stateful, Appealable, TimestampedModel):
    """What crossing a step of a class's points brings: measures on the shop from ``starts_at``
    to ``ends_at`` (none: permanent). It ends on its own at ``ends_at`` (the sweep); it may be
    appealed once; it is lifted when a withdrawn violation brings the total back below its step."""

    number = models.CharField(max_length=32, unique=True)
    shop = models.ForeignKey("catalog.Shop", on_delete=models.PROTECT, related_name="penalties")
    # The violation whose points crossed the step.
    violation = models.ForeignKey(Violation, on_delete=models.PROTECT, related_name="penalties")
    violation_class = models.CharField(max_length=10, choices=ViolationClass.choices)
    year = models.PositiveIntegerField()
    step_points = models.PositiveIntegerField()
    days = models.PositiveIntegerField(null=True, blank=True)
    measures = models.JSONField(default=list)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    calculation = models.JSONField(default=dict)

    events = GenericRelation(
        "core.Event",
        content_type_field="subject_type",
        object_id_field="subject_id",
        related_query_name="penalty",
    )

    class Meta:
        indexes = [
            models.Index(fields=["shop", "state", "ends_at"], name="penalty_shop_state"),
            models.Index(fields=["shop", "year", "violation_class"], name="penalty_year"),
            models.Index(
                fields=["deadline_at"], condition=~Q(deadline_action=""), name="penalty_due"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class ServiceScore(models.Model):
    """The shop's service score on the marketplace (0–5, two places): the one score that the
    disputes' autonomy bands (``autonomy.bands``) and the shipping insurance's premium
    (``insurance.score_bands``) read. A shop without a row has the full score, 5.00. Set only
    through ``violations.services.service_score_set``, which records every change."""

    shop = models.OneToOneField(
        "catalog.Shop", on_delete=models.CASCADE, related_name="service_score"
    )
    score = models.DecimalField(max_digits=3, decimal_places=2, default=Decimal("5.00"))
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=0) & Q(score__lte=5), name="service_score_0_to_5"
            )
        ]

    def __str__(self) -> str:
        return f"{self.shop_id}: {self.score}"


class ServiceScoreChange(models.Model):
    """One setting of a shop's service score: from what, to what, the written reason, who and
    when, so a shop can see why its score moved. ``origin`` says whether a person set it or the
    upgrade carried it over from the two scores it replaced."""

    shop = models.ForeignKey("catalog.Shop", on_delete=models.CASCADE, related_name="+")
    from_score = models.DecimalField(max_digits=3, decimal_places=2)
    to_score = models.DecimalField(max_digits=3, decimal_places=2)
    reason = models.TextField(blank=True, default="")
    origin = models.CharField(max_length=20, choices=ScoreOrigin.choices, default=ScoreOrigin.SET)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_by_name = models.CharField(max_length=150)
    changed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["shop", "-changed_at", "-id"], name="score_change_shop")]

    def __str__(self) -> str:
        return f"{self.shop_id}: {self.from_score} → {self.to_score}"
