"""Two-way messages on any subject of a lifecycle (a case, a complaint…), their photos, the read
state of each side of a conversation, and what each member of staff has read in the bell."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class Direction(models.TextChoices):
    IN = "in", _("From the customer")
    OUT = "out", _("To the customer")


class Message(models.Model):
    """One message of a subject's conversation: from the customer (``in``) or from the shop
    (``out``). Each is also one event on the subject's timeline (``customer_message`` or
    ``message``), written in the same transaction."""

    subject_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    subject_id = models.BigIntegerField()
    subject = GenericForeignKey("subject_type", "subject_id")
    shop_id = models.BigIntegerField()
    direction = models.CharField(max_length=3, choices=Direction.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(max_length=150)
    role = models.CharField(max_length=20)
    text = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["subject_type", "subject_id", "id"], name="message_subject")
        ]

    def __str__(self) -> str:
        return f"{self.subject_type_id}:{self.subject_id} {self.direction} {self.text[:30]}"


class MessagePhoto(models.Model):
    """A photo sent with a message, stored re-encoded as JPEG without its metadata (the phone's
    GPS position), with a thumbnail; the original bytes are not kept."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(upload_to="messages/%Y/%m/")
    thumbnail = models.FileField(upload_to="messages/%Y/%m/")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"{self.message_id}:{self.id}"


class Thread(models.Model):
    """The read state of one subject's conversation, one marker per side: the customer's, and
    the shop team's (shared: any member of staff who opens the thread or replies reads it for the
    team, so a reply another agent answered is not unread for everyone). The unread counts are
    kept here, changed under the subject's lock with each message, so a queue reads a page of
    counts in one query."""

    subject_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    subject_id = models.BigIntegerField()
    shop_id = models.BigIntegerField()
    staff_unread = models.PositiveIntegerField(default=0)
    customer_unread = models.PositiveIntegerField(default=0)
    last_message_at = models.DateTimeField(null=True, blank=True)
    staff_read_at = models.DateTimeField(null=True, blank=True)
    staff_read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    customer_read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subject_type", "subject_id"], name="thread_subject")
        ]

    def __str__(self) -> str:
        return (
            f"{self.subject_type_id}:{self.subject_id} ({self.staff_unread}/{self.customer_unread})"
        )


class NoticeRead(models.Model):
    """A member of staff has read a notice of the bell (a notice to the whole shop is read by
    each of its staff on their own)."""

    notice = models.ForeignKey("core.Notice", on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["notice", "user"], name="notice_read_once"),
        ]

    def __str__(self) -> str:
        return f"{self.notice_id} read by {self.user_id}"
