"""The conversation and the bell in the pages of other apps, which cannot import this one: a
page includes ``conversations/_thread.html`` with its subject, and a list asks for the unread
counts of its rows in one query."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils import translation

from aftersales.cases.messages import templates_for
from aftersales.cases.timeline import readable_time
from aftersales.conversations.selectors import thread_of, unread_counts, unread_threads_for
from aftersales.conversations.subjects import subject_type_of

register = template.Library()

PLURAL = {"case": "cases", "complaint": "complaints"}


def thread_urls(subject_type: str, number: str, where: str) -> dict:
    prefix = f"conversations:{where}_{subject_type}"
    return {
        "post_url": reverse(f"{prefix}_message", args=[number]),
        "read_url": reverse(f"{prefix}_read", args=[number]),
        "photo_url": reverse(f"conversations:{where}_photo", args=[0]).replace("/0/", "/{}/"),
    }


@register.simple_tag(takes_context=True)
def conversation(context, subject, where: str):
    """The thread of ``subject`` as the page's reader sees it (``where``: "desk" or "portal"),
    with its addresses and, on a case's desk page, the shop's reply templates."""
    request = context["request"]
    view = thread_of(subject, viewer=request.principal)
    subject_type = subject_type_of(subject)
    zone = subject.shop.timezone
    for message in view.messages:
        message.when = readable_time(message.created_at, zone)
    urls = thread_urls(subject_type, subject.number, where)
    templates = []
    if where == "desk" and subject_type == "case":
        templates = context.get("templates")
        if templates is None:
            language = translation.get_language() or "en"
            templates = templates_for(
                subject, language="zh-hans" if language.startswith("zh") else "en"
            )
    return {
        "view": view,
        "subject_type": subject_type,
        "templates": templates,
        "read_when": readable_time(view.read_at, zone) if view.read_at else "",
        **urls,
    }


@register.simple_tag
def photo_address(base: str, photo_id: int) -> str:
    return base.format(photo_id)


@register.simple_tag(takes_context=True)
def unread_for(context, rows, subject_type: str = "case"):
    """Unread messages per subject id of a list's rows (dicts or objects with an ``id``) for
    the page's reader: the staff's side on the desk, the customer's on the portal."""
    request = context["request"]
    ids = [_id_of(row) for row in rows]
    return unread_counts(subject_type, ids, staff=request.principal.is_staff) if ids else {}


def _id_of(row) -> int:
    if isinstance(row, dict):
        # a queue's row, or a portal list's row that holds its case
        return row["id"] if "id" in row else row["case"].id
    return row.id


@register.simple_tag(takes_context=True)
def unread_threads(context):
    """The portal reader's conversations with messages they have not read."""
    return unread_threads_for(context["request"].principal)


@register.filter
def count_for(counts: dict, subject_id) -> int:
    return counts.get(subject_id, 0) if counts else 0
