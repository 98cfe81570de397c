"""A shop's accounts on the marketplaces (stores) and the after-sales requests read from them.

A ``PlatformRequest`` is the platform's request as last read, kept beside whatever the product
makes of it: the raw status, kind and version token, what the platform's mapping table says they
mean (or that a person must decide), the platform's own deadline and handling flag.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.core.models import TimestampedModel


class StorePlatform(models.TextChoices):
    TAOBAO = "taobao", _("Taobao")
    TMALL = "tmall", _("Tmall")
    JD = "jd", _("JD.com")
    PINDUODUO = "pinduoduo", _("Pinduoduo")
    DOUYIN = "douyin", _("Douyin")
    KUAISHOU = "kuaishou", _("Kuaishou")


class Store(TimestampedModel):
    """A shop's account on one platform: its keys (encrypted, ``connectors.keys``), where its
    sync got to, its health, and whether the product may write to the platform (off until a
    person turns it on)."""

    shop = models.ForeignKey("catalog.Shop", on_delete=models.CASCADE, related_name="stores")
    platform = models.CharField(max_length=20, choices=StorePlatform.choices)
    name = models.CharField(max_length=100)
    seller_id = models.CharField(max_length=100)
    sealed_keys = models.TextField()
    # The platform's gateway unless set (a sandbox; the fake gateways in the tests).
    gateway = models.URLField(blank=True)
    write_enabled = models.BooleanField(default=False)
    # The platform's id of the shop's return address, where a return is agreed with one (Taobao
    # ``seller_address_id``, Douyin ``receiver_address_id``); blank: the shop's default address.
    return_address_id = models.CharField(max_length=60, blank=True)
    # Automatic refunds above this amount wait for a person (0: none are automatic).
    auto_refund_cap = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    paused = models.BooleanField(default=False)
    synced_until = models.DateTimeField(null=True, blank=True)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=40, blank=True)
    last_error_detail = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    rate_limited_until = models.DateTimeField(null=True, blank=True)
    # Changes the platform could no longer give (older than its look-back) began here.
    unreachable_before = models.DateTimeField(null=True, blank=True)
    # False for a shop without API access: its requests come from the platform's exports (CSV),
    # the store has no keys and is never synced or written to.
    api_access = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["platform", "seller_id"], name="one_store_per_account"),
            models.CheckConstraint(
                condition=Q(auto_refund_cap__gte=0), name="store_refund_cap_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.platform}:{self.seller_id}"


class PlatformRequest(models.Model):
    """One after-sales request of a store as the platform last gave it."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="requests")
    request_id = models.CharField(max_length=100)
    order_id = models.CharField(max_length=100)
    status = models.CharField(max_length=60)
    kind = models.CharField(max_length=60, blank=True)
    version = models.CharField(max_length=100, blank=True)
    platform_created_at = models.DateTimeField()
    modified_at = models.DateTimeField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    reason = models.CharField(max_length=500, blank=True)
    handling = models.BooleanField(default=False)
    deadline_at = models.DateTimeField(null=True, blank=True)
    # The request as read (times as ISO text, amounts as decimal text).
    payload = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    # What the platform's mapping table says (blank: it does not know the code).
    mapped_kind = models.CharField(max_length=20, blank=True)
    mapped_state = models.CharField(max_length=20, blank=True)
    money_out = models.BooleanField(default=False)
    needs_person = models.BooleanField(default=False)
    first_seen_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    # How many reads changed it (a duplicate or an older read changes nothing).
    revisions = models.PositiveIntegerField(default=1)
    # The case the product keeps for it (none while a person must decide what it is).
    case = models.OneToOneField(
        "cases.Case",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="platform_request",
    )
    # The platform will not let an API handle it (Douyin 11001): its back office's page for it.
    handle_on_platform_url = models.URLField(max_length=500, blank=True)
    # Why the request's case could not follow the platform (a person decides; blank: it did).
    link_error = models.CharField(max_length=300, blank=True)
    # Whether the case's deadline is paused because the platform's customer service handles it.
    case_paused = models.BooleanField(default=False)
    # A read changed it and its case has not followed yet (``connectors.cases.follow_pending``).
    follow_pending = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "request_id"], name="one_row_per_request")
        ]
        indexes = [
            models.Index(
                fields=["store", "needs_person"],
                condition=Q(needs_person=True),
                name="platform_request_for_a_person",
            ),
            models.Index(
                fields=["store", "id"],
                condition=Q(follow_pending=True),
                name="platform_request_to_follow",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.store_id}:{self.request_id}"


class WriteStatus(models.TextChoices):
    SENDING = "sending", _("Sending")
    DONE = "done", _("Done on the platform")
    REFUSED = "refused", _("Refused by the platform")
    UNKNOWN = "unknown", _("Outcome unknown")
    SETTLED_DONE = "settled_done", _("Done (settled by a later read)")
    SETTLED_NOT_DONE = "settled_not_done", _("Not done (settled by a later read)")


class PlatformWrite(models.Model):
    """One write to a platform about one request, recorded before the call is made (so a crash
    or a timeout leaves a record): the case's action it carries, the call and its arguments, the
    version token sent, and how it ended. A write whose answer was lost stays ``unknown`` until
    a later read of the request settles it; it is never sent again.

    An outbox record of a call, like a notice's delivery: its status is the call's outcome, not
    a lifecycle people act on, so it has no table of moves."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="writes")
    request = models.ForeignKey(PlatformRequest, on_delete=models.CASCADE, related_name="writes")
    case = models.ForeignKey(
        "cases.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=30)
    call = models.CharField(max_length=30)
    arguments = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    version_sent = models.CharField(max_length=100, blank=True)
    status_before = models.CharField(max_length=60, blank=True)
    money = models.BooleanField(default=False)
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    automatic = models.BooleanField(default=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=20, choices=WriteStatus.choices, default=WriteStatus.SENDING
    )
    error = models.CharField(max_length=40, blank=True)
    platform_code = models.CharField(max_length=60, blank=True)
    detail = models.TextField(blank=True)
    version_after = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["request"],
                condition=Q(status__in=["sending", "unknown"]),
                name="platform_write_unsettled",
            )
        ]

    def __str__(self) -> str:
        return f"{self.call} on {self.request_id}: {self.status}"
