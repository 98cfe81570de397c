"""API shapes of a shop's policy. ``policy.data.PolicyData`` is the one judge of a policy; the body
below enforces JSON types and declares, for the document, the keys and bounds the judge holds to
(a client generated from it learns them)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from ninja import Field
from pydantic import ConfigDict, WithJsonSchema

from aftersales.catalog.models import Platform, ProductFlag
from aftersales.core.schemas import MONEY_OR_ZERO, BodyBool, Input, Output, WholeInt
from aftersales.policy import data
from aftersales.policy.choices import Condition, Fault, ShippingPayer
from aftersales.policy.data import TIMEOUT_NAMES

MONEY = {"max_digits": 12, "decimal_places": 2}
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


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _inline(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
        return {key: _inline(value, defs) for key, value in schema.items() if key != "$defs"}
    if isinstance(schema, list):
        return [_inline(item, defs) for item in schema]
    return schema


def _section(model: type[data.Closed]) -> WithJsonSchema:
    """A marketplace section of the policy as the document declares it: the typed model's own
    schema (keys, types, enums, bounds), every key optional (a PUT names those it changes)."""
    schema = model.model_json_schema()
    inlined = _inline(schema, schema.get("$defs", {}))
    inlined.pop("required", None)
    inlined.pop("title", None)
    return WithJsonSchema(inlined)


def _whole_section(model: type[data.Closed]) -> WithJsonSchema:
    """A section whose PUT replaces it whole (its lists are read together)."""
    schema = model.model_json_schema()
    inlined = _inline(schema, schema.get("$defs", {}))
    inlined.pop("title", None)
    return WithJsonSchema(inlined)


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
    complaint_window_days: Annotated[WholeInt, _declared_bounds(1, 365)] = None
    disputes: Annotated[dict[str, Any], _section(data.DisputeRules)] = None
    autonomy: Annotated[dict[str, Any], _whole_section(data.AutonomyRules)] = None
    jury: Annotated[dict[str, Any], _section(data.JuryRules)] = None
    inspection: Annotated[dict[str, Any], _section(data.InspectionRules)] = None
    reviews: Annotated[dict[str, Any], _section(data.ReviewRules)] = None
    violations: Annotated[dict[str, Any], _section(data.ViolationRules)] = None
    insurance: Annotated[dict[str, Any], _section(data.InsuranceRules)] = None
    insights: Annotated[dict[str, Any], _section(data.InsightsRules)] = None


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
    complaint_window_days: int
    disputes: dict[str, Any]
    autonomy: dict[str, Any]
    jury: dict[str, Any]
    inspection: dict[str, Any]
    reviews: dict[str, Any]
    violations: dict[str, Any]
    insurance: dict[str, Any]
    insights: dict[str, Any]
    sources: dict[str, str]
