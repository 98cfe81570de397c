"""API shapes of cases and policies (types and limits only; rules live in services)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Field
from pydantic import BeforeValidator, ConfigDict, StrictInt, WithJsonSchema

from aftersales.cases.choices import (
    Authenticity,
    CaseKind,
    CaseState,
    CompensationKind,
    CompensationReason,
    Condition,
    DiagnosedBy,
    Disposition,
    Fault,
    InspectionResult,
    Reason,
    ShippingPayer,
)
from aftersales.cases.policy import TIMEOUT_NAMES
from aftersales.catalog.models import Platform, ProductFlag
from aftersales.core.schemas import BodyBool, Input, Output


def _whole_number(value: object) -> object:
    # JSON Schema counts 2.0 as the integer 2 (a client may well write it so); the body must take
    # what its document admits. Booleans, text and fractions stay refused.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


WholeInt = Annotated[StrictInt, BeforeValidator(_whole_number)]
# Bounds go before the validator: pydantic keeps them on the integer (and in the document) then.
WholeId = Annotated[StrictInt, Field(ge=1, le=2**63 - 1), BeforeValidator(_whole_number)]

# --- amounts ------------------------------------------------------------------------------------
# The document offers an amount as a decimal string with at most two places ("12.50") or a whole
# number, not as a float (0.1 + 0.2 is not money). Its patterns and bounds are the validation's,
# so a client generated from it cannot build an amount the server refuses for its shape.

MONEY = {"max_digits": 12, "decimal_places": 2}
POSITIVE_MONEY = r"^([1-9]\d{0,9}(\.\d{1,2})?|0\.(0[1-9]|[1-9]\d?))$"
MONEY_OR_ZERO = r"^\d{1,10}(\.\d{1,2})?$"
SIGNED_MONEY = r"^-?(\d{1,6}(\.\d{1,2})?|1000000(\.00?)?)$"
UP_TO_1000 = r"^(\d{1,3}(\.\d{1,2})?|1000(\.00?)?)$"


def _money_schema(pattern: str, minimum: int, maximum: int, description: str) -> WithJsonSchema:
    return WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": pattern},
                {"type": "integer", "minimum": minimum, "maximum": maximum},
            ],
            "description": description,
        }
    )


PositiveAmount = Annotated[
    Decimal,
    Field(gt=0, **MONEY),
    _money_schema(
        POSITIVE_MONEY, 1, 9_999_999_999, 'More than 0, at most two decimal places: "12.50".'
    ),
]
Amount = Annotated[
    Decimal,
    Field(ge=0, **MONEY),
    _money_schema(MONEY_OR_ZERO, 0, 9_999_999_999, "0 or more, at most two decimal places."),
]
SignedAmount = Annotated[
    Decimal,
    Field(ge=-1_000_000, le=1_000_000, **MONEY),
    _money_schema(
        SIGNED_MONEY, -1_000_000, 1_000_000, "-1000000 to 1000000, at most two decimal places."
    ),
]


class CaseLineIn(Input):
    order_line_id: WholeId
    quantity: WholeInt = Field(ge=1, le=1_000_000)
    amount: PositiveAmount | None = None


# Form and query values with a fixed set of words.
EvidencePurpose = Literal["application", "inspection"]
LabelVariant = Literal["label", "packing_slip"]


class CaseOpenIn(Input):
    order_id: WholeId
    kind: CaseKind
    reason: Reason
    description: str = Field("", max_length=5000)
    lines: list[CaseLineIn] = Field(min_length=1, max_length=200)


class ActionLineIn(Input):
    """One line of a ``receive`` (quantity), an ``inspect`` (condition, disposition, note) or a
    ``ship_replacement`` (sku: another variant of the product)."""

    order_line_id: WholeId
    quantity: (
        Annotated[StrictInt, Field(ge=0, le=1_000_000), BeforeValidator(_whole_number)] | None
    ) = None
    condition: Condition | None = None
    disposition: Disposition | None = None
    note: str | None = Field(None, max_length=2000)
    sku: str | None = Field(None, max_length=100)


class ActionIn(Input):
    """The fields any action may take; each action reads the ones it needs. Which fields an
    action requires is the action's business: a missing one is refused with ``<field>_required``."""

    reason: str | None = Field(
        None,
        max_length=2000,
        description="Words for the customer or the record (reject, cancel, convert, inspect, "
        "decline_quote); for modify, the new reason code (see CaseOpenIn.reason).",
    )
    description: str | None = Field(None, max_length=5000)
    amount: PositiveAmount | None = None
    carrier: str | None = Field(None, max_length=100)
    tracking_number: str | None = Field(None, max_length=100)
    # inspect
    result: InspectionResult | None = None
    deduction: Amount | None = None
    authenticity: Authenticity | None = Field(
        None, description="The inspection's verdict on the goods: the proof a counterfeit needs."
    )
    idempotency_key: str | None = Field(None, max_length=200)
    return_address_id: WholeId | None = None
    note: str | None = Field(None, max_length=2000)
    lines: list[ActionLineIn] | None = Field(None, max_length=200)
    # convert
    kind: CaseKind | None = None
    # exchange: ship_replacement, offer
    sku: str | None = Field(None, max_length=100)
    price_difference: SignedAmount | None = None
    discount: Amount | None = None
    payment_reference: str | None = Field(None, max_length=200)
    # repair: receive, diagnose, ship_back
    invoice_enclosed: BodyBool | None = None
    diagnosed_by: DiagnosedBy | None = None
    service_center_id: WholeId | None = None
    fault_code: str | None = Field(None, max_length=100)
    repairable: BodyBool | None = None
    quote_parts: Amount | None = None
    quote_labour: Amount | None = None
    parts_cost: Amount | None = None
    labour_cost: Amount | None = None


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


