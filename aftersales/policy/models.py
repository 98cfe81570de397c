"""A shop's after-sales policy, as immutable versions."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Policy(models.Model):
    """One immutable version of a shop's after-sales policy (``data`` is ``data.PolicyData``
    as JSON). Editing makes a new version; a case keeps the version it was opened under."""

    shop = models.ForeignKey("catalog.Shop", on_delete=models.CASCADE, related_name="policies")
    version = models.PositiveIntegerField()
    preset = models.CharField(max_length=20)
    data = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        # The table the policy had while it lived in the cases app: moving it changed no data.
        db_table = "cases_policy"
        constraints = [
            models.UniqueConstraint(fields=["shop", "version"], name="policy_unique_version")
        ]
        ordering = ["shop", "-version"]

    def __str__(self) -> str:
        return f"{self.shop_id} v{self.version}"
