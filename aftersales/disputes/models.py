"""The dispute (维权 / 平台介入): a buyer asks the platform to step in on one after-sales case. Its
evidence from both sides, the platform's decisions (the first, and the review of the shop's
appeal), the jury that may decide it (小法庭). Its timeline and notices are the kernel's. The
shop's service score that grades how far the platform may overrule the shop is the violations
app's one score (``violations.ServiceScore``)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models import Q

from aftersales.core.lifecycle import Stateful
from aftersales.core.models import TimestampedModel
from aftersales.disputes.choices import (
    DisputeClass,
    DisputeKind,
    EvidenceKind,
    Outcome,
    ReviewResult,
    Side,
)

MONEY = {"max_digits": 12, "decimal_places": 2, "default": Decimal("0.00")}


class Dispute(Stateful, TimestampedModel):
    """A buyer's dispute about one case. Its state only ever changes through
    ``disputes.services.dispute_transition``."""

    number = models.CharField(max_length=32, unique=True)
    shop = models.ForeignKey("catalog.Shop", on_delete=models.PROTECT, related_name="disputes")
    customer = models.ForeignKey(
        "catalog.Customer", on_delete=models.PROTECT, related_name="disputes"
    )
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="disputes")
    # The policy version the dispute was opened under decides its windows and its autonomy.
    policy = models.ForeignKey("policy.Policy", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=DisputeKind.choices)
    dispute_class = models.CharField(max_length=20, choices=DisputeClass.choices)
    statement = models.TextField()
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Whether the case's deadline was paused on opening (an after-sale dispute about an ended
    # case pauses nothing).
    case_paused = models.BooleanField(default=False)
    # The decision in force: the first, or the review's.
    decision = models.ForeignKey(
        "Decision", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    appeals = models.PositiveSmallIntegerField(default=0)
    appeal_reason = models.TextField(blank=True)
    appealed_at = models.DateTimeField(null=True, blank=True)

    events = GenericRelation(
        "core.Event",
        content_type_field="subject_type",
        object_id_field="subject_id",
        related_query_name="dispute",
    )
    notices = GenericRelation(
        "core.Notice",
        content_type_field="subject_type",
        object_id_field="subject_id",
        related_query_name="dispute",
    )

    class Meta:
        indexes = [
            # The operator's queue: disputes in a state, soonest due first.
            models.Index(fields=["state", "deadline_at", "id"], name="dispute_queue"),
            models.Index(fields=["shop", "state", "id"], name="dispute_shop"),
            # The worker: only disputes whose deadline still has an action to take.
            models.Index(
                fields=["deadline_at"], condition=~Q(deadline_action=""), name="dispute_due"
            ),
            models.Index(fields=["customer", "id"], name="dispute_customer"),
            models.Index(fields=["case", "state"], name="dispute_case"),
        ]

    def __str__(self) -> str:
        return self.number


class DisputeEvidence(models.Model):
    """One piece of evidence from one side: a statement, or a reference to what the case holds
    (a photo, a message of its conversation, an entry of the contact log, a tracking number)."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="evidence")
    side = models.CharField(max_length=10, choices=Side.choices)
    kind = models.CharField(max_length=10, choices=EvidenceKind.choices)
    text = models.TextField(blank=True)
    # The id of the referenced photo (cases.Evidence), message (core.Event) or contact
    # (team.ContactLog); a tracking number is in ``text``.
    reference_id = models.BigIntegerField(null=True, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["dispute", "id"], name="dispute_evidence")]

    def __str__(self) -> str:
        return f"{self.dispute_id}:{self.side}:{self.kind}"


class Decision(models.Model):
    """A decision of the platform (or of its jury) with its written reason and its calculation,
    shown to both sides. ``violation_points`` are the points it proposes against the shop (see
    ``disputes.moves.deciding.violation_hook``)."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="decisions")
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    amount = models.DecimalField(**MONEY)
    reason = models.TextField()
    calculation = models.JSONField(default=dict)
    violation_kind = models.CharField(max_length=40, blank=True)
    violation_points = models.PositiveSmallIntegerField(default=0)
    by_jury = models.BooleanField(default=False)
    # The review of an appeal: upheld (the same outcome) or changed.
    review_result = models.CharField(max_length=10, choices=ReviewResult.choices, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by_name = models.CharField(max_length=150)
    decided_at = models.DateTimeField()
    # When the decision was carried out on the case (it is final).
    executed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["dispute", "id"], name="decision_dispute")]

    def __str__(self) -> str:
        return f"{self.dispute_id}:{self.outcome}"


class JuryDraw(models.Model):
    """A jury drawn for a dispute: the pool of eligible users in a fixed order, the stored seed,
    and the rules it was drawn under; ``random.Random(seed).sample(pool, size)`` gives its jurors
    again (``jury.redraw``)."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="draws")
    seed = models.CharField(max_length=40)
    pool = models.JSONField(default=list)
    size = models.PositiveSmallIntegerField()
    majority = models.PositiveSmallIntegerField()
    drawn_at = models.DateTimeField()
    due_at = models.DateTimeField()
    # The side the majority chose ("" while short of it, or when the round ran out).
    result = models.CharField(max_length=10, choices=Side.choices, blank=True)

    class Meta:
        indexes = [models.Index(fields=["dispute", "id"], name="jury_draw_dispute")]

    def __str__(self) -> str:
        return f"{self.dispute_id}:{self.seed}"


class Juror(models.Model):
    draw = models.ForeignKey(JuryDraw, on_delete=models.CASCADE, related_name="jurors")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField()
    vote = models.CharField(max_length=10, choices=Side.choices, blank=True)
    voted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["draw", "user"], name="juror_once")]
        indexes = [models.Index(fields=["user", "id"], name="juror_user")]

    def __str__(self) -> str:
        return f"{self.draw_id}:{self.user_id}"
