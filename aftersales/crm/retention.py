"""The retention queue: customers at risk after a bad after-sales experience, with the gesture
the rules suggest, and what the team did about it.

The feed (``retention_sweep``, a worker step) reads what happened since its cursor, less an
overlap of ``OVERLAP`` so that a row committed late is still seen, and queues each bad
experience once (``RetentionTrigger.key`` is unique). The triggers:

=================  ==========================================================  ==============
reason             when                                                        key
=================  ==========================================================  ==============
low_score          a portal rating or an answered survey scores ``LOW_SCORE``  rating:<case>,
                   or less                                                     survey:<id>
rejected           the shop rejected the customer's request (the case's        rejected:<case>
                   ``reject`` event)
slow_resolution    a case ended more than ``SLOW_RESOLUTION_DAYS`` after it    slow:<case>
                   was opened, or is still open past that
complaint          the customer filed a complaint                              complaint:<id>
=================  ==========================================================  ==============

The suggested gesture is the one of the item's most serious reason, in the order of
``retention_moves.GESTURES``. An item's state changes through its table (``crm.lifecycle``)
alone: the feed queues it (or adds a later experience to the open one), the team contacts or
dismisses it; each is one event on the item's timeline.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.cases.choices import FINAL_STATES, Action
from aftersales.cases.models import Case
from aftersales.catalog.models import Shop
from aftersales.complaints.models import Complaint
from aftersales.core import clock
from aftersales.core.actors import SYSTEM, Principal
from aftersales.core.errors import Conflict, InvalidInput, NotFound
from aftersales.core.gate import open_subject, transition
from aftersales.core.models import Event
from aftersales.core.permissions import require, shops_permitted
from aftersales.crm.access import MANAGE
from aftersales.crm.lifecycle import RETENTION
from aftersales.crm.models import (
    RetentionAction,
    RetentionCursor,
    RetentionItem,
    RetentionReason,
    RetentionState,
    RetentionTrigger,
)
from aftersales.crm.retention_moves import (  # noqa: F401 (the API's limit, the rules' words)
    GESTURES,
    NOTE_LIMIT,
    gesture_for,
)
from aftersales.feedback.models import Rating, Survey, SurveyStatus

LOW_SCORE = 2
SLOW_RESOLUTION_DAYS = 7
# The first run reads this far back; later runs from the cursor, less the overlap.
FIRST_LOOKBACK = dt.timedelta(days=90)
OVERLAP = dt.timedelta(hours=1)
CURSOR = "retention"
# The worker reads at most this often: the sources are scanned by time, not by an index.
SWEEP_EVERY = dt.timedelta(minutes=10)


def _triggers(since: dt.datetime, now: dt.datetime):
    """(shop id, customer id, key, reason, when) of every bad experience in [since, now]."""
    for rating in Rating.objects.filter(
        score__lte=LOW_SCORE, created_at__gte=since, created_at__lte=now
    ).select_related("case"):
        yield (
            rating.case.shop_id,
            rating.case.customer_id,
            f"rating:{rating.case_id}",
            RetentionReason.LOW_SCORE,
            rating.created_at,
        )
    for survey in Survey.objects.filter(
        state=SurveyStatus.ANSWERED,
        score__lte=LOW_SCORE,
        answered_at__gte=since,
        answered_at__lte=now,
    ):
        yield (
            survey.shop_id,
            survey.customer_id,
            f"survey:{survey.pk}",
            RetentionReason.LOW_SCORE,
            survey.answered_at,
        )
    rejections = Event.objects.filter(
        subject_type=ContentType.objects.get_for_model(Case),
        action=Action.REJECT,
        at__gte=since,
        at__lte=now,
    ).values_list("subject_id", "at")
    rejected_at = dict(rejections)
    for case in Case.objects.filter(pk__in=rejected_at).only("id", "shop_id", "customer_id"):
        yield (
            case.shop_id,
            case.customer_id,
            f"rejected:{case.pk}",
            RetentionReason.REJECTED,
            rejected_at[case.pk],
        )
    slow = dt.timedelta(days=SLOW_RESOLUTION_DAYS)
    ended_slowly = Case.objects.filter(resolved_at__gte=since, resolved_at__lte=now).only(
        "id", "shop_id", "customer_id", "created_at", "resolved_at", "state"
    )
    for case in ended_slowly:
        if case.state in FINAL_STATES and case.resolved_at - case.created_at > slow:
            yield (
                case.shop_id,
                case.customer_id,
                f"slow:{case.pk}",
                RetentionReason.SLOW_RESOLUTION,
                case.resolved_at,
            )
    still_open = (
        Case.objects.filter(created_at__gte=since - slow, created_at__lt=now - slow)
        .exclude(state__in=FINAL_STATES)
        .only("id", "shop_id", "customer_id", "created_at")
    )
    for case in still_open:
        yield (
            case.shop_id,
            case.customer_id,
            f"slow:{case.pk}",
            RetentionReason.SLOW_RESOLUTION,
            case.created_at + slow,
        )
    for complaint in Complaint.objects.filter(created_at__gte=since, created_at__lte=now).only(
        "id", "shop_id", "customer_id", "created_at"
    ):
        yield (
            complaint.shop_id,
            complaint.customer_id,
            f"complaint:{complaint.pk}",
            RetentionReason.COMPLAINT,
            complaint.created_at,
        )


def _queue(shop_id: int, customer_id: int, key: str, reason: str, at: dt.datetime) -> bool:
    """Queue one experience (once): on the customer's open item, else on a new one, through
    the item's table."""
    if RetentionTrigger.objects.filter(key=key).exists():
        return False
    open_item = (
        RetentionItem.objects.filter(
            shop_id=shop_id, customer_id=customer_id, state=RetentionState.OPEN
        )
        .values_list("pk", flat=True)
        .first()
    )
    trigger = {"reason": reason, "key": key, "at": at}
    if open_item is not None:
        try:
            transition(
                RETENTION,
                subject_id=open_item,
                action=RetentionAction.ADD_TRIGGER,
                actor=SYSTEM,
                data=trigger,
            )
            return True
        except Conflict as error:
            if error.code != "action_not_allowed":
                raise
            # handled meanwhile: the experience opens a new item
    open_subject(
        RETENTION,
        actor=SYSTEM,
        data={**trigger, "shop_id": shop_id, "customer_id": customer_id},
    )
    return True


