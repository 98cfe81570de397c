"""Deliveries as durable tasks.

A notice written in a transaction (``core.notices.notices_save``) gets, in that same
transaction, one ``Delivery`` per channel (e-mail and a text message for a customer, the record
for the team, one per webhook endpoint of its shop that wants its kind) and tasks that carry
them (``notify.tasks.deliver_batch``, up to ``AFTERSALES_DELIVERY_TASK_BATCH`` deliveries each;
a retry is a task of its own, ``notify.tasks.deliver``). On the database task backend the tasks
are rows of the same transaction, so a change, its notices, their deliveries and their tasks
commit together or not at all; another backend gets the tasks once the transaction commits.
Each attempt is idempotent: it claims its delivery only while the delivery is due (``SELECT …
FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's one writer does the same), so two workers never
send one twice, and a duplicate task does nothing.

A claim is a lease: the delivery is ``sending`` until ``lease_until``. A failure schedules the
next attempt after a pause that doubles (``AFTERSALES_DELIVERY_BACKOFF`` … capped) and enqueues
its task to run then; after ``AFTERSALES_DELIVERY_MAX_ATTEMPTS`` the delivery is dead, until
someone replays it. The worker's sweep (``deliveries_sweep``) repairs what a crash leaves: a
notice without deliveries (written before this existed, or by a path that wrote it directly), a
lease that ran out (the worker was killed mid-send: tried again, once), and a due delivery whose
task was lost (a task sent after the commit by a process that died first).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django_tasks import task_backends
from django_tasks_db import DatabaseBackend

from aftersales.core import clock
from aftersales.core.bulk import bulk_insert_new
from aftersales.core.models import Audience, Notice
from aftersales.notify import channels
from aftersales.notify.models import Channel, Delivery, DeliveryStatus, WebhookEndpoint

logger = logging.getLogger("aftersales.notify")

# What the notice's own record (delivered_at, channel, attempts, last_error) mirrors.
PRIMARY = (Channel.EMAIL, Channel.LOG)


def backoff(attempts: int) -> dt.timedelta:
    """The pause after the ``attempts``-th failure: 1 min, 2, 4 … (settings), capped."""
    seconds = settings.AFTERSALES_DELIVERY_BACKOFF * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, settings.AFTERSALES_DELIVERY_BACKOFF_CAP))


def lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.AFTERSALES_DELIVERY_LEASE)


def sms_wanted(kind: str) -> bool:
    kinds = settings.AFTERSALES_SMS_KINDS
    return bool(settings.AFTERSALES_SMS_BACKEND) and ("*" in kinds or kind in kinds)


# A delivery filter reads a batch of notices about to be planned and answers the deliveries to
# withhold, ``{(notice id, channel): why}``: a layer above (the customers' opt-outs of care
# messages, say) registers one at its start, so that notify never imports it.
DeliveryFilter = Callable[[Sequence[Notice]], Mapping[tuple[int, str], str]]
_FILTERS: list[DeliveryFilter] = []


def register_delivery_filter(fn: DeliveryFilter) -> None:
    """Ask ``fn`` which of a batch's deliveries to withhold. A withheld delivery is planned as
    ``skipped`` with the filter's reason and no task (the notice is not planned again, and the
    record says why nothing went out)."""
    if fn not in _FILTERS:
        _FILTERS.append(fn)


def _withheld(notices: Sequence[Notice]) -> dict[tuple[int, str], str]:
    withheld: dict[tuple[int, str], str] = {}
    for fn in _FILTERS:
        withheld.update(fn(notices))
    return withheld


DELIVERY_COLUMNS = (
    "notice",
    "shop_id",
    "channel",
    "endpoint",
    "status",
    "attempts",
    "next_attempt_at",
    "lease_until",
    "last_error",
    "delivered_at",
    "created_at",
)


def _plan(notices: Sequence[Notice], now) -> list[Delivery]:
    shop_ids = {notice.shop_id for notice in notices}
    endpoints: dict[int, list[WebhookEndpoint]] = {}
    for endpoint in WebhookEndpoint.objects.filter(shop_id__in=shop_ids, is_active=True):
        endpoints.setdefault(endpoint.shop_id, []).append(endpoint)
    withheld = _withheld(notices) if _FILTERS else {}
    planned = []
    for notice in notices:
        channels_of = [Channel.LOG]
        if notice.audience == Audience.CUSTOMER:
            channels_of = [Channel.EMAIL, *([Channel.SMS] if sms_wanted(notice.kind) else [])]
        row = {"notice_id": notice.pk, "shop_id": notice.shop_id, "next_attempt_at": now}
        for channel in channels_of:
            why = withheld.get((notice.pk, channel))
            if why is None:
                planned.append(Delivery(channel=channel, created_at=now, **row))
            else:
                planned.append(
                    Delivery(
                        channel=channel,
                        status=DeliveryStatus.SKIPPED,
                        last_error=why,
                        delivered_at=now,
                        created_at=now,
                        **row,
                    )
                )
        planned += [
            Delivery(channel=Channel.WEBHOOK, endpoint=endpoint, created_at=now, **row)
            for endpoint in endpoints.get(notice.shop_id, [])
            if endpoint.wants(notice.kind)
        ]
    return planned


def deliveries_start(notices: Iterable[Notice] | Iterable[int]) -> list[int]:
    """Plan the deliveries of these notices (rows or ids) and enqueue their tasks, in the
    caller's transaction. Planning twice plans nothing more: a delivery is unique per notice,
    channel and endpoint, and a duplicate task finds its delivery not due."""
    given = list(notices)  # type: ignore[arg-type]
    if not given:
        return []
    if not isinstance(given[0], Notice):
        given = list(Notice.objects.filter(pk__in=given).order_by("created_at", "pk"))
    rows = [notice for notice in given if notice.pk is not None]
    if not rows:
        return []
    with transaction.atomic(savepoint=False):
        # What another planner (the worker's repair, say) planned first is skipped, and only
        # what this one inserted gets a task.
        planned = _plan(rows, clock.now())
        ids = sorted(bulk_insert_new(Delivery, planned, DELIVERY_COLUMNS))
        if any(delivery.status != DeliveryStatus.PENDING for delivery in planned):
            # A withheld delivery is done already: no task for it.
            enqueue(
                Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.PENDING)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
        else:
            enqueue(ids)
    return ids


def _tasks_in_this_database() -> bool:
    from aftersales.notify.tasks import deliver

    return isinstance(task_backends[deliver.backend], DatabaseBackend)


def enqueue(delivery_ids: Iterable[int], *, run_after: dt.datetime | None = None) -> None:
    """Tasks for these deliveries (at ``run_after`` when the backend can wait; otherwise the
    sweep enqueues them when they are due): one task for a single delivery, else one per
    ``AFTERSALES_DELIVERY_TASK_BATCH`` of them. On the database backend the tasks are rows
    written in the caller's transaction; on another (Redis) they are sent once it commits, so a
    worker never looks for a delivery that is not there yet."""
    from aftersales.notify.tasks import deliver, deliver_batch

    ids = list(delivery_ids)
    if not ids:
        return
    if run_after is not None and not task_backends[deliver.backend].supports_defer:
        return
    size = max(int(settings.AFTERSALES_DELIVERY_TASK_BATCH), 1)

    def send() -> None:
        with transaction.atomic(savepoint=False):
            if len(ids) == 1:
                single = deliver if run_after is None else deliver.using(run_after=run_after)
                single.enqueue(ids[0])
                return
            batch = deliver_batch if run_after is None else deliver_batch.using(run_after=run_after)
            for start in range(0, len(ids), size):
                batch.enqueue(ids[start : start + size])

    if _tasks_in_this_database():
        send()
    else:
        transaction.on_commit(send)


def _lock(queryset):
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True, of=("self",))
    return queryset


def _claim(delivery_id: int) -> Delivery | None:
    now = clock.now()
    with transaction.atomic():
        delivery = (
            _lock(
                Delivery.objects.filter(
                    pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
                )
            )
            .select_related("notice__subject_type", "endpoint")
            .first()
        )
        if delivery is None:
            return None
        delivery.status = DeliveryStatus.SENDING
        delivery.attempts += 1
        delivery.lease_until = now + lease()
        delivery.save(update_fields=["status", "attempts", "lease_until"])
    return delivery


def _mirror(delivery: Delivery, used: str) -> None:
    """The notice's own record follows its primary delivery (the workbench and the portal
    read it)."""
    if delivery.channel not in PRIMARY:
        return
    notice = delivery.notice
    notice.attempts = min(delivery.attempts, 32767)
    notice.last_error = delivery.last_error
    if delivery.is_finished:
        notice.delivered_at = delivery.delivered_at
        notice.channel = used
    Notice.objects.filter(pk=notice.pk).update(
        attempts=notice.attempts,
        last_error=notice.last_error,
        delivered_at=notice.delivered_at,
        channel=notice.channel,
    )


def _finish(delivery: Delivery, *, used: str = "", error: str = "", status: str) -> None:
    now = clock.now()
    with transaction.atomic():
        current = (
            Delivery.objects.select_for_update()
            .filter(pk=delivery.pk, status=DeliveryStatus.SENDING, attempts=delivery.attempts)
            .only("pk")
            .first()
        )
        if current is None:
            # The lease ran out and the sweep gave the delivery to another attempt.
            logger.warning("delivery %s: attempt %s finished late", delivery.pk, delivery.attempts)
            return
        delivery.lease_until = None
        delivery.last_error = error[:1000]
        if status in (DeliveryStatus.DELIVERED, DeliveryStatus.SKIPPED):
            delivery.status, delivery.delivered_at = status, now
        elif status == DeliveryStatus.DEAD or (
            delivery.attempts >= settings.AFTERSALES_DELIVERY_MAX_ATTEMPTS
        ):
            delivery.status = DeliveryStatus.DEAD
        else:
            delivery.status = DeliveryStatus.PENDING
            delivery.next_attempt_at = now + backoff(delivery.attempts)
            enqueue([delivery.pk], run_after=delivery.next_attempt_at)
        delivery.save(
            update_fields=[
                "status",
                "lease_until",
                "last_error",
                "delivered_at",
                "next_attempt_at",
            ]
        )
        _mirror(delivery, used)


def delivery_attempt(delivery_id: int) -> str:
    """One attempt at a delivery, if it is due; returns its status afterwards (``not_due``
    when another worker has it or it is done)."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return "not_due"
    try:
        used = channels.send(delivery)
    except channels.NothingToSend as reason:
        used = Channel.LOG if delivery.channel in PRIMARY else ""
        _finish(delivery, used=used, error=str(reason), status=DeliveryStatus.SKIPPED)
        return DeliveryStatus.SKIPPED
    except channels.Permanent as refusal:
        _finish(delivery, error=str(refusal), status=DeliveryStatus.DEAD)
        return DeliveryStatus.DEAD
    except Exception as error:  # any failure of the channel: tried again later
        logger.warning("delivery %s (%s) failed: %s", delivery.pk, delivery.channel, error)
        text = str(error) or type(error).__name__
        _finish(delivery, error=text, status=DeliveryStatus.PENDING)
        return DeliveryStatus.PENDING
    _finish(delivery, used=used, status=DeliveryStatus.DELIVERED)
    return DeliveryStatus.DELIVERED


