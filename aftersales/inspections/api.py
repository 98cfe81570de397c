"""Inspections over HTTP: parse, authorise, call a service or selector, present. Every read is
scoped to the caller (another shop's or another customer's inspection answers 404)."""

from __future__ import annotations

import dataclasses

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from aftersales.cases.choices import Authenticity
from aftersales.core import clock
from aftersales.core.actors import Principal
from aftersales.core.api import add_action_operations
from aftersales.core.schemas import ERROR_RESPONSES, refuse_unknown_parameters
from aftersales.inspections import selectors, services
from aftersales.inspections.choices import InspectionState
from aftersales.inspections.lifecycle import INSPECTIONS, available_actions
from aftersales.inspections.models import Inspection
from aftersales.inspections.moves import InspectionOpenIn
from aftersales.inspections.schemas import InspectionOut, InspectionPage
from aftersales.inspections.timeline import events_for
from aftersales.inspections.wording import explain, verdict_label

router = Router(tags=["inspections"])


def present_row(inspection: Inspection) -> dict:
    now = clock.now()
    return {
        "number": inspection.number,
        "shop": inspection.shop.code,
        "case_number": inspection.case.number,
        "dispute_number": inspection.dispute.number if inspection.dispute_id else None,
        "sender": inspection.sender,
        "state": inspection.state,
        "state_label": str(InspectionState(inspection.state).label),
        "verdict": inspection.verdict or None,
        "verdict_label": verdict_label(inspection),
        "deadline_at": inspection.deadline_at,
        "deadline_action": inspection.deadline_action or None,
        "is_overdue": inspection.deadline_at is not None and inspection.deadline_at < now,
        "created_at": inspection.created_at,
    }


def present_inspection(inspection: Inspection, principal: Principal) -> dict:
    return {
        **present_row(inspection),
        "reason": inspection.reason,
        "label": inspection.label,
        "carrier": inspection.carrier,
        "tracking_number": inspection.tracking_number,
        "shipped_at": inspection.shipped_at,
        "received_at": inspection.received_at,
        "report": inspection.report,
        "decided_at": inspection.decided_at,
        "fee": inspection.fee,
        "fee_payer": inspection.fee_payer or None,
        "violation_number": inspection.violation_number,
        "compensation_code": inspection.compensation_code,
        "compensation_amount": inspection.compensation_amount,
        "explanation": explain(inspection),
        "available_actions": available_actions(inspection, principal.role_in(inspection.shop_id)),
        "events": [
            dataclasses.asdict(entry) for entry in events_for(principal, inspection.events.all())
        ],
    }


@router.post("/inspections", response={201: InspectionOut, **ERROR_RESPONSES})
def open_inspection(request: HttpRequest, payload: InspectionOpenIn):
    """Send a case's goods to the platform's inspection center (the platform's operator)."""
    actor = request.auth
    inspection = services.inspection_open(actor=actor, data=payload)
    return Status(
        201,
        present_inspection(selectors.inspection_get(actor=actor, number=inspection.number), actor),
    )


class InspectionQuery(Schema):
    state: list[InspectionState] | None = None
    verdict: list[Authenticity] | None = None
    shop: str | None = None
    case: str | None = None
    open: bool | None = None
    limit: int = 50


@router.get("/inspections", response={200: InspectionPage, **ERROR_RESPONSES})
def list_inspections(request: HttpRequest, query: Query[InspectionQuery]):
    """The caller's inspections, soonest due first (ended ones last)."""
    refuse_unknown_parameters(request, InspectionQuery)
    rows = selectors.inspection_list(
        actor=request.auth,
        state=query.state,
        verdict=query.verdict,
        shop=query.shop,
        case=query.case,
        open_only=bool(query.open),
        limit=max(1, min(query.limit, 200)),
    )
    return {"items": [present_row(row) for row in rows]}


@router.get("/inspections/{number}", response={200: InspectionOut, **ERROR_RESPONSES})
def get_inspection(request: HttpRequest, number: str):
    actor = request.auth
    return present_inspection(selectors.inspection_get(actor=actor, number=number), actor)


def _take(request: HttpRequest, number: str, action: str, payload: dict | None):
    actor = request.auth
    inspection_id = selectors.inspection_id_for(actor=actor, number=number)
    services.inspection_transition(
        inspection_id=inspection_id, action=action, actor=actor, data=payload or {}
    )
    return present_inspection(selectors.inspection_get(actor=actor, number=number), actor)


add_action_operations(
    router,
    INSPECTIONS,
    path="/inspections/{number}/actions/",
    noun="inspection",
    take=_take,
    response=InspectionOut,
)
