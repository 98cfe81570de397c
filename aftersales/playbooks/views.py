"""The checklist on the desk's case page: tick or untick a step with a note. The answer is the
case page's fragment, so the actions the step gated and the timeline show the change at once."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from aftersales.cases import selectors as case_selectors
from aftersales.cases.views.common import form_error

# The desk's own case fragment: one page, whichever app's form was posted.
from aftersales.cases.views.desk import _case_response as case_response
from aftersales.cases.views.desk import staff_required
from aftersales.core.errors import ApplicationError
from aftersales.playbooks.services import step_set


@require_POST
@staff_required
def step_tick(request: HttpRequest, number: str, key: str) -> HttpResponse:
    principal = request.principal
    case_id = case_selectors.case_id_for(actor=principal, number=number)
    try:
        step_set(
            actor=principal,
            case_id=case_id,
            key=key,
            done=request.POST.get("done") == "1",
            note=request.POST.get("note", ""),
        )
    except ApplicationError as error:
        return case_response(request, number, {"playbook": form_error(error)}, status=422)
    if not request.htmx:
        return redirect("desk:case", number=number)
    return case_response(request, number)
