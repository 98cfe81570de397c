"""What customers tell the shop about its service: the rating of an ended case."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class Rating(models.Model):
    """The customer's rating of the service once the case has ended (1-5, reasons, comment)."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="rating")
    score = models.PositiveSmallIntegerField()
    reasons = models.JSONField(default=list, blank=True)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1, score__lte=5), name="feedback_rating_1_to_5"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.score}"
