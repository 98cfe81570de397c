"""The KPI rollups: what the feed (``insights.feed``) has read of the timeline, what it keeps of
each case between its events, one row per figure an event contributed (the drill-down), and the
daily sums the reports read. Everything here is derived from ``core.Event`` and can be rebuilt
from it (``aftersales insights_rebuild``)."""

from __future__ import annotations

from decimal import Decimal

from django.db import models

MONEY = {"max_digits": 14, "decimal_places": 2, "default": Decimal("0.00")}


class FeedCursor(models.Model):
    """How far the feed has read the timeline: every event with an id up to ``event_id`` has
    been counted, except the ones listed as ``PendingEvent`` (not committed yet when the feed
    passed them). One row, locked by the worker that feeds (the others wait for it)."""

    name = models.CharField(max_length=20, unique=True)
    event_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}@{self.event_id}"


class PendingEvent(models.Model):
    """An event id below the cursor that was missing when the feed passed it: a transaction
    still open then (it may commit later, out of id order) or one rolled back (its id never
    comes). The feed looks for it again on every pass until ``seen_at`` is older than the
    horizon (``feed.PENDING_HORIZON``)."""

    event_id = models.BigIntegerField(unique=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"pending {self.event_id}"


class CaseTrack(models.Model):
    """What the feed knows of one case between its events, from the timeline alone: its kind and
    reason now (a conversion changes the kind, a resubmission the reason), its platform, its
    owner (the latest assignment), when it opened, answered and ended, whether it was ever
    refused or missed a service level."""

    case_id = models.BigIntegerField(primary_key=True)
    shop_id = models.BigIntegerField()
    kind = models.CharField(max_length=20)
    reason = models.CharField(max_length=30)
    platform = models.CharField(max_length=20, blank=True, default="")
    # The platform store whose request the case answers (``connectors.PlatformRequest.case``,
    # linked in the transaction that opens it); empty: not a marketplace case.
    store_id = models.BigIntegerField(null=True, blank=True)
    agent_id = models.BigIntegerField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_fact = models.BigIntegerField(null=True, blank=True)  # the Fact row of its end
    rejected = models.BooleanField(default=False)
    breached = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"case {self.case_id}"


class Measure(models.TextChoices):
    """What one fact counts (``docs/insights.md`` has the event behind each)."""

    OPENED = "opened"
    ENDED = "ended"
    FIRST_RESPONSE = "first_response"
    REFUND = "refund"
    REJECTED = "rejected"
    COMPENSATION = "compensation"
    SLA_BREACH = "sla_breach"
    DISPUTE = "dispute"
    COMPLAINT = "complaint"
    REPAIR_PARTS = "repair_parts"
    REPAIR_LABOUR = "repair_labour"
    WRITTEN_OFF = "written_off"
    SHIPPING = "shipping"
    STAFF_TIME = "staff_time"


class Fact(models.Model):
    """One figure one event contributed, under the keys of the daily rollup: the drill-down reads
    these to name the cases behind a number. ``case_id`` is the case (a dispute's case);
    ``complaint_id`` a complaint's (complaints belong to no case kind)."""

    event_id = models.BigIntegerField()
    measure = models.CharField(max_length=20, choices=Measure.choices)
    shop_id = models.BigIntegerField()
    day = models.DateField()
    kind = models.CharField(max_length=20, blank=True, default="")
    agent_id = models.BigIntegerField(null=True, blank=True)
    platform = models.CharField(max_length=20, blank=True, default="")
    reason = models.CharField(max_length=30, blank=True, default="")
    store_id = models.BigIntegerField(null=True, blank=True)
    case_id = models.BigIntegerField(null=True, blank=True)
    complaint_id = models.BigIntegerField(null=True, blank=True)
    seconds = models.BigIntegerField(default=0)
    business_seconds = models.BigIntegerField(default=0)
    amount = models.DecimalField(**MONEY)
    # An end: the final state, and whether the case kept its service levels (no breach told).
    outcome = models.CharField(max_length=30, blank=True, default="")
    within_sla = models.BooleanField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["shop_id", "measure", "day"], name="insights_fact_drill"),
        ]

    def __str__(self) -> str:
        return f"{self.measure} {self.day} case {self.case_id}"


# The additive measures of a rollup row, in the order the check prints them.
ROLLUP_MEASURES = (
    "opened",
    "ended",
    "ended_refunded",
    "ended_within_sla",
    "ended_breached",
    "resolution_seconds",
    "resolution_business_seconds",
    "first_responses",
    "first_response_seconds",
    "first_response_business_seconds",
    "refunds",
    "refund_amount",
    "rejected",
    "compensations",
    "compensation_amount",
    "sla_breaches",
    "disputes",
    "complaints",
    "repair_parts_amount",
    "repair_labour_amount",
    "written_off_amount",
    "shipping_amount",
    "staff_minutes",
    "staff_cost_amount",
)


