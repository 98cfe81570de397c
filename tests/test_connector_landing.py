"""A sync lands a page of requests at a time and lets their cases follow afterwards, against the
Taobao fake gateway: a page is a handful of statements whatever its size; duplicates and
out-of-order reads within a page end as the newest read; what a read changed waits, marked, for
its case (shown on the store's health) and is followed oldest first, in bounded steps that the
sync's task continues; an agent acting on a case whose request changed meanwhile is told to look
again and nothing is sent; two workers landing the same page keep one row per request."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext

from aftersales.cases.choices import CaseState
from aftersales.cases.models import Case
from aftersales.connectors import sync, tasks
from aftersales.connectors.base import Credentials
from aftersales.connectors.cases import follow_pending
from aftersales.connectors.models import PlatformRequest, PlatformWrite, Store
from aftersales.connectors.selectors import store_health, store_list
from aftersales.connectors.sync import adapter_for, land_page, store_create, store_sync
from aftersales.core.actors import SYSTEM
from tests.conftest import make_shop, make_user
from tests.fakes.taobao import APP_KEY, APP_SECRET, SESSION, FakeTop

BEIJING = ZoneInfo("Asia/Shanghai")
MORNING = dt.datetime(2025, 3, 14, 8, tzinfo=BEIJING)
NOON = dt.datetime(2025, 3, 14, 12, tzinfo=BEIJING)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fake_top():
    fake = FakeTop()
    with fake.serve("/router/rest"):
        yield fake


@pytest.fixture
def store(clock, fake_top):
    clock.set(NOON)
    return store_create(
        shop=make_shop("shop"),
        platform="taobao",
        name="优衣小铺旗舰店",
        credentials=Credentials(APP_KEY, APP_SECRET, SESSION, seller_id="优衣小铺"),
        gateway=fake_top.url,
        synced_until=MORNING,
    )


def pending(store) -> list[str]:
    return list(
        PlatformRequest.objects.filter(store=store, follow_pending=True)
        .order_by("pk")
        .values_list("request_id", flat=True)
    )


def health(store):
    return store_health(next(s for s in store_list(actor=SYSTEM) if s.pk == store.pk), now=NOON)


def test_the_sync_lands_first_and_the_cases_follow_after(store, fake_top):
    # when the morning is landed without its cases' step
    result = store_sync(store.pk, until=NOON, follow=False)
    # then every request is kept and marked, no case is open yet, and the store says so
    rows = PlatformRequest.objects.filter(store=store)
    assert result.changed == rows.count() > 0 and result.followed == 0
    assert len(pending(store)) == rows.count()
    assert not Case.objects.exists()
    assert health(store).cases_to_follow == rows.count()
    # when the cases follow
    followed = follow_pending(store)
    # then each known request has its case, nothing is left marked, and nothing is followed twice
    assert followed == rows.count() and pending(store) == []
    known = rows.exclude(mapped_state="").exclude(mapped_kind="unmodelled")
    assert known.exists() and not known.filter(case__isnull=True).exists()
    assert Case.objects.count() == known.count()
    assert follow_pending(store) == 0
    assert health(store).cases_to_follow == 0
    # and a sync that reads nothing new follows nothing
    assert store_sync(store.pk, until=NOON).followed == 0


def test_the_cases_follow_oldest_first_in_bounded_steps_the_task_continues(
    store, fake_top, monkeypatch
):
    store_sync(store.pk, until=NOON, follow=False)
    marked = pending(store)
    assert len(marked) >= 3
    # a bounded step follows the oldest landed first
    assert follow_pending(store, limit=1) == 1
    assert pending(store) == marked[1:]
    # the sync's task follows at most its share, and queues itself again for the rest
    monkeypatch.setattr(sync, "FOLLOW_PER_SYNC", 1)
    answer = tasks.sync_store.call(store.pk)
    assert answer["followed"] == 1 and pending(store) == marked[2:]
    assert tasks.waiting(tasks.sync_store, now=NOON, running=False) == [[store.pk]]


def test_duplicates_and_late_reads_within_a_page_end_as_the_newest_read(store, fake_top):
    read = adapter_for(store).read("166802")
    later = dataclasses.replace(
        read, modified_at=read.modified_at + dt.timedelta(minutes=5), version=read.version + "9"
    )
    # a page that has the request's later read between two copies of its earlier one
    answers = land_page(store, [read, later, read])
    row = PlatformRequest.objects.get(store=store, request_id="166802")
    assert [landed.changed for landed in answers] == [True, True, False]
    assert row.modified_at == later.modified_at and row.version == later.version
    assert row.follow_pending
    # the same page again changes nothing
    assert not any(landed.changed for landed in land_page(store, [read, later, read]))
    assert PlatformRequest.objects.get(pk=row.pk).revisions == row.revisions


def test_a_page_is_a_handful_of_statements_whatever_its_size(store, fake_top):
    reads = [adapter_for(store).read("166802")]
    many = [
        dataclasses.replace(reads[0], request_id=f"9{index:05d}", order_id=f"8{index:05d}")
        for index in range(60)
    ]
    with CaptureQueriesContext(connection) as one:
        land_page(store, reads)
    with CaptureQueriesContext(connection) as sixty:
        land_page(store, many)
    assert len(sixty) == len(one) <= 8
    # and landing them again, each changed, is no more
    changed = [
        dataclasses.replace(r, modified_at=r.modified_at + dt.timedelta(seconds=1), version="x")
        for r in many
    ]
    with CaptureQueriesContext(connection) as again:
        answers = land_page(store, changed)
    assert all(landed.changed for landed in answers) and len(again) <= 8


def test_an_agent_acting_on_a_case_whose_request_changed_meanwhile_looks_again(store, fake_top):
    Store.objects.filter(pk=store.pk).update(write_enabled=True, return_address_id="9001")
    store_sync(store.pk, until=NOON)
    case = PlatformRequest.objects.get(request_id="166802").case
    assert case.state == CaseState.AWAITING_SELLER
    # the buyer closes the request; the next sync lands it, its case's step has not run yet
    fake_top.touch("166802", status="CLOSED")
    Store.objects.filter(pk=store.pk).update(synced_until=MORNING)
    store_sync(store.pk, until=NOON, follow=False)
    assert pending(store) == ["166802"]
    fake_top.calls.clear()
    agent = make_user("agent", "agent", shop="shop")

    response = agent.act(case.number, "approve")

    # then nothing is sent, the agent is told to look again, and the case is the platform's now
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "platform_changed"
    assert fake_top.calls == [] and not PlatformWrite.objects.exists()
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED and pending(store) == []


@pytest.mark.postgres
def test_two_workers_landing_the_same_page_keep_one_row_per_request(store, fake_top):
    read = adapter_for(store).read("166802")
    page = [
        dataclasses.replace(read, request_id=f"7{index:04d}", order_id=f"6{index:04d}")
        for index in range(40)
    ]
    barrier = threading.Barrier(2)
    answers, errors = [], []

    def land():
        try:
            barrier.wait()
            answers.append([landed.changed for landed in land_page(store, page)])
        except Exception as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=land) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    close_old_connections()
    assert errors == []
    rows = PlatformRequest.objects.filter(store=store, request_id__in=[r.request_id for r in page])
    assert rows.count() == len(page)
    assert not rows.exclude(revisions=1).exists()
    # each request changed for exactly one of the two workers
    assert [a or b for a, b in zip(*answers, strict=True)] == [True] * len(page)
    assert not any(a and b for a, b in zip(*answers, strict=True))
