"""Is the product alive? The deadline worker's heartbeat, and the health report that monitoring
reads (``GET /health``) and the workbench shows when the worker has stopped.

A worker writes its heartbeat after every sweep; a worker that has not written for
``AFTERSALES_WORKER_STALE_AFTER`` seconds is taken for stopped, because while it is, no deadline
acts and every due case stays overdue in silence.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from aftersales.core import clock
from aftersales.core.models import WorkerHeartbeat

# Heartbeats of workers gone this long are dropped when a worker starts.
FORGET_AFTER = dt.timedelta(days=7)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def heartbeat_start(*, worker: str) -> None:
    """A worker starts: its row, and the rows of long-gone workers forgotten."""
    now = clock.now()
    WorkerHeartbeat.objects.filter(beat_at__lt=now - FORGET_AFTER).delete()
    WorkerHeartbeat.objects.update_or_create(
        worker=worker, defaults={"started_at": now, "beat_at": now}
    )


def heartbeat_beat(*, worker: str) -> None:
    """A sweep is done (one small UPDATE)."""
    WorkerHeartbeat.objects.filter(worker=worker).update(beat_at=clock.now())


def heartbeat_stop(*, worker: str) -> None:
    """A worker stops on request: it is gone at once, not after the stale period."""
    WorkerHeartbeat.objects.filter(worker=worker).delete()


@dataclass(frozen=True)
class WorkerStatus:
    running: bool
    worker: str | None  # host:pid of the freshest worker
    beat_at: dt.datetime | None
    age_seconds: float | None


def stale_after() -> dt.timedelta:
    return dt.timedelta(seconds=settings.AFTERSALES_WORKER_STALE_AFTER)


def worker_status() -> WorkerStatus:
    """The freshest heartbeat of any worker (several may share the database)."""
    latest = WorkerHeartbeat.objects.order_by("-beat_at").values("worker", "beat_at").first()
    if latest is None:
        return WorkerStatus(running=False, worker=None, beat_at=None, age_seconds=None)
    age = clock.now() - latest["beat_at"]
    return WorkerStatus(
        running=age <= stale_after(),
        worker=latest["worker"],
        beat_at=latest["beat_at"],
        age_seconds=round(max(age.total_seconds(), 0.0), 1),
    )


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """``{"status": "ok" | "degraded" | "down", "web": …, "database": …, "worker": …}``.

    200 while the database answers (``degraded`` when no worker has swept lately, so that a
    load balancer keeps serving pages while monitoring alerts); 503 when the database does not.
    """
    report: dict = {"web": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        report["database"] = "ok"
        status = worker_status()
        report["worker"] = {
            "status": "running" if status.running else "stopped",
            "worker": status.worker,
            "last_heartbeat_at": status.beat_at.isoformat() if status.beat_at else None,
            "age_seconds": status.age_seconds,
            "stale_after_seconds": stale_after().total_seconds(),
        }
        report["status"] = "ok" if status.running else "degraded"
    except DatabaseError:
        report["database"] = "unreachable"
        report["worker"] = {"status": "unknown"}
        report["status"] = "down"
    return JsonResponse(report, status=503 if report["status"] == "down" else 200)
