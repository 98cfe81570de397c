"""The desk's bell: the notices for a member of staff, what they have read, and the notice a
while before a deadline acts.

Who reads a notice: one with a ``recipient`` is that person's alone (assigned to you, your
customer replied, an SLA warning on your case); one without is for its audience among the staff
of its shop: ``shop`` for everyone, ``lead`` for the team's leads (its administrators).
Customers' notices are their e-mails and never ring the bell. The bell shows the last
``BELL_DAYS`` days; each member of staff reads each notice on their own (``NoticeRead``).

"Deadline about to act" is a step of the worker (``deadline_warnings``), not a query of the bell:
it writes one notice per deadline, ``AFTERSALES_DEADLINE_WARNING`` before it acts, to the
subject's assignee (its staff when nobody has it), so it is read, marked read and counted like
every other notice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from aftersales.cases.timeline import readable_time
from aftersales.catalog.models import Shop
from aftersales.conversations.models import NoticeRead
from aftersales.conversations.notices import DEADLINE_SOON
from aftersales.conversations.subjects import DESK_PAGES, responsible_id
from aftersales.core import clock
from aftersales.core.actors import Principal, Role
from aftersales.core.errors import InvalidInput, NotFound
from aftersales.core.lifecycle import lifecycles
from aftersales.core.models import Audience, Notice
from aftersales.core.notices import notice_build, notices_save, registered_kinds

BELL_DAYS = 30
BELL_SIZE = 50
# The roles that read the notices for the team's leads (the role held in the notice's shop).
LEAD_ROLES = frozenset({Role.ADMIN, Role.LEAD})


def visible_notices(actor: Principal) -> QuerySet[Notice]:
    """The notices of the last ``BELL_DAYS`` days the caller's bell shows (none for a
    customer)."""
    if not actor.is_staff or actor.user_id is None:
        return Notice.objects.none()
    if actor.shop_ids is None:  # tied to no shop: every shop's
        audiences = [Audience.SHOP, Audience.LEAD] if actor.role in LEAD_ROLES else [Audience.SHOP]
        for_team = Q(recipient=None, audience__in=audiences)
    else:
        leads = [shop for shop in actor.shop_ids if actor.role_in(shop) in LEAD_ROLES]
        for_team = Q(recipient=None, audience=Audience.SHOP, shop_id__in=actor.shop_ids) | Q(
            recipient=None, audience=Audience.LEAD, shop_id__in=leads
        )
    since = clock.now() - dt.timedelta(days=BELL_DAYS)
    return Notice.objects.filter(Q(recipient_id=actor.user_id) | for_team, created_at__gte=since)


def _unread(actor: Principal, notices: QuerySet[Notice]) -> QuerySet[Notice]:
    read = NoticeRead.objects.filter(notice=OuterRef("pk"), user_id=actor.user_id)
    return notices.filter(~Exists(read))


def unread_count(actor: Principal) -> int:
    return _unread(actor, visible_notices(actor)).count()


@dataclass(frozen=True)
class BellItem:
    """One notice as the bell shows it: in words, with where it leads."""

    id: int
    kind: str
    summary: str
    number: str
    subject_type: str
    url: str
    at: dt.datetime
    when: str
    is_read: bool
    is_personal: bool


def bell_items(actor: Principal, *, unread_only: bool = False, limit: int = BELL_SIZE) -> list:
    """The caller's newest notices, in words, newest first, in two queries."""
    notices = visible_notices(actor)
    read = NoticeRead.objects.filter(notice=OuterRef("pk"), user_id=actor.user_id)
    notices = notices.annotate(is_read=Exists(read))
    if unread_only:
        notices = notices.filter(is_read=False)
    rows = list(notices.order_by("-created_at", "-id")[:limit])
    zones = dict(
        Shop.objects.filter(id__in={row.shop_id for row in rows}).values_list("id", "timezone")
    )
    kinds = registered_kinds()
    items = []
    for notice in rows:
        subject_type = ContentType.objects.get_for_id(notice.subject_type_id).model
        number = str(notice.payload.get("number", ""))
        page = DESK_PAGES.get(subject_type)
        kind = kinds.get(notice.kind)
        items.append(
            BellItem(
                id=notice.id,
                kind=notice.kind,
                summary=str(kind.summary) if kind else _("An update"),
                number=number,
                subject_type=subject_type,
                url=reverse(page, args=[number]) if page and number else "",
                at=notice.created_at,
                when=readable_time(notice.created_at, zones.get(notice.shop_id, "UTC")),
                is_read=notice.is_read,
                is_personal=notice.recipient_id == actor.user_id,
            )
        )
    return items


