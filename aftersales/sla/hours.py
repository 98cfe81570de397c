"""A shop's business hours as data (the typed model of ``BusinessHours``' columns, which is also
the API's body) and the calendar built from them."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from aftersales.core.calendars import DAY_MINUTES, BusinessCalendar, weekly_from_days

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")


def minutes_of(text: str) -> int:
    if not CLOCK.match(text):
        raise ValueError(_("%(time)s is not a time of day such as 09:30.") % {"time": text})
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def window_minutes(start: str, end: str) -> tuple[int, int]:
    """A window in minutes from its day's midnight; an end not later than the start is on the
    next day (an overnight shift), ``00:00``–``24:00`` the whole day."""
    first, last = minutes_of(start), minutes_of(end)
    if first == DAY_MINUTES:
        raise ValueError(_("A window cannot start at 24:00."))
    if first == last:
        raise ValueError(_("A window from %(time)s to %(time)s is empty.") % {"time": start})
    if last < first:
        last += DAY_MINUTES
    return first, last


Window = Annotated[list[str], Field(min_length=2, max_length=2)]


class HoursIn(BaseModel):
    """A shop's business hours: for each working weekday (``mon`` … ``sun``) its windows as
    ``["09:00", "18:00"]`` pairs (several a day for a lunch break; ``["22:00", "06:00"]`` runs
    overnight; ``["00:00", "24:00"]`` every day and ``region: ""`` is 24/7), the holiday region
    (``CN`` or another two-letter country code, empty for none), and the shop's own closed and
    working dates."""

    model_config = ConfigDict(extra="forbid")

    region: str = Field("CN", title="Holiday region", max_length=2)
    windows: dict[str, list[Window]] = Field(default_factory=dict, title="Working windows")
    closed_dates: list[dt.date] = Field(default_factory=list, max_length=366)
    working_dates: list[dt.date] = Field(default_factory=list, max_length=366)

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if value and not re.fullmatch(r"[A-Z]{2}", value):
            raise ValueError(_("The region is a two-letter country code such as CN or DE."))
        return value

    @field_validator("windows")
    @classmethod
    def _windows(cls, value: dict[str, list[list[str]]]) -> dict[str, list[list[str]]]:
        for day, windows in value.items():
            if day not in DAYS:
                raise ValueError(
                    _("%(day)s is not a weekday; use %(days)s.")
                    % {"day": day, "days": ", ".join(DAYS)}
                )
            if len(windows) > 12:
                raise ValueError(_("At most 12 windows a day."))
            for start, end in windows:
                window_minutes(start, end)
        return {day: value[day] for day in DAYS if value.get(day)}

    @model_validator(mode="after")
    def _dates(self) -> HoursIn:
        both = set(self.closed_dates) & set(self.working_dates)
        if both:
            raise ValueError(
                _("%(date)s cannot be both closed and a working date.")
                % {"date": min(both).isoformat()}
            )
        self.closed_dates = sorted(set(self.closed_dates))
        self.working_dates = sorted(set(self.working_dates))
        return self


def calendar_for(
    *,
    timezone: str,
    region: str,
    windows: dict,
    closed_dates=(),
    working_dates=(),
    holidays: frozenset[dt.date] = frozenset(),
) -> BusinessCalendar:
    """The calendar of stored (already validated) business hours."""
    days = {
        DAYS.index(day): [window_minutes(start, end) for start, end in pairs]
        for day, pairs in windows.items()
    }
    return BusinessCalendar(
        timezone=timezone,
        weekly=weekly_from_days(days),
        region=region,
        holidays=holidays,
        closed_dates=frozenset(_date(d) for d in closed_dates),
        working_dates=frozenset(_date(d) for d in working_dates),
    )


def _date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)