class RollupSums(models.Model):
    """The additive columns of a rollup row (``ROLLUP_MEASURES``): counts and sums only, so any
    period and grouping is a sum of rows; averages and rates are divided when read
    (``insights.selectors``)."""

    opened = models.BigIntegerField(default=0)
    ended = models.BigIntegerField(default=0)
    ended_refunded = models.BigIntegerField(default=0)
    ended_within_sla = models.BigIntegerField(default=0)
    ended_breached = models.BigIntegerField(default=0)
    resolution_seconds = models.BigIntegerField(default=0)
    resolution_business_seconds = models.BigIntegerField(default=0)
    first_responses = models.BigIntegerField(default=0)
    first_response_seconds = models.BigIntegerField(default=0)
    first_response_business_seconds = models.BigIntegerField(default=0)
    refunds = models.BigIntegerField(default=0)
    refund_amount = models.DecimalField(**MONEY)
    rejected = models.BigIntegerField(default=0)
    compensations = models.BigIntegerField(default=0)
    compensation_amount = models.DecimalField(**MONEY)
    sla_breaches = models.BigIntegerField(default=0)
    disputes = models.BigIntegerField(default=0)
    complaints = models.BigIntegerField(default=0)
    # The costs the timeline records (``docs/insights.md``): a repair's parts and labour, …
    repair_parts_amount = models.DecimalField(**MONEY)
    repair_labour_amount = models.DecimalField(**MONEY)
    # … the goods scrapped at inspection, the parcels the shop paid, and the staff time of the
    # contact log (minutes, and their cost at the shop's rate when logged).
    written_off_amount = models.DecimalField(**MONEY)
    shipping_amount = models.DecimalField(**MONEY)
    staff_minutes = models.BigIntegerField(default=0)
    staff_cost_amount = models.DecimalField(**MONEY)

    class Meta:
        abstract = True

    @property
    def key(self) -> tuple:
        return tuple(getattr(self, name) for name in self.KEY)


class DailyRollup(RollupSums):
    """The sums of one shop's day (its local date) for one case kind, owner, platform, reason and
    platform store. ``agent_id`` empty: no owner; ``platform`` and ``store_id`` empty: the
    shop's own cases; ``kind`` and ``reason`` empty: complaints."""

    KEY = ("shop_id", "day", "kind", "agent_id", "platform", "reason", "store_id")

    shop_id = models.BigIntegerField()
    day = models.DateField()
    kind = models.CharField(max_length=20, blank=True, default="")
    agent_id = models.BigIntegerField(null=True, blank=True)
    platform = models.CharField(max_length=20, blank=True, default="")
    reason = models.CharField(max_length=30, blank=True, default="")
    store_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            # (The feed writes under the cursor's lock, so a key with no owner or store is never
            # doubled either, though NULLs do not collide here.)
            models.UniqueConstraint(
                fields=["shop_id", "day", "kind", "agent_id", "platform", "reason", "store_id"],
                name="insights_rollup_key",
            ),
        ]
        indexes = [
            models.Index(fields=["shop_id", "day"], name="insights_rollup_shop_day"),
        ]

    def __str__(self) -> str:
        return f"{self.shop_id} {self.day} {self.kind or '-'} {self.agent_id or '-'}"


class MonthlyRollup(RollupSums):
    """The same sums by calendar month (``month``: its first day, on the shop's calendar): each
    fact is added to its day's row and to its month's, in the same transaction. A long report
    reads whole months here and only the days at its two ends from ``DailyRollup`` (a three-year
    report: 36 months' rows instead of 1,096 days')."""

    KEY = ("shop_id", "month", "kind", "agent_id", "platform", "reason", "store_id")

    shop_id = models.BigIntegerField()
    month = models.DateField()
    kind = models.CharField(max_length=20, blank=True, default="")
    agent_id = models.BigIntegerField(null=True, blank=True)
    platform = models.CharField(max_length=20, blank=True, default="")
    reason = models.CharField(max_length=30, blank=True, default="")
    store_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop_id", "month", "kind", "agent_id", "platform", "reason", "store_id"],
                name="insights_monthly_key",
            ),
        ]
        indexes = [
            models.Index(fields=["shop_id", "month"], name="insights_monthly_shop_month"),
            # Every shop's months (a report over all the shops a platform operator reads).
            models.Index(fields=["month"], name="insights_monthly_month"),
        ]

    def __str__(self) -> str:
        return f"{self.shop_id} {self.month:%Y-%m} {self.kind or '-'} {self.agent_id or '-'}"


class CaseProduct(models.Model):
    """A SKU a case claims, with its product's category and the units claimed, as they were
    when the feed first met the case: the key of its product figures and of their drill-down."""

    case_id = models.BigIntegerField()
    shop_id = models.BigIntegerField()
    sku_id = models.BigIntegerField()
    category = models.CharField(max_length=100, blank=True, default="")
    units = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case_id", "sku_id"], name="insights_case_product")
        ]
        indexes = [
            models.Index(fields=["shop_id", "sku_id"], name="insights_product_sku"),
            models.Index(fields=["shop_id", "category"], name="insights_product_category"),
        ]

    def __str__(self) -> str:
        return f"case {self.case_id}: sku {self.sku_id}"


