"""The customer's rating of their case, from the portal's case page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aftersales.cases import selectors
from aftersales.cases.views.portal import customer_required, portal_case_response
from aftersales.core.errors import ApplicationError, InvalidInput
from aftersales.feedback.services import rating_add


@require_POST
@customer_required
def case_rate(request: HttpRequest, number: str) -> HttpResponse:
    principal = request.principal
    case_id = selectors.case_id_for(actor=principal, number=number)
    raw = request.POST.get("score", "")
    try:
        if not raw.isdigit():
            raise InvalidInput(_("Give 1 to 5 stars."), code="invalid_score", field="score")
        rating_add(
            actor=principal,
            case_id=case_id,
            score=int(raw),
            reasons=request.POST.getlist("reasons"),
            comment=request.POST.get("comment", ""),
        )
    except ApplicationError as error:
        errors = {"rate": {"detail": str(error.detail)}}
        return portal_case_response(request, number, errors, status=422)
    if not request.htmx:
        return redirect("portal:case", number=number)
    return portal_case_response(request, number)
