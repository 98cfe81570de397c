"""What the team writes beside a subject's state table, for any subject of a lifecycle (a case, a
complaint…): internal notes, the contact log with its follow-up date, and assignment to a member
of staff. The subject is named by its lifecycle's ``subject_type`` (``"case"``) and found through
the kernel's registry, locked and scoped to the caller; none of these changes its state. Those
the timeline shows write one event through the kernel (``core.gate.event_for``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.core import clock
from aftersales.core.actors import Principal, Role
from aftersales.core.errors import InvalidInput, NotFound, PermissionDenied
from aftersales.core.gate import event_for
from aftersales.core.lifecycle import lifecycle_for
from aftersales.core.models import Audience, Event
from aftersales.core.money import ZERO, money
from aftersales.core.notices import NoticeKind, notice_build, notice_kinds, notices_save
from aftersales.core.permissions import permitted
from aftersales.team.models import ContactChannel, ContactLog, Note

# The timeline's actions for what the team records (each subject's words name them).
CONTACT = "contact"
ASSIGN = "assign"
# The notice of the desk's bell to the member of staff a subject is given to.
ASSIGNED = "assigned"

notice_kinds(
    NoticeKind(
        ASSIGNED,
        Audience.SHOP,
        gettext_lazy("%(number)s is assigned to you"),
        gettext_lazy("Assigned to you"),
    )
)


# The staff time of one contact, in whole minutes.
MOST_MINUTES = 600

# What an hour of staff time costs the shop of a subject (the policy's
# ``insights.staff_cost_per_hour``): the policy app, a layer above, gives it at its start. With
# none registered, staff time is recorded and costs nothing.
StaffRate = Callable[[object], Decimal]
_STAFF_RATES: list[StaffRate] = []


def register_staff_rate(rate: StaffRate) -> None:
    """Called once by the policy app at its start."""
    if rate not in _STAFF_RATES:
        _STAFF_RATES.append(rate)


def staff_cost(subject, minutes: int) -> Decimal:
    """What ``minutes`` of staff time on ``subject`` cost its shop at today's rate."""
    rate = next((found for source in _STAFF_RATES if (found := source(subject))), ZERO)
    return money(Decimal(minutes) * rate / 60)


