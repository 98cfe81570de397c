"""The window walker: every request a platform changed since a store's last sync, read window by
window and page by page, resumable after any failure.

A store keeps one position: the end of the last window read completely (``Progress.synced_until``).
A walk starts ``overlap`` before it (a change the platform indexed late is read again; reading a
request twice is harmless, its version decides), cuts the span up to ``until`` into windows no
longer than the adapter's ``max_window``, and never reaches further back than ``max_lookback``
(what lies beyond is reported as ``unreachable_before``: the platform's export covers it). After
each window the caller's ``done`` records the new position, so a failure — rate limiting, a lost
connection, rejected keys — loses at most the window in progress; the error goes to the caller
with the position reached.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from aftersales.connectors.base import Adapter, ConnectorError, RemoteRequest, Window


def windows(
    adapter: type[Adapter] | Adapter, *, since: dt.datetime, until: dt.datetime, now: dt.datetime
) -> tuple[list[Window], dt.datetime | None]:
    """The windows that cover ``[since − overlap, until)`` within the platform's limits, oldest
    first, and the moment before which changes could not be reached (``None``: all could)."""
    if since.tzinfo is None or until.tzinfo is None or now.tzinfo is None:
        raise ValueError("the walker's times must be aware")
    start = since - adapter.overlap
    unreachable_before = None
    if adapter.max_lookback is not None:
        # a minute's margin: the platform measures its limit from its own clock
        earliest = now - adapter.max_lookback + dt.timedelta(minutes=1)
        if start < earliest:
            unreachable_before = since if since < earliest else None
            start = earliest
    spans = []
    while start < until:
        end = min(start + adapter.max_window, until)
        spans.append(Window(start, end))
        start = end
    return spans, unreachable_before


@dataclass
class Progress:
    """Where a walk got to: the end of the last complete window, the requests seen, pages read."""

    synced_until: dt.datetime
    requests: int = 0
    pages: int = 0
    unreachable_before: dt.datetime | None = None


class WalkInterrupted(Exception):
    """A platform call failed mid-walk: ``error`` is the adapter's, ``progress`` how far the walk
    got (its position is safe to store)."""

    def __init__(self, error: ConnectorError, progress: Progress):
        super().__init__(str(error))
        self.error = error
        self.progress = progress


def pages(adapter: Adapter, window: Window) -> Iterator[tuple[RemoteRequest, ...]]:
    cursor = None
    while True:
        page = adapter.changed(window, cursor)
        yield page.items
        if page.cursor is None:
            return
        cursor = page.cursor


def walk(
    adapter: Adapter,
    *,
    since: dt.datetime,
    until: dt.datetime,
    now: dt.datetime,
    seen: Callable[[RemoteRequest], None] | None = None,
    seen_page: Callable[[tuple[RemoteRequest, ...]], None] | None = None,
    done: Callable[[dt.datetime], None] = lambda _until: None,
    max_windows: int | None = None,
) -> Progress:
    """Read every request changed from ``since`` (less the overlap) to ``until``: each one to
    ``seen``, or each page's to ``seen_page`` (either must be idempotent), each complete window's
    end to ``done``; at most
    ``max_windows`` windows in one walk (the next walk goes on from the position). A failure
    raises ``WalkInterrupted`` with the position reached."""
    spans, unreachable_before = windows(adapter, since=since, until=until, now=now)
    if max_windows is not None:
        spans = spans[:max_windows]
    progress = Progress(synced_until=since, unreachable_before=unreachable_before)
    for window in spans:
        try:
            for items in pages(adapter, window):
                progress.pages += 1
                if seen_page is not None:
                    seen_page(items)
                elif seen is not None:
                    for request in items:
                        seen(request)
                progress.requests += len(items)
        except ConnectorError as error:
            raise WalkInterrupted(error, progress) from error
        progress.synced_until = max(progress.synced_until, window.end)
        done(progress.synced_until)
    return progress