# The additive measures of a product rollup row.
PRODUCT_MEASURES = (
    "opened",
    "units",
    "ended",
    "ended_refunded",
    "ended_returns",
    "ended_exchanges",
    "ended_repairs",
    "refunds",
    "refund_amount",
)


class ProductSums(models.Model):
    """What the cases naming one SKU add up to: the cases opened and the units they claim, the
    cases ended and how (refunded; as a return, an exchange, a repair), the refunds paid. A case
    naming two SKUs counts under each (the figures by SKU do not add up to the shop's)."""

    opened = models.BigIntegerField(default=0)
    units = models.BigIntegerField(default=0)
    ended = models.BigIntegerField(default=0)
    ended_refunded = models.BigIntegerField(default=0)
    ended_returns = models.BigIntegerField(default=0)
    ended_exchanges = models.BigIntegerField(default=0)
    ended_repairs = models.BigIntegerField(default=0)
    refunds = models.BigIntegerField(default=0)
    refund_amount = models.DecimalField(**MONEY)

    class Meta:
        abstract = True

    @property
    def key(self) -> tuple:
        return tuple(getattr(self, name) for name in self.KEY)


class ProductDailyRollup(ProductSums):
    """The product sums of one shop's day for one SKU (its category) and case kind and reason."""

    KEY = ("shop_id", "day", "sku_id", "category", "kind", "reason")

    shop_id = models.BigIntegerField()
    day = models.DateField()
    sku_id = models.BigIntegerField()
    category = models.CharField(max_length=100, blank=True, default="")
    kind = models.CharField(max_length=20, blank=True, default="")
    reason = models.CharField(max_length=30, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop_id", "day", "sku_id", "category", "kind", "reason"],
                name="insights_product_day_key",
            ),
        ]
        indexes = [models.Index(fields=["shop_id", "day"], name="insights_product_shop_day")]

    def __str__(self) -> str:
        return f"{self.shop_id} {self.day} sku {self.sku_id}"


class ProductMonthlyRollup(ProductSums):
    """The same sums by calendar month (``month``: its first day)."""

    KEY = ("shop_id", "month", "sku_id", "category", "kind", "reason")

    shop_id = models.BigIntegerField()
    month = models.DateField()
    sku_id = models.BigIntegerField()
    category = models.CharField(max_length=100, blank=True, default="")
    kind = models.CharField(max_length=20, blank=True, default="")
    reason = models.CharField(max_length=30, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop_id", "month", "sku_id", "category", "kind", "reason"],
                name="insights_product_month_key",
            ),
        ]
        indexes = [
            models.Index(fields=["shop_id", "month"], name="insights_product_shop_month"),
            models.Index(fields=["month"], name="insights_product_month"),
        ]

    def __str__(self) -> str:
        return f"{self.shop_id} {self.month:%Y-%m} sku {self.sku_id}"


class SkuDailyRollup(ProductSums):
    """The product sums of one shop's day for one SKU (its category), every kind and reason
    together: the days at the ends of a report by SKU or category that asks for no kind or
    reason, and a short report's every day (ADR 14)."""

    KEY = ("shop_id", "day", "sku_id", "category")

    shop_id = models.BigIntegerField()
    day = models.DateField()
    sku_id = models.BigIntegerField()
    category = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop_id", "day", "sku_id", "category"], name="insights_sku_day_key"
            ),
        ]
        indexes = [models.Index(fields=["day"], name="insights_sku_day")]

    def __str__(self) -> str:
        return f"{self.shop_id} {self.day} sku {self.sku_id}"


class SkuMonthlyRollup(ProductSums):
    """The product sums of one shop's month for one SKU (its category), every kind and reason
    together: what a long report by SKU or category reads (ADR 14). The finer tables are read
    when a report asks for one kind or reason."""

    KEY = ("shop_id", "month", "sku_id", "category")

    shop_id = models.BigIntegerField()
    month = models.DateField()
    sku_id = models.BigIntegerField()
    category = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop_id", "month", "sku_id", "category"], name="insights_sku_month_key"
            ),
        ]
        indexes = [models.Index(fields=["month"], name="insights_sku_month")]

    def __str__(self) -> str:
        return f"{self.shop_id} {self.month:%Y-%m} sku {self.sku_id}"


class ExportLog(models.Model):
    """One export of the cases behind a report: who, when, through which door (the desk's page
    or the API), in which format, of which filter (shop, period), and how many rows."""

    user_id = models.BigIntegerField(null=True, blank=True)
    username = models.CharField(max_length=150)
    via = models.CharField(max_length=10)  # page, api
    file_format = models.CharField(max_length=10)  # csv, xlsx
    shop_code = models.CharField(max_length=40, blank=True, default="")  # empty: every shop
    # The figure and the row's keys of an export of the cases behind one number (empty: every
    # case opened or ended in the period).
    filters = models.JSONField(default=dict, blank=True)
    since = models.DateField()
    until = models.DateField()
    rows = models.PositiveIntegerField()
    exported_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["exported_at"], name="insights_export_when")]

    def __str__(self) -> str:
        return f"{self.username} {self.file_format} {self.exported_at:%Y-%m-%d %H:%M}"