def minutes_of(value: object) -> int | None:
    """The staff time of a contact: ``None`` for none, else whole minutes from 1 to
    ``MOST_MINUTES``; anything else (text, a fraction, a boolean) is refused."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MOST_MINUTES:
        raise InvalidInput(
            _("The time spent is whole minutes, from 1 to %(most)s.") % {"most": MOST_MINUTES},
            code="invalid_minutes",
            field="minutes",
        )
    return value


def required_text(value: str, field: str, limit: int = 5000) -> str:
    """``value`` stripped; refused when empty or longer than ``limit``."""
    value = (value or "").strip()
    if not value:
        raise InvalidInput(
            _("%(field)s is required.") % {"field": field}, code=f"{field}_required", field=field
        )
    if len(value) > limit:
        raise InvalidInput(
            _("%(field)s must be at most %(limit)s characters.") % {"field": field, "limit": limit},
            code="invalid_input",
            field=field,
        )
    return value


def _staff_only(actor: Principal, action: str, subject=None) -> None:
    if not permitted(actor, action, subject):
        raise PermissionDenied(_("Only the shop's staff may do this."), code="forbidden")


def _staff_subject(actor: Principal, subject_type: str, subject_id: int):
    """The subject, locked, if the caller may write notes on it (``note.write`` in its shop)."""
    _staff_only(actor, "note.write")
    subject = actor.scope(lifecycle_for(subject_type).locked()).filter(pk=subject_id).first()
    if subject is None:
        raise NotFound(_("No such record."), code=f"{subject_type}_not_found")
    _staff_only(actor, "note.write", subject)
    return subject


def _with_updated_at(subject, fields: list[str]) -> list[str]:
    return [*fields, "updated_at"] if hasattr(subject, "updated_at") else fields


def _pointer(subject) -> dict:
    return {
        "subject_type": ContentType.objects.get_for_model(subject),
        "subject_id": subject.pk,
        "shop_id": subject.shop_id,
    }


@transaction.atomic
def note_add(*, actor: Principal, subject_type: str, subject_id: int, text: str) -> Note:
    """An internal note on a subject (staff only, never shown to the customer)."""
    subject = _staff_subject(actor, subject_type, subject_id)
    return Note.objects.create(
        **_pointer(subject),
        author_id=actor.user_id,
        author_name=actor.username,
        text=required_text(text, "text"),
        created_at=clock.now(),
    )


@transaction.atomic
def contact_log_add(
    *,
    actor: Principal,
    subject_type: str,
    subject_id: int,
    channel: str,
    summary: str,
    follow_up_on: dt.date | None = None,
    minutes: object = None,
) -> ContactLog:
    """Record a call, chat or e-mail with the customer, and the staff time it took (whole
    minutes, ``minutes_of``); a subject with a ``follow_up_on`` column takes the follow-up date
    (the queue shows it). The timeline's entry carries the minutes and what they cost the shop
    at its rate now (``staff_cost``): a later change of the rate does not rewrite it."""
    subject = _staff_subject(actor, subject_type, subject_id)
    if channel not in ContactChannel.values:
        raise InvalidInput(_("Unknown channel."), code="invalid_channel", field="channel")
    minutes = minutes_of(minutes)
    summary = required_text(summary, "summary")
    now = clock.now()
    entry = ContactLog.objects.create(
        **_pointer(subject),
        channel=channel,
        summary=summary,
        follow_up_on=follow_up_on,
        minutes=minutes,
        by_id=actor.user_id,
        by_name=actor.username,
        created_at=now,
    )
    if hasattr(subject, "follow_up_on"):
        subject.follow_up_on = follow_up_on
        subject.save(update_fields=_with_updated_at(subject, ["follow_up_on"]))
    data = {
        "channel": channel,
        "summary": entry.summary,
        "follow_up_on": follow_up_on.isoformat() if follow_up_on else None,
    }
    if minutes is not None:
        data.update(minutes=minutes, staff_cost=str(staff_cost(subject, minutes)))
    event_for(
        subject, actor=actor, action=CONTACT, from_state=subject.state, data=data, now=now
    ).save()
    return entry


def _unknown_assignee(username: str) -> InvalidInput:
    # One answer whether the name is unknown, a customer, or staff of another shop: the form
    # must not tell who works where.
    return InvalidInput(
        _("No colleague called %(name)s works for this shop.") % {"name": username},
        code="unknown_assignee",
        field="assignee",
    )


@transaction.atomic
def assign(
    *, actor: Principal, subject_type: str, subject_ids: list[int], username: str | None
) -> int:
    """Give subjects of one lifecycle to a member of staff of their shop (``None``: to nobody);
    the number of subjects given. Subjects the caller may not see are left out."""
    _staff_only(actor, "assign")
    user, shop_ids = None, None
    if username:
        user = (
            get_user_model()
            .objects.filter(username=username, is_active=True, membership__isnull=False)
            .select_related("membership")
            .first()
        )
        if user is None or user.membership.role == Role.CUSTOMER:
            raise _unknown_assignee(username)
        shop_ids = set(user.membership.shops.values_list("id", flat=True))
    lifecycle = lifecycle_for(subject_type)
    subjects = list(actor.scope(lifecycle.locked()).filter(id__in=subject_ids).order_by("id"))
    now = clock.now()
    events = []
    notices = []
    for subject in subjects:
        _staff_only(actor, "assign", subject)
        # staff tied to no shop (an installation admin) may take any subject
        if shop_ids and subject.shop_id not in shop_ids:
            raise _unknown_assignee(username)
        subject.assignee = user
        if hasattr(subject, "updated_at"):
            subject.updated_at = now  # bulk_update leaves auto_now alone
        events.append(
            event_for(
                subject,
                actor=actor,
                action=ASSIGN,
                from_state=subject.state,
                data={"assignee": username or ""},
                now=now,
            )
        )
        if user is not None and user.pk != actor.user_id:  # nobody is told what they did
            notices.append(
                notice_build(subject, ASSIGNED, {"by": actor.username}, recipient_id=user.pk)
            )
    lifecycle.model.objects.bulk_update(subjects, _with_updated_at(lifecycle.model, ["assignee"]))
    Event.objects.bulk_create(events)
    notices_save(notices)
    return len(subjects)