@transaction.atomic
def retention_sweep(*, now: dt.datetime | None = None) -> int:
    """Queue the bad experiences since the cursor; returns how many were new. Safe to run
    again and from several workers (the cursor's row lock lets one read at a time)."""
    now = now or clock.now()
    cursor = RetentionCursor.objects.select_for_update().filter(name=CURSOR).first()
    since = cursor.read_until - OVERLAP if cursor else now - FIRST_LOOKBACK
    added = 0
    for shop_id, customer_id, key, reason, at in _triggers(since, now):
        added += _queue(shop_id, customer_id, key, reason, at)
    if cursor is None:
        RetentionCursor.objects.create(name=CURSOR, read_until=now)
    elif now > cursor.read_until:
        cursor.read_until = now
        cursor.save(update_fields=["read_until"])
    return added


def retention_due(*, now: dt.datetime | None = None) -> int:
    """The worker's step: ``retention_sweep`` when ``SWEEP_EVERY`` has passed since the last."""
    now = now or clock.now()
    read_until = RetentionCursor.objects.filter(name=CURSOR).values_list("read_until", flat=True)
    last = read_until.first()
    if last is not None and now - last < SWEEP_EVERY:
        return 0
    return retention_sweep(now=now)


def retention_list(
    *, actor: Principal, shop: Shop, state: str = RetentionState.OPEN
) -> list[RetentionItem]:
    require(actor, MANAGE, shop)
    return list(
        RetentionItem.objects.filter(shop=shop, state=state)
        .select_related("customer", "handled_by")
        .order_by("id")[:200]
    )


OUTCOMES = {
    RetentionState.CONTACTED: RetentionAction.CONTACT,
    RetentionState.DISMISSED: RetentionAction.DISMISS,
}


def retention_resolve(
    *, actor: Principal, item_id: int, outcome: str, note: str = ""
) -> RetentionItem:
    """Mark an open item ``contacted`` or ``dismissed`` (a dismissal says why): the item's
    ``contact`` or ``dismiss`` move."""
    require(actor, MANAGE)
    shops = shops_permitted(actor, MANAGE)
    items = RetentionItem.objects.all()
    if shops is not None:
        items = items.filter(shop_id__in=shops)
    if not items.filter(pk=item_id).exists():
        raise NotFound(_("No such retention item."), code="retention_item_not_found")
    if outcome not in OUTCOMES:
        raise InvalidInput(_("Choose contacted or dismissed."), code="invalid_outcome")
    try:
        return transition(
            RETENTION,
            subject_id=item_id,
            action=OUTCOMES[outcome],
            actor=actor,
            data={"note": note},
        )
    except Conflict as error:
        if error.code != "action_not_allowed":
            raise
        raise Conflict(
            _("This item has been handled already."), code="retention_item_handled"
        ) from None
