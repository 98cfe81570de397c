"""The writes of violation points: each through the kernel's one gate (``core.gate``).

``violation_record`` is the entry point for the other parts (disputes, inspection): it records
a violation on a shop as the given actor (a platform operator, or ``core.actors.SYSTEM``), in the
caller's transaction, and starts the penalty its points reach.

``service_score_set`` sets the shop's service score and records why.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.catalog.models import Shop
from aftersales.core import clock
from aftersales.core.actors import SYSTEM, Principal
from aftersales.core.errors import InvalidInput
from aftersales.core.gate import open_subject, transition
from aftersales.core.permissions import require
from aftersales.violations.choices import ScoreOrigin
from aftersales.violations.lifecycle import PENALTIES, VIOLATIONS
from aftersales.violations.models import Penalty, ServiceScore, ServiceScoreChange, Violation
from aftersales.violations.moves import RecordIn, StartIn
from aftersales.violations.selectors import DEFAULT_SCORE, SET_SCORE


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


@transaction.atomic
def service_score_set(
    *, actor: Principal, shop: Shop, score: Decimal, reason: str
) -> ServiceScoreChange:
    """Set ``shop``'s service score (0–5) with the written reason (a platform operator or the
    installation administrator, ``shop.service_score``). Records the change — from what, to what,
    why, who, when — in the same transaction; the shop's row is locked so two settings are
    recorded one after the other, each from the score the other left."""
    require(actor, SET_SCORE, shop)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            _("%(field)s is required for this action.") % {"field": _("Reason")},
            code="reason_required",
            field="reason",
        )
    if not Decimal("0") <= score <= Decimal("5"):
        raise InvalidInput(
            _("A service score is from 0 to 5."), code="invalid_score", field="score"
        )
    now = clock.now()
    Shop.objects.select_for_update().filter(pk=shop.pk).first()
    current = ServiceScore.objects.filter(shop=shop).first()
    before = current.score if current is not None else DEFAULT_SCORE
    ServiceScore.objects.update_or_create(shop=shop, defaults={"score": score, "updated_at": now})
    return ServiceScoreChange.objects.create(
        shop=shop,
        from_score=before,
        to_score=score,
        reason=reason,
        origin=ScoreOrigin.SET,
        changed_by_id=actor.user_id,
        changed_by_name=actor.username,
        changed_at=now,
    )
