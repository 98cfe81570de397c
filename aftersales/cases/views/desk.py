"""The agent workbench (``/desk/``): the case page with its actions, notes, flags, reply
templates, the contact log, bulk actions and the receiving desk (the queue is ``views.queue``; the
messages with the customer are ``aftersales.conversations``'s). Thin: every read is a
selector (the API's), every write a service; the forms come from the state table."""

from __future__ import annotations

import datetime as dt
from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aftersales.cases import labels, selectors, wording
from aftersales.cases.bulk import bulk_approve
from aftersales.cases.choices import Action, CaseKind, FlagColor, Reason
from aftersales.cases.flags import flag_set, priority_set
from aftersales.cases.messages import template_missing, template_render, templates_for
from aftersales.cases.models import Case
from aftersales.cases.moves.platform import platform_of
from aftersales.cases.timeline import ACTION_LABELS
from aftersales.cases.views.common import (
    action_forms,
    case_for_forms,
    deadline_of,
    evidence_response,
    form_error,
    form_transition,
    inspection_preview,
    signed_in_principal,
)
from aftersales.cases.views.forms import conditions, dispositions
from aftersales.catalog.models import Order
from aftersales.core.errors import ApplicationError
from aftersales.core.permissions import narrowed, permitted
from aftersales.core.ratelimit import rate_limited_login
from aftersales.core.timeline import event_label
from aftersales.sla import selectors as sla_selectors
from aftersales.sla.choices import Priority
from aftersales.team import workbench as team
from aftersales.team.models import ContactChannel, ReplyTemplate
from aftersales.team.selectors import contacts_for, notes_for

# The case page's forms beside the action forms → their row of the matrix (core.permissions).
DESK_FORMS = {
    "message": "case.message",
    "flag": "case.flag",
    "priority": "case.priority",
    "assign": "assign",
    "note": "note.write",
}


def staff_required(view):
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        principal = signed_in_principal(request)
        if principal is None:
            return redirect(
                f"{reverse('desk:login')}?{urlencode({'next': request.get_full_path()})}"
            )
        if not permitted(principal, "desk.use"):
            return redirect("portal:home")
        request.principal = principal
        return view(request, *args, **kwargs)

    return wrapper


class LoginView(auth_views.LoginView):
    template_name = "desk/login.html"
    redirect_authenticated_user = False

    def get_default_redirect_url(self):
        principal = signed_in_principal(self.request)
        if principal is not None and principal.is_customer:
            return reverse("portal:my_cases")
        return reverse("desk:queue")


login = rate_limited_login(LoginView.as_view())


def _case_context(request: HttpRequest, number: str, form_errors: dict | None = None) -> dict:
    principal = request.principal
    case = case_for_forms(principal, number)
    actions = action_forms(case, principal, form_errors)
    language = translation.get_language() or "en"
    templates = templates_for(case, language="zh-hans" if language.startswith("zh") else "en")
    other_orders = (
        Order.objects.filter(customer=case.customer)
        .exclude(pk=case.order_id)
        .order_by("-paid_at")[:5]
    )
    other_cases = (
        Case.objects.filter(customer=case.customer)
        .exclude(pk=case.pk)
        .order_by("-id")
        .values("number", "state", "kind")[:5]
    )
    return {
        "case": case,
        "deadline": deadline_of(case.deadline_at, case.deadline_action, case.shop.timezone),
        "deadline_action_label": wording.deadline_action_label(case.deadline_action),
        # A marketplace's request: what its platform says, beside the case.
        "platform": platform_of(case),
        "waiting_on": wording.waiting_on(case),
        "dispute_reasons": wording.dispute_reasons(case),
        "actions": actions,
        "conditions": conditions(),
        "inspection_preview": inspection_preview(case)
        if Action.INSPECT in {a["name"] for a in actions}
        else None,
        "dispositions": dispositions(),
        "notes": notes_for(case),
        "contacts": contacts_for(case),
        "templates": templates,
        "channels": ContactChannel.choices,
        "flag_colors": FlagColor.choices,
        "priorities": Priority.choices,
        "sla": sla_selectors.badges("case", [case.pk]).get(case.pk, []),
        "flag_meanings": case.shop.flag_meanings,
        "other_orders": other_orders,
        "other_cases": [
            {**row, "state_label": wording.state_label(row["state"], row["kind"])}
            for row in other_cases
        ],
        "timeline": [
            {
                "event": event,
                "label": event_label(event.action, ACTION_LABELS),
                "details": wording.describe(event, case),
            }
            for event in case.events.all()
        ],
        "return_carrier": wording.carrier_label(case.return_carrier),
        "outbound_carrier": wording.carrier_label(case.outbound_carrier),
        "principal": principal,
        # The workbench's forms beside the table, each shown to whom the matrix allows it.
        "may": {name: permitted(principal, action, case) for name, action in DESK_FORMS.items()},
        "state_label": wording.state_label(case.state, case.kind),
        "kind_label": CaseKind(case.kind).label,
        "reason_label": Reason(case.reason).label,
        "form_errors": form_errors or {},
    }


