"""How a deadline counts time. Every deadline is ``calendar.add(start, duration)``: calendar time
(``CALENDAR_TIME``: every hour counts), or a shop's business hours (``BusinessCalendar``: its
working windows, holidays and adjusted working days), without touching the lifecycles that use it.

A ``BusinessCalendar`` is pure data and arithmetic: the caller gives it the shop's time zone, its
weekly windows, its region and the dates it closes or works on top; nothing here reads the
database. It walks time window by window (never minute by minute), each window turned from the
shop's wall clock into UTC on its own day, so a day that gains or loses an hour to daylight
saving time counts what it really lasts.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

ZERO = dt.timedelta(0)
DAY_MINUTES = 24 * 60
# A calendar with no open time at all within this many days refuses to count (no endless walk).
SEARCH_DAYS = 3 * 366


class Calendar(Protocol):
    def add(self, start: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        """The moment ``duration`` of counted time after ``start``."""
        ...


class CalendarTime:
    """Every hour counts, day and night."""

    def add(self, start: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        return start + duration

    def elapsed(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        return max(end - start, ZERO)

    def is_open(self, moment: dt.datetime) -> bool:
        return True

    def next_open(self, moment: dt.datetime) -> dt.datetime:
        return moment


CALENDAR_TIME = CalendarTime()


# --- where the holidays come from ----------------------------------------------------------------


@functools.cache
def _china_years() -> tuple[int, int]:
    import chinese_calendar

    years = [day.year for day in chinese_calendar.holidays]
    return min(years), max(years)


@functools.cache
def _china_fallback(year: int) -> frozenset[dt.date]:
    """China's public holidays of a year ``chinese_calendar`` does not cover, from the ``holidays``
    package (without the adjusted working days, which only the State Council's yearly notice
    announces)."""
    import holidays

    return frozenset(holidays.country_holidays("CN", years=year).keys())


def china_day(day: dt.date) -> str:
    """``"holiday"``, ``"workday"`` (an adjusted working day, 调休, on a weekend) or ``""`` (an
    ordinary day: the weekly windows decide) for mainland China."""
    import chinese_calendar

    first, last = _china_years()
    if first <= day.year <= last:
        if day in chinese_calendar.workdays:
            return "workday" if day.weekday() >= 5 else ""
        return "holiday" if day in chinese_calendar.holidays else ""
    return "holiday" if day in _china_fallback(day.year) else ""


# --- a shop's business hours ---------------------------------------------------------------------


Window = tuple[int, int]
"""Minutes from the day's midnight: the start (0–1439) and the end, later than the start; an end
past 1440 runs into the next day (an overnight shift). ``(0, 1440)`` is the whole day."""


@dataclass(frozen=True)
class BusinessCalendar:
    """A shop's business hours: the windows of each weekday (Monday first) in its time zone,
    closed on its region's holidays (``"CN"``: ``chinese_calendar``, with the adjusted working
    days, 调休; another country: the ``holidays`` the caller imported; ``""``: none) and on its
    ``closed_dates``, open on its ``working_dates``. A working day that is usually a rest day (a
    调休 Saturday, an extra working date) is worked with its own windows if it has any, else with
    the windows of ``workday_template`` (Monday). A window belongs to the day it starts on: a
    shift that begins before a holiday runs to its end."""

    timezone: str
    weekly: tuple[tuple[Window, ...], ...]
    region: str = ""
    holidays: frozenset[dt.date] = frozenset()
    closed_dates: frozenset[dt.date] = frozenset()
    working_dates: frozenset[dt.date] = frozenset()
    workday_template: int = 0
    zone: zoneinfo.ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise ValueError("weekly needs the windows of seven days, Monday first")
        for windows in self.weekly:
            for start, end in windows:
                if not (0 <= start < DAY_MINUTES and start < end <= start + DAY_MINUTES):
                    raise ValueError(f"window {start}-{end} is not within a day and a night")
        object.__setattr__(self, "weekly", tuple(tuple(sorted(day)) for day in self.weekly))
        object.__setattr__(self, "zone", zoneinfo.ZoneInfo(self.timezone))

    @classmethod
    def always_open(cls, timezone: str = "UTC") -> BusinessCalendar:
        """24/7: every minute counts, holidays too."""
        return cls(timezone=timezone, weekly=(((0, DAY_MINUTES),),) * 7)

    # -- the windows of a day --------------------------------------------------------------------

    def day_windows(self, day: dt.date) -> tuple[Window, ...]:
        """The windows that start on ``day`` (the shop's local date)."""
        own = self.weekly[day.weekday()]
        if day in self.working_dates:
            return own or self.weekly[self.workday_template]
        if day in self.closed_dates:
            return ()
        status = self._region_day(day)
        if status == "holiday":
            return ()
        if status == "workday":
            return own or self.weekly[self.workday_template]
        return own

    def _region_day(self, day: dt.date) -> str:
        if self.region == "CN":
            return china_day(day)
        return "holiday" if day in self.holidays else ""

    def _local(self, day: dt.date, minutes: int) -> dt.datetime:
        days, minute = divmod(minutes, DAY_MINUTES)
        wall = dt.datetime.combine(
            day + dt.timedelta(days=days), dt.time(minute // 60, minute % 60), tzinfo=self.zone
        )
        return wall.astimezone(dt.UTC)

    def intervals(self, since: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """The open intervals (UTC, start inclusive, end exclusive) that end after ``since``, in
        order and without overlaps (a night shift that runs into the next day's window is
        counted once); gives up after ``SEARCH_DAYS`` days in a row without a window."""
        day = since.astimezone(self.zone).date() - dt.timedelta(days=1)  # yesterday's night shift
        reached = since
        empty_days = 0
        while empty_days <= SEARCH_DAYS:
            windows = self.day_windows(day)
            empty_days = 0 if windows else empty_days + 1
            # Windows start on their own day, so starts never go back: clipping each window at
            # the furthest end so far keeps the intervals apart.
            for start_minute, end_minute in windows:
                start = max(self._local(day, start_minute), reached)
                end = self._local(day, end_minute)
                if end > start:
                    yield start, end
                    reached = end
            day += dt.timedelta(days=1)

    # -- counting ----------------------------------------------------------------------------------

    def add(self, start: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        """The moment when ``duration`` of business time has passed after ``start``; a duration
        used up exactly at a window's end is due at that end (18:00, not 09:00 the next day)."""
        remaining = max(duration, ZERO)
        for open_at, close_at in self.intervals(start):
            begin = max(open_at, start)
            if remaining <= close_at - begin:
                return begin + remaining
            remaining -= close_at - begin
        raise ValueError("this calendar has no business hours to count in")

    def elapsed(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        """The business time between ``start`` and ``end`` (zero if ``end`` is not later)."""
        total = ZERO
        if end <= start:
            return total
        for open_at, close_at in self.intervals(start):
            if open_at >= end:
                break
            total += min(close_at, end) - max(open_at, start)
        return total

    def is_open(self, moment: dt.datetime) -> bool:
        return self.next_open(moment) == moment

    def next_open(self, moment: dt.datetime) -> dt.datetime:
        """``moment`` if the shop is open then, else when it next opens."""
        for open_at, _close_at in self.intervals(moment):
            return max(open_at, moment)
        raise ValueError("this calendar has no business hours to count in")


def weekly_from_days(days: Mapping[int, Sequence[Window]]) -> tuple[tuple[Window, ...], ...]:
    """Seven days of windows (Monday = 0) from a mapping that may leave days out (closed)."""
    return tuple(tuple(sorted(days.get(weekday, ()))) for weekday in range(7))
