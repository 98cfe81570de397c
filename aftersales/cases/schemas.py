"""API shapes of cases (types and limits only; rules live in services). The bodies of the
actions are the actions' own typed inputs (``cases.moves``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from ninja import Field

from aftersales.cases.choices import CaseKind, CaseState, CompensationKind, Reason
from aftersales.core.schemas import Input, Output, PositiveAmount
from aftersales.policy.choices import CompensationReason
from aftersales.sla.choices import Priority

# Form and query values with a fixed set of words.
EvidencePurpose = Literal["application", "inspection"]
LabelVariant = Literal["label", "packing_slip"]


class CompensationIn(Input):
    reason: CompensationReason
    kind: CompensationKind = CompensationKind.COUPON
    amount: PositiveAmount | None = None
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
    """A timeline entry as the caller may see it (``cases.timeline.events_for``)."""

    actor: str
    role: str
    action: str
    action_label: str
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
    # The marketplace whose request the case is (``taobao``, ``jd``…; none: the shop's own).
    # Its deadline is the platform's when ``deadline_action`` is ``platform_due``.
    platform: str | None = None
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
    # What the repair cost the shop, for staff (``null`` for the customer).
    parts_cost: Decimal | None
    labour_cost: Decimal | None


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
    dispute_reason: str  # the signals, comma-separated (kept for clients that read it)
    # The workbench's marks, for staff (``null`` for the customer).
    priority: Priority | None
    assignee: str | None
    flag: str | None
    dispute_signals: list[str]
    first_response_at: dt.datetime | None
    resolved_at: dt.datetime | None
    escalated_at: dt.datetime | None
    converted_from: str
    outbound_carrier: str
    outbound_tracking_number: str
    outbound_shipped_at: dt.datetime | None
    price_difference: Decimal
    payment_reference: str
    # What the parcels cost the shop, for staff (``null`` for the customer).
    return_shipping_cost: Decimal | None
    outbound_shipping_cost: Decimal | None
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