def _case_response(request: HttpRequest, number: str, form_errors=None, status=200):
    context = _case_context(request, number, form_errors)
    template = "desk/_case.html" if request.htmx else "desk/case.html"
    return render(request, template, context, status=status)


@staff_required
def case_page(request: HttpRequest, number: str) -> HttpResponse:
    return _case_response(request, number)


@require_POST
@staff_required
def case_act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    errors = form_transition(request, number, action)
    if errors:
        # The form answers with its error in place (422, which htmx is told to swap in).
        return _case_response(request, number, errors, status=422)
    if not request.htmx:
        return redirect("desk:case", number=number)
    return _case_response(request, number)


def _workbench_write(request: HttpRequest, number: str, form: str, write) -> HttpResponse:
    principal = request.principal
    case_id = selectors.case_id_for(actor=principal, number=number)
    try:
        write(principal, case_id)
    except ApplicationError as error:
        return _case_response(request, number, {form: form_error(error)}, status=422)
    if not request.htmx:
        return redirect("desk:case", number=number)
    return _case_response(request, number)


@require_POST
@staff_required
def case_note(request: HttpRequest, number: str) -> HttpResponse:
    return _workbench_write(
        request,
        number,
        "note",
        lambda actor, case_id: team.note_add(
            actor=actor, subject_type="case", subject_id=case_id, text=request.POST.get("text", "")
        ),
    )


@require_POST
@staff_required
def case_flag(request: HttpRequest, number: str) -> HttpResponse:
    return _workbench_write(
        request,
        number,
        "flag",
        lambda actor, case_id: flag_set(
            actor=actor, case_id=case_id, color=request.POST.get("flag", "")
        ),
    )


@require_POST
@staff_required
def case_priority(request: HttpRequest, number: str) -> HttpResponse:
    return _workbench_write(
        request,
        number,
        "priority",
        lambda actor, case_id: priority_set(
            actor=actor, case_id=case_id, priority=request.POST.get("priority", "")
        ),
    )


@require_POST
@staff_required
def case_assign(request: HttpRequest, number: str) -> HttpResponse:
    return _workbench_write(
        request,
        number,
        "assign",
        lambda actor, case_id: team.assign(
            actor=actor,
            subject_type="case",
            subject_ids=[case_id],
            username=request.POST.get("assignee") or None,
        ),
    )


def _minutes_field(raw: str) -> int | str | None:
    """The form's time spent: blank for none, digits as a number; anything else goes on as it
    came, for the service to refuse in words."""
    raw = raw.strip()
    if not raw:
        return None
    return int(raw) if raw.isdigit() and len(raw) <= 6 else raw


@require_POST
@staff_required
def case_contact(request: HttpRequest, number: str) -> HttpResponse:
    def write(actor, case_id):
        raw = request.POST.get("follow_up_on", "")
        try:
            follow_up = dt.date.fromisoformat(raw) if raw else None
        except ValueError:
            from aftersales.core.errors import InvalidInput

            raise InvalidInput(
                _("Enter the date as YYYY-MM-DD."), code="invalid_date", field="follow_up_on"
            ) from None
        team.contact_log_add(
            actor=actor,
            subject_type="case",
            subject_id=case_id,
            channel=request.POST.get("channel", ""),
            summary=request.POST.get("summary", ""),
            follow_up_on=follow_up,
            minutes=_minutes_field(request.POST.get("minutes", "")),
        )

    return _workbench_write(request, number, "contact", write)


