"""A store's sync against the Pinduoduo fake gateway: a first full sync lands every request once
with what its status means (an unknown code for a person), a second changes nothing, a late older
read changes nothing, rate limiting waits and resumes without loss, rejected keys stop the store,
and the keys are sealed at rest."""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from aftersales.connectors import keys
from aftersales.connectors.base import Credentials
from aftersales.connectors.models import PlatformRequest, Store
from aftersales.connectors.sync import adapter_for, land, refresh, store_create, store_sync
from tests.conftest import make_shop
from tests.fakes.pinduoduo import ACCESS_TOKEN, CLIENT_ID, CLIENT_SECRET
from tests.test_connector_pinduoduo import fake_pdd  # noqa: F401 (the fixture)

BEIJING = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2025, 3, 14, 9, tzinfo=BEIJING)
END = dt.datetime(2025, 3, 14, 12, tzinfo=BEIJING)


def keys_for(secret=CLIENT_SECRET) -> Credentials:
    return Credentials(CLIENT_ID, secret, ACCESS_TOKEN, seller_id="100231")


@pytest.fixture
def store(db, fake_pdd):  # noqa: F811
    return store_create(
        shop=make_shop("shop"),
        platform="pinduoduo",
        name="拼多多旗舰店",
        credentials=keys_for(),
        gateway=fake_pdd.url,
        synced_until=START,
    )


def test_a_first_sync_lands_every_request_once_with_its_meaning(store, fake_pdd):  # noqa: F811
    # when the store's morning is synced
    result = store_sync(store.pk, until=END)
    # then every request of the platform is kept once, the position is the end
    rows = {row.request_id: row for row in PlatformRequest.objects.filter(store=store)}
    assert set(rows) == set(fake_pdd.records)
    assert result.changed == len(rows) and result.error == ""
    store.refresh_from_db()
    assert store.synced_until == END and store.last_sync_at is not None
    # and each carries the platform's raw codes beside their meaning; unknown codes await a person
    known = [row for row in rows.values() if not row.needs_person]
    assert known and all(row.mapped_state and row.status for row in known)
    assert any(row.needs_person and row.mapped_state == "" for row in rows.values())
    # and an exchange that succeeded is not money out
    assert not any(row.money_out and row.mapped_kind == "exchange" for row in rows.values())


def test_a_second_sync_and_a_late_older_read_change_nothing(store, fake_pdd):  # noqa: F811
    store_sync(store.pk, until=END)
    before = {r.request_id: (r.version, r.revisions) for r in PlatformRequest.objects.all()}
    # when the same span is read again (duplicates)
    Store.objects.filter(pk=store.pk).update(synced_until=START)
    again = store_sync(store.pk, until=END)
    # then nothing changed
    assert again.changed == 0
    assert {r.request_id: (r.version, r.revisions) for r in PlatformRequest.objects.all()} == before
    # when an older read of a request arrives after the newer one
    newest = adapter_for(store).changed(_window()).items[0]
    older = dataclasses.replace(
        newest, modified_at=newest.modified_at - dt.timedelta(hours=1), status="2"
    )
    landed = land(store, older)
    # then it changes nothing; a newer read does
    assert not landed.changed
    assert PlatformRequest.objects.get(store=store, request_id=newest.request_id).status == (
        newest.status
    )
    newer = dataclasses.replace(
        newest, modified_at=newest.modified_at + dt.timedelta(minutes=1), version="v2"
    )
    assert land(store, newer).changed
    row = PlatformRequest.objects.get(store=store, request_id=newest.request_id)
    assert (row.version, row.revisions) == ("v2", 2)


def _window():
    from aftersales.connectors.base import Window

    return Window(START, START + dt.timedelta(minutes=30))


def test_rate_limiting_waits_and_the_next_sync_loses_nothing(store, fake_pdd, clock):  # noqa: F811
    # given the platform rate-limits the first call
    fake_pdd.rate_limited = 1
    # when the store syncs
    first = store_sync(store.pk, until=END)
    # then it stops, says so, keeps its position and when to try again
    store.refresh_from_db()
    assert first.error == "rate_limited" and store.last_error == "rate_limited"
    assert store.synced_until == START and store.rate_limited_until > clock.now
    # and before that time a sync waits
    assert store_sync(store.pk, until=END).error == "waiting"
    # when the time has come
    clock.shift(minutes=5)
    done = store_sync(store.pk, until=END)
    # then every request lands and the error is cleared
    store.refresh_from_db()
    assert done.error == "" and store.last_error == "" and store.rate_limited_until is None
    assert PlatformRequest.objects.filter(store=store).count() == len(fake_pdd.records)


def test_rejected_keys_stop_the_store_and_land_nothing(db, fake_pdd):  # noqa: F811
    store = store_create(
        shop=make_shop("shop"),
        platform="pinduoduo",
        name="拼多多旗舰店",
        credentials=keys_for(secret="wrong"),
        gateway=fake_pdd.url,
        synced_until=START,
    )
    result = store_sync(store.pk, until=END)
    store.refresh_from_db()
    assert result.error == "credential_rejected" and store.paused
    assert not PlatformRequest.objects.exists() and store.synced_until == START
    # a paused store is not synced until a person resumes it
    assert store_sync(store.pk, until=END).error == "waiting"


def test_keys_are_sealed_at_rest_and_unreadable_under_another_key(store, settings, fake_pdd):  # noqa: F811
    # the secret is not in the row, and it comes back as it was given
    assert CLIENT_SECRET not in store.sealed_keys and ACCESS_TOKEN not in store.sealed_keys
    assert keys.unseal(store.sealed_keys) == keys_for()
    # under another key (the secret key rotated) the store says so and stops
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    with pytest.raises(keys.KeysUnreadable):
        keys.unseal(store.sealed_keys)
    result = store_sync(store.pk, until=END)
    store.refresh_from_db()
    assert result.error == "keys_unreadable" and store.paused


def test_a_push_is_a_reason_to_read_again_not_the_truth(store, fake_pdd):  # noqa: F811
    store_sync(store.pk, until=END)
    request_id = next(iter(fake_pdd.records))
    row = PlatformRequest.objects.get(store=store, request_id=request_id)
    # when a push says the request changed, it is read again: the same read changes nothing but
    # the step's deadline its listing did not give (Pinduoduo's detail has it), once
    refresh(store, request_id)
    assert not refresh(store, request_id).changed
    again = PlatformRequest.objects.get(pk=row.pk)
    assert again.revisions == 1 and (again.status, again.version) == (row.status, row.version)


def test_the_sync_is_a_durable_task(store, fake_pdd, clock):  # noqa: F811
    from aftersales.connectors.tasks import sync_store

    clock.set(END)  # "now" for the task: the end of the recorded morning
    # enqueued, it waits in the task table for the worker
    result = sync_store.enqueue(store.pk)
    assert result.status == "READY"
    # run, it walks the store to now and says where it got to
    done = sync_store.call(store.pk)
    assert done["error"] == "" and done["changed"] == len(fake_pdd.records)


def test_a_store_far_behind_catches_up_a_bounded_step_at_a_time(store, fake_pdd, clock):  # noqa: F811
    # given a store whose last sync was a week before now
    clock.set(START + dt.timedelta(days=7))
    # when it syncs once
    store_sync(store.pk)
    store.refresh_from_db()
    # then it read at most its windows' worth (two days of half hours), not the whole week
    assert store.synced_until == START + dt.timedelta(hours=48) - dt.timedelta(minutes=5)
    assert PlatformRequest.objects.filter(store=store).count() == len(fake_pdd.records)
