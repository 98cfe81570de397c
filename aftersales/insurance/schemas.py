"""API shapes of shipping insurance (types only; rules live in services). The action bodies are
the moves' own typed inputs (``insurance.moves``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from aftersales.cases.schemas import CustomerRef, EventOut
from aftersales.core.schemas import Output
from aftersales.insurance.choices import CoverState, FlagState, Signal


class InsuranceClaimOut(Output):
    case_number: str
    stated_postage: Decimal
    payout_cap: Decimal
    payout: Decimal
    # The postage on the carrier's bill, once the shop recorded it (staff only).
    actual_postage: Decimal | None
    sender_address: str
    created_at: dt.datetime


class QuoteInputsOut(Output):
    """What the premium was priced from (``formula_version`` 1:
    base_premium × score_factor × returns_factor, rounded half up to the cent)."""

    formula_version: int
    service_score: Decimal
    score_factor: Decimal
    returns_counted: int
    returns_factor: Decimal
    detail: dict[str, Any]


class CoverOut(Output):
    order_id: int
    order_external_id: str
    shop: str
    customer: CustomerRef
    state: CoverState
    state_label: str
    premium: Decimal
    policy_version: int
    quote: QuoteInputsOut
    quoted_at: dt.datetime
    insured_at: dt.datetime | None
    claims: list[InsuranceClaimOut]
    available_actions: list[str]
    events: list[EventOut]


class ReasonOut(Output):
    model_config = {"extra": "allow"}
    signal: Signal
    calculation: str


class FlagOut(Output):
    id: int
    shop: str
    customer: CustomerRef
    state: FlagState
    state_label: str
    reasons: list[ReasonOut]
    review_reason: str
    reviewed_by: str
    reviewed_at: dt.datetime | None
    created_at: dt.datetime
    events: list[EventOut]


class FlagPage(Output):
    items: list[FlagOut]
    next_cursor: str | None


class ScanOut(Output):
    flags: int