@staff_required
def template_fill(request: HttpRequest, number: str) -> HttpResponse:
    """A reply template filled in for this case: the message box's new content, or what the case
    still lacks for it (a template is never sent with a blank where a value belongs)."""
    case = selectors.case_get(actor=request.principal, number=number)
    raw = request.GET.get("template_id", "")
    template = (
        ReplyTemplate.objects.filter(shop=case.shop, pk=int(raw)).first() if raw.isdigit() else None
    )
    text, missing = "", []
    if template is not None:
        missing = template_missing(template.body, case)
        if not missing:
            text = template_render(template.body, case)
    return render(
        request,
        "desk/_message_text.html",
        {"text": text, "template": template, "missing": missing},
    )


@require_POST
@staff_required
def bulk(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    ids = [int(v) for v in request.POST.getlist("case") if v.isdigit()][:200]
    operation = request.POST.get("operation")
    try:
        if operation == "approve":
            result = bulk_approve(actor=principal, case_ids=ids)
            if result.done:
                messages.success(
                    request, _("Approved: %(numbers)s") % {"numbers": ", ".join(result.done)}
                )
            for number, why in result.refused.items():
                messages.warning(request, f"{number}: {why}")
        elif operation == "assign":
            count = team.assign(
                actor=principal,
                subject_type="case",
                subject_ids=ids,
                username=request.POST.get("assignee") or None,
            )
            messages.success(request, _("%(count)s cases assigned.") % {"count": count})
    except ApplicationError as error:
        messages.error(request, str(error.detail))
    return redirect(_back_to_queue(request))


def _back_to_queue(request: HttpRequest) -> str:
    """Where a bulk action returns: the queue view it came from, never another site or a
    ``javascript:`` address."""
    back = request.POST.get("back", "")
    queue_url = reverse("desk:queue")
    if back.startswith(queue_url) and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return back
    return queue_url


@staff_required
def receiving(request: HttpRequest) -> HttpResponse:
    """The receiving desk: scan an RMA or tracking number, land on the case's receive form."""
    code = request.GET.get("code", "").strip()[:100]
    error = None
    if code:
        try:
            actor = narrowed(request.principal, "case.receiving_desk")
            number = selectors.case_number_for_code(actor=actor, code=code)
            return redirect(f"{reverse('desk:case', args=[number])}#action-receive")
        except ApplicationError as failure:
            error = str(failure.detail)
    return render(request, "desk/receiving.html", {"code": code, "error": error})


@staff_required
def case_label(request: HttpRequest, number: str) -> HttpResponse:
    """The return label or packing slip for the signed-in team (the API's needs a token)."""
    case = selectors.case_get(actor=request.principal, number=number)
    variant = request.GET.get("variant", "label")
    if variant not in ("label", "packing_slip"):
        variant = "label"
    document = (
        labels.packing_slip_pdf(case) if variant == "packing_slip" else labels.label_pdf(case)
    )
    response = HttpResponse(document, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{case.number}-{variant}.pdf"'
    return response


@staff_required
def case_evidence(request: HttpRequest, number: str, evidence_id: int) -> HttpResponse:
    """An evidence file or its thumbnail for the signed-in team."""
    item = selectors.evidence_get(actor=request.principal, number=number, evidence_id=evidence_id)
    return evidence_response(item, thumbnail=request.GET.get("thumbnail") == "1")


@require_POST
@staff_required
def case_inspection_preview(request: HttpRequest, number: str) -> HttpResponse:
    """The inspection form's suggested deduction and the refund after it, as grades are chosen."""
    case = case_for_forms(request.principal, number)
    return render(
        request, "desk/_deduction.html", {"preview": inspection_preview(case, request.POST)}
    )
