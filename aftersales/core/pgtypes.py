"""Timestamps of the compiled reads loaded by psycopg's own C loader, where that gives the very
same values as Django's.

Django loads every ``timestamptz`` through a Python subclass of psycopg's loader (so that a value
carries the connection's time zone), which takes psycopg's C loader out of the path: a few
microseconds a value in Python, 150 values on a queue page. On a connection whose session time
zone is UTC (Django sets it so when ``USE_TZ`` is on and the database's ``TIME_ZONE`` is not set)
psycopg's C loader gives equal values with the same ``tzinfo`` (``datetime.UTC``), so the hot
compiled reads (``core.compiled``) register it on their own cursor. Any other set-up, and every
other query, keeps Django's loader. ``tests/test_compiled.py`` compares the two.
"""

from __future__ import annotations

import datetime as dt


def _c_loader():
    try:
        import psycopg
        from psycopg.pq import Format
    except ImportError:  # pragma: no cover - SQLite only
        return None
    loader = psycopg.adapters.get_loader(psycopg.adapters.types["timestamptz"].oid, Format.TEXT)
    if loader is None or not loader.__module__.startswith("psycopg_binary"):
        return None  # psycopg's pure Python loader: nothing to gain
    return loader


C_TIMESTAMPTZ_LOADER = _c_loader()


def fast_timestamps(connection, cursor) -> bool:
    """Load this cursor's ``timestamptz`` values with psycopg's C loader when the values are the
    same as Django's loader gives; whether it did."""
    if C_TIMESTAMPTZ_LOADER is None or connection.vendor != "postgresql":
        return False
    if connection.timezone is not dt.UTC:
        return False
    raw = cursor.cursor
    if raw.connection.info.parameter_status("TimeZone") != "UTC":
        return False
    raw.adapters.register_loader("timestamptz", C_TIMESTAMPTZ_LOADER)
    return True
