"""The worker's schedule of syncs: every store reading its platform's API is synced once per
``AFTERSALES_STORE_SYNC_INTERVAL``, one sync of it at a time; paused, rate-limited and import-only
stores are left alone; a sync that fails is tried again an interval later, not every round; a
sync lost with its worker frees the store's place."""

from __future__ import annotations

import datetime as dt

import pytest
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from aftersales.connectors import schedule
from aftersales.connectors.base import Credentials
from aftersales.connectors.models import Store
from aftersales.connectors.schedule import stores_due
from aftersales.connectors.sync import store_create
from aftersales.connectors.tasks import sync_store
from aftersales.notify.runner import tasks_run
from tests.conftest import NOW, make_shop
from tests.fakes.pinduoduo import ACCESS_TOKEN, CLIENT_ID, CLIENT_SECRET
from tests.test_connector_pinduoduo import fake_pdd  # noqa: F401 (the fixture)
from tests.test_connector_sync import START

MINUTE = dt.timedelta(minutes=1)


def add_store(seller_id: str, gateway: str = "", **fields) -> Store:
    store = store_create(
        shop=Store.objects.first().shop if Store.objects.exists() else make_shop("shop"),
        platform="pinduoduo",
        name=f"店 {seller_id}",
        credentials=Credentials(CLIENT_ID, CLIENT_SECRET, ACCESS_TOKEN, seller_id=seller_id),
        gateway=gateway,
    )
    if fields:
        Store.objects.filter(pk=store.pk).update(**fields)
    return store


def queued() -> list[int]:
    return sorted(
        row["args"][0]
        for row in DBTaskResult.objects.filter(task_path=sync_store.module_path).values_list(
            "args_kwargs", flat=True
        )
    )


@pytest.fixture
def stores(db, clock):
    return {
        "never": add_store("1"),
        "recent": add_store("2", last_sync_at=NOW - MINUTE),
        "old": add_store("3", last_sync_at=NOW - 10 * MINUTE),
        "paused": add_store("4", paused=True),
        "import_only": add_store("5", api_access=False, sealed_keys=""),
        "limited": add_store("6", rate_limited_until=NOW + MINUTE),
        "limit_over": add_store("7", rate_limited_until=NOW - MINUTE),
    }


def test_the_due_stores_get_one_sync_each(stores):
    # when the worker's step runs
    assert stores_due() == 3
    # then the stores never synced, synced long ago, or whose wait is over have a sync queued
    assert queued() == sorted(stores[name].pk for name in ("never", "old", "limit_over"))
    # and the next rounds add none while those wait
    assert stores_due() == 0
    assert len(queued()) == 3


def test_a_store_is_synced_again_an_interval_later(stores, clock, settings):
    settings.AFTERSALES_STORE_SYNC_INTERVAL = 120
    stores_due()
    # given the queued syncs ran and failed (their stores' last sync did not move)
    DBTaskResult.objects.update(status=TaskResultStatus.FAILED, finished_at=NOW)
    # then within the interval they are not queued again (not on every round of the worker)
    clock.shift(seconds=30)
    assert stores_due() == 0
    # an interval after they were queued, they are; and the recent store's turn has come
    clock.shift(seconds=91)
    assert stores_due() == 5  # with the recent store and the one whose wait is over
    assert {stores["recent"].pk, stores["limited"].pk} <= set(queued())


def test_a_sync_lost_with_its_worker_frees_the_store(stores, clock):
    stores_due()
    # given a sync that started and whose worker died (it stays "running")
    DBTaskResult.objects.update(status=TaskResultStatus.RUNNING, started_at=NOW)
    clock.shift(minutes=30)
    assert stores_due() == 2  # the recent store and the limited one: the others still run
    # when it has "run" for longer than the lease, the store gets a new sync
    clock.shift(minutes=31)
    assert stores_due() == 3
    assert len(queued()) == 8


def test_the_schedule_runs_the_sync_and_waits_for_the_next_turn(db, clock, fake_pdd):  # noqa: F811
    store = add_store("100231", gateway=fake_pdd.url, synced_until=START)
    assert stores_due() == 1
    # when the worker runs the task, the store is synced
    assert tasks_run(worker_id="test") == 1
    store.refresh_from_db()
    assert store.last_sync_at == NOW and store.last_error == ""
    # and it waits for its next turn
    clock.shift(minutes=4)
    assert stores_due() == 0
    clock.shift(minutes=1)
    assert stores_due() == 1


def test_on_another_task_backend_each_worker_remembers_what_it_queued(stores, settings, clock):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    schedule._queued_here.clear()
    from django_tasks import task_backends

    assert stores_due() == 3
    assert stores_due() == 0
    clock.shift(minutes=5)
    assert stores_due() == 5  # and the recent store's turn, and the end of the platform's wait
    assert len(task_backends["default"].results) == 0  # sent once the step's transaction commits
    schedule._queued_here.clear()


def test_the_worker_has_the_step():
    from aftersales.operations.management.commands import worker

    assert worker.stores_due is stores_due
