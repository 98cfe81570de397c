"""Local fake servers of the marketplaces' gateways, for the connector tests: each speaks its
platform's protocol (signing, paging, limits, error codes) from recorded answers under ``data/``.

``walk_all`` reads a span the way a first full sync does — back-to-back windows of the adapter's
longest, each through the product's own paging loop (``connectors.walker.pages``), no overlap — so
a test can assert that every request is seen exactly once."""

from __future__ import annotations

import datetime as dt

from aftersales.connectors.base import Adapter, RemoteRequest, Window
from aftersales.connectors.walker import pages


def walk_all(adapter: Adapter, start: dt.datetime, end: dt.datetime) -> list[RemoteRequest]:
    seen: list[RemoteRequest] = []
    while start < end:
        window = Window(start, min(start + adapter.max_window, end))
        for items in pages(adapter, window):
            seen.extend(items)
        start = window.end
    return seen


def walked_ids(adapter: Adapter, start: dt.datetime, end: dt.datetime) -> list[str]:
    return [request.request_id for request in walk_all(adapter, start, end)]
