"""API shapes of inspections (types only). The bodies of the actions are the actions' own typed
inputs (``inspections.moves``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from aftersales.cases.choices import Authenticity, FeePayer
from aftersales.cases.schemas import EventOut
from aftersales.core.schemas import Output
from aftersales.inspections.choices import InspectionState, Sender


class InspectionSummaryOut(Output):
    number: str
    shop: str
    case_number: str
    dispute_number: str | None
    sender: Sender
    state: InspectionState
    state_label: str
    verdict: Authenticity | None
    verdict_label: str
    deadline_at: dt.datetime | None
    deadline_action: str | None
    is_overdue: bool
    created_at: dt.datetime


class InspectionOut(InspectionSummaryOut):
    reason: str
    # The code on the label that goes with the goods (the center confirms receipt by it).
    label: str
    carrier: str
    tracking_number: str
    shipped_at: dt.datetime | None
    received_at: dt.datetime | None
    report: str
    decided_at: dt.datetime | None
    fee: Decimal
    fee_payer: FeePayer | None
    violation_number: str
    compensation_code: str
    compensation_amount: Decimal
    # The verdict's consequences in sentences (the fee, the compensation, the violation).
    explanation: list[str]
    available_actions: list[str]
    events: list[EventOut]


class InspectionPage(Output):
    items: list[InspectionSummaryOut]
