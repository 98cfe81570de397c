"""Cases over HTTP: parse, authorise, call a service or selector, present."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from aftersales.cases import selectors, services
from aftersales.cases.choices import CaseKind, CaseState
from aftersales.cases.eligibility import LineRequest
from aftersales.cases.models import Case
from aftersales.cases.schemas import ActionIn, CaseOpenIn, CaseOut, CasePage
from aftersales.cases.transitions import available_actions
from aftersales.core import clock

router = Router(tags=["cases"])


def present_summary(case: Case, now: dt.datetime) -> dict:
    return {
        "number": case.number,
        "shop": case.shop.code,
        "order_id": case.order_id,
        "order_external_id": case.order.external_id,
        "customer": case.customer,
        "kind": case.kind,
        "reason": case.reason,
        "fault": case.fault,
        "return_shipping_payer": case.return_shipping_payer,
        "state": case.state,
        "state_label": str(CaseState(case.state).label),
        "requested_amount": case.requested_amount,
        "approved_amount": case.approved_amount,
        "refunded_amount": case.refunded_amount,
        "currency": case.shop.currency,
        "deadline_at": case.deadline_at,
        "deadline_action": case.deadline_action or None,
        "is_overdue": case.deadline_at is not None and case.deadline_at < now,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
    }


def present_case(case: Case, role: str) -> dict:
    return {
        **present_summary(case, clock.now()),
        "description": case.description,
        "policy_version": case.policy.version,
        "shipping_deduction": case.shipping_deduction,
        "inspection_deduction": case.inspection_deduction,
        "return_address": case.return_address,
        "return_carrier": case.return_carrier,
        "return_tracking_number": case.return_tracking_number,
        "reject_reason": case.reject_reason,
        "inspection_result": case.inspection_result,
        "first_response_at": case.first_response_at,
        "resolved_at": case.resolved_at,
        "escalated_at": case.escalated_at,
        "available_actions": available_actions(case, role),
        "lines": [
            {
                "id": line.id,
                "order_line_id": line.order_line_id,
                "external_id": line.order_line.external_id,
                "sku": line.order_line.sku.code,
                "title": line.order_line.title,
                "quantity": line.quantity,
                "requested_amount": line.requested_amount,
                "approved_amount": line.approved_amount,
                "refunded_amount": line.refunded_amount,
            }
            for line in case.lines.all()
        ],
        "events": [
            {
                "actor": event.actor_name,
                "role": event.role,
                "action": event.action,
                "from_state": event.from_state,
                "to_state": event.to_state,
                "at": event.at,
                "data": event.data,
            }
            for event in case.events.all()
        ],
    }


@router.post("/cases", response={201: CaseOut})
def open_case(request: HttpRequest, payload: CaseOpenIn):
    actor = request.auth
    case = services.case_open(
        actor=actor,
        order_id=payload.order_id,
        kind=payload.kind,
        reason=payload.reason,
        description=payload.description,
        lines=[
            LineRequest(
                order_line_id=line.order_line_id, quantity=line.quantity, amount=line.amount
            )
            for line in payload.lines
        ],
    )
    return Status(
        201, present_case(selectors.case_get(actor=actor, number=case.number), actor.role)
    )


class CaseQuery(Schema):
    state: list[CaseState] | None = None
    kind: CaseKind | None = None
    shop: str | None = None
    overdue: bool | None = None
    due_before: dt.datetime | None = None
    customer: str | None = None
    order: int | None = None
    cursor: str | None = None
    limit: int = 50


@router.get("/cases", response=CasePage)
def list_cases(request: HttpRequest, query: Query[CaseQuery]):
    rows, next_cursor = selectors.case_list(
        actor=request.auth,
        filters=selectors.CaseFilters(
            state=query.state,
            kind=query.kind,
            shop=query.shop,
            overdue=query.overdue,
            due_before=query.due_before,
            customer=query.customer,
            order=query.order,
        ),
        cursor=query.cursor,
        limit=max(1, min(query.limit, 200)),
    )
    now = clock.now()
    return {"items": [present_summary(case, now) for case in rows], "next_cursor": next_cursor}


@router.get("/cases/{number}", response=CaseOut)
def get_case(request: HttpRequest, number: str):
    actor = request.auth
    return present_case(selectors.case_get(actor=actor, number=number), actor.role)


@router.post("/cases/{number}/actions/{action}", response=CaseOut)
def act_on_case(request: HttpRequest, number: str, action: str, payload: ActionIn | None = None):
    actor = request.auth
    case_id = selectors.case_id_for(actor=actor, number=number)
    data = payload.dict(exclude_none=True) if payload else {}
    services.case_transition(case_id=case_id, action=action, actor=actor, data=data)
    return present_case(selectors.case_get(actor=actor, number=number), actor.role)
