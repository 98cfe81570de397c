"""Who may do what: a user's role, the shops or the customer they are tied to (a role per shop),
the audit log of every change of them, API tokens; and what the team keeps beside any subject
of a lifecycle: reply templates, internal notes and the contact log."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from aftersales.core.actors import STAFF_ROLES, Role
from aftersales.core.models import TimestampedModel


def new_auth_version() -> int:
    """A fresh ``Membership.auth_version``: random rather than a counter, so that a membership
    made again (a restored backup, a rolled-back transaction reusing ids) never repeats a value
    that a process may still hold for the one before."""
    return secrets.randbits(62)


class Membership(TimestampedModel):
    """A user's role. Staff are tied to shops, with a role in each (``ShopRole``; ``role`` is the
    one they were given and the one a shop without its own says); an admin tied to none
    administers the whole installation, a platform operator reads across it; a customer user is
    tied to exactly one Customer of one shop.

    ``auth_version`` changes with every change of the member's shops and roles in them: a web
    process that keeps the caller resolved from a token (``team.selectors``) checks it on each
    request, so a change takes effect on the very next one in every process."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    shops = models.ManyToManyField(
        "catalog.Shop", blank=True, related_name="staff", through="ShopRole"
    )
    customer = models.ForeignKey(
        "catalog.Customer", null=True, blank=True, on_delete=models.CASCADE, related_name="users"
    )
    auth_version = models.BigIntegerField(default=new_auth_version)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(role="customer") & models.Q(customer__isnull=False))
                | (~models.Q(role="customer") & models.Q(customer__isnull=True)),
                name="customer_role_has_customer",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"


class ShopRole(models.Model):
    """A member's role in one shop's team: an agent of shop A may be the lead of shop B. Written
    by ``team.members`` only, each change with its ``AuditEntry``."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="shop_roles")
    shop = models.ForeignKey("catalog.Shop", on_delete=models.CASCADE, related_name="team_roles")
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["membership", "shop"], name="one_role_per_shop"),
            models.CheckConstraint(
                condition=models.Q(role__in=sorted(STAFF_ROLES)), name="shop_role_is_staff"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.membership.user} @ {self.shop} ({self.role})"


class AuditChange(models.TextChoices):
    GRANTED = "granted", _("Role given")
    CHANGED = "changed", _("Role changed")
    REVOKED = "revoked", _("Role taken back")


class AuditEntry(models.Model):
    """One change of a role or of a team's membership: who changed whose role, in which shop
    (none: a role tied to no shop), when, from what to what. Written by the team's services in
    the change's own transaction; never edited."""

    shop = models.ForeignKey(
        "catalog.Shop", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    member_name = models.CharField(max_length=150)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    change = models.CharField(max_length=10, choices=AuditChange.choices)
    role_before = models.CharField(max_length=20, blank=True, default="")
    role_after = models.CharField(max_length=20, blank=True, default="")
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["shop", "id"], name="audit_shop")]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.member_name} {self.change}"


class ApiToken(TimestampedModel):
    """A bearer token. Only its SHA-256 is stored; the token itself is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class ReplyTemplate(models.Model):
    """A reply template (话术) of a shop, in one language, with variables such as
    ``{customer_name}``, ``{case_number}``, ``{deadline}`` and ``{return_address}``."""

    shop = models.ForeignKey(
        "catalog.Shop", on_delete=models.CASCADE, related_name="reply_templates"
    )
    language = models.CharField(max_length=10, default="zh-hans")
    title = models.CharField(max_length=200)
    body = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "language", "title"], name="reply_template_unique_title"
            )
        ]
        ordering = ["shop", "language", "title"]

    def __str__(self) -> str:
        return self.title


class ContactChannel(models.TextChoices):
    CALL = "call", _("Phone call")
    CHAT = "chat", _("Chat")
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class Note(models.Model):
    """An internal note on a subject of a lifecycle (a case, a complaint…): staff only, never
    shown to the customer."""

    subject_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    subject_id = models.BigIntegerField()
    subject = GenericForeignKey("subject_type", "subject_id")
    shop_id = models.BigIntegerField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(max_length=150)
    text = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["subject_type", "subject_id", "id"], name="note_subject")]

    def __str__(self) -> str:
        return f"{self.subject_type_id}:{self.subject_id}: {self.text[:30]}"


class ContactLog(models.Model):
    """A call, chat or e-mail with the customer about a subject, with its summary, the date to
    follow up and the staff time it took."""

    subject_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    subject_id = models.BigIntegerField()
    subject = GenericForeignKey("subject_type", "subject_id")
    shop_id = models.BigIntegerField()
    channel = models.CharField(max_length=10, choices=ContactChannel.choices)
    summary = models.TextField()
    follow_up_on = models.DateField(null=True, blank=True)
    # The staff time the contact took, in whole minutes (empty: not recorded).
    minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    by_name = models.CharField(max_length=150)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["subject_type", "subject_id", "id"], name="contact_log_subject")
        ]

    def __str__(self) -> str:
        return f"{self.subject_type_id}:{self.subject_id} {self.channel}"
