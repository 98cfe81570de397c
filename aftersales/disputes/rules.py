"""The marketplace's rules a dispute follows, read from the shop's policy (``disputes``,
``autonomy`` and ``jury``, completed from the preset for older versions), and the shop's
service score that chooses its autonomy band."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils.dateparse import parse_duration

from aftersales.disputes.choices import Autonomy
from aftersales.policy.models import Policy
from aftersales.policy.rules import policy_data_complete
from aftersales.violations.selectors import service_score

# The dispute's due times: the name its lifecycle uses → (policy section, key).
TIMEOUTS = {
    "evidence_window": ("disputes", "evidence_window"),
    "decision_due": ("disputes", "decision_due"),
    "appeal_window": ("disputes", "appeal_window"),
    "vote_window": ("jury", "vote_window"),
}


def section(policy: Policy, name: str) -> dict[str, Any]:
    return policy_data_complete(policy)[name]


def timeout(policy: Policy, name: str) -> dt.timedelta:
    part, key = TIMEOUTS[name]
    return parse_duration(section(policy, part)[key])


def rule_duration(policy: Policy, key: str) -> dt.timedelta:
    """A duration of the ``disputes`` section (``escalate_after_request``…)."""
    return parse_duration(section(policy, "disputes")[key])


def shop_score(shop_id: int) -> Decimal:
    """The shop's one service score (``violations``; 5.00 until the platform sets one)."""
    return service_score(shop_id)


def autonomy_band(policy: Policy, score: Decimal) -> dict[str, Any]:
    """The band of ``autonomy.bands`` (highest score first) the score falls in."""
    bands = section(policy, "autonomy")["bands"]
    for band in bands:
        if score >= Decimal(str(band["min_score"])):
            return band
    return bands[-1]


def autonomy(policy: Policy, score: Decimal) -> str:
    return Autonomy(autonomy_band(policy, score)["refund_only_after_receipt"])


def violation_rule(policy: Policy, kind: str) -> dict[str, Any] | None:
    """The points and class of a violation kind (``violations.kinds``), or ``None``."""
    return section(policy, "violations").get("kinds", {}).get(kind)
