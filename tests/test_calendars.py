"""Business calendars: windows with a lunch break, the night, overnight shifts, 24/7, China's
holidays and adjusted working days (调休), imported holidays, the shop's own dates, daylight
saving time. Pure arithmetic: no database."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from aftersales.core.calendars import CALENDAR_TIME, BusinessCalendar, china_day
from aftersales.sla.hours import HoursIn, calendar_for
from aftersales.sla.schemas import iso_duration

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
OFFICE = {
    day: [["09:00", "12:00"], ["13:30", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")
}
H = dt.timedelta(hours=1)


def at(text: str, zone=SHANGHAI) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=zone)


def office(**extra) -> BusinessCalendar:
    return calendar_for(timezone="Asia/Shanghai", region="CN", windows=OFFICE, **extra)


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        # Monday 23 Nov 2026: the lunch break does not count.
        ("2026-11-23 11:00", 2, "2026-11-23 14:30"),
        # Used up at a window's end: due at 18:00, not at 09:00 the next morning.
        ("2026-11-23 16:00", 2, "2026-11-23 18:00"),
        # Across midnight: an hour on Monday, an hour on Tuesday morning.
        ("2026-11-23 17:00", 2, "2026-11-24 10:00"),
        # Started at night or at lunch: counting starts when the shop opens.
        ("2026-11-23 23:30", 1, "2026-11-24 10:00"),
        ("2026-11-23 12:15", 1, "2026-11-23 14:30"),
        # An ordinary weekend: Friday evening to Monday.
        ("2026-11-27 17:00", 2, "2026-11-30 10:00"),
        # National Day (1–7 Oct 2026): Wednesday 30 Sep to Thursday 8 Oct.
        ("2026-09-30 17:00", 2, "2026-10-08 10:00"),
        # Saturday 10 Oct 2026 is a working day (调休): worked like a Monday.
        ("2026-10-09 17:00", 2, "2026-10-10 10:00"),
        # A whole working day and a half: 7.5 h a day.
        ("2026-11-23 09:00", 11.25, "2026-11-24 14:15"),
    ],
)
def test_add_counts_only_business_hours(start, hours, due):
    assert office().add(at(start), dt.timedelta(hours=hours)) == at(due)


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        ("2026-11-23 11:00", "2026-11-23 14:00", 1.5),
        ("2026-11-23 17:00", "2026-11-24 10:00", 2),
        ("2026-11-27 12:00", "2026-11-30 12:00", 7.5),
        ("2026-09-30 09:00", "2026-10-09 09:00", 7.5 + 7.5),  # only 30 Sep and 8 Oct count
        ("2026-10-10 00:00", "2026-10-11 00:00", 7.5),  # the 调休 Saturday
        ("2026-11-24 14:00", "2026-11-24 10:00", 0),  # backwards: nothing
    ],
)
def test_elapsed_counts_only_business_hours(start, end, hours):
    assert office().elapsed(at(start), at(end)) == dt.timedelta(hours=hours)


@pytest.mark.parametrize(
    ("moment", "is_open", "next_open"),
    [
        ("2026-11-23 10:00", True, "2026-11-23 10:00"),
        ("2026-11-23 12:00", False, "2026-11-23 13:30"),  # a window's end is outside it
        ("2026-11-23 13:30", True, "2026-11-23 13:30"),
        ("2026-11-28 10:00", False, "2026-11-30 09:00"),  # an ordinary Saturday
        ("2026-10-01 10:00", False, "2026-10-08 09:00"),  # a holiday
        ("2026-10-10 10:00", True, "2026-10-10 10:00"),  # a 调休 Saturday
    ],
)
def test_is_open_and_next_open(moment, is_open, next_open):
    calendar = office()
    assert calendar.is_open(at(moment)) is is_open
    assert calendar.next_open(at(moment)) == at(next_open)


@pytest.mark.parametrize(
    ("day", "status"),
    [
        (dt.date(2026, 10, 1), "holiday"),
        (dt.date(2026, 10, 10), "workday"),
        (dt.date(2026, 2, 14), "workday"),
        (dt.date(2026, 11, 24), ""),
        (dt.date(2026, 11, 28), ""),  # an ordinary Saturday: the weekly windows decide
        # Outside chinese_calendar's years: the holidays package's public holidays.
        (dt.date(2027, 10, 1), "holiday"),
        (dt.date(2027, 10, 12), ""),
    ],
)
def test_china_days(day, status):
    assert china_day(day) == status


def test_an_overnight_window_belongs_to_the_day_it_starts():
    night = calendar_for(
        timezone="Asia/Shanghai",
        region="",
        windows={
            day: [["22:00", "06:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        },
    )
    # Sunday night's shift runs until Monday 06:00, then Monday night's starts at 22:00.
    assert night.add(at("2026-11-23 05:00"), 2 * H) == at("2026-11-23 23:00")
    assert night.elapsed(at("2026-11-23 21:00"), at("2026-11-24 07:00")) == 8 * H
    assert night.is_open(at("2026-11-24 00:30")) is True
    assert night.next_open(at("2026-11-24 12:00")) == at("2026-11-24 22:00")


def test_a_night_shift_runs_into_a_holiday():
    # Wednesday 30 Sep's shift ends on the 1st, a holiday; Wednesday 7 Oct is a holiday too.
    night = calendar_for(
        timezone="Asia/Shanghai", region="CN", windows={"wed": [["20:00", "02:00"]]}
    )
    assert night.elapsed(at("2026-09-30 00:00"), at("2026-10-02 00:00")) == 6 * H
    assert night.add(at("2026-10-01 01:00"), 2 * H) == at("2026-10-14 21:00")


def test_24_7_counts_every_hour_and_every_day():
    always = calendar_for(
        timezone="Asia/Shanghai",
        region="",
        windows={
            day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        },
    )
    start = at("2026-09-30 23:00")
    assert always.add(start, 50 * H) == start + 50 * H
    assert always.elapsed(start, at("2026-10-10 23:00")) == dt.timedelta(days=10)
    assert always.is_open(at("2026-10-01 03:00")) is True
    assert BusinessCalendar.always_open("Asia/Shanghai").add(start, 50 * H) == start + 50 * H
    assert CALENDAR_TIME.elapsed(start, start + H) == H


def test_daylight_saving_days_count_what_they_last():
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    always = calendar_for(
        timezone="Europe/Berlin",
        region="",
        windows={
            day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        },
    )
    # Sunday 29 March 2026 has 23 hours in Berlin, Sunday 25 October 25.
    assert always.elapsed(at("2026-03-29 00:00", berlin), at("2026-03-30 00:00", berlin)) == 23 * H
    assert always.elapsed(at("2026-10-25 00:00", berlin), at("2026-10-26 00:00", berlin)) == 25 * H
    # An office day is 09:00 to 18:00 on the wall clock, whatever the offset.
    desk = calendar_for(timezone="Europe/Berlin", region="", windows={"mon": [["09:00", "18:00"]]})
    assert desk.add(at("2026-03-23 17:00", berlin), 2 * H) == at("2026-03-30 10:00", berlin)


def test_the_shops_own_closed_and_working_dates():
    calendar = office(closed_dates=["2026-11-24"], working_dates=["2026-11-28"])
    assert calendar.add(at("2026-11-23 17:00"), 2 * H) == at("2026-11-25 10:00")
    assert calendar.add(at("2026-11-27 17:00"), 2 * H) == at("2026-11-28 10:00")


def test_another_countrys_imported_holidays():
    germany = calendar_for(
        timezone="Europe/Berlin",
        region="DE",
        windows={"thu": [["09:00", "17:00"]]},
        holidays=frozenset({dt.date(2027, 5, 6)}),  # Ascension Day
    )
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    assert germany.add(at("2027-04-29 16:00", berlin), 2 * H) == at("2027-05-13 10:00", berlin)


def test_a_calendar_without_hours_refuses_to_count():
    closed = calendar_for(timezone="Asia/Shanghai", region="", windows={})
    with pytest.raises(ValueError):
        closed.add(at("2026-11-23 10:00"), H)


@pytest.mark.parametrize(
    "windows",
    [
        {"mon": [["09:00", "09:00"]]},
        {"mon": [["24:00", "02:00"]]},
        {"mon": [["9:00", "18:00"]]},
        {"mon": [["09:00", "25:00"]]},
        {"monday": [["09:00", "18:00"]]},
        {"mon": [["09:00"]]},
    ],
)
def test_bad_windows_are_refused(windows):
    with pytest.raises(ValueError):
        HoursIn.model_validate({"windows": windows})


def test_a_date_both_closed_and_worked_is_refused():
    with pytest.raises(ValueError):
        HoursIn.model_validate({"closed_dates": ["2026-12-01"], "working_dates": ["2026-12-01"]})


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (dt.timedelta(minutes=5), "PT5M"),
        (dt.timedelta(hours=24), "PT24H"),
        (dt.timedelta(hours=36), "PT36H"),
        (dt.timedelta(days=5), "P5D"),
        (dt.timedelta(days=2, hours=4, minutes=30), "P2DT4H30M"),
        (None, None),
    ],
)
def test_targets_read_as_people_write_them(duration, text):
    assert iso_duration(duration) == text
