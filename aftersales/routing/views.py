"""The desk's routing controls: the signed-in agent's duty toggle and the "Claim" button of a
case page. Thin: parse, call a service, tell the outcome, go back."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aftersales.cases.selectors import case_id_for
from aftersales.cases.views.desk import staff_required
from aftersales.core.errors import ApplicationError
from aftersales.routing import services
from aftersales.routing.subjects import CASES


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "desk:queue"
    return redirect(target)


@require_POST
@staff_required
def duty(request: HttpRequest) -> HttpResponse:
    on_duty = request.POST.get("on_duty") == "1"
    try:
        changes = services.routing_duty_set(actor=request.principal, on_duty=on_duty)
    except ApplicationError as error:
        messages.error(request, str(error.detail))
        return _back(request)
    if on_duty:
        messages.success(request, _("You are on duty: new cases may be given to you."))
    else:
        reassigned = sum(change.reassigned for change in changes)
        unassigned = sum(change.unassigned for change in changes)
        messages.success(
            request,
            _(
                "You are off duty. %(reassigned)s of your open cases went to colleagues; "
                "%(unassigned)s wait for the team lead."
            )
            % {"reassigned": reassigned, "unassigned": unassigned},
        )
    return _back(request)


@require_POST
@staff_required
def claim_case(request: HttpRequest, number: str) -> HttpResponse:
    principal = request.principal
    case = CASES.lifecycle.model.objects.get(pk=case_id_for(actor=principal, number=number))
    try:
        services.routing_claim(actor=principal, subject=case)
    except ApplicationError as error:
        messages.error(request, str(error.detail))
    else:
        messages.success(request, _("The case is yours."))
    return redirect("desk:case", number=number)