# --- the shop policy ------------------------------------------------------------------------------
# ``policy.policy_validate`` is the one judge of a policy (for the API, the presets and the CLI
# alike) and refuses with its own codes: ``invalid_policy``, ``invalid_duration``, and
# ``policy_below_legal_floor`` with the law's reason. So the body below enforces only JSON types;
# the bounds and keys that the judge enforces are declared for the document (``WithJsonSchema``),
# where a client generated from it learns them.

ISO_DURATION = r"^P(\d+D(T(\d+H)?(\d+M)?(\d+S)?)?|T(\d+H(\d+M)?(\d+S)?|\d+M(\d+S)?|\d+S))$"


def _closed_object(properties: dict[str, dict], required: list[str] | None = None) -> dict:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return schema


def _declared_bounds(minimum: int, maximum: int) -> WithJsonSchema:
    return WithJsonSchema({"type": "integer", "minimum": minimum, "maximum": maximum})


def _no_null_defaults(schema: dict[str, Any]) -> None:
    # A field left out keeps its value: its default None is never validated nor stored, while a
    # ``null`` sent is refused (the types are not Optional), so the document shows no default.
    for prop in schema.get("properties", {}).values():
        if "default" in prop and prop["default"] is None:
            del prop["default"]


def _closed(schema: dict[str, Any]) -> None:
    _no_null_defaults(schema)
    schema["additionalProperties"] = False


class PolicyBody(Input):
    """A part of a policy. Keys the judge does not know are passed on for it to refuse; the
    document lists the keys it knows and no others."""

    model_config = ConfigDict(extra="allow", json_schema_extra=_closed)


class PercentRule(PolicyBody):
    """Out of stock or late shipment: a percent of the paid amount, between a floor and a cap."""

    percent: Annotated[WholeInt, _declared_bounds(0, 100)]
    min: Annotated[Decimal, _money_schema(MONEY_OR_ZERO, 0, 9_999_999_999, "The least given.")]
    max: Annotated[
        Decimal, _money_schema(MONEY_OR_ZERO, 0, 9_999_999_999, "The most given, ≥ min.")
    ]


class GoodwillRule(PolicyBody):
    max: Annotated[Decimal, _money_schema(MONEY_OR_ZERO, 0, 9_999_999_999, "The most per case.")]


class CounterfeitRule(PolicyBody):
    """假一赔十: a multiple of the price, once the goods are proven counterfeit."""

    multiple: Annotated[WholeInt, _declared_bounds(1, 10)]


class CompensationRules(PolicyBody):
    """The rules to change, by compensation reason; the others keep their values."""

    out_of_stock: PercentRule = None
    late_shipment: PercentRule = None
    goodwill: GoodwillRule = None
    counterfeit: CounterfeitRule = None


class WarrantyRules(PolicyBody):
    """三包: never less than a return within 7 days, an exchange within 15, and a replacement or
    return after two failed repairs."""

    return_days: Annotated[WholeInt, _declared_bounds(7, 365)] = None
    exchange_days: Annotated[WholeInt, _declared_bounds(15, 365)] = None
    failed_repairs: Annotated[WholeInt, _declared_bounds(1, 2)] = None


Timeouts = Annotated[
    dict[str, str],
    WithJsonSchema(
        _closed_object(
            {
                name: {
                    "type": "string",
                    "pattern": ISO_DURATION,
                    "description": "An ISO 8601 duration, more than zero and at most P90D.",
                }
                for name in TIMEOUT_NAMES
            }
        )
    ),
]
ExcludedFlags = Annotated[
    list[str],
    WithJsonSchema({"type": "array", "items": {"type": "string", "enum": ProductFlag.values}}),
]
ShippingPayers = Annotated[
    dict[str, str],
    WithJsonSchema(
        _closed_object(
            {fault: {"type": "string", "enum": ShippingPayer.values} for fault in Fault.values},
            required=list(Fault.values),
        )
    ),
]
DeductionPercents = Annotated[
    dict[str, WholeInt],
    WithJsonSchema(
        _closed_object(
            {
                condition: {"type": "integer", "minimum": 0, "maximum": 100}
                for condition in Condition.values
            }
        )
    ),
]


class PolicyIn(PolicyBody):
    """Fields to change; what is left out keeps its current value. Naming ``preset`` starts
    again from that preset's defaults. ``timeouts``, ``inspection_deduction_percent``,
    ``compensation`` and ``warranty`` change only the keys they name."""

    model_config = ConfigDict(extra="ignore", json_schema_extra=_no_null_defaults)

    preset: Platform | None = None
    timeouts: Timeouts = None
    no_reason_days: Annotated[WholeInt, _declared_bounds(7, 365)] = None
    no_reason_excluded_flags: ExcludedFlags = None
    return_shipping_payer: ShippingPayers = None
    deduct_buyer_shipping: BodyBool = None
    buyer_shipping_deduction: Annotated[
        Decimal,
        Field(**MONEY),
        _money_schema(UP_TO_1000, 0, 1000, "0 to 1000, at most two decimal places."),
    ] = None
    inspection_deduction_percent: DeductionPercents = None
    compensation: CompensationRules = None
    warranty: WarrantyRules = None


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
