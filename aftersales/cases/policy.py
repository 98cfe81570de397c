"""A shop's after-sales policy: presets shipped as data, validation against the legal floor,
versioning, and the rules derived from it (deadlines, the no-reason window, who pays shipping)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import zoneinfo
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.dateparse import parse_duration
from django.utils.translation import gettext as _

from aftersales.cases.choices import CompensationReason, Condition, Fault, ShippingPayer
from aftersales.cases.models import Policy
from aftersales.catalog.models import Order, Platform, ProductFlag, Shop
from aftersales.core.errors import Ineligible, InvalidInput, PermissionDenied
from aftersales.core.money import money
from aftersales.team.models import Role
from aftersales.team.principal import Principal

PRESET_DIR = Path(__file__).parent / "presets"
TIMEOUT_NAMES = (
    "seller_response_unshipped",
    "seller_response_shipped",
    "buyer_reaction_after_reject",
    "buyer_return_shipment",
    "seller_receipt",
    "refund_duty",
    "seller_replacement_shipment",
    "buyer_confirm_receipt",
    "diagnosis",
    "quote_reminder",
    "quote_response",
    "repair",
    "seller_ship_back",
)
# Fields whose PUT changes only the keys it names.
MERGED_FIELDS = ("timeouts", "inspection_deduction_percent", "compensation", "warranty")
# 三包: return within 7 days, exchange within 15, replacement or return after two failed repairs.
LEGAL_WARRANTY = {"return_days": 7, "exchange_days": 15, "failed_repairs": 2}
LEGAL_NO_REASON_DAYS = 7
LEGAL_REFUND_DUTY = dt.timedelta(days=7)
LONGEST_TIMEOUT = dt.timedelta(days=90)


@lru_cache
def preset(name: str) -> dict[str, Any]:
    """The preset file: ``policy`` (the defaults) and ``sources`` (where each rule comes from)."""
    if name not in Platform.values:
        raise InvalidInput(
            _("Unknown policy preset %(name)s.") % {"name": name}, code="unknown_preset"
        )
    return json.loads((PRESET_DIR / f"{name}.json").read_text(encoding="utf-8"))


def preset_policy(name: str) -> dict[str, Any]:
    return copy.deepcopy(preset(name)["policy"])


def _duration(name: str, value: Any) -> dt.timedelta:
    parsed = parse_duration(value) if isinstance(value, str) and value.startswith("P") else None
    if parsed is None:
        raise InvalidInput(
            _("Timeout %(name)s must be an ISO 8601 duration such as P5D or PT48H, not %(value)r.")
            % {"name": name, "value": value},
            code="invalid_duration",
            field=f"timeouts.{name}",
        )
    if parsed <= dt.timedelta(0) or parsed > LONGEST_TIMEOUT:
        raise InvalidInput(
            _("Timeout %(name)s must be longer than zero and at most 90 days.") % {"name": name},
            code="invalid_duration",
            field=f"timeouts.{name}",
        )
    return parsed


def policy_validate(data: dict[str, Any]) -> dict[str, Any]:
    """Check a complete policy and return its normalised form; refuse anything below the law."""
    known = {
        "timeouts",
        "no_reason_days",
        "no_reason_excluded_flags",
        "return_shipping_payer",
        "deduct_buyer_shipping",
        "buyer_shipping_deduction",
        "inspection_deduction_percent",
        "compensation",
        "warranty",
    }
    unknown = set(data) - known
    if unknown:
        raise InvalidInput(
            _("Unknown policy fields: %(fields)s.") % {"fields": ", ".join(sorted(unknown))},
            code="unknown_policy_field",
        )
    timeouts = data.get("timeouts")
    if not isinstance(timeouts, dict) or set(timeouts) - set(TIMEOUT_NAMES):
        raise InvalidInput(
            _("timeouts must be an object with the keys %(keys)s.")
            % {"keys": ", ".join(TIMEOUT_NAMES)},
            code="invalid_policy",
            field="timeouts",
        )
    parsed = {name: _duration(name, timeouts.get(name)) for name in TIMEOUT_NAMES}

    days = data.get("no_reason_days")
    if not isinstance(days, int) or isinstance(days, bool) or days > 365:
        raise InvalidInput(
            _("no_reason_days must be a whole number of days."),
            code="invalid_policy",
            field="no_reason_days",
        )
    if days < LEGAL_NO_REASON_DAYS:
        raise Ineligible(
            _("The law grants 7-day no-reason returns; the window cannot be shorter."),
            code="policy_below_legal_floor",
            field="no_reason_days",
        )
    if parsed["refund_duty"] > LEGAL_REFUND_DUTY:
        raise Ineligible(
            _("The law requires a refund within 7 days of receiving the return."),
            code="policy_below_legal_floor",
            field="timeouts.refund_duty",
        )

    if parsed["quote_reminder"] >= parsed["quote_response"]:
        raise InvalidInput(
            _("The quote reminder must come before the quote expires."),
            code="invalid_policy",
            field="timeouts.quote_reminder",
        )

    flags = data.get("no_reason_excluded_flags")
    if not isinstance(flags, list) or any(flag not in ProductFlag.values for flag in flags):
        raise InvalidInput(
            _("no_reason_excluded_flags may only hold %(flags)s.")
            % {"flags": ", ".join(ProductFlag.values)},
            code="invalid_policy",
            field="no_reason_excluded_flags",
        )

    payer = data.get("return_shipping_payer")
    if (
        not isinstance(payer, dict)
        or set(payer) != set(Fault.values)
        or any(value not in ShippingPayer.values for value in payer.values())
    ):
        raise InvalidInput(
            _("return_shipping_payer maps each fault (buyer, seller, carrier) to buyer or seller."),
            code="invalid_policy",
            field="return_shipping_payer",
        )
    if payer[Fault.SELLER] != ShippingPayer.SELLER or payer[Fault.CARRIER] != ShippingPayer.SELLER:
        raise Ineligible(
            _("When the seller or the carrier is at fault the shop pays the return shipping."),
            code="policy_below_legal_floor",
            field="return_shipping_payer",
        )

    deduct = data.get("deduct_buyer_shipping")
    if not isinstance(deduct, bool):
        raise InvalidInput(
            _("deduct_buyer_shipping must be true or false."),
            code="invalid_policy",
            field="deduct_buyer_shipping",
        )
    try:
        deduction = money(str(data.get("buyer_shipping_deduction")))
    except (InvalidOperation, ValueError):
        deduction = Decimal(-1)
    if deduction < 0 or deduction > Decimal("1000"):
        raise InvalidInput(
            _("buyer_shipping_deduction must be an amount between 0 and 1000."),
            code="invalid_policy",
            field="buyer_shipping_deduction",
        )
    percents = data.get("inspection_deduction_percent")
    if (
        not isinstance(percents, dict)
        or set(percents) != set(Condition.values)
        or any(
            not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 100
            for v in percents.values()
        )
    ):
        raise InvalidInput(
            _("inspection_deduction_percent gives each condition (%(grades)s) 0-100 percent.")
            % {"grades": ", ".join(Condition.values)},
            code="invalid_policy",
            field="inspection_deduction_percent",
        )
    if percents[Condition.INTACT] != 0:
        raise Ineligible(
            _("Goods returned intact are refunded in full."),
            code="policy_below_legal_floor",
            field="inspection_deduction_percent",
        )
    return {
        "warranty": _warranty_rules(data.get("warranty")),
        "compensation": _compensation_rules(data.get("compensation")),
        "inspection_deduction_percent": {grade: percents[grade] for grade in Condition.values},
        "timeouts": {name: timeouts[name] for name in TIMEOUT_NAMES},
        "no_reason_days": days,
        "no_reason_excluded_flags": sorted(set(flags)),
        "return_shipping_payer": {fault: payer[fault] for fault in Fault.values},
        "deduct_buyer_shipping": deduct,
        "buyer_shipping_deduction": str(deduction),
    }


def _warranty_rules(rules: Any) -> dict[str, int]:
    if (
        not isinstance(rules, dict)
        or set(rules) != set(LEGAL_WARRANTY)
        or any(
            not isinstance(v, int) or isinstance(v, bool) or not 0 < v <= 365
            for v in rules.values()
        )
    ):
        raise InvalidInput(
            _("warranty needs return_days, exchange_days and failed_repairs as whole numbers."),
            code="invalid_policy",
            field="warranty",
        )
    if (
        rules["return_days"] < LEGAL_WARRANTY["return_days"]
        or rules["exchange_days"] < LEGAL_WARRANTY["exchange_days"]
        or rules["failed_repairs"] > LEGAL_WARRANTY["failed_repairs"]
    ):
        raise Ineligible(
            _(
                "三包 grants a return within 7 days, an exchange within 15 days, and a replacement "
                "or return after two failed repairs; the warranty cannot give less."
            ),
            code="policy_below_legal_floor",
            field="warranty",
        )
    return {name: rules[name] for name in LEGAL_WARRANTY}


def _compensation_rules(rules: Any) -> dict[str, Any]:
    def refuse() -> InvalidInput:
        return InvalidInput(
            _(
                "compensation needs out_of_stock and late_shipment (percent, min, max), goodwill "
                "(max) and counterfeit (multiple)."
            ),
            code="invalid_policy",
            field="compensation",
        )

    if not isinstance(rules, dict) or set(rules) != set(CompensationReason.values):
        raise refuse()
    normalised: dict[str, Any] = {}
    try:
        for reason in (CompensationReason.OUT_OF_STOCK, CompensationReason.LATE_SHIPMENT):
            rule = rules[reason]
            percent, low, high = rule["percent"], money(str(rule["min"])), money(str(rule["max"]))
            if not isinstance(percent, int) or not 0 <= percent <= 100 or not 0 <= low <= high:
                raise refuse()
            normalised[reason] = {"percent": percent, "min": str(low), "max": str(high)}
        cap = money(str(rules[CompensationReason.GOODWILL]["max"]))
        multiple = rules[CompensationReason.COUNTERFEIT]["multiple"]
    except (KeyError, TypeError, InvalidOperation, ValueError):
        raise refuse() from None
    if (
        cap < 0
        or not isinstance(multiple, int)
        or isinstance(multiple, bool)
        or not 1 <= multiple <= 10
    ):
        raise refuse()
    normalised[CompensationReason.GOODWILL] = {"max": str(cap)}
    normalised[CompensationReason.COUNTERFEIT] = {"multiple": multiple}
    return normalised


def policy_data_complete(policy: Policy) -> dict[str, Any]:
    """The version's rules, with any rule added since it was written taken from its preset
    (whole fields, and new keys of the merged fields such as a new timeout)."""
    data = preset_policy(policy.preset)
    for key, value in policy.data.items():
        if key in MERGED_FIELDS and isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return data


def _rules(policy: Policy, field: str) -> dict[str, Any]:
    """One field of the version's rules, completed from its preset (read-only)."""
    value = policy.data.get(field)
    defaults = preset(policy.preset)["policy"][field]
    if not value:
        return defaults
    return value if value.keys() >= defaults.keys() else {**defaults, **value}


