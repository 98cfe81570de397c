"""Complaints over HTTP: parse, authorise, call a service or selector, present. Every read is
scoped to the caller: another shop's or another customer's complaint answers 404."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from aftersales.complaints import selectors, services
from aftersales.complaints.choices import ComplaintState, ComplaintType
from aftersales.complaints.lifecycle import COMPLAINTS, available_actions
from aftersales.complaints.models import Complaint
from aftersales.complaints.moves.filing import FileIn
from aftersales.complaints.schemas import ComplaintOut, ComplaintPage
from aftersales.complaints.timeline import events_for, steps
from aftersales.complaints.wording import state_label, type_label
from aftersales.core import clock
from aftersales.core.actors import Principal
from aftersales.core.api import add_action_operations
from aftersales.core.schemas import ERROR_RESPONSES, page_limit, refuse_unknown_parameters

router = Router(tags=["complaints"])


def is_escalated(row) -> bool:
    """Escalated in the stage it is in now (an escalation of an earlier stage is history)."""
    escalated, started = row["escalated_at"], row["stage_started_at"]
    return (
        row["state"] not in COMPLAINTS.final_states
        and escalated is not None
        and escalated > started
    )


def present_row(row: dict, principal: Principal, now: dt.datetime) -> dict:
    """A list row (``selectors.SUMMARY_FIELDS``) as the API shows it to ``principal``."""
    due, staff = row["due_at"], principal.is_staff
    return {
        "number": row["number"],
        "shop": row["shop__code"],
        "type": row["type"],
        "type_label": type_label(row["type"]),
        "state": row["state"],
        "state_label": state_label(row["state"]),
        "order_external_id": row["order__external_id"],
        "customer": {"external_id": row["customer__external_id"], "name": row["customer__name"]},
        "owner": row["owner__username"] if staff else None,
        "due_at": due,
        # The reminders and escalations are the team's own machinery.
        "deadline_at": row["deadline_at"] if staff else None,
        "deadline_action": (row["deadline_action"] or None) if staff else None,
        "is_overdue": due is not None and due < now,
        "is_escalated": staff and is_escalated(row),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def present_complaint(complaint: Complaint, principal: Principal) -> dict:
    """The complaint as ``principal`` may see it (the timeline through ``events_for``)."""
    row = {name: getattr(complaint, name) for name in selectors.SUMMARY_FIELDS if "__" not in name}
    row |= {
        "shop__code": complaint.shop.code,
        "order__external_id": complaint.order.external_id if complaint.order_id else None,
        "customer__external_id": complaint.customer.external_id,
        "customer__name": complaint.customer.name,
        "owner__username": complaint.owner.username if complaint.owner_id else None,
    }
    return {
        **present_row(row, principal, clock.now()),
        "description": complaint.description,
        "policy_version": complaint.policy.version,
        "root_cause": complaint.root_cause if principal.is_staff else "",
        "solution_kind": complaint.solution_kind,
        "solution": complaint.solution,
        "outcome": complaint.outcome,
        "answer": complaint.answer,
        "answer_note": complaint.answer_note,
        "acknowledged_at": complaint.acknowledged_at,
        "resolved_at": complaint.resolved_at,
        "linked_cases": [case.number for case in complaint.linked_cases.all()],
        "linked_orders": [order.external_id for order in complaint.linked_orders.all()],
        "steps": steps(complaint),
        "available_actions": available_actions(complaint, principal.role_in(complaint.shop_id)),
        "events": [
            dataclasses.asdict(entry) for entry in events_for(principal, complaint.events.all())
        ],
    }


@router.post("/complaints", response={201: ComplaintOut, **ERROR_RESPONSES})
def file_complaint(request: HttpRequest, payload: FileIn):
    """File a complaint (a customer about their order, or an agent for a customer)."""
    actor = request.auth
    complaint = services.complaint_file(actor=actor, data=payload)
    return Status(
        201,
        present_complaint(selectors.complaint_get(actor=actor, number=complaint.number), actor),
    )


class ComplaintQuery(Schema):
    state: list[ComplaintState] | None = None
    type: ComplaintType | None = None
    shop: str | None = None
    overdue: bool | None = None
    # By the complaint's worst service-level clock.
    sla: Literal["breached", "warned", "running", "met"] | None = None
    cursor: str | None = None
    limit: int = 50


@router.get("/complaints", response={200: ComplaintPage, **ERROR_RESPONSES})
def list_complaints(request: HttpRequest, query: Query[ComplaintQuery]):
    """The caller's complaints, soonest due first (ended ones last); ``next_cursor`` pages on."""
    refuse_unknown_parameters(request, ComplaintQuery)
    actor = request.auth
    rows, next_cursor = selectors.complaint_list(
        actor=actor,
        filters=selectors.ComplaintFilters(
            state=query.state,
            type=query.type,
            shop=query.shop,
            overdue=query.overdue,
            sla=query.sla,
        ),
        cursor=query.cursor,
        limit=page_limit(query.limit),
    )
    now = clock.now()
    return {"items": [present_row(row, actor, now) for row in rows], "next_cursor": next_cursor}


@router.get("/complaints/{number}", response={200: ComplaintOut, **ERROR_RESPONSES})
def get_complaint(request: HttpRequest, number: str):
    actor = request.auth
    return present_complaint(selectors.complaint_get(actor=actor, number=number), actor)


# --- the actions: one operation each, its body the action's typed input --------------------------


def _take(request: HttpRequest, number: str, action: str, payload: dict | None):
    """Take an action on the complaint: the table decides whether the caller may, now; the
    action's typed input judges the body."""
    actor = request.auth
    complaint_id = selectors.complaint_id_for(actor=actor, number=number)
    services.complaint_transition(
        complaint_id=complaint_id, action=action, actor=actor, data=payload or {}
    )
    return present_complaint(selectors.complaint_get(actor=actor, number=number), actor)


add_action_operations(
    router,
    COMPLAINTS,
    path="/complaints/{number}/actions/",
    noun="complaint",
    take=_take,
    response=ComplaintOut,
)
