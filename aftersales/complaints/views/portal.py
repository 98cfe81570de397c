"""The portal's complaints: the filing form of an order (reached from the order's page), and a
complaint's status page in plain words with its stage, the shop's due time, its steps and the
customer's actions (withdraw while open; answer the follow-up). Every read is scoped to the
customer, so editing a URL never shows someone else's complaint."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aftersales.cases.views.common import deadline_of
from aftersales.cases.views.portal import customer_required
from aftersales.catalog import selectors as catalog_selectors
from aftersales.complaints import selectors, services, wording
from aftersales.complaints.timeline import steps
from aftersales.complaints.views.forms import (
    action_forms,
    filing_data,
    filing_fields,
    form_error,
    form_transition,
)
from aftersales.core.errors import ApplicationError


@customer_required
def file_complaint(request: HttpRequest, order_id: int) -> HttpResponse:
    """The filing form of one of the customer's orders, with the complaints already filed."""
    principal = request.principal
    order = catalog_selectors.order_get(actor=principal, order_id=order_id)
    fields = filing_fields(order)
    for field in fields:  # a refused form keeps what was typed
        field.initial = request.POST.get(field.name, "")
    context = {
        "order": order,
        "fields": fields,
        "error": None,
        "complaints": [
            {"complaint": c, "state_label": wording.customer_state_label(c.state)}
            for c in selectors.complaints_of_order(actor=principal, order_id=order.id)
        ],
    }
    if request.method == "POST":
        try:
            data = filing_data(order, request.POST)
            complaint = services.complaint_file(actor=principal, data=data)
        except ApplicationError as error:
            context["error"] = form_error(error)
            return render(request, "complaints/portal/file.html", context, status=422)
        messages.success(
            request, _("Your complaint %(number)s is in.") % {"number": complaint.number}
        )
        return redirect("complaints_portal:complaint", number=complaint.number)
    return render(request, "complaints/portal/file.html", context)


def _context(request: HttpRequest, number: str, form_errors=None) -> dict:
    principal = request.principal
    complaint = selectors.complaint_get(actor=principal, number=number)
    return {
        "complaint": complaint,
        "state_label": wording.customer_state_label(complaint.state),
        "type_label": wording.type_label(complaint.type),
        "due": deadline_of(complaint.due_at, "", complaint.shop.timezone),
        "due_sentence": wording.customer_due(complaint),
        "steps": steps(complaint),
        "actions": action_forms(complaint, principal, form_errors),
    }


def _page(request: HttpRequest, number: str, form_errors=None, status=200) -> HttpResponse:
    template = (
        "complaints/portal/_complaint.html" if request.htmx else "complaints/portal/complaint.html"
    )
    return render(request, template, _context(request, number, form_errors), status=status)


@customer_required
def complaint_page(request: HttpRequest, number: str) -> HttpResponse:
    return _page(request, number)


@require_POST
@customer_required
def complaint_act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    return form_transition(
        request, number, action, page=_page, done_url="complaints_portal:complaint"
    )
