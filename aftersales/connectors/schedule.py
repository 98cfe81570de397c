"""The worker's schedule of syncs: every store that reads a platform's API is synced every
``AFTERSALES_STORE_SYNC_INTERVAL`` seconds (5 minutes by default), one sync at a time.

A store is due when it has API access, is not paused, the platform is not making it wait, and its
last sync is older than the interval (or it never synced). A due store gets a ``sync_store`` task
unless one of its syncs waits or runs already, or was queued within the interval (so a sync that
keeps failing is tried once an interval, not on every round of the worker). The queue is read
from the task table; on a task backend outside the database, which cannot be read, each worker
process remembers when it last queued each store instead.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from aftersales.connectors import tasks
from aftersales.connectors.models import Store
from aftersales.core import clock

# store id → when this process last queued its sync (only when the queue cannot be read)
_queued_here: dict[int, dt.datetime] = {}


def interval() -> dt.timedelta:
    return dt.timedelta(seconds=float(settings.AFTERSALES_STORE_SYNC_INTERVAL))


def due_stores(now: dt.datetime) -> list[int]:
    """The ids of the stores whose sync is due at ``now``."""
    since = now - interval()
    return list(
        Store.objects.filter(api_access=True, paused=False)
        .filter(Q(rate_limited_until__isnull=True) | Q(rate_limited_until__lte=now))
        .filter(Q(last_sync_at__isnull=True) | Q(last_sync_at__lte=since))
        .order_by("last_sync_at", "id")
        .values_list("id", flat=True)
    )


@transaction.atomic
def stores_due(*, now: dt.datetime | None = None) -> int:
    """Queue the sync of every due store that has none waiting, running or queued within the
    interval; how many were queued (a worker step)."""
    now = now or clock.now()
    since = now - interval()
    queued = tasks.waiting(tasks.sync_store, now=now, enqueued_since=since)
    if queued is None:
        busy = {store_id for store_id, at in _queued_here.items() if at > since}
    else:
        busy = {args[0] for args in queued if args}
    started = 0
    for store_id in due_stores(now):
        if store_id in busy:
            continue
        tasks.enqueue(tasks.sync_store, store_id)
        if queued is None:
            _queued_here[store_id] = now
        started += 1
    return started
