"""The desk's complaints (``/desk/complaints/``): the list of open complaints, soonest due first,
and a complaint's page with its stage, due time, the action forms drawn from the table, the
timeline and what it is linked to. Thin: reads are selectors, writes the service."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from aftersales.cases.views.common import deadline_of
from aftersales.cases.views.desk import staff_required
from aftersales.complaints import selectors, wording
from aftersales.complaints.api import is_escalated
from aftersales.complaints.choices import ComplaintState, ComplaintType
from aftersales.complaints.timeline import ACTION_LABELS
from aftersales.complaints.views.forms import action_forms, form_transition
from aftersales.core.errors import ApplicationError
from aftersales.core.timeline import event_label
from aftersales.sla import selectors as sla_selectors

PAGE = 50


def _filters(request: HttpRequest) -> tuple[selectors.ComplaintFilters, dict]:
    get = request.GET
    state = get.get("state", "")
    chosen = {
        "state": state if state in ComplaintState.values else "",
        "type": get.get("type", "") if get.get("type") in ComplaintType.values else "",
        "sla": get.get("sla", "") if get.get("sla") in sla_selectors.FILTER_STATES else "",
    }
    filters = selectors.ComplaintFilters(
        state=[chosen["state"]] if chosen["state"] else selectors.open_states(),
        type=chosen["type"] or None,
        sla=chosen["sla"] or None,
    )
    return filters, chosen


@staff_required
def complaint_list(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    filters, chosen = _filters(request)
    try:
        rows, next_cursor = selectors.complaint_list(
            actor=principal, filters=filters, cursor=request.GET.get("cursor"), limit=PAGE
        )
    except ApplicationError as error:
        messages.error(request, str(error.detail))
        rows, next_cursor = [], None
    for row in rows:
        row["deadline"] = deadline_of(row["due_at"], row["deadline_action"], row["shop__timezone"])
        row["state_label"] = wording.state_label(row["state"])
        row["type_label"] = wording.type_label(row["type"])
        row["is_escalated"] = is_escalated(row)
    clocks = sla_selectors.badges("complaint", [row["id"] for row in rows])
    for row in rows:
        row["sla"] = [badge for badge in clocks.get(row["id"], []) if badge.state != "met"]
    query = {key: value for key, value in chosen.items() if value}
    return render(
        request,
        "complaints/desk/list.html",
        {
            "rows": rows,
            "chosen": chosen,
            "states": ComplaintState.choices,
            "types": ComplaintType.choices,
            "sla_choices": sla_selectors.filter_choices(),
            "next_url": f"?{urlencode({**query, 'cursor': next_cursor})}" if next_cursor else "",
            "principal": principal,
        },
    )


def _context(request: HttpRequest, number: str, form_errors: dict | None = None) -> dict:
    principal = request.principal
    complaint = selectors.complaint_get(actor=principal, number=number)
    row = {
        "state": complaint.state,
        "escalated_at": complaint.escalated_at,
        "stage_started_at": complaint.stage_started_at,
    }
    return {
        "complaint": complaint,
        "state_label": wording.state_label(complaint.state),
        "type_label": wording.type_label(complaint.type),
        "waiting_on": wording.waiting_on(complaint),
        "due": deadline_of(complaint.due_at, complaint.deadline_action, complaint.shop.timezone),
        "deadline_action_label": wording.deadline_action_label(complaint.deadline_action),
        "is_escalated": is_escalated(row),
        "sla": sla_selectors.badges("complaint", [complaint.pk]).get(complaint.pk, []),
        "actions": action_forms(complaint, principal, form_errors),
        "timeline": [
            {
                "action": event.action,
                "label": event_label(event.action, ACTION_LABELS),
                "actor": event.actor_name,
                "at": event.at,
                "details": wording.describe(event, complaint),
            }
            for event in complaint.events.all()
        ],
        "principal": principal,
    }


def _page(request: HttpRequest, number: str, form_errors=None, status=200) -> HttpResponse:
    template = (
        "complaints/desk/_complaint.html" if request.htmx else "complaints/desk/complaint.html"
    )
    return render(request, template, _context(request, number, form_errors), status=status)


@staff_required
def complaint_page(request: HttpRequest, number: str) -> HttpResponse:
    return _page(request, number)


@require_POST
@staff_required
def complaint_act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    return form_transition(
        request, number, action, page=_page, done_url="complaints_desk:complaint"
    )