def compensation_rule(policy: Policy, reason: str) -> dict[str, Any]:
    return _rules(policy, "compensation")[reason]


def warranty_rules(policy: Policy) -> dict[str, int]:
    return _rules(policy, "warranty")


def policy_create_initial(*, shop: Shop, actor_user_id: int | None = None) -> Policy:
    return Policy.objects.create(
        shop=shop,
        version=1,
        preset=shop.preset,
        data=policy_validate(preset_policy(shop.preset)),
        created_by_id=actor_user_id,
    )


@transaction.atomic
def policy_update(
    *, actor: Principal, shop: Shop, changes: dict[str, Any], preset_name: str | None = None
) -> Policy:
    """Make a new version from the current one (or from a newly chosen preset) plus ``changes``.
    Open cases keep the version they were opened under. Administrators only."""
    if actor.role != Role.ADMIN and not actor.is_system:
        raise PermissionDenied(_("Only administrators change the policy."), code="forbidden")
    actor_user_id = actor.user_id
    Shop.objects.select_for_update().filter(pk=shop.pk).first()
    current = policy_current(shop=shop)
    base_preset = preset_name or current.preset
    # Rules added since the current version was written come from its preset.
    data = preset_policy(base_preset) if preset_name else policy_data_complete(current)
    for key, value in changes.items():
        if key in MERGED_FIELDS and isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    normalised = policy_validate(data)
    if normalised == current.data and base_preset == current.preset:
        return current
    version = (shop.policies.aggregate(top=Max("version"))["top"] or 0) + 1
    if preset_name and preset_name != shop.preset:
        shop.preset = preset_name
        shop.save(update_fields=["preset", "updated_at"])
    return Policy.objects.create(
        shop=shop, version=version, preset=base_preset, data=normalised, created_by_id=actor_user_id
    )


