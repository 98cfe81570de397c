"""Reads of conversations, scoped to the caller through the subject: a thread's messages as its
reader may see them, and the unread counts of a page of subjects in one query."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Prefetch
from django.urls import reverse
from django.utils.translation import gettext as _

from aftersales.conversations.models import Direction, Message, MessagePhoto, Thread
from aftersales.conversations.subjects import (
    PORTAL_PAGES,
    SUBJECT_TYPES,
    content_type_of,
    subject_get,
    subject_type_of,
)
from aftersales.core.actors import Principal
from aftersales.core.errors import NotFound
from aftersales.core.lifecycle import lifecycle_for


@dataclass
class ThreadView:
    """A subject's conversation as one side reads it."""

    subject: object
    subject_type: str
    messages: list[Message]
    unread: int
    # Staff only: who of the team read it last, and when.
    read_by: str = ""
    read_at: object = None


def _messages(subject_type: str, subject_id: int) -> list[Message]:
    return list(
        Message.objects.filter(subject_type=content_type_of(subject_type), subject_id=subject_id)
        .prefetch_related(Prefetch("photos", queryset=MessagePhoto.objects.order_by("id")))
        .order_by("id")
    )


def thread_of(subject, *, viewer: Principal) -> ThreadView:
    """The conversation of a subject the caller has already been given (a page's own)."""
    subject_type = subject_type_of(subject)
    thread = (
        Thread.objects.filter(subject_type=content_type_of(subject_type), subject_id=subject.pk)
        .select_related("staff_read_by")
        .first()
    )
    messages = _messages(subject_type, subject.pk)
    if not viewer.is_staff:
        for message in messages:
            # The customer talks to the shop, not to a member of staff by name.
            if message.direction == Direction.OUT:
                message.author_name = _("The shop")
    view = ThreadView(subject=subject, subject_type=subject_type, messages=messages, unread=0)
    if thread is not None:
        view.unread = thread.staff_unread if viewer.is_staff else thread.customer_unread
        if viewer.is_staff:
            view.read_by = thread.staff_read_by.username if thread.staff_read_by else ""
            view.read_at = thread.staff_read_at
    return view


def thread_get(*, actor: Principal, subject_type: str, number: str) -> ThreadView:
    return thread_of(
        subject_get(actor=actor, subject_type=subject_type, number=number), viewer=actor
    )


def unread_counts(subject_type: str, subject_ids: Iterable[int], *, staff: bool) -> dict[int, int]:
    """Unread messages per subject for one side (subjects without any are left out); the
    caller has scoped the subjects."""
    column = "staff_unread" if staff else "customer_unread"
    rows = Thread.objects.filter(
        subject_type=content_type_of(subject_type),
        subject_id__in=list(subject_ids),
        **{f"{column}__gt": 0},
    ).values_list("subject_id", column)
    return dict(rows)


def photo_get(*, actor: Principal, photo_id: int) -> MessagePhoto:
    """A message's photo, for those who may see its subject."""
    photo = MessagePhoto.objects.filter(pk=photo_id).select_related("message__subject_type").first()
    if photo is None:
        raise NotFound(_("No such file."), code="photo_not_found")
    message = photo.message
    model = message.subject_type.model_class()
    if model is None or not actor.scope(model.objects.filter(pk=message.subject_id)).exists():
        raise NotFound(_("No such file."), code="photo_not_found")
    return photo


def unread_threads_for(actor: Principal) -> list[dict]:
    """The customer's conversations with messages from the shop they have not read, newest
    first: subject type, number, count and the portal page (two queries per subject type)."""
    if not actor.is_customer:
        return []
    found = []
    for subject_type in SUBJECT_TYPES:
        model = lifecycle_for(subject_type).model
        counts = dict(
            Thread.objects.filter(
                subject_type=content_type_of(subject_type),
                subject_id__in=actor.scope(model.objects.all()).values("id"),
                customer_unread__gt=0,
            ).values_list("subject_id", "customer_unread")
        )
        if not counts:
            continue
        for subject_id, number in model.objects.filter(id__in=counts).values_list("id", "number"):
            found.append(
                {
                    "subject_type": subject_type,
                    "number": number,
                    "count": counts[subject_id],
                    "url": reverse(PORTAL_PAGES[subject_type], args=[number]),
                }
            )
    return found
