"""API shapes of disputes (types only). The bodies of the actions are the actions' own typed
inputs (``disputes.moves``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from aftersales.cases.schemas import EventOut
from aftersales.core.schemas import Input, Output
from aftersales.disputes.choices import (
    DisputeClass,
    DisputeKind,
    DisputeState,
    EvidenceKind,
    Outcome,
    ReviewResult,
    Side,
)


class DisputeEvidenceOut(Output):
    id: int
    side: Side
    kind: EvidenceKind
    text: str
    reference_id: int | None
    created_at: dt.datetime


class DecisionOut(Output):
    outcome: Outcome
    outcome_label: str
    amount: Decimal
    reason: str
    # The numbers the decision rests on: what was requested and refunded before, what was left,
    # the shop's service score and autonomy band, the violation and its points (with the policy
    # rule they come from), the jury's votes.
    calculation: dict[str, Any]
    explanation: list[str]
    violation_kind: str
    violation_points: int
    by_jury: bool
    review_result: ReviewResult | None
    decided_at: dt.datetime
    executed_at: dt.datetime | None


class DisputeSummaryOut(Output):
    number: str
    shop: str
    case_number: str
    kind: DisputeKind
    dispute_class: DisputeClass
    state: DisputeState
    state_label: str
    deadline_at: dt.datetime | None
    deadline_action: str | None
    is_overdue: bool
    created_at: dt.datetime


class DisputeOut(DisputeSummaryOut):
    statement: str
    case_paused: bool
    appeals: int
    appeal_reason: str
    decision: DecisionOut | None
    decisions: list[DecisionOut]
    evidence: list[DisputeEvidenceOut]
    available_actions: list[str]
    events: list[EventOut]


class DisputePage(Output):
    items: list[DisputeSummaryOut]


class JurorFileOut(Output):
    """What a juror reads: the dispute without names, phone numbers or addresses."""

    number: str
    dispute_class: DisputeClass
    case_kind: str
    requested_amount: Decimal
    statement: str
    evidence: list[dict[str, Any]]
    due_at: dt.datetime
    vote: Side | None
    is_open: bool


class JurySeatsOut(Output):
    items: list[JurorFileOut]


class VoteIn(Input):
    side: Side
