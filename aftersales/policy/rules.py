"""The rules a policy version gives: deadlines, who pays the return shipping, deductions,
compensation, 三包, and the no-reason window. Read-only; rules added since a version was written
come from its preset."""

from __future__ import annotations

import copy
import datetime as dt
import json
import zoneinfo
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.utils.dateparse import parse_duration
from django.utils.translation import gettext as _

from aftersales.catalog.models import Order, Platform
from aftersales.core.errors import InvalidInput
from aftersales.core.money import money
from aftersales.policy.models import Policy

PRESET_DIR = Path(__file__).parent / "presets"
# Fields whose PUT changes only the keys it names.
MERGED_FIELDS = (
    "timeouts",
    "inspection_deduction_percent",
    "compensation",
    "warranty",
    "disputes",
    "jury",
    "inspection",
    "reviews",
    "violations",
    "insurance",
    "insights",
)


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


def staff_cost_per_hour(policy: Policy) -> Decimal:
    """What an hour of the shop's staff time costs it (0: not counted in money)."""
    return money(_rules(policy, "insights")["staff_cost_per_hour"])


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
