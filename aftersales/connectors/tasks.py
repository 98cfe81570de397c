"""The durable tasks of the stores (Django's task framework through ``django-tasks``): a store's
sync (its landing, then its cases' following, bounded: what is left goes on in the next task),
and the read of one request again that a push message asked for.

``waiting`` reads the queue (the database backend's table) so that a caller enqueues a task only
when the same work is not already waiting: the worker's schedule keeps one sync per store queued
or running, and a burst of push messages about one request ends in one read. A task that waits
reads the platform when it runs, so whatever it was asked for since is covered.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django_tasks import task, task_backends
from django_tasks.base import Task, TaskResultStatus
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from aftersales.connectors import keys
from aftersales.connectors.base import ConnectorError
from aftersales.connectors.models import Store
from aftersales.connectors.sync import refresh, store_sync

# A task "running" for longer than this is taken for lost (its worker died): it no longer holds
# the store's place in the queue.
RUNNING_LEASE = dt.timedelta(hours=1)


@task()
def sync_store(store_id: int) -> dict:
    """Walk one store's changes to now; where it got to, and why it stopped if it did."""
    if not Store.objects.filter(pk=store_id).exists():
        return {"requests": 0, "changed": 0, "synced_until": None, "error": "store_removed"}
    result = store_sync(store_id)
    if result.follow_left:
        enqueue(sync_store, store_id)  # the cases of the rest of what it read, next
    return {
        "requests": result.requests,
        "changed": result.changed,
        "followed": result.followed,
        "synced_until": result.synced_until.isoformat() if result.synced_until else None,
        "error": result.error,
    }


@task()
def refresh_request(store_id: int, request_id: str, order_id: str = "") -> dict:
    """Read one request of a store again (a push message said it changed) and keep what the
    platform answers. ``order_id`` is the push's order of the request, for the platforms whose
    read of a request it has never seen needs it (Pinduoduo); the read takes the stored one for a
    request it knows. A failure is the answer, not a retry: the store's next sync reads it."""
    store = Store.objects.filter(pk=store_id).first()
    if store is None:
        return {"changed": False, "error": "store_removed"}
    if store.paused or not store.api_access:
        return {"changed": False, "error": "waiting"}
    try:
        landed = refresh(store, request_id, order_id=order_id)
    except keys.KeysUnreadable:
        return {"changed": False, "error": "keys_unreadable"}
    except ConnectorError as error:
        return {"changed": False, "error": error.code, "detail": str(error.detail or error)}
    return {"changed": landed.changed, "error": ""}


# --- what is queued -----------------------------------------------------------------------------


def queue_is_readable(work: Task) -> bool:
    """Whether ``work``'s queue is this database's table (the default backend)."""
    return isinstance(task_backends[work.backend], DatabaseBackend)


def waiting(
    work: Task,
    *,
    now: dt.datetime,
    running: bool = True,
    enqueued_since: dt.datetime | None = None,
) -> list[list] | None:
    """The arguments of ``work``'s tasks that wait to run; with ``running``, of those that run
    now too (a run older than ``RUNNING_LEASE`` is taken for lost); with ``enqueued_since``, of
    any enqueued since then, whatever became of them. ``None`` when the queue is not this
    database's (another backend's cannot be read)."""
    if not queue_is_readable(work):
        return None
    wanted = Q(status=TaskResultStatus.READY)
    if running:
        wanted |= Q(status=TaskResultStatus.RUNNING, started_at__gte=now - RUNNING_LEASE)
    if enqueued_since is not None:
        wanted |= Q(enqueued_at__gt=enqueued_since)
    results = DBTaskResult.objects.filter(
        wanted, task_path=work.module_path, backend_name=work.backend
    )
    return [row["args"] for row in results.values_list("args_kwargs", flat=True)]


def enqueue(work: Task, *args) -> None:
    """``work(*args)`` queued: on the database backend a row written in the caller's
    transaction; on another backend sent once that commits, so a worker never looks for what is
    not there yet."""
    if queue_is_readable(work):
        work.enqueue(*args)
    else:
        transaction.on_commit(lambda: work.enqueue(*args))


@task()
def case_due(case_id: int, action: str) -> str:
    """A platform's case's deadline ran out: read the request again, or carry the shop's
    automatic action out on the platform within the store's cap (``writeback.case_due``)."""
    from aftersales.connectors.writeback import case_due as carry_out

    return carry_out(case_id, action)
