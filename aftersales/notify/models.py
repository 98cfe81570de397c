"""The outbox: notifications written in the same transaction as the change that causes them and
delivered by the worker after commit."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Audience(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    SHOP = "shop", _("Shop team")
    LEAD = "lead", _("Team lead")


class Notification(models.Model):
    """One message to deliver. ``delivered_at`` is set once; delivery is retried until then."""

    shop = models.ForeignKey("catalog.Shop", on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    audience = models.CharField(max_length=20, choices=Audience.choices)
    kind = models.CharField(max_length=50)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    channel = models.CharField(max_length=20, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"], condition=Q(delivered_at=None), name="notify_pending"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.audience}"
