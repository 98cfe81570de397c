"""API shapes of violation points (types only; the rules live in ``rules`` and the services).
The bodies of the actions are the actions' own typed inputs (``violations.moves``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from aftersales.cases.schemas import EventOut
from aftersales.core.schemas import Input, Output
from aftersales.policy.choices import Fault
from aftersales.violations.choices import (
    AppealDecision,
    Measure,
    PenaltyState,
    ScoreOrigin,
    ViolationClass,
    ViolationKind,
    ViolationState,
)


class AppealOut(Output):
    """The one appeal: the shop's text and the platform's decision with its reason."""

    text: str
    appealed_at: dt.datetime | None
    decision: AppealDecision | None
    reason: str
    decided_at: dt.datetime | None


class PenaltySummaryOut(Output):
    number: str
    shop: str
    state: PenaltyState
    state_label: str
    violation_class: ViolationClass
    year: int
    violation: str
    step_points: int
    # ``None``: permanent.
    days: int | None
    measures: list[Measure]
    measures_text: str
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    # Whether its measures apply now (holding, and its end not passed).
    in_force: bool
    calculation: dict[str, Any]
    calculation_text: str


class PenaltyOut(PenaltySummaryOut):
    appeal: AppealOut | None
    available_actions: list[str]
    events: list[EventOut]


class ViolationSummaryOut(Output):
    number: str
    shop: str
    state: ViolationState
    state_label: str
    kind: ViolationKind
    kind_label: str
    violation_class: ViolationClass
    points: int
    year: int
    reason: str
    calculation: dict[str, Any]
    calculation_text: str
    source_type: str
    source_id: int | None
    recorded_at: dt.datetime
    recorded_by: str


class ViolationOut(ViolationSummaryOut):
    policy_version: int
    appeal: AppealOut | None
    penalties: list[str]
    available_actions: list[str]
    events: list[EventOut]


class ViolationPage(Output):
    items: list[ViolationSummaryOut]


class PenaltyPage(Output):
    items: list[PenaltySummaryOut]


class PenaltyStepOut(Output):
    points: int
    days: int | None
    measures: list[Measure]
    measures_text: str
    reached: bool


class ClassStandingOut(Output):
    violation_class: ViolationClass
    label: str
    points: int
    steps: list[PenaltyStepOut]
    next_step: PenaltyStepOut | None


class ServiceScoreIn(Input):
    """Set the shop's service score (0–5, two places) and say why: the shop reads the reason."""

    score: Annotated[Decimal, Field(ge=0, le=5, max_digits=3, decimal_places=2)]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class ServiceScoreChangeOut(Output):
    """One setting of the score: from what, to what, why, who and when."""

    from_score: Decimal
    to_score: Decimal
    reason: str
    origin: ScoreOrigin
    origin_label: str
    changed_by: str
    changed_at: dt.datetime


class ServiceScoreOut(Output):
    """The shop's service score (5.00 until the platform sets one) and its latest changes, newest
    first: the one score the disputes' autonomy and the shipping insurance's premium read."""

    shop: str
    score: Decimal
    changes: list[ServiceScoreChangeOut]


class StandingOut(Output):
    """The shop's standing: its service score, and its points in the platform's current year."""

    shop: str
    service_score: Decimal
    service_score_changes: list[ServiceScoreChangeOut]
    enabled: bool
    policy_version: int
    timezone: str
    year: int
    # When the year's points restart (00:00 on 1 January in ``timezone``), in UTC.
    resets_at: dt.datetime
    classes: list[ClassStandingOut]
    penalties_in_force: list[PenaltySummaryOut]


class FaultRateOut(Output):
    fault: Fault
    label: str
    refunds: int
    negotiated: int
    intervened: int
    rate: Decimal | None
    intervened_rate: Decimal | None


class WeightsOut(Output):
    seller_intervened: Decimal
    seller: Decimal
    other: Decimal


class RefundRateOut(Output):
    """Refunds ÷ paid orders over whole local days (rates in per cent; ``None`` without paid
    orders)."""

    shop: str
    timezone: str
    start: dt.date
    end: dt.date
    days: int
    paid_orders: int
    refunds: int
    rate: Decimal | None
    intervened: int
    intervened_rate: Decimal | None
    by_fault: list[FaultRateOut]
    weighted_refunds: Decimal
    ranking_rate: Decimal | None
    weights: WeightsOut
