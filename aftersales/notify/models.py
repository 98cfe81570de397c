"""The outbox is the kernel's (``core.models.Notice``): notices about any subject, written in the
transaction of the change. This app delivers them: one ``Delivery`` per notice and channel (and
webhook endpoint), each sent by a durable task, and the shops' webhook endpoints."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.catalog.models import Shop
from aftersales.core.models import Notice


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("Text message")
    WEBHOOK = "webhook", _("Webhook")
    # A notice for the team: it stays on record for the workbench; nothing goes out.
    LOG = "log", _("Record only")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Being sent")
    DELIVERED = "delivered", _("Delivered")
    # Nothing to send it to (no e-mail address, no phone, no template): done, not failed.
    SKIPPED = "skipped", _("Not sent")  # no address, or the customer opted out: see last_error
    DEAD = "dead", _("Failed: gave up")


class WebhookEndpoint(models.Model):
    """A URL of a shop that receives its events as signed JSON POSTs. The secret signs every
    request (HMAC-SHA256); it is shown once, when the endpoint is created."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=100)
    # Notice kinds to send (``case_opened`` …); empty: every kind.
    event_kinds = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["shop", "is_active"], name="webhook_endpoint_shop")]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return f"{self.shop_id}: {self.url}"

    def wants(self, kind: str) -> bool:
        return self.is_active and (not self.event_kinds or kind in self.event_kinds)


class Delivery(models.Model):
    """One notice sent over one channel (to one webhook endpoint): its status, its attempts and
    when the next is due. A task sends it; the row makes the task idempotent (a delivery that is
    not due is not sent) and, through its lease, recoverable when a worker dies mid-send."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="+")
    shop_id = models.BigIntegerField()
    channel = models.CharField(max_length=20, choices=Channel.choices)
    endpoint = models.ForeignKey(
        WebhookEndpoint, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(
        max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # While sending: the time after which a silent worker is taken for dead and the delivery
    # is tried again.
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["notice", "channel"],
                condition=Q(endpoint=None),
                name="delivery_one_per_channel",
            ),
            models.UniqueConstraint(
                fields=["notice", "endpoint"],
                condition=Q(endpoint__isnull=False),
                name="delivery_one_per_endpoint",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="delivery_due",
            ),
            models.Index(
                fields=["lease_until"], condition=Q(status="sending"), name="delivery_leased"
            ),
            models.Index(fields=["shop_id", "status"], name="delivery_shop_status"),
        ]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")

    def __str__(self) -> str:
        return f"{self.channel} of notice {self.notice_id}: {self.status}"

    @property
    def is_finished(self) -> bool:
        return self.status in (DeliveryStatus.DELIVERED, DeliveryStatus.SKIPPED)
