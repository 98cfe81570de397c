"""A shop's business hours and service-level targets, imported public holidays, and the clocks
derived from each subject's timeline."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q

from aftersales.core.models import TimestampedModel
from aftersales.sla.choices import ClockState, Metric, SubjectType


class BusinessHours(TimestampedModel):
    """When a shop works, in its own time zone (``Shop.timezone``): the windows of each weekday
    (``sla.hours.HoursIn``: ``{"mon": [["09:00", "12:00"], ["13:30", "18:00"]], …}``, a window
    that ends before it starts runs overnight), the holiday region (``CN``: China's holidays and
    adjusted working days from ``chinese_calendar``; another ISO country: the imported
    ``Holiday`` rows; empty: no holidays), and the shop's own closed and working dates. A shop
    without a row counts every hour (24/7)."""

    shop = models.OneToOneField(
        "catalog.Shop", on_delete=models.CASCADE, related_name="business_hours"
    )
    region = models.CharField(max_length=2, blank=True, default="CN")
    windows = models.JSONField(default=dict)
    closed_dates = models.JSONField(default=list, blank=True)
    working_dates = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return f"{self.shop_id} {self.region}"


class Holiday(models.Model):
    """A public holiday of a country other than China, imported from the ``holidays`` package by
    ``aftersales holidays_import --country DE --year 2027`` (China's come from
    ``chinese_calendar`` and need no import)."""

    country = models.CharField(max_length=2)
    date = models.DateField()
    name = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["country", "date"], name="holiday_unique_date")
        ]

    def __str__(self) -> str:
        return f"{self.country} {self.date} {self.name}"


class Target(TimestampedModel):
    """The service levels a shop promises for one subject type, kind and priority (an empty kind
    or priority: any): the first response, the reply to each customer message and the
    resolution (durations of business time; empty: not measured), and how long before a breach
    the team is warned. ``business_hours_only`` off counts every hour, weekends and holidays too
    (Amazon's 24-hour reply)."""

    shop = models.ForeignKey("catalog.Shop", on_delete=models.CASCADE, related_name="sla_targets")
    subject_type = models.CharField(max_length=20, choices=SubjectType.choices)
    kind = models.CharField(max_length=30, blank=True, default="")
    priority = models.CharField(max_length=10, blank=True, default="")
    first_response = models.DurationField(null=True, blank=True)
    next_response = models.DurationField(null=True, blank=True)
    resolution = models.DurationField(null=True, blank=True)
    warn_before = models.DurationField(null=True, blank=True)
    business_hours_only = models.BooleanField(default=True)
    preset = models.CharField(max_length=20, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "subject_type", "kind", "priority"], name="sla_target_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.shop_id} {self.subject_type} {self.kind or '*'} {self.priority or '*'}"


class Clock(models.Model):
    """One metric of one subject (a case, a complaint), derived from the subject's timeline, its
    shop's business hours and its target; recomputed whenever a newer event, the hours or the
    targets change (``services.sla_refresh``), never counted up. For the reply metric the row is
    the latest round; ``rounds`` and ``rounds_met`` count every round so far.

    ``due_at`` and ``warn_at`` are unknown (empty) while the clock is paused. ``check_at`` is
    when the sweep must next look at it (its warning or its breach is due and not told yet)."""

    subject_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    subject_id = models.BigIntegerField()
    shop = models.ForeignKey("catalog.Shop", on_delete=models.CASCADE, related_name="sla_clocks")
    metric = models.CharField(max_length=20, choices=Metric.choices)
    kind = models.CharField(max_length=30, blank=True, default="")
    priority = models.CharField(max_length=10, blank=True, default="")
    target = models.DurationField()
    state = models.CharField(max_length=10, choices=ClockState.choices)
    started_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    met_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    rounds = models.PositiveIntegerField(default=0)
    rounds_met = models.PositiveIntegerField(default=0)
    # The round (its start) whose warning and breach were told, so each is told once.
    warned_round = models.DateTimeField(null=True, blank=True)
    breach_told_round = models.DateTimeField(null=True, blank=True)
    check_at = models.DateTimeField(null=True, blank=True)
    last_event_id = models.BigIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subject_type", "subject_id", "metric"], name="sla_clock_unique"
            )
        ]
        indexes = [
            models.Index(fields=["check_at"], condition=~Q(check_at=None), name="sla_clock_check"),
            models.Index(fields=["shop", "metric", "started_at"], name="sla_clock_report"),
            models.Index(fields=["subject_type", "state", "due_at"], name="sla_clock_filter"),
        ]

    def __str__(self) -> str:
        return f"{self.subject_type_id}:{self.subject_id} {self.metric} {self.state}"


class RefreshCursor(models.Model):
    """How far the sweep has read the timeline (``core.Event`` ids) for new events: one row,
    locked by the worker that refreshes (the others skip it)."""

    name = models.CharField(max_length=20, unique=True)
    event_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}@{self.event_id}"
