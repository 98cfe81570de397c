"""The log of the KPI exports (PIPL: every export of case data is logged). Apart from the
rollups in ``insights.models`` (derived, rebuilt from the timeline), these rows are a record of
their own: never rebuilt, never emptied by ``insights_rebuild``. Loaded by ``InsightsConfig``."""

from __future__ import annotations

from django.db import models


class ExportLog(models.Model):
    """One export of the cases behind a report: who, when, through which door (the desk's page
    or the API), in which format, of which filter (shop, period), and how many rows."""

    user_id = models.BigIntegerField(null=True, blank=True)
    username = models.CharField(max_length=150)
    via = models.CharField(max_length=10)  # page, api
    file_format = models.CharField(max_length=10)  # csv, xlsx
    shop_code = models.CharField(max_length=40, blank=True, default="")  # empty: every shop
    since = models.DateField()
    until = models.DateField()
    rows = models.PositiveIntegerField()
    exported_at = models.DateTimeField()

    class Meta:
        app_label = "insights"
        indexes = [models.Index(fields=["exported_at"], name="insights_export_when")]

    def __str__(self) -> str:
        return f"{self.username} {self.file_format} {self.exported_at:%Y-%m-%d %H:%M}"
