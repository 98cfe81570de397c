"""The dispute's forms: the kernel's forms (``core.forms``, drawn from each action's typed
input), and taking an action from a page (the desk's or the portal's)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from aftersales.core import forms
from aftersales.core.errors import ApplicationError
from aftersales.disputes import selectors, services
from aftersales.disputes.choices import Action
from aftersales.disputes.lifecycle import DISPUTES, available_actions


def action_forms(dispute, principal, form_errors: dict | None = None) -> list[dict]:
    found = []
    for action in available_actions(dispute, principal.role_in(dispute.shop_id)):
        fields = forms.action_fields(DISPUTES, action, dispute)
        error = (form_errors or {}).get(action)
        if error:
            error = {**error, "field_shown": error.get("field") in {f.name for f in fields}}
        found.append(
            {"name": action, "label": Action(action).label, "fields": fields, "error": error}
        )
    return found


def form_error(error: ApplicationError) -> dict:
    return {"detail": str(error.detail), "field": error.extra.get("field")}


def form_transition(
    request: HttpRequest,
    number: str,
    action: str,
    *,
    page: Callable[..., HttpResponse],
    done_url: str,
) -> HttpResponse:
    principal = request.principal
    dispute = selectors.dispute_get(actor=principal, number=number)
    data = (
        forms.action_data(DISPUTES, action, dispute, request.POST)
        if action in DISPUTES.actions
        else {}
    )
    try:
        services.dispute_transition(
            dispute_id=dispute.id, action=action, actor=principal, data=data
        )
    except ApplicationError as error:
        return page(request, number, {action: form_error(error)}, status=422)
    return redirect(done_url, number=number)
