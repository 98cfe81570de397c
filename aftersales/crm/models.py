"""What the shop keeps about its customers beyond the orders: the profile (birthday, membership
tier, classification by recency, frequency and money), the customer's preferences (opt-outs),
the membership tiers of a shop, the retention queue, and the log of every export or erasure of
a customer's personal data (PIPL)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.core.lifecycle import Stateful

MONEY = {"max_digits": 14, "decimal_places": 2, "default": Decimal("0.00")}


class Segment(models.TextChoices):
    """The named classes of the RFM classification (``crm.classification.segment_for``)."""

    NEW = "new", _("New customer")
    CHAMPION = "champion", _("Champion")
    LOYAL = "loyal", _("Loyal")
    AT_RISK = "at_risk", _("At risk")
    HIBERNATING = "hibernating", _("Hibernating")
    REGULAR = "regular", _("Regular")


class MembershipTier(models.Model):
    """A shop's membership tier (会员等级): reached by spending at least ``min_spend`` (net of
    refunds) and placing at least ``min_orders`` paid orders within the last ``window_days``;
    once reached, kept for ``validity_days`` even if the spending falls. A higher ``rank`` wins."""

    shop = models.ForeignKey("catalog.Shop", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=60)
    rank = models.PositiveSmallIntegerField()
    min_spend = models.DecimalField(**MONEY)
    min_orders = models.PositiveIntegerField(default=0)
    window_days = models.PositiveIntegerField(default=365)
    validity_days = models.PositiveIntegerField(default=365)
    benefits = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "name"], name="crm_tier_unique_name"),
            models.UniqueConstraint(fields=["shop", "rank"], name="crm_tier_unique_rank"),
        ]
        ordering = ["shop_id", "rank"]

    def __str__(self) -> str:
        return self.name


class CustomerProfile(models.Model):
    """What the shop knows of a customer beyond the catalog's row: the birthday, the current
    membership tier and until when it holds, and the last classification (written by
    ``crm.classification.customers_recompute``)."""

    customer = models.OneToOneField(
        "catalog.Customer", on_delete=models.CASCADE, related_name="crm_profile"
    )
    shop = models.ForeignKey("catalog.Shop", on_delete=models.CASCADE, related_name="+")
    birthday = models.DateField(null=True, blank=True)
    tier = models.ForeignKey(
        MembershipTier, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tier_until = models.DateTimeField(null=True, blank=True)
    recency_days = models.PositiveIntegerField(null=True, blank=True)
    frequency = models.PositiveIntegerField(default=0)
    monetary = models.DecimalField(**MONEY)
    average_order_value = models.DecimalField(**MONEY)
    recency_score = models.PositiveSmallIntegerField(null=True, blank=True)
    frequency_score = models.PositiveSmallIntegerField(null=True, blank=True)
    monetary_score = models.PositiveSmallIntegerField(null=True, blank=True)
    segment = models.CharField(max_length=20, choices=Segment.choices, blank=True)
    classified_at = models.DateTimeField(null=True, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["shop", "segment"], name="crm_profile_segment")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.segment or '-'}"


class CustomerPreference(models.Model):
    """What the customer asked for: no care messages by e-mail or by text message, or none at
    all. Opting out never stops the messages about their own cases (a case's notices are owed)."""

    customer = models.OneToOneField(
        "catalog.Customer", on_delete=models.CASCADE, related_name="crm_preference"
    )
    shop = models.ForeignKey("catalog.Shop", on_delete=models.CASCADE, related_name="+")
    email_opt_out = models.BooleanField(default=False)
    sms_opt_out = models.BooleanField(default=False)
    care_opt_out = models.BooleanField(default=False)
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.customer_id}"


class RetentionReason(models.TextChoices):
    LOW_SCORE = "low_score", _("Low satisfaction score")
    REJECTED = "rejected", _("Request rejected")
    SLOW_RESOLUTION = "slow_resolution", _("Long resolution")
    COMPLAINT = "complaint", _("Complaint")


class Gesture(models.TextChoices):
    """What the shop is advised to do for a customer at risk (``crm.retention.GESTURES``)."""

    LEAD_CALL = "lead_call", _("A call from the team lead")
    COUPON = "coupon", _("A coupon")
    APOLOGY_COMPENSATION = "apology_compensation", _("An apology and a small compensation")
    EXPLANATION_CALL = "explanation_call", _("A call explaining the decision")


class RetentionState(models.TextChoices):
    """The states of a retention item's lifecycle (``crm.lifecycle``)."""

    OPEN = "open", _("To contact")
    CONTACTED = "contacted", _("Contacted")
    DISMISSED = "dismissed", _("Dismissed")


