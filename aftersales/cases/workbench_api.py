"""The workbench's marks on a case over HTTP: who owns it, its priority and its flag (each answers
with the case as the caller may see it, the same body as ``GET /cases/{number}``); and an entry
of its contact log, with the staff time it took."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Status
from pydantic import WithJsonSchema

from aftersales.cases import selectors
from aftersales.cases.api import present_case
from aftersales.cases.choices import FlagColor
from aftersales.cases.flags import flag_set, priority_set
from aftersales.cases.schemas import CaseOut
from aftersales.core.schemas import ERROR_RESPONSES, DateText, Input, Output
from aftersales.sla.choices import Priority
from aftersales.team import workbench as team
from aftersales.team.models import ContactChannel

router = Router(tags=["cases"])


class AssigneeIn(Input):
    """A colleague of the case's shop by user name; ``null`` leaves the case with nobody (said
    outright: an empty body is refused, not read as "nobody")."""

    assignee: str | None = Field(..., min_length=1, max_length=150)


class PriorityIn(Input):
    priority: Priority


class FlagIn(Input):
    """A colour whose meaning the shop chose; ``""`` takes the flag off (said outright)."""

    flag: FlagColor | Literal[""]


class ContactIn(Input):
    """A call, chat or e-mail with the customer: its summary, a date to follow up, and the staff
    time it took (whole minutes, 1 to 600; anything else is refused with 400
    ``invalid_minutes``)."""

    channel: ContactChannel
    summary: str = Field(..., min_length=1, max_length=5000)
    follow_up_on: DateText | None = None
    # Judged by the service (``team.workbench.minutes_of``), so a bad value is refused in words.
    minutes: Annotated[
        Any,
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "integer", "minimum": 1, "maximum": team.MOST_MINUTES},
                    {"type": "null"},
                ],
                "description": "The staff time the contact took, in whole minutes.",
            }
        ),
    ] = None


class ContactOut(Output):
    id: int
    channel: str
    channel_label: str
    summary: str
    follow_up_on: dt.date | None
    minutes: int | None
    by: str
    created_at: dt.datetime


def _answer(request: HttpRequest, number: str) -> dict:
    return present_case(selectors.case_get(actor=request.auth, number=number), request.auth)


@router.put("/cases/{number}/assignee", response={200: CaseOut, **ERROR_RESPONSES})
def set_case_assignee(request: HttpRequest, number: str, payload: AssigneeIn):
    """Give the case to a colleague (a staff-only timeline entry; they are told in the desk)."""
    actor = request.auth
    team.assign(
        actor=actor,
        subject_type="case",
        subject_ids=[selectors.case_id_for(actor=actor, number=number)],
        username=payload.assignee,
    )
    return _answer(request, number)


@router.put("/cases/{number}/priority", response={200: CaseOut, **ERROR_RESPONSES})
def set_case_priority(request: HttpRequest, number: str, payload: PriorityIn):
    """Change the case's priority: its service-level targets are those of the new priority
    (recomputed from the timeline on the worker's next pass)."""
    actor = request.auth
    priority_set(
        actor=actor,
        case_id=selectors.case_id_for(actor=actor, number=number),
        priority=payload.priority,
    )
    return _answer(request, number)


@router.put("/cases/{number}/flag", response={200: CaseOut, **ERROR_RESPONSES})
def set_case_flag(request: HttpRequest, number: str, payload: FlagIn):
    """Flag the case with a colour, or take the flag off."""
    actor = request.auth
    flag_set(
        actor=actor,
        case_id=selectors.case_id_for(actor=actor, number=number),
        color=payload.flag,
    )
    return _answer(request, number)


@router.post("/cases/{number}/contacts", response={201: ContactOut, **ERROR_RESPONSES})
def add_case_contact(request: HttpRequest, number: str, payload: ContactIn):
    """Log a contact with the customer on the case's contact log (staff only; a staff-only
    timeline entry with the minutes and what they cost at the shop's rate now)."""
    actor = request.auth
    entry = team.contact_log_add(
        actor=actor,
        subject_type="case",
        subject_id=selectors.case_id_for(actor=actor, number=number),
        channel=payload.channel,
        summary=payload.summary,
        follow_up_on=payload.follow_up_on,
        minutes=payload.minutes,
    )
    return Status(
        201,
        {
            "id": entry.id,
            "channel": entry.channel,
            "channel_label": str(ContactChannel(entry.channel).label),
            "summary": entry.summary,
            "follow_up_on": entry.follow_up_on,
            "minutes": entry.minutes,
            "by": entry.by_name,
            "created_at": entry.created_at,
        },
    )
