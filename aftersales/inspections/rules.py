"""The rules an inspection follows, read from the policy version it was opened under (completed
from its preset for older versions).

- The verdict is due within ``inspection.verdict_due`` of the goods' receipt at the center;
  overdue, the platform is reminded (the inspection stays with the center).
- The goods are sent within the case's ``timeouts.buyer_return_shipment`` (the time a buyer has
  to send a return back: the same parcel, to another address); unsent, the request lapses.
- Goods on the way are confirmed at the center within ``timeouts.seller_receipt`` (the time a
  shop has to confirm a return's receipt); past it, the platform is reminded.
- The authentication fee (``inspection.authentication_fee``) is owed by
  ``fee_payer_if_genuine`` or ``fee_payer_if_counterfeit``; an inconclusive verdict proves no one
  wrong, so the platform bears it (a fixed rule: the policy has no key for it).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils.dateparse import parse_duration

from aftersales.cases.choices import Authenticity, FeePayer
from aftersales.core.money import money
from aftersales.policy.models import Policy
from aftersales.policy.rules import policy_data_complete

# The inspection's due times: the name its lifecycle uses → (policy section, key).
TIMEOUTS = {
    "goods_shipment": ("timeouts", "buyer_return_shipment"),
    "center_receipt": ("timeouts", "seller_receipt"),
    "verdict_due": ("inspection", "verdict_due"),
}


def section(policy: Policy, name: str) -> dict[str, Any]:
    return policy_data_complete(policy)[name]


def timeout(policy: Policy, name: str) -> dt.timedelta:
    part, key = TIMEOUTS[name]
    return parse_duration(section(policy, part)[key])


def fee_for(policy: Policy, verdict: str) -> tuple[Decimal, str]:
    """The authentication fee and who owes it, for ``verdict``."""
    rules = section(policy, "inspection")
    fee = money(rules["authentication_fee"])
    if verdict == Authenticity.GENUINE:
        return fee, FeePayer(rules["fee_payer_if_genuine"])
    if verdict == Authenticity.COUNTERFEIT:
        return fee, FeePayer(rules["fee_payer_if_counterfeit"])
    return fee, FeePayer.PLATFORM


def counterfeit_points(policy: Policy) -> int:
    return int(section(policy, "inspection")["counterfeit_points"])


def violations_enabled(policy: Policy) -> bool:
    return bool(section(policy, "violations").get("enabled"))
