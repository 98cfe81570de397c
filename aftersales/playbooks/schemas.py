"""The playbooks' answers over HTTP (bodies: ``definitions.PlaybookIn``, ``PlaybookStepSetIn``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field, StrictBool, StringConstraints

from aftersales.core.schemas import Input, Output


class PlaybookStepSetIn(Input):
    done: StrictBool
    note: Annotated[str, StringConstraints(max_length=1000)] = ""


class PlaybookActionRef(Output):
    action: str
    label: str


class ChecklistStepOut(Output):
    key: str
    order: int
    type: str
    type_label: str
    title: str
    detail: str
    action: str
    action_label: str
    template: str
    required_before: list[PlaybookActionRef]
    done: bool
    done_by: str | None
    done_at: dt.datetime | None
    note: str


class ChecklistGate(PlaybookActionRef):
    """An action some step must be done before, and the steps still open (their keys)."""

    pending: list[str]


class PlaybookRef(Output):
    key: str
    title: str
    version: int
    enforced: bool
    sources: list[str]


class ChecklistOut(Output):
    case: str
    playbook: PlaybookRef | None
    steps: list[ChecklistStepOut]
    gates: list[ChecklistGate]
    complete: bool


class PlaybookStepDefinitionOut(Output):
    key: str
    type: str
    title: dict[str, str]
    detail: dict[str, str]
    action: str
    template: str
    required_before: list[str]


class PlaybookOut(Output):
    key: str
    version: int
    title: dict[str, str]
    kind: str
    reason: str
    category: str
    sources: list[str]
    enforced: bool
    is_starter: bool
    steps: list[PlaybookStepDefinitionOut]


class PlaybookList(Output):
    items: list[PlaybookOut]


class PlaybookStepFigures(Output):
    key: str
    title: str
    done: int
    share: float = Field(description="Per cent of the playbook's cases with this step done.")


class PlaybookFigures(Output):
    key: str
    title: str
    version: int
    cases: int
    completed_cases: int
    completion: float = Field(description="Per cent of the cases with every step done.")
    steps: list[PlaybookStepFigures]


class PlaybookReportOut(Output):
    shop: str
    start: dt.date
    end: dt.date
    playbooks: list[PlaybookFigures]
