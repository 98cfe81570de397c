"""How a deadline counts time. Every deadline is ``calendar.add(start, duration)``: calendar time
today; a shop's business hours (working windows, holidays and adjusted working days) plug in here
without touching the lifecycles that use it."""

from __future__ import annotations

import datetime as dt
from typing import Protocol


class Calendar(Protocol):
    def add(self, start: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        """The moment ``duration`` of counted time after ``start``."""
        ...


class CalendarTime:
    """Every hour counts, day and night."""

    def add(self, start: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        return start + duration


CALENDAR_TIME = CalendarTime()
