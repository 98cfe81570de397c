"""Writes of a conversation: a message from either side (with photos), and reading a thread.

A message is written under the subject's lock with its timeline event (``customer_message``
from the customer, ``message`` from the shop: the SLA clocks read exactly these), the thread's
unread counts and its notice, in one transaction. Photos are checked, decoded and stored before
the lock (``cases.evidence`` reads only the header before decoding, and drops the metadata), and
deleted again when the message is not written.
"""

from __future__ import annotations

import hashlib
import uuid

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from aftersales.cases.evidence import MAX_PHOTO_BYTES, photo_check_size, photo_reencode, sniff
from aftersales.cases.messages import before_shop_message, template_check
from aftersales.conversations.bell import notices_read_about
from aftersales.conversations.models import Direction, Message, MessagePhoto, Thread
from aftersales.conversations.notices import CUSTOMER_REPLIED, SHOP_MESSAGE
from aftersales.conversations.subjects import (
    content_type_of,
    responsible_id,
    subject_get,
    subject_type_of,
)
from aftersales.core import clock
from aftersales.core.actors import Principal
from aftersales.core.errors import (
    InvalidInput,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from aftersales.core.gate import event_for
from aftersales.core.notices import notice_build, notices_save
from aftersales.core.permissions import require

MAX_TEXT = 2000
MAX_PHOTOS = 3
# The timeline's action for each direction (the SLA clocks read these names).
EVENT_ACTIONS = {Direction.IN: "customer_message", Direction.OUT: "message"}
# The customer's e-mail about a shop's message, per subject.
OUT_NOTICES = {"case": "case_message", "complaint": SHOP_MESSAGE}


def _photo_prepare(upload: UploadedFile) -> MessagePhoto:
    """An unsaved photo row with its stored, re-encoded files."""
    if upload.size > MAX_PHOTO_BYTES:
        raise PayloadTooLarge(_("Photos may be at most 10 MB."), code="file_too_large")
    kind_and_type = sniff(upload.read(16))
    upload.seek(0)
    if kind_and_type is None or kind_and_type[0] != "photo":
        raise UnsupportedMediaType(_("Send a JPEG, PNG or WebP photo."))
    data = upload.read()
    photo_check_size(data, kind_and_type[1])
    photo, thumb, width, height = photo_reencode(data)
    row = MessagePhoto(
        width=width, height=height, size=len(photo), sha256=hashlib.sha256(data).hexdigest()
    )
    name = uuid.uuid4().hex
    row.file.save(f"{name}.jpg", ContentFile(photo), save=False)
    try:
        row.thumbnail.save(f"{name}-thumb.jpg", ContentFile(thumb), save=False)
    except Exception:
        row.file.delete(save=False)
        raise
    return row


def _photos_discard(photos: list[MessagePhoto]) -> None:
    for photo in photos:
        for stored in (photo.file, photo.thumbnail):
            if stored:
                stored.delete(save=False)


def _clean_text(text: str, has_photos: bool) -> str:
    text = (text or "").strip()
    if not text and not has_photos:
        raise InvalidInput(_("Write a message or add a photo."), code="text_required", field="text")
    if len(text) > MAX_TEXT:
        raise InvalidInput(
            _("A message may be at most %(limit)s characters.") % {"limit": MAX_TEXT},
            code="invalid_input",
            field="text",
        )
    return text


def _may_write(actor: Principal, subject) -> None:
    """The customer writes on their own subjects (``subject_get`` found it in their scope); the
    staff by the permission matrix's row for messages to customers, in the subject's shop."""
    if not actor.is_customer:
        require(actor, "case.message", subject)


def message_post(
    *,
    actor: Principal,
    subject_type: str,
    number: str,
    text: str = "",
    photos: list[UploadedFile] | None = None,
    template_id: int | None = None,
) -> Message:
    """A message on a subject the caller may see: from the customer when the caller is the
    customer, else from the shop. The subject is found first (a stranger learns nothing from a
    refused photo), the photos are prepared without any lock, then everything is written."""
    subject = subject_get(actor=actor, subject_type=subject_type, number=number)
    _may_write(actor, subject)
    uploads = list(photos or [])
    if len(uploads) > MAX_PHOTOS:
        raise InvalidInput(
            _("A message may carry at most %(count)s photos.") % {"count": MAX_PHOTOS},
            code="too_many_photos",
            field="photos",
        )
    text = _clean_text(text, bool(uploads))
    if not actor.is_customer and text:
        # on a marketplace's case the message goes to the platform first (a refusal refuses it)
        before_shop_message(actor=actor, subject_type=subject_type, subject=subject, text=text)
    prepared: list[MessagePhoto] = []
    try:
        for upload in uploads:
            prepared.append(_photo_prepare(upload))
        return _write(
            actor=actor,
            subject_type=subject_type,
            number=number,
            text=text,
            photos=prepared,
            template_id=template_id,
        )
    except Exception:
        # the message was not written: its stored files must not outlive it
        _photos_discard(prepared)
        raise


@transaction.atomic
def _write(
    *,
    actor: Principal,
    subject_type: str,
    number: str,
    text: str,
    photos: list[MessagePhoto],
    template_id: int | None,
) -> Message:
    subject = subject_get(actor=actor, subject_type=subject_type, number=number, lock=True)
    direction = Direction.IN if actor.is_customer else Direction.OUT
    data: dict = {"text": text}
    if template_id and direction == Direction.OUT and subject_type == "case":
        template_check(subject, template_id)
        data["template_id"] = template_id
    if photos:
        data["photos"] = len(photos)
    now = clock.now()
    message = Message.objects.create(
        subject_type=content_type_of(subject_type),
        subject_id=subject.pk,
        shop_id=subject.shop_id,
        direction=direction,
        author_id=actor.user_id,
        author_name=actor.username,
        role=actor.role_in(subject.shop_id) or actor.role,
        text=text,
        created_at=now,
    )
    for photo in photos:
        photo.message = message
    MessagePhoto.objects.bulk_create(photos)
    event_for(
        subject,
        actor=actor,
        action=EVENT_ACTIONS[direction],
        from_state=subject.state,
        data=data,
        now=now,
    ).save()
    _count(subject, direction, actor, now)
    if direction == Direction.IN:
        notice = notice_build(
            subject,
            CUSTOMER_REPLIED,
            {"text": text[:200]},
            recipient_id=responsible_id(subject),
        )
    else:
        notice = notice_build(subject, OUT_NOTICES[subject_type_of(subject)], {"text": text})
    notices_save([notice])
    if hasattr(subject, "updated_at"):
        subject.updated_at = now
        subject.save(update_fields=["updated_at"])
    return message


def _thread(subject) -> Thread:
    thread, _created = Thread.objects.get_or_create(
        subject_type=content_type_of(subject_type_of(subject)),
        subject_id=subject.pk,
        defaults={"shop_id": subject.shop_id},
    )
    return thread


def _count(subject, direction: str, actor: Principal, now) -> None:
    """A message is unread on the other side; its writer has read the thread on theirs."""
    thread = _thread(subject)
    if direction == Direction.IN:
        changes = {
            "staff_unread": F("staff_unread") + 1,
            "customer_unread": 0,
            "customer_read_at": now,
        }
    else:
        changes = {
            "customer_unread": F("customer_unread") + 1,
            "staff_unread": 0,
            "staff_read_at": now,
            "staff_read_by_id": actor.user_id,
        }
    Thread.objects.filter(pk=thread.pk).update(last_message_at=now, **changes)


def thread_read(*, actor: Principal, subject_type: str, number: str) -> None:
    """The caller's side has read the subject's conversation (staff read it for the team)."""
    subject = subject_get(actor=actor, subject_type=subject_type, number=number)
    now = clock.now()
    threads = Thread.objects.filter(
        subject_type=content_type_of(subject_type), subject_id=subject.pk
    )
    if actor.is_customer:
        threads.update(customer_unread=0, customer_read_at=now)
    else:
        threads.update(staff_unread=0, staff_read_at=now, staff_read_by_id=actor.user_id)
        notices_read_about(actor, subject, (CUSTOMER_REPLIED,))
