"""The writes of violation points: each through the kernel's one gate (``core.gate``).

``violation_record`` is the entry point for the other parts (disputes, inspection): it records
a violation on a shop as the given actor (a platform operator, or ``core.actors.SYSTEM``), in the
caller's transaction, and starts the penalty its points reach.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aftersales.catalog.models import Shop
from aftersales.core.actors import SYSTEM, Principal
from aftersales.core.gate import open_subject, transition
from aftersales.violations.lifecycle import PENALTIES, VIOLATIONS
from aftersales.violations.models import Penalty, Violation
from aftersales.violations.moves import RecordIn, StartIn


def violation_record(
    *,
    shop: Shop,
    kind: str,
    reason: str,
    source_type: str = "",
    source_id: int | None = None,
    actor: Principal,
) -> Violation:
    """Record a violation of ``kind`` (a key of ``policy.violations.kinds``) on ``shop``, with
    the reason in words and what caused it (``source_type``, e.g. ``"dispute"``, and its id).
    The shop's current policy gives its class and points; the year's total of its class decides
    whether a penalty starts (returned violation: ``.penalties``).

    Refuses (``ApplicationError``, nothing written): ``violations_disabled`` (422) when the
    policy has ``violations.enabled: false``; ``unknown_violation_kind`` (422) for a kind the
    policy gives no points; ``action_forbidden`` (403) for an actor who is neither a platform
    operator nor the system; the input's own codes (``reason_required``…, 422)."""
    data = {
        "shop": shop.code,
        "kind": kind,
        "reason": reason,
        "source_type": source_type,
        "source_id": source_id,
    }
    return open_subject(VIOLATIONS, actor=actor, data=data)


def violation_record_from_body(*, actor: Principal, data: Mapping[str, Any] | RecordIn):
    """Record a violation from an API body or a form (the input validates it)."""
    return open_subject(VIOLATIONS, actor=actor, data=data)


def violation_transition(
    *, violation_id: int, action: str, actor: Principal, data: Mapping[str, Any] | None = None
) -> Violation:
    return transition(VIOLATIONS, subject_id=violation_id, action=action, actor=actor, data=data)


def penalty_start(data: StartIn) -> Penalty:
    """Start the penalty a violation's points reached (the system's move)."""
    return open_subject(PENALTIES, actor=SYSTEM, data=data)


def penalty_transition(*, penalty_id: int, action: str, actor: Principal, data=None) -> Penalty:
    return transition(PENALTIES, subject_id=penalty_id, action=action, actor=actor, data=data)
