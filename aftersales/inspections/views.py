"""The inspection pages. Desk (``/desk/inspections/``): the queue of inspections under way,
soonest due first, with a countdown each (the platform's operator sees every shop's; a shop's
staff their own), and an inspection's page with the label, the parcel, the verdict with its
report and consequences, the actions (the kernel's forms) and the timeline. Portal
(``/inspections/<number>/``): the buyer reads the verdict in words and records the shipment of the
goods when they hold them. The case's page shows its inspections (``templatetags``)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from aftersales.cases.views.common import deadline_of
from aftersales.cases.views.desk import staff_required
from aftersales.cases.views.portal import customer_required
from aftersales.core import forms
from aftersales.core.errors import ApplicationError
from aftersales.inspections import selectors, services
from aftersales.inspections.choices import Action, DeadlineAction, InspectionState
from aftersales.inspections.lifecycle import INSPECTIONS, available_actions
from aftersales.inspections.models import Inspection
from aftersales.inspections.timeline import events_for
from aftersales.inspections.wording import explain, verdict_label


def _row(inspection: Inspection) -> dict:
    return {
        "inspection": inspection,
        "state_label": InspectionState(inspection.state).label,
        "verdict_label": verdict_label(inspection),
        "due": deadline_of(
            inspection.deadline_at, inspection.deadline_action, inspection.shop.timezone
        ),
        "due_label": DeadlineAction(inspection.deadline_action).label
        if inspection.deadline_action
        else "",
    }


def form_error(error: ApplicationError) -> dict:
    return {"detail": str(error.detail), "field": error.extra.get("field")}


def action_forms(inspection, principal, form_errors: dict | None = None) -> list[dict]:
    found = []
    for action in available_actions(inspection, principal.role_in(inspection.shop_id)):
        fields = forms.action_fields(INSPECTIONS, action, inspection)
        error = (form_errors or {}).get(action)
        if error:
            error = {**error, "field_shown": error.get("field") in {f.name for f in fields}}
        found.append(
            {"name": action, "label": Action(action).label, "fields": fields, "error": error}
        )
    return found


def _context(request: HttpRequest, number: str, form_errors=None) -> dict:
    principal = request.principal
    inspection = selectors.inspection_get(actor=principal, number=number)
    return {
        **_row(inspection),
        "explanation": explain(inspection),
        "actions": action_forms(inspection, principal, form_errors),
        "timeline": events_for(principal, inspection.events.all()),
        "principal": principal,
    }


def form_transition(
    request: HttpRequest,
    number: str,
    action: str,
    *,
    page: Callable[..., HttpResponse],
    done_url: str,
) -> HttpResponse:
    principal = request.principal
    inspection = selectors.inspection_get(actor=principal, number=number)
    data = (
        forms.action_data(INSPECTIONS, action, inspection, request.POST)
        if action in INSPECTIONS.actions
        else {}
    )
    try:
        services.inspection_transition(
            inspection_id=inspection.id, action=action, actor=principal, data=data
        )
    except ApplicationError as error:
        return page(request, number, {action: form_error(error)}, status=422)
    return redirect(done_url, number=number)


# --- the desk ---------------------------------------------------------------------------------


@staff_required
def desk_list(request: HttpRequest) -> HttpResponse:
    rows = selectors.inspection_list(actor=request.principal, open_only=True, limit=200)
    return render(
        request,
        "inspections/desk/list.html",
        {"rows": [_row(i) for i in rows], "principal": request.principal},
    )


def _desk_page(request, number, form_errors=None, status=200) -> HttpResponse:
    return render(
        request,
        "inspections/desk/inspection.html",
        _context(request, number, form_errors),
        status=status,
    )


@staff_required
def desk_page(request: HttpRequest, number: str) -> HttpResponse:
    return _desk_page(request, number)


@require_POST
@staff_required
def desk_act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    return form_transition(
        request, number, action, page=_desk_page, done_url="inspections_desk:inspection"
    )


# --- the portal -------------------------------------------------------------------------------


def _portal_page(request, number, form_errors=None, status=200) -> HttpResponse:
    return render(
        request,
        "inspections/portal/inspection.html",
        _context(request, number, form_errors),
        status=status,
    )


@customer_required
def portal_page(request: HttpRequest, number: str) -> HttpResponse:
    return _portal_page(request, number)


@require_POST
@customer_required
def portal_act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    return form_transition(
        request, number, action, page=_portal_page, done_url="inspections_portal:inspection"
    )