RETENTION_FINAL_STATES = frozenset({RetentionState.CONTACTED, RetentionState.DISMISSED})


class RetentionAction(models.TextChoices):
    QUEUE = "queue", _("Queued after a bad experience")
    ADD_TRIGGER = "add_trigger", _("Another bad experience")
    CONTACT = "contact", _("Contacted")
    DISMISS = "dismiss", _("Dismissed")


class RetentionItem(Stateful):
    """A customer at risk after a bad after-sales experience: why (one or more reasons), the
    gesture the rules suggest, and what the team did. A customer has at most one open item per
    shop; a later trigger adds its reason to it. Its ``state`` (``RetentionState``) is changed
    by its lifecycle alone; it has no deadline (``resolved_at``: when it was handled)."""

    shop = models.ForeignKey("catalog.Shop", on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey("catalog.Customer", on_delete=models.CASCADE, related_name="+")
    reasons = models.JSONField(default=list)
    gesture = models.CharField(max_length=30, choices=Gesture.choices)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField()
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    events = GenericRelation(
        "core.Event",
        content_type_field="subject_type",
        object_id_field="subject_id",
        related_query_name="retention_item",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "customer"],
                condition=Q(state="open"),
                name="crm_one_open_retention_item",
            )
        ]
        indexes = [
            models.Index(fields=["shop", "state", "id"], name="crm_retention_queue"),
            # The sweep asks every lifecycle for its due rows: an item has no deadline, so this
            # index stays empty and the question costs nothing.
            models.Index(
                fields=["deadline_at"], condition=~Q(deadline_action=""), name="crm_retention_due"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.state}"


class RetentionTrigger(models.Model):
    """One bad experience that put a customer in the queue, by a key naming its source
    (``rating:12``, ``complaint:3``…): the same experience is never queued twice."""

    item = models.ForeignKey(RetentionItem, on_delete=models.CASCADE, related_name="triggers")
    key = models.CharField(max_length=60, unique=True)
    reason = models.CharField(max_length=20, choices=RetentionReason.choices)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return self.key


class RetentionCursor(models.Model):
    """Where the retention feed got to: the time up to which it has read (one row)."""

    name = models.CharField(max_length=30, unique=True)
    read_until = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name}: {self.read_until}"


class DataAccessKind(models.TextChoices):
    EXPORT = "export", _("Data export")
    ERASURE = "erasure", _("Erasure")


class DataAccessLog(models.Model):
    """Who exported or erased which customer's personal data, when, and what it covered (PIPL).
    The customer is kept by id so the row outlives any change to the customer."""

    shop = models.ForeignKey("catalog.Shop", on_delete=models.CASCADE, related_name="+")
    customer_id = models.BigIntegerField()
    kind = models.CharField(max_length=10, choices=DataAccessKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    what = models.JSONField(default=dict)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["shop", "at"], name="crm_data_access_time")]

    def __str__(self) -> str:
        return f"{self.kind} {self.customer_id} by {self.actor_name}"


class CareKind(models.TextChoices):
    BIRTHDAY = "birthday", _("Birthday")
    HOLIDAY = "holiday", _("Holiday")
    AFTER_USE = "after_use", _("After-use care")
    REPURCHASE = "repurchase", _("Repurchase reminder")
    NEW_ARRIVAL = "new_arrival", _("New arrivals")


class CareCampaign(models.Model):
    """A care message the shop sends on an occasion (``crm.care``): a birthday (``days`` before
    it), a holiday or new arrivals (on ``send_on``), after use (``days`` after an order was
    signed for) or a repurchase reminder (``days`` after the last paid order); to the customers
    of the chosen tiers and segments (none chosen: everyone)."""

    shop = models.ForeignKey("catalog.Shop", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=CareKind.choices)
    name = models.CharField(max_length=100)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    tier_ids = models.JSONField(default=list, blank=True)
    segments = models.JSONField(default=list, blank=True)
    days = models.PositiveIntegerField(null=True, blank=True)
    send_on = models.DateField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["shop", "is_active"], name="crm_care_active")]

    def __str__(self) -> str:
        return self.name


class CareSend(models.Model):
    """One care message to one customer for one occasion (``birthday:2027``, ``after_use:<order
    id>``…): unique, so nobody gets the same care twice. The notice carries it to the customer."""

    campaign = models.ForeignKey(CareCampaign, on_delete=models.CASCADE, related_name="sends")
    shop = models.ForeignKey("catalog.Shop", on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey("catalog.Customer", on_delete=models.CASCADE, related_name="+")
    occasion = models.CharField(max_length=60)
    notice = models.ForeignKey(
        "core.Notice", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "customer", "occasion"], name="crm_care_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} → {self.customer_id}: {self.occasion}"
