"""The desk's shipping insurance: the abuse flags for the platform's operators
(``/desk/insurance/flags/``, a flag's page with its reasons, calculation, timeline and the review
form), and an order's insurance (``/desk/insurance/orders/<id>/``). Thin: reads are selectors,
writes the services."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aftersales.cases.views.desk import staff_required
from aftersales.core.errors import ApplicationError, NotFound
from aftersales.core.permissions import permitted
from aftersales.core.timeline import readable_time
from aftersales.insurance import selectors, services
from aftersales.insurance.choices import CoverAction, CoverState, FlagAction, FlagState
from aftersales.insurance.timeline import cover_entries, flag_entries

PAGE = 50


def _local(moment, timezone: str) -> str:
    return readable_time(moment, timezone) if moment else ""


def _forbidden(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    return render(
        request,
        "insurance/problem.html",
        {"detail": error.detail, "principal": request.principal},
        status=error.status,
    )


@staff_required
def flag_list(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    state = request.GET.get("state", FlagState.OPEN)
    state = state if state in FlagState.values else ""
    try:
        flags = selectors.flag_list(actor=principal, state=state or None, limit=PAGE)
    except ApplicationError as error:
        return _forbidden(request, error)
    rows = [
        {
            "flag": flag,
            "state_label": FlagState(flag.state).label,
            "created": _local(flag.created_at, flag.shop.timezone),
        }
        for flag in flags
    ]
    return render(
        request,
        "insurance/flags.html",
        {
            "rows": rows,
            "states": FlagState.choices,
            "chosen": state,
            "can_scan": permitted(principal, "insurance_flag.scan"),
            "principal": principal,
        },
    )


@staff_required
def flag_page(request: HttpRequest, flag_id: int) -> HttpResponse:
    principal = request.principal
    try:
        flag = selectors.flag_get(actor=principal, flag_id=flag_id)
    except ApplicationError as error:
        return _forbidden(request, error)
    return render(
        request,
        "insurance/flag.html",
        {
            "flag": flag,
            "state_label": FlagState(flag.state).label,
            "is_open": flag.state == FlagState.OPEN,
            "reviewed": _local(flag.reviewed_at, flag.shop.timezone),
            "timeline": [
                {"entry": entry, "at": _local(entry.at, flag.shop.timezone)}
                for entry in flag_entries(principal, flag.events.all())
            ],
            "principal": principal,
        },
    )


@require_POST
@staff_required
def flag_review(request: HttpRequest, flag_id: int, action: str) -> HttpResponse:
    if action not in (FlagAction.CLEAR, FlagAction.CONFIRM):
        return _forbidden(request, NotFound(_("Unknown action."), code="unknown_action"))
    try:
        services.flag_review(
            actor=request.principal,
            flag_id=flag_id,
            action=action,
            reason=request.POST.get("reason", ""),
        )
    except ApplicationError as error:
        messages.error(request, str(error.detail))
    return redirect("insurance_desk:flag", flag_id=flag_id)


@require_POST
@staff_required
def flag_scan(request: HttpRequest) -> HttpResponse:
    try:
        count = services.flags_scan(actor=request.principal)
    except ApplicationError as error:
        return _forbidden(request, error)
    messages.success(
        request, _("Signals computed: %(count)s flags raised or updated.") % {"count": count}
    )
    return redirect("insurance_desk:flags")


@staff_required
def order_insurance(request: HttpRequest, order_id: int) -> HttpResponse:
    principal = request.principal
    try:
        cover = selectors.cover_of_order(actor=principal, order_id=order_id)
    except ApplicationError as error:
        return _forbidden(request, error)
    timezone = cover.shop.timezone
    return render(
        request,
        "insurance/order.html",
        {
            "cover": cover,
            "state_label": CoverState(cover.state).label,
            "quoted": _local(cover.quoted_at, timezone),
            "insured": _local(cover.insured_at, timezone),
            "claims": list(cover.claims.all()),
            "can_record": permitted(principal, "insurance_cover.record_postage", cover),
            "timeline": [
                {"entry": entry, "at": _local(entry.at, timezone)}
                for entry in cover_entries(principal, cover.events.all())
            ],
            "principal": principal,
        },
    )


@require_POST
@staff_required
def order_record_postage(request: HttpRequest, order_id: int, case_number: str) -> HttpResponse:
    try:
        services.cover_transition(
            actor=request.principal,
            order_id=order_id,
            action=CoverAction.RECORD_POSTAGE,
            data={"case_number": case_number, "actual_postage": request.POST.get("actual_postage")},
        )
    except ApplicationError as error:
        messages.error(request, str(error.detail))
    return redirect("insurance_desk:order", order_id=order_id)
