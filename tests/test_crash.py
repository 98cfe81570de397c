"""A worker killed with SIGKILL in the middle of a batch loses nothing: its batch rolls back, and
after a restart every due case is acted on exactly once (PostgreSQL, real processes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from aftersales.cases.models import Case
from aftersales.core import clock
from aftersales.core.models import Event
from tests.conftest import make_order, make_shop, make_user, open_case

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
DUE = 3000
APP_NAME = "aftersales-crash-test-worker"


def due_cases(count: int) -> list[int]:
    """``count`` returns whose buyer never shipped, all overdue (cloned from one real case)."""
    make_shop()
    order = make_order()
    buyer = make_user("buyer", "customer", shop="shop", customer="C1")
    agent = make_user("agent", "agent", shop="shop")
    model = open_case(buyer, order)["number"]
    agent.act(model, "approve")
    template = Case.objects.get(number=model)
    past = clock.now() - timedelta(minutes=5)
    clones = []
    for index in range(count):
        template.pk = None
        template.number = f"ASCRASH{index:08d}"
        template.deadline_at = past
        clones.append(
            Case(**{f.attname: getattr(template, f.attname) for f in Case._meta.concrete_fields})
        )
    Case.objects.bulk_create(clones)
    return list(Case.objects.filter(number__startswith="ASCRASH").values_list("id", flat=True))


def worker_env() -> dict[str, str]:
    database = settings.DATABASES["default"]
    return {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT'] or 5432}/"
            f"{database['NAME']}"
        ),
        "PGAPPNAME": APP_NAME,
        "AFTERSALES_SWEEP_BATCH": str(DUE),  # one batch: the kill lands inside it
        "AFTERSALES_WORKER_INTERVAL": "0.1",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }


def wait_for_open_batch(timeout: float = 60) -> None:
    """Until the worker's backend is inside a transaction holding locks on the cases."""
    with psycopg.connect(
        host=settings.DATABASES["default"]["HOST"],
        user=settings.DATABASES["default"]["USER"],
        dbname=settings.DATABASES["default"]["NAME"],
        autocommit=True,
    ) as probe:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            row = probe.execute(
                "SELECT count(*) FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid "
                "JOIN pg_class c ON c.oid = l.relation WHERE a.application_name = %s "
                "AND c.relname = 'cases_case' AND l.mode = 'RowShareLock'",
                [APP_NAME],
            ).fetchone()
            if row[0]:
                return
            time.sleep(0.005)
    pytest.fail("the worker never started a batch")


def test_a_killed_worker_loses_nothing_and_acts_once(db):
    ids = due_cases(DUE)
    worker = subprocess.Popen(
        [sys.executable, "-m", "aftersales.cli", "worker"],
        env=worker_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_open_batch()
        os.kill(worker.pid, signal.SIGKILL)
    finally:
        worker.wait(timeout=30)
    # the batch died with its transaction: nothing half-done
    connection.close()
    assert Case.objects.filter(id__in=ids, state="closed").count() == 0
    assert Event.objects.filter(case__in=ids, action="auto_close").count() == 0
    # a restarted worker finishes the job, once per case
    restarted = subprocess.run(
        [sys.executable, "-m", "aftersales.cli", "sweep"],
        env=worker_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert f"acted={DUE}" in restarted.stdout
    assert Case.objects.filter(id__in=ids, state="closed").count() == DUE
    assert Event.objects.filter(case__in=ids, action="auto_close").count() == DUE
