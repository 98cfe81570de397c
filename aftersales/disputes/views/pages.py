"""The dispute pages. Desk (``/desk/disputes/``): the queue of disputes under way, soonest due
first, with a countdown each (the platform's operator sees every shop's; a shop's staff their
own), and a dispute's page with both sides' evidence, the decision with its calculation, the
actions and the timeline. Portal (``/disputes/``): the buyer opens a dispute from the case's
page, adds evidence, reads the decision; a juror reads the anonymised file and votes
(``/disputes/jury/<number>/``, signed in)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aftersales.cases import selectors as case_selectors
from aftersales.cases.views.common import deadline_of, signed_in_principal
from aftersales.cases.views.desk import staff_required
from aftersales.cases.views.portal import customer_required
from aftersales.core import forms
from aftersales.core.errors import ApplicationError
from aftersales.disputes import selectors, services
from aftersales.disputes.api import present_decision, present_seat
from aftersales.disputes.choices import Action, DeadlineAction, DisputeState
from aftersales.disputes.lifecycle import DISPUTES
from aftersales.disputes.models import Dispute
from aftersales.disputes.timeline import events_for
from aftersales.disputes.views.forms import action_forms, form_error, form_transition


def _row(dispute: Dispute) -> dict:
    return {
        "dispute": dispute,
        "state_label": DisputeState(dispute.state).label,
        "due": deadline_of(dispute.deadline_at, dispute.deadline_action, dispute.shop.timezone),
        "due_label": DeadlineAction(dispute.deadline_action).label
        if dispute.deadline_action
        else "",
    }


def _context(request: HttpRequest, number: str, form_errors=None) -> dict:
    principal = request.principal
    dispute = selectors.dispute_get(actor=principal, number=number)
    currency = dispute.shop.currency
    evidence = list(dispute.evidence.all())
    if principal.is_customer:
        evidence = [e for e in evidence if e.kind != "contact"]
    return {
        **_row(dispute),
        "decision": present_decision(dispute.decision, currency) if dispute.decision else None,
        "evidence": evidence,
        "actions": action_forms(dispute, principal, form_errors),
        "timeline": events_for(principal, dispute.events.all()),
        "principal": principal,
    }


# --- the desk ---------------------------------------------------------------------------------


@staff_required
def desk_list(request: HttpRequest) -> HttpResponse:
    rows = selectors.dispute_list(actor=request.principal, open_only=True, limit=200)
    return render(
        request,
        "disputes/desk/list.html",
        {"rows": [_row(d) for d in rows], "principal": request.principal},
    )


def _desk_page(request, number, form_errors=None, status=200) -> HttpResponse:
    return render(
        request, "disputes/desk/dispute.html", _context(request, number, form_errors), status=status
    )


@staff_required
def desk_page(request: HttpRequest, number: str) -> HttpResponse:
    return _desk_page(request, number)


@require_POST
@staff_required
def desk_act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    return form_transition(
        request, number, action, page=_desk_page, done_url="disputes_desk:dispute"
    )


# --- the portal -------------------------------------------------------------------------------


@customer_required
def portal_open(request: HttpRequest, case_number: str) -> HttpResponse:
    """The buyer's form to open a dispute about one of their cases."""
    principal = request.principal
    case = case_selectors.case_get(actor=principal, number=case_number)
    fields = [
        field
        for field in forms.action_fields(DISPUTES, Action.OPEN, case)
        if field.name != "case_number"
    ]
    for field in fields:
        field.initial = request.POST.get(field.name, "")
    context = {
        "case": case,
        "fields": fields,
        "error": None,
        "disputes": selectors.disputes_of_case(actor=principal, case_id=case.id),
    }
    if request.method == "POST":
        data = forms.action_data(DISPUTES, Action.OPEN, case, request.POST)
        data["case_number"] = case.number
        try:
            dispute = services.dispute_open(actor=principal, data=data)
        except ApplicationError as error:
            context["error"] = form_error(error)
            return render(request, "disputes/portal/open.html", context, status=422)
        messages.success(
            request, _("Your dispute %(number)s is with the platform.") % {"number": dispute.number}
        )
        return redirect("disputes_portal:dispute", number=dispute.number)
    return render(request, "disputes/portal/open.html", context)


def _portal_page(request, number, form_errors=None, status=200) -> HttpResponse:
    return render(
        request,
        "disputes/portal/dispute.html",
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
        request, number, action, page=_portal_page, done_url="disputes_portal:dispute"
    )


def juror_page(request: HttpRequest, number: str) -> HttpResponse:
    """A juror's file and vote (a signed-in customer account drawn for this dispute)."""
    principal = signed_in_principal(request)
    if principal is None or not principal.is_customer:
        return redirect("portal:home")
    error, status = None, 200
    if request.method == "POST":
        try:
            services.juror_vote(actor=principal, number=number, side=request.POST.get("side", ""))
        except ApplicationError as problem:
            error = str(problem.detail)
            status = 422
        else:
            return redirect("disputes_portal:jury", number=number)
    seat = selectors.seat_for(actor=principal, number=number)
    return render(
        request,
        "disputes/portal/jury.html",
        {"seat": present_seat(seat), "error": error},
        status=status,
    )
