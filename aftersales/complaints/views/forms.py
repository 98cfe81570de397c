"""The complaint's forms: the kernel's forms (``core.forms``, drawn from each action's typed
input) with the complaint's own widgets: the shop's staff to choose an owner from, and, on the
portal's filing form, the order the page is about (never typed) and no staff-only fields."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from aftersales.complaints import selectors, services
from aftersales.complaints.choices import Action
from aftersales.complaints.lifecycle import COMPLAINTS, available_actions
from aftersales.complaints.selectors import staff_names
from aftersales.core import forms
from aftersales.core.errors import ApplicationError
from aftersales.core.forms import Field, Widget


def _staff(name, label, required, kind, complaint) -> list[Field]:
    names = [(username, username) for username in staff_names(complaint.shop_id)]
    return [Field(name, label, "select", required, names, _("Choose a member of staff"))]


def _nothing(name, label, required, kind, subject) -> list[Field]:
    return []


def _the_pages_order(name, data, post, order) -> None:
    data[name] = order.id


DESK_WIDGETS = {"staff": Widget(_staff)}
# The filing form of an order's page: the order is the page's, the customer is the visitor.
FILING_WIDGETS = {
    "order": Widget(_nothing, _the_pages_order),
    "staff_only": Widget(_nothing),
}


def action_forms(complaint, principal, form_errors: dict | None = None) -> list[dict]:
    """The forms of the actions ``principal`` may take on ``complaint`` now, from the table; a
    refused form's error shows once: under its field, or above the form when it names none."""
    found = []
    for action in available_actions(complaint, principal.role_in(complaint.shop_id)):
        fields = forms.action_fields(COMPLAINTS, action, complaint, DESK_WIDGETS)
        error = (form_errors or {}).get(action)
        if error:
            error = {**error, "field_shown": error.get("field") in {f.name for f in fields}}
        found.append(
            {"name": action, "label": Action(action).label, "fields": fields, "error": error}
        )
    return found


def action_data(action: str, complaint, post) -> dict:
    if action not in COMPLAINTS.actions:
        return {}  # the gate answers an unknown action in words
    return forms.action_data(COMPLAINTS, action, complaint, post, DESK_WIDGETS)


def filing_fields(order) -> list[Field]:
    return forms.action_fields(COMPLAINTS, Action.FILE, order, FILING_WIDGETS)


def filing_data(order, post) -> dict:
    return forms.action_data(COMPLAINTS, Action.FILE, order, post, FILING_WIDGETS)


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
    """Take ``action`` on the complaint from a page's form (the desk's or the portal's): the
    refused form answers with its error in place (422, which htmx is told to swap in); a plain
    post goes back to the page, an htmx one gets the page's fragment."""
    principal = request.principal
    complaint = selectors.complaint_get(actor=principal, number=number)
    try:
        services.complaint_transition(
            complaint_id=complaint.id,
            action=action,
            actor=principal,
            data=action_data(action, complaint, request.POST),
        )
    except ApplicationError as error:
        return page(request, number, {action: form_error(error)}, status=422)
    if not request.htmx:
        return redirect(done_url, number=number)
    return page(request, number)
