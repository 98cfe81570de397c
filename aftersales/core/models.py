from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class TimestampedModel(models.Model):
    """Base for every domain model: aware UTC creation and update times."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class RateCounter(models.Model):
    """Hits of one key (e.g. a login's IP and user name) in one time window. Kept in the database
    so every web process counts together."""

    key = models.CharField(max_length=200)
    window = models.BigIntegerField()
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window"], name="rate_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.key}@{self.window}: {self.hits}"


class WorkerHeartbeat(models.Model):
    """The last sign of life of one deadline worker process: written after every sweep, read by
    the health endpoint and the workbench, which warn when no worker has swept for a while."""

    worker = models.CharField(max_length=200, unique=True)  # host:pid
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["beat_at"], name="worker_heartbeat_beat")]

    def __str__(self) -> str:
        return f"{self.worker} @ {self.beat_at}"


class Audience(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    SHOP = "shop", _("Shop team")
    LEAD = "lead", _("Team lead")


class Event(models.Model):
    """One entry of a subject's append-only timeline (a case, a complaint, and what comes later):
    who did what, the state before and after, what the move recorded, and when. Events are kept
    in id order, which is the order the reports read them in."""

    subject_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    subject_id = models.BigIntegerField()
    subject = GenericForeignKey("subject_type", "subject_id")
    # Every subject belongs to a shop: reports and, one day, shards go by it.
    shop_id = models.BigIntegerField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    role = models.CharField(max_length=20)
    action = models.CharField(max_length=30)
    from_state = models.CharField(max_length=30, blank=True)
    to_state = models.CharField(max_length=30, blank=True)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["subject_type", "subject_id", "at", "id"], name="event_timeline")
        ]
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.subject_type_id}:{self.subject_id} {self.action}"


class Notice(models.Model):
    """One message to deliver about a subject, written in the transaction of the change that
    causes it and delivered after commit by the worker. ``delivered_at`` is set once; delivery
    is retried until then. A notice for the staff with a ``recipient`` is for that person alone
    (the case assigned to them, their customer's reply); without one it is for its audience (the
    shop's staff, or its leads). The desk's bell lists both."""

    subject_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    subject_id = models.BigIntegerField()
    subject = GenericForeignKey("subject_type", "subject_id")
    shop_id = models.BigIntegerField()
    audience = models.CharField(max_length=20, choices=Audience.choices)
    kind = models.CharField(max_length=50)
    payload = models.JSONField(default=dict, blank=True)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    channel = models.CharField(max_length=20, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"], condition=Q(delivered_at=None), name="notice_pending"
            ),
            models.Index(fields=["subject_type", "subject_id"], name="notice_subject"),
            # The bell: a shop's newest notices for its staff.
            models.Index(fields=["shop_id", "created_at"], name="notice_shop_time"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.audience}"
