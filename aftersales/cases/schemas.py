"""API shapes of cases and policies (types and limits only; rules live in services)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Field

from aftersales.cases.choices import (
    CaseKind,
    CaseState,
    CompensationKind,
    CompensationReason,
    Condition,
    DiagnosedBy,
    Disposition,
    Reason,
)
from aftersales.catalog.models import Platform
from aftersales.core.schemas import BodyBool, BodyId, BodyInt, Input, Output


class CaseLineIn(Input):
    order_line_id: BodyId
    quantity: BodyInt = Field(ge=1, le=1_000_000)
    amount: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)


class CaseOpenIn(Input):
    order_id: BodyId
    kind: CaseKind
    reason: Reason
    description: str = Field("", max_length=5000)
    lines: list[CaseLineIn] = Field(min_length=1, max_length=200)


class ActionLineIn(Input):
    """One line of a ``receive`` (quantity), an ``inspect`` (condition, disposition, note) or a
    ``ship_replacement`` (sku: another variant of the product)."""

    order_line_id: BodyId
    quantity: BodyInt | None = Field(None, ge=0, le=1_000_000)
    condition: Condition | None = None
    disposition: Disposition | None = None
    note: str | None = Field(None, max_length=2000)
    sku: str | None = Field(None, max_length=100)


class ActionIn(Input):
    """The fields any action may take; each action reads the ones it needs."""

    reason: str | None = Field(None, max_length=2000)
    description: str | None = Field(None, max_length=5000)
    amount: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)
    carrier: str | None = Field(None, max_length=100)
    tracking_number: str | None = Field(None, max_length=100)
    result: str | None = Field(None, max_length=20)
    deduction: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)
    idempotency_key: str | None = Field(None, max_length=200)
    return_address_id: BodyId | None = None
    note: str | None = Field(None, max_length=2000)
    lines: list[ActionLineIn] | None = Field(None, max_length=200)
    # convert
    kind: CaseKind | None = None
    # exchange: ship_replacement, offer
    sku: str | None = Field(None, max_length=100)
    price_difference: Decimal | None = Field(
        None, ge=-1_000_000, le=1_000_000, max_digits=12, decimal_places=2
    )
    discount: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)
    payment_reference: str | None = Field(None, max_length=200)
    # repair: receive, diagnose, ship_back
    invoice_enclosed: BodyBool | None = None
    diagnosed_by: DiagnosedBy | None = None
    service_center_id: BodyId | None = None
    fault_code: str | None = Field(None, max_length=100)
    repairable: BodyBool | None = None
    quote_parts: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)
    quote_labour: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)
    parts_cost: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)
    labour_cost: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)


class CompensationIn(Input):
    reason: CompensationReason
    kind: CompensationKind = CompensationKind.COUPON
    amount: Decimal | None = Field(None, gt=0, max_digits=12, decimal_places=2)
    note: str = Field("", max_length=2000)
    idempotency_key: str = Field("", max_length=200)


class CompensationOut(Output):
    code: str
    kind: str
    reason: str
    amount: Decimal
    note: str
    created_at: dt.datetime


class EvidenceOut(Output):
    id: int
    kind: str
    purpose: str
    content_type: str
    size: int
    width: int | None
    height: int | None
    caption: str
    role: str
    created_at: dt.datetime
    url: str
    thumbnail_url: str | None


class CaseLineOut(Output):
    id: int
    order_line_id: int
    external_id: str
    sku: str
    title: str
    quantity: int
    requested_amount: Decimal
    approved_amount: Decimal
    refunded_amount: Decimal
    received_quantity: int | None
    condition: str
    disposition: str
    replacement_sku: str | None


class EventOut(Output):
    actor: str
    role: str
    action: str
    from_state: str
    to_state: str
    at: dt.datetime
    data: dict[str, Any]


class CustomerRef(Output):
    external_id: str
    name: str


class ReturnAddressRef(Output):
    id: int
    name: str
    phone: str
    address: str


class CaseSummaryOut(Output):
    number: str
    shop: str
    order_id: int
    order_external_id: str
    customer: CustomerRef
    kind: CaseKind
    reason: Reason
    fault: str
    return_shipping_payer: str
    state: CaseState
    state_label: str
    requested_amount: Decimal
    approved_amount: Decimal
    refunded_amount: Decimal
    currency: str
    deadline_at: dt.datetime | None
    deadline_action: str | None
    is_overdue: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class ServiceCenterRef(Output):
    id: int
    kind: str
    name: str
    phone: str
    address: str
    turnaround_days: int


class RepairOut(Output):
    """The repair's diagnosis, warranty, quote and costs (repair cases, and cases converted from
    or to a repair)."""

    diagnosed_by: str
    service_center: ServiceCenterRef | None
    fault_code: str
    diagnosis_note: str
    diagnosed_at: dt.datetime | None
    repairable: bool | None
    under_warranty: bool | None
    warranty_entitlement: str
    quote_amount: Decimal
    quoted_at: dt.datetime | None
    quote_reminded_at: dt.datetime | None
    quote_decision: str
    repaired: bool | None
    parts_cost: Decimal
    labour_cost: Decimal


class StepOut(Output):
    """A step of the case in the customer's words, with its date."""

    state: str
    label: str
    at: dt.datetime
    detail: str


class CaseOut(CaseSummaryOut):
    description: str
    policy_version: int
    shipping_deduction: Decimal
    inspection_deduction: Decimal
    return_address: ReturnAddressRef | None
    return_carrier: str
    return_tracking_number: str
    reject_reason: str
    inspection_result: str
    suggested_deduction: Decimal
    dispute_flag: bool
    dispute_reason: str
    first_response_at: dt.datetime | None
    resolved_at: dt.datetime | None
    escalated_at: dt.datetime | None
    converted_from: str
    outbound_carrier: str
    outbound_tracking_number: str
    outbound_shipped_at: dt.datetime | None
    price_difference: Decimal
    payment_reference: str
    confirmed_at: dt.datetime | None
    repair: RepairOut | None
    steps: list[StepOut]
    available_actions: list[str]
    compensations: list[CompensationOut]
    evidence: list[EvidenceOut]
    lines: list[CaseLineOut]
    events: list[EventOut]


class CasePage(Output):
    items: list[CaseSummaryOut]
    next_cursor: str | None


class PolicyIn(Input):
    """Fields to change; what is left out keeps its current value. Naming ``preset`` starts
    again from that preset's defaults."""

    preset: Platform | None = None
    timeouts: dict[str, str] | None = None
    no_reason_days: BodyInt | None = None
    no_reason_excluded_flags: list[str] | None = None
    return_shipping_payer: dict[str, str] | None = None
    deduct_buyer_shipping: BodyBool | None = None
    buyer_shipping_deduction: Decimal | None = Field(None, max_digits=12, decimal_places=2)
    inspection_deduction_percent: dict[str, BodyInt] | None = None
    compensation: dict[str, dict[str, Any]] | None = None
    warranty: dict[str, BodyInt] | None = None


class PolicyOut(Output):
    shop: str
    version: int
    preset: str
    created_at: dt.datetime
    timeouts: dict[str, str]
    no_reason_days: int
    no_reason_excluded_flags: list[str]
    return_shipping_payer: dict[str, str]
    deduct_buyer_shipping: bool
    buyer_shipping_deduction: Decimal
    inspection_deduction_percent: dict[str, int]
    compensation: dict[str, dict[str, Any]]
    warranty: dict[str, int]
    sources: dict[str, str]
