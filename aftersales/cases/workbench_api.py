"""The workbench's marks on a case over HTTP: who owns it, its priority and its flag. Each answers
with the case as the caller may see it (the same body as ``GET /cases/{number}``)."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from ninja import Field, Router

from aftersales.cases import selectors
from aftersales.cases.api import present_case
from aftersales.cases.choices import FlagColor
from aftersales.cases.flags import flag_set, priority_set
from aftersales.cases.schemas import CaseOut
from aftersales.core.schemas import ERROR_RESPONSES, Input
from aftersales.sla.choices import Priority
from aftersales.team import workbench as team

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
