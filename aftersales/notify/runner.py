"""Run the queued delivery tasks inside the worker's loop, when the task backend is the database
(``django_tasks_db``). Another backend (Redis) has its own worker processes; then the loop only
sweeps."""

from __future__ import annotations

from django_tasks import task_backends
from django_tasks_db import DatabaseBackend
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

from aftersales.notify.tasks import deliver


def runs_tasks_here() -> bool:
    return isinstance(task_backends[deliver.backend], DatabaseBackend)


def tasks_run(*, worker_id: str, max_tasks: int = 100) -> int:
    """Run up to ``max_tasks`` ready tasks of the database backend; returns how many ran.

    The claim is django-tasks-db's own (``SELECT … FOR UPDATE SKIP LOCKED``, an exclusive
    transaction on SQLite), and so is running a task and recording its result; unlike its
    ``db_worker`` loop this neither sleeps nor closes the connection, so it can share the
    deadline worker's loop (and a test's transaction)."""
    if not runs_tasks_here():
        return 0
    alias = deliver.backend
    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name=alias,
        startup_delay=False,
        max_tasks=max_tasks,
        worker_id=worker_id[:64],
        excluded_queue_names=[],
    )
    ran = 0
    while ran < max_tasks:
        ready = DBTaskResult.objects.ready().filter(backend_name=alias)
        with exclusive_transaction(ready.db):
            result = ready.get_locked()
            if result is None:
                break
            result.claim(worker.worker_id)
        worker.run_task(result)
        ran += 1
    return ran
