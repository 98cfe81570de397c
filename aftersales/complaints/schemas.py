"""API shapes of complaints (types only; rules live in services). The bodies of the actions are
the actions' own typed inputs (``complaints.moves``)."""

from __future__ import annotations

import datetime as dt

from aftersales.cases.schemas import CustomerRef, EventOut, StepOut
from aftersales.complaints.choices import ComplaintState, ComplaintType
from aftersales.core.schemas import Output


class ComplaintSummaryOut(Output):
    number: str
    shop: str
    type: ComplaintType
    type_label: str
    state: ComplaintState
    state_label: str
    order_external_id: str | None
    customer: CustomerRef
    # A staff member's user name; never shown to a customer (``None`` for them).
    owner: str | None
    # When the stage it is in is due, and the next automatic step (a reminder at half the
    # stage's time, then the escalation to the team lead).
    due_at: dt.datetime | None
    deadline_at: dt.datetime | None
    deadline_action: str | None
    is_overdue: bool
    is_escalated: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class ComplaintOut(ComplaintSummaryOut):
    description: str
    policy_version: int
    # The team's analysis; empty for a customer.
    root_cause: str
    solution_kind: str
    solution: str
    outcome: str
    answer: str
    answer_note: str
    acknowledged_at: dt.datetime | None
    resolved_at: dt.datetime | None
    linked_cases: list[str]
    linked_orders: list[str]
    steps: list[StepOut]
    available_actions: list[str]
    events: list[EventOut]


class ComplaintPage(Output):
    items: list[ComplaintSummaryOut]
    next_cursor: str | None