@transaction.atomic
def notices_read(*, actor: Principal, ids: list[int] | None = None) -> int:
    """Mark notices of the caller's bell read: these ``ids`` (a notice the caller's bell does not
    show is refused, unchanged), or every unread one when ``ids`` is None. The number newly
    read."""
    if not actor.is_staff or actor.user_id is None:
        if ids:
            raise NotFound(_("No such notice."), code="notice_not_found")
        return 0
    notices = visible_notices(actor)
    if ids is not None:
        if len(ids) > BELL_SIZE * 4:
            raise InvalidInput(_("Too many notices at once."), code="invalid_input", field="ids")
        wanted = set(ids)
        found = set(notices.filter(id__in=wanted).values_list("id", flat=True))
        if found != wanted:
            raise NotFound(_("No such notice."), code="notice_not_found")
        notices = notices.filter(id__in=wanted)
    unread = list(_unread(actor, notices).values_list("id", flat=True)[: BELL_SIZE * 20])
    now = clock.now()
    NoticeRead.objects.bulk_create(
        [
            NoticeRead(notice_id=notice_id, user_id=actor.user_id, read_at=now)
            for notice_id in unread
        ],
        ignore_conflicts=True,
    )
    return len(unread)


def notices_read_about(actor: Principal, subject, kinds: tuple[str, ...]) -> None:
    """Mark the caller's unread notices of these kinds about one subject read (opening a
    conversation reads its "the customer replied")."""
    if not actor.is_staff or actor.user_id is None:
        return
    notices = visible_notices(actor).filter(
        subject_type=ContentType.objects.get_for_model(subject),
        subject_id=subject.pk,
        kind__in=kinds,
    )
    now = clock.now()
    NoticeRead.objects.bulk_create(
        [
            NoticeRead(notice_id=notice_id, user_id=actor.user_id, read_at=now)
            for notice_id in _unread(actor, notices).values_list("id", flat=True)[:BELL_SIZE]
        ],
        ignore_conflicts=True,
    )


# --- the notice before a deadline acts -----------------------------------------------------------


def _warning_lead() -> dt.timedelta:
    return dt.timedelta(minutes=settings.AFTERSALES_DEADLINE_WARNING_MINUTES)


def deadline_warnings(*, batch_size: int = 500) -> int:
    """Notify the people of subjects whose deadline acts within the warning time: one notice per
    deadline (a deadline moved later gets its own), in one transaction per lifecycle; the number
    of notices written. Safe to run in several workers at once (``SKIP LOCKED``)."""
    written = 0
    now = clock.now()
    lead = _warning_lead()
    for lifecycle in lifecycles():
        with transaction.atomic():
            due = lifecycle.model.objects.filter(
                deadline_at__gt=now, deadline_at__lte=now + lead
            ).exclude(deadline_action="")
            quiet = [state for state, rule in lifecycle.deadlines.items() if not rule.warn]
            if quiet:
                due = due.exclude(state__in=quiet)
            if connection.features.has_select_for_update_skip_locked:
                due = due.select_for_update(skip_locked=True, of=("self",))
            subjects = list(due.order_by("deadline_at")[:batch_size])
            if not subjects:
                continue
            warned = {
                (notice.subject_id, notice.payload.get("deadline_at"))
                for notice in Notice.objects.filter(
                    subject_type=ContentType.objects.get_for_model(lifecycle.model),
                    subject_id__in=[subject.pk for subject in subjects],
                    kind=DEADLINE_SOON,
                ).only("subject_id", "payload")
            }
            notices = []
            for subject in subjects:
                moment = subject.deadline_at.isoformat()
                if (subject.pk, moment) in warned:
                    continue
                notices.append(
                    notice_build(
                        subject,
                        DEADLINE_SOON,
                        {"deadline_at": moment, "action": subject.deadline_action},
                        recipient_id=responsible_id(subject),
                    )
                )
            notices_save(notices)
            written += len(notices)
    return written
