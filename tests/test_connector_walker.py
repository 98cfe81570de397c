"""The window walker (``connectors.walker``) against the fake gateways: windows within each
platform's limits with the overlap, the look-back limit reported, every request seen, and a walk
interrupted by rate limiting that resumes from the position it stored and loses nothing."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest

from aftersales.connectors.base import RateLimited
from aftersales.connectors.platforms.kuaishou import KuaishouAdapter
from aftersales.connectors.platforms.pinduoduo import PinduoduoAdapter
from aftersales.connectors.walker import WalkInterrupted, walk, windows
from tests.fakes.fakegateway import running
from tests.fakes.kuaishou import FakeKuaishou
from tests.test_connector_kuaishou import DAY
from tests.test_connector_kuaishou import adapter as kuaishou_adapter
from tests.test_connector_pinduoduo import adapter_for as pdd_adapter
from tests.test_connector_pinduoduo import fake_pdd  # noqa: F401 (the fixture)

BEIJING = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 3, 5, tzinfo=dt.UTC)


def beijing(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BEIJING)


# --- the windows ---------------------------------------------------------------------------------


def test_windows_start_an_overlap_early_and_never_exceed_the_platforms_window():
    # given a Pinduoduo store last synced at 09:00 and now 10:10
    since, until = beijing(2025, 3, 14, 9), beijing(2025, 3, 14, 10, 10)
    # when its windows are cut
    spans, unreachable = windows(PinduoduoAdapter, since=since, until=until, now=until)
    # then they start 5 minutes early, follow each other without a gap, each at most 30 minutes
    assert spans[0].start == since - dt.timedelta(minutes=5)
    assert spans[-1].end == until
    assert all(a.end == b.start for a, b in itertools.pairwise(spans))
    assert max(w.end - w.start for w in spans) == dt.timedelta(minutes=30)
    assert len(spans) == 3 and unreachable is None


def test_what_lies_beyond_the_look_back_is_reported_not_asked_for():
    # given a Kuaishou store last synced 100 days ago (the platform reaches back 90)
    since = NOW - dt.timedelta(days=100)
    # when its windows are cut
    spans, unreachable = windows(KuaishouAdapter, since=since, until=NOW, now=NOW)
    # then none starts before the platform's limit, and the gap is reported from where it begins
    assert spans[0].start >= NOW - dt.timedelta(days=90)
    assert unreachable == since
    assert all(w.end - w.start <= dt.timedelta(days=1) for w in spans)
    # and a store synced within the limit reports no gap
    assert windows(KuaishouAdapter, since=NOW - dt.timedelta(days=3), until=NOW, now=NOW)[1] is None


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        windows(PinduoduoAdapter, since=dt.datetime(2025, 3, 14), until=NOW, now=NOW)


# --- a walk --------------------------------------------------------------------------------------


def test_a_walk_sees_every_request_and_records_each_windows_end(fake_pdd):  # noqa: F811
    # given three hours of Pinduoduo requests in pages of two
    adapter = pdd_adapter(fake_pdd)
    adapter.page_size = 2
    seen, positions = [], []
    since, until = beijing(2025, 3, 14, 9, 5), beijing(2025, 3, 14, 12)
    # when the walker reads from the last sync to now
    progress = walk(
        adapter, since=since, until=until, now=until, seen=seen.append, done=positions.append
    )
    # then every request is seen (the overlap may show one twice; never one missing)
    assert {r.request_id for r in seen} == set(fake_pdd.records)
    assert progress.requests == len(seen) and progress.synced_until == until
    # and the position moved forward window by window, ending at now
    assert positions == sorted(positions) and positions[-1] == until


def test_a_walk_interrupted_by_rate_limiting_resumes_from_its_position_and_loses_nothing():
    with running(FakeKuaishou(now=NOW)) as fake:
        adapter = kuaishou_adapter(fake)
        seen, stored = {}, [DAY]

        def keep(request):
            seen[request.request_id] = request.version

        # given a walk over the recorded days that the platform rate-limits half-way
        first = walk(adapter, since=DAY, until=DAY + dt.timedelta(hours=8), now=NOW, seen=keep)
        fake.rate_limited = 1
        with pytest.raises(WalkInterrupted) as interrupted:
            walk(
                adapter,
                since=first.synced_until,
                until=DAY + dt.timedelta(days=2),
                now=NOW,
                seen=keep,
                done=stored.append,
            )
        # then the error says to wait, and the position stored is the last complete window's
        assert isinstance(interrupted.value.error, RateLimited)
        assert interrupted.value.error.retry_after > 0
        assert interrupted.value.progress.synced_until == max(stored[-1], first.synced_until)

        # when the walk resumes from that position
        walk(
            adapter,
            since=interrupted.value.progress.synced_until,
            until=DAY + dt.timedelta(days=2),
            now=NOW,
            seen=keep,
        )
        # then every request of the recorded days was seen, none lost to the interruption
        everything = {}
        walk(
            kuaishou_adapter(fake),
            since=DAY,
            until=DAY + dt.timedelta(days=2),
            now=NOW,
            seen=lambda r: everything.__setitem__(r.request_id, r.version),
        )
        assert seen == everything and everything
