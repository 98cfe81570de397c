"""Violation points over HTTP: parse, authorise, call a service or selector, present. Every read
is scoped to the caller (``violation.read``): another shop's record answers 404."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from aftersales.core import clock
from aftersales.core.api import add_action_operations
from aftersales.core.permissions import require
from aftersales.core.schemas import ERROR_RESPONSES, page_limit, refuse_unknown_parameters
from aftersales.core.timeline import readable_time
from aftersales.violations import refund_rate, rules, selectors, services
from aftersales.violations.choices import Action, PenaltyState, ScoreOrigin, ViolationState
from aftersales.violations.lifecycle import PENALTIES, VIOLATIONS, available_actions
from aftersales.violations.models import Penalty, ServiceScoreChange, Violation
from aftersales.violations.moves import RecordIn
from aftersales.violations.schemas import (
    PenaltyOut,
    PenaltyPage,
    RefundRateOut,
    ServiceScoreIn,
    ServiceScoreOut,
    StandingOut,
    ViolationOut,
    ViolationPage,
)

router = Router(tags=["violations"])


def present_appeal(subject) -> dict | None:
    if subject.appealed_at is None:
        return None
    return {
        "text": subject.appeal_text,
        "appealed_at": subject.appealed_at,
        "decision": subject.appeal_decision or None,
        "reason": subject.decision_reason,
        "decided_at": subject.decided_at,
    }


def present_events(subject, labels) -> list[dict]:
    return [
        {
            "actor": event.actor_name,
            "role": event.role,
            "action": event.action,
            "action_label": labels(event.action),
            "from_state": event.from_state,
            "to_state": event.to_state,
            "at": event.at,
            "data": event.data or {},
        }
        for event in subject.events.all()
    ]


def _action_label(action: str) -> str:
    return str(Action(action).label) if action in Action.values else action


def present_penalty_row(penalty: Penalty, now: dt.datetime) -> dict:
    timezone = penalty.shop.timezone
    return {
        "number": penalty.number,
        "shop": penalty.shop.code,
        "state": penalty.state,
        "state_label": str(PenaltyState(penalty.state).label),
        "violation_class": penalty.violation_class,
        "year": penalty.year,
        "violation": penalty.violation.number,
        "step_points": penalty.step_points,
        "days": penalty.days,
        "measures": penalty.measures,
        "measures_text": rules.measures_text(penalty.measures),
        "starts_at": penalty.starts_at,
        "ends_at": penalty.ends_at,
        "in_force": bool(selectors.in_force([penalty], now)),
        "calculation": penalty.calculation,
        "calculation_text": rules.penalty_calculation_text(
            penalty.calculation,
            lambda moment: readable_time(dt.datetime.fromisoformat(moment), timezone),
        ),
    }


def present_penalty(penalty: Penalty, principal) -> dict:
    return {
        **present_penalty_row(penalty, clock.now()),
        "appeal": present_appeal(penalty),
        "available_actions": available_actions(penalty, principal.role_in(penalty.shop_id)),
        "events": present_events(penalty, _action_label),
    }


def present_violation_row(violation: Violation) -> dict:
    return {
        "number": violation.number,
        "shop": violation.shop.code,
        "state": violation.state,
        "state_label": str(ViolationState(violation.state).label),
        "kind": violation.kind,
        "kind_label": rules.kind_label(violation.kind),
        "violation_class": violation.violation_class,
        "points": violation.points,
        "year": violation.year,
        "reason": violation.reason,
        "calculation": violation.calculation,
        "calculation_text": rules.violation_calculation_text(violation.calculation),
        "source_type": violation.source_type,
        "source_id": violation.source_id,
        "recorded_at": violation.recorded_at,
        "recorded_by": violation.recorded_by_name,
    }


def present_violation(violation: Violation, principal) -> dict:
    return {
        **present_violation_row(violation),
        "policy_version": violation.policy.version,
        "appeal": present_appeal(violation),
        "penalties": [penalty.number for penalty in violation.penalties.all()],
        "available_actions": available_actions(violation, principal.role_in(violation.shop_id)),
        "events": present_events(violation, _action_label),
    }


# --- violations ---------------------------------------------------------------------------------


@router.post("/violations", response={201: ViolationOut, **ERROR_RESPONSES})
def record_violation(request: HttpRequest, payload: RecordIn):
    """Record a violation on a shop (platform operators). The shop's policy gives its class and
    points; reaching a step of its class starts a penalty."""
    actor = request.auth
    violation = services.violation_record_from_body(actor=actor, data=payload)
    return Status(
        201, present_violation(selectors.violation_get(actor=actor, number=violation.number), actor)
    )


class ViolationQuery(Schema):
    shop: str | None = None
    year: Annotated[int, Field(ge=2000, le=2999)] | None = None
    state: ViolationState | None = None
    limit: int = 50


@router.get("/violations", response={200: ViolationPage, **ERROR_RESPONSES})
def list_violations(request: HttpRequest, query: Query[ViolationQuery]):
    """The violations the caller may read, newest first."""
    refuse_unknown_parameters(request, ViolationQuery)
    rows = selectors.violation_list(
        actor=request.auth,
        shop=query.shop,
        year=query.year,
        state=query.state,
        limit=page_limit(query.limit),
    )
    return {"items": [present_violation_row(row) for row in rows]}


@router.get("/violations/{number}", response={200: ViolationOut, **ERROR_RESPONSES})
def get_violation(request: HttpRequest, number: str):
    actor = request.auth
    return present_violation(selectors.violation_get(actor=actor, number=number), actor)


def _take_on_violation(request: HttpRequest, number: str, action: str, payload: dict | None):
    actor = request.auth
    violation = selectors.violation_get(actor=actor, number=number)
    services.violation_transition(
        violation_id=violation.pk, action=action, actor=actor, data=payload or {}
    )
    return present_violation(selectors.violation_get(actor=actor, number=number), actor)


add_action_operations(
    router,
    VIOLATIONS,
    path="/violations/{number}/actions/",
    noun="violation",
    take=_take_on_violation,
    response=ViolationOut,
)


# --- penalties ----------------------------------------------------------------------------------


class PenaltyQuery(Schema):
    shop: str | None = None
    state: PenaltyState | None = None
    limit: int = 50


@router.get("/penalties", response={200: PenaltyPage, **ERROR_RESPONSES})
def list_penalties(request: HttpRequest, query: Query[PenaltyQuery]):
    """The penalties the caller may read, newest first."""
    refuse_unknown_parameters(request, PenaltyQuery)
    rows = selectors.penalty_list(
        actor=request.auth, shop=query.shop, state=query.state, limit=page_limit(query.limit)
    )
    now = clock.now()
    return {"items": [present_penalty_row(row, now) for row in rows]}


@router.get("/penalties/{number}", response={200: PenaltyOut, **ERROR_RESPONSES})
def get_penalty(request: HttpRequest, number: str):
    actor = request.auth
    return present_penalty(selectors.penalty_get(actor=actor, number=number), actor)


def _take_on_penalty(request: HttpRequest, number: str, action: str, payload: dict | None):
    actor = request.auth
    penalty = selectors.penalty_get(actor=actor, number=number)
    services.penalty_transition(
        penalty_id=penalty.pk, action=action, actor=actor, data=payload or {}
    )
    return present_penalty(selectors.penalty_get(actor=actor, number=number), actor)


add_action_operations(
    router,
    PENALTIES,
    path="/penalties/{number}/actions/",
    noun="penalty",
    take=_take_on_penalty,
    response=PenaltyOut,
)


# --- the shop's standing and refund rate ----------------------------------------------------


def present_score_change(change: ServiceScoreChange) -> dict:
    return {
        "from_score": change.from_score,
        "to_score": change.to_score,
        "reason": change.reason,
        "origin": change.origin,
        "origin_label": str(ScoreOrigin(change.origin).label),
        "changed_by": change.changed_by_name,
        "changed_at": change.changed_at,
    }


def present_standing(data: dict, now: dt.datetime) -> dict:
    return {
        **{key: value for key, value in data.items() if key != "violations"},
        "service_score_changes": [present_score_change(c) for c in data["service_score_changes"]],
        "penalties_in_force": [present_penalty_row(p, now) for p in data["penalties_in_force"]],
    }


@router.get("/shops/{code}/standing", response={200: StandingOut, **ERROR_RESPONSES})
def get_standing(request: HttpRequest, code: str):
    """The shop's service score with its latest changes, its violation points this year per
    class, the steps, and the penalties in force."""
    actor = request.auth
    shop = selectors.shop_for(actor=actor, code=code)
    now = clock.now()
    return present_standing(selectors.standing(actor=actor, shop=shop, now=now), now)


class RefundRateQuery(Schema):
    days: Annotated[int, Field(ge=1, le=366)] = refund_rate.DEFAULT_DAYS
    # The period's last day in the shop's time zone (default: today).
    end: Annotated[dt.date, Field(ge=dt.date(2000, 1, 1), le=dt.date(2999, 12, 31))] | None = None


@router.get("/shops/{code}/refund-rate", response={200: RefundRateOut, **ERROR_RESPONSES})
def get_refund_rate(request: HttpRequest, code: str, query: Query[RefundRateQuery]):
    """Refunds ÷ paid orders over whole local days, by fault and platform intervention, with
    the weighted ranking figure."""
    refuse_unknown_parameters(request, RefundRateQuery)
    actor = request.auth
    shop = selectors.shop_for(actor=actor, code=code)
    require(actor, selectors.READ, shop)
    return refund_rate.refund_rate(shop=shop, now=clock.now(), days=query.days, end=query.end)


# --- the shop's service score -------------------------------------------------------------------


def _score(actor, shop) -> dict:
    return {
        "shop": shop.code,
        "score": selectors.service_score(shop.pk),
        "changes": [
            present_score_change(change)
            for change in selectors.service_score_changes(actor=actor, shop=shop)
        ],
    }


@router.get("/shops/{code}/service-score", response={200: ServiceScoreOut, **ERROR_RESPONSES})
def get_service_score(request: HttpRequest, code: str):
    """The shop's service score (5.00 until the platform sets one) and its latest 50 changes,
    each with who set it, when, from what, to what and why."""
    actor = request.auth
    return _score(actor, selectors.shop_for(actor=actor, code=code))


@router.put("/shops/{code}/service-score", response={200: ServiceScoreOut, **ERROR_RESPONSES})
def set_service_score(request: HttpRequest, code: str, payload: ServiceScoreIn):
    """Set the shop's service score, 0 to 5, with the reason (a platform operator or the
    installation administrator). It grades the shop's autonomy in disputes and its
    shipping-insurance premium; the change is recorded and the shop reads it."""
    actor = request.auth
    shop = selectors.shop_for(actor=actor, code=code)
    services.service_score_set(actor=actor, shop=shop, score=payload.score, reason=payload.reason)
    return _score(actor, shop)
