"""The subjects a conversation may be about, found through the kernel's registry by their
``subject_type`` and number, always scoped to the caller (a customer their own, staff their
shops'): this app knows no case or complaint by import, only the columns every such subject has
(``shop``, ``customer``, ``number``, ``state``) and who works it (a case's ``assignee``, a
complaint's ``owner``)."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext as _

from aftersales.core.actors import Principal
from aftersales.core.errors import NotFound
from aftersales.core.lifecycle import lifecycle_for

# The subjects with a conversation, and the page of each on the desk and on the portal.
SUBJECT_TYPES = ("case", "complaint")
DESK_PAGES = {
    "case": "desk:case",
    "complaint": "complaints_desk:complaint",
    # Subjects without a conversation whose notices ring the bell (the inspection center's).
    "inspection": "inspections_desk:inspection",
}
PORTAL_PAGES = {"case": "portal:case", "complaint": "complaints_portal:complaint"}
# Who works a subject: the member of staff its notices go to.
RESPONSIBLE = ("assignee_id", "owner_id")


def not_found(subject_type: str) -> NotFound:
    return NotFound(_("No such record."), code=f"{subject_type}_not_found")


def subject_get(*, actor: Principal, subject_type: str, number: str, lock: bool = False):
    """The subject the caller may see (locked when ``lock``: call inside a transaction)."""
    if subject_type not in SUBJECT_TYPES:
        raise not_found("subject")
    lifecycle = lifecycle_for(subject_type)
    query = lifecycle.locked() if lock else lifecycle.model.objects.all()
    subject = actor.scope(query).filter(number=number).first()
    if subject is None:
        raise not_found(subject_type)
    return subject


def subject_type_of(subject) -> str:
    return subject._meta.model_name


def content_type_of(subject_type: str) -> ContentType:
    return ContentType.objects.get_for_model(lifecycle_for(subject_type).model)


def responsible_id(subject) -> int | None:
    """The member of staff who works the subject, if any."""
    for name in RESPONSIBLE:
        value = getattr(subject, name, None)
        if value:
            return value
    return None