def deliveries_sweep(*, batch_size: int = 200) -> int:
    """The worker's delivery step: plan the deliveries of up to ``batch_size`` notices written
    since (oldest first), then repair what crashes leave; returns how many deliveries it
    enqueued (a full batch of notices: call again)."""
    now = clock.now()
    unplanned = list(
        Notice.objects.filter(delivered_at=None)
        .exclude(Exists(Delivery.objects.filter(notice=OuterRef("pk"))))
        .order_by("created_at")
        .values_list("pk", flat=True)[:batch_size]
    )
    enqueued = len(deliveries_start(unplanned)) if unplanned else 0
    with transaction.atomic():
        stale = list(
            _lock(
                Delivery.objects.filter(status=DeliveryStatus.SENDING, lease_until__lt=now)
            ).order_by("lease_until")[:batch_size]
        )
        # A due delivery whose task should have run by now: its task was lost (enqueued by a
        # process that died before it could, or by a backend that cannot wait for a time).
        waited = dt.timedelta(0) if not _can_defer() else lease()
        lost = list(
            _lock(
                Delivery.objects.filter(
                    status=DeliveryStatus.PENDING, next_attempt_at__lte=now - waited
                )
            ).order_by("next_attempt_at")[:batch_size]
        )
        for delivery in stale:
            logger.warning("delivery %s: its worker stopped mid-send; trying again", delivery.pk)
            delivery.lease_until = None
            delivery.last_error = delivery.last_error or "the worker stopped during the attempt"
            delivery.next_attempt_at = now
            delivery.status = (
                DeliveryStatus.DEAD
                if delivery.attempts >= settings.AFTERSALES_DELIVERY_MAX_ATTEMPTS
                else DeliveryStatus.PENDING
            )
            delivery.save(update_fields=["status", "lease_until", "last_error", "next_attempt_at"])
        for delivery in lost:
            delivery.next_attempt_at = now
            delivery.save(update_fields=["next_attempt_at"])
        again = [d.pk for d in [*stale, *lost] if d.status == DeliveryStatus.PENDING]
        enqueue(again)
    return enqueued + len(again)


def _can_defer() -> bool:
    from aftersales.notify.tasks import deliver

    return task_backends[deliver.backend].supports_defer


def due_deliveries(*, limit: int) -> list[int]:
    return list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=clock.now())
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