def policy_current(*, shop: Shop) -> Policy:
    current = shop.policies.order_by("-version").first()
    if current is None:
        current = policy_create_initial(shop=shop)
    return current


# --- rules derived from a policy -------------------------------------------------------------


def timeout(policy: Policy, name: str) -> dt.timedelta:
    return parse_duration(_rules(policy, "timeouts")[name])


def shipping_payer(policy: Policy, fault: str) -> str:
    return policy.data["return_shipping_payer"][fault]


def buyer_shipping_deduction(policy: Policy) -> Decimal:
    if not policy.data["deduct_buyer_shipping"]:
        return Decimal("0.00")
    return money(policy.data["buyer_shipping_deduction"])


def deduction_percent(policy: Policy, condition: str) -> int:
    """The suggested deduction for a condition; versions written before the table existed use
    their preset's."""
    return _rules(policy, "inspection_deduction_percent")[condition]


def no_reason_window(*, order: Order, policy: Policy) -> tuple[dt.datetime, dt.datetime] | None:
    """The no-reason window as ``[start, end)`` in UTC, or ``None`` before the order is signed.

    It starts at midnight of the day after signing, in the shop's time zone, and ends at the end of
    the ``no_reason_days``-th day (《售后服务手册》, 七天无理由退换; the law counts from the day
    after receipt).
    """
    if order.signed_at is None:
        return None
    zone = zoneinfo.ZoneInfo(order.shop.timezone)
    signed_day = order.signed_at.astimezone(zone).date()
    start_day = signed_day + dt.timedelta(days=1)
    end_day = start_day + dt.timedelta(days=policy.data["no_reason_days"])
    start = dt.datetime.combine(start_day, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(end_day, dt.time.min, tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def excluded_flags(policy: Policy, flags: list[str]) -> list[str]:
    return sorted(set(flags) & set(policy.data["no_reason_excluded_flags"]))
