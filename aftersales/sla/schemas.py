"""The API's bodies and answers for business hours, targets and the report."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field, field_validator

from aftersales.sla.choices import Priority, SubjectType
from aftersales.sla.hours import HoursIn

MAX_TARGET = dt.timedelta(days=90)


def iso_duration(value: dt.timedelta | None) -> str | None:
    """As people write a target: ``PT5M``, ``PT24H``, ``PT36H``, ``P5D`` (whole days from two
    days up), ``P2DT4H``."""
    if value is None:
        return None
    seconds = int(value.total_seconds())
    days, rest = divmod(seconds, 86400)
    if days < 2:
        days, rest = 0, seconds
    hours, rest = divmod(rest, 3600)
    minutes, rest = divmod(rest, 60)
    time = "".join(
        f"{amount}{unit}" for amount, unit in ((hours, "H"), (minutes, "M"), (rest, "S")) if amount
    )
    text = "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "")
    return text if text != "P" else "PT0S"


class TargetIn(BaseModel):
    """One target: a subject type, a kind and a priority (empty: any), ISO 8601 durations of
    business time (empty: not measured) and the warning ahead of a breach."""

    model_config = ConfigDict(extra="forbid")

    subject_type: SubjectType
    kind: str = Field("", max_length=30, pattern=r"^[a-z_]*$")
    priority: Priority | None = None
    first_response: dt.timedelta | None = None
    next_response: dt.timedelta | None = None
    resolution: dt.timedelta | None = None
    warn_before: dt.timedelta | None = None
    business_hours_only: bool = True

    @field_validator("first_response", "next_response", "resolution", "warn_before")
    @classmethod
    def _sensible(cls, value: dt.timedelta | None) -> dt.timedelta | None:
        if value is not None and not (dt.timedelta(0) < value <= MAX_TARGET):
            raise ValueError(_("A target must be longer than zero and at most 90 days."))
        return value


class TargetsIn(BaseModel):
    """A preset to start from (``generic``, ``amazon``, ``eleme``) and targets that replace the
    preset's of the same subject type, kind and priority; without a preset, the targets replace
    the shop's."""

    model_config = ConfigDict(extra="forbid")

    preset: str | None = Field(None, max_length=20)
    targets: list[TargetIn] = Field(default_factory=list, max_length=200)


class TargetOut(BaseModel):
    subject_type: str
    kind: str
    priority: str
    first_response: str | None
    next_response: str | None
    resolution: str | None
    warn_before: str | None
    business_hours_only: bool


class SourceOut(BaseModel):
    title: str
    url: str


class TargetsOut(BaseModel):
    shop: str
    preset: str
    targets: list[TargetOut]
    sources: list[SourceOut]


class HoursOut(HoursIn):
    shop: str
    timezone: str
    configured: bool


class ReportRow(BaseModel):
    subject_type: str
    metric: str
    metric_label: str
    kind: str
    measured: int
    met: int
    breached: int
    percent_met: float | None


class ReportOut(BaseModel):
    shop: str
    since: dt.date
    until: dt.date
    rows: list[ReportRow]
