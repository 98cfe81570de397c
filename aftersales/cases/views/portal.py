"""The customer portal (``/``): find an order by its number and phone (or sign in), see its cases
in plain words with their countdowns, open an application with its eligibility shown before
submitting, print the return label, and take the customer's actions. Every read is scoped to the
customer, so editing a URL never shows someone else's case."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aftersales.cases import labels, progress, selectors, services, wording
from aftersales.cases.choices import (
    FINAL_STATES,
    KINDS_WITH_GOODS,
    CaseKind,
    RatingReason,
    Reason,
)
from aftersales.cases.models import Case
from aftersales.cases.views.common import (
    PORTAL_SESSION_KEY,
    action_forms,
    case_for_forms,
    consequence,
    deadline_of,
    form_transition,
    portal_principal,
)
from aftersales.catalog import selectors as catalog_selectors
from aftersales.catalog.models import Order
from aftersales.core.errors import ApplicationError
from aftersales.core.ratelimit import portal_lookup_allowed, portal_lookup_succeeded


def customer_required(view):
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        principal = portal_principal(request)
        if principal is None:
            return redirect("portal:home")
        request.principal = principal
        return view(request, *args, **kwargs)

    return wrapper


def home(request: HttpRequest) -> HttpResponse:
    """Find an order by its number and the phone it was bought with."""
    error = None
    if request.method == "POST":
        number = request.POST.get("order", "").strip()[:100]
        phone = request.POST.get("phone", "").strip()[:40]
        if not portal_lookup_allowed(request, number):
            error = _("Too many attempts; try again in a few minutes.")
        elif not number or not phone:
            error = _("Enter the order number and the phone number of the order.")
        else:
            order = (
                Order.objects.filter(external_id=number, customer__phone=phone)
                .select_related("customer")
                .first()
            )
            if order is None:
                error = _("No order with this number and phone.")
            else:
                portal_lookup_succeeded(request, number)
                request.session.cycle_key()
                request.session[PORTAL_SESSION_KEY] = {
                    "customer_id": order.customer_id,
                    "shop_id": order.shop_id,
                    "name": order.customer.name or order.customer.external_id,
                }
                return redirect("portal:order", order_id=order.id)
    return render(
        request,
        "portal/home.html",
        {"error": error, "signed_in": portal_principal(request) is not None},
        status=422 if error else 200,
    )


@customer_required
def my_cases(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    orders = (
        Order.objects.filter(customer_id=principal.customer_id)
        .select_related("shop")
        .order_by("-paid_at")[:20]
    )
    return render(request, "portal/orders.html", {"orders": orders})


def _case_rows(cases, timezone: str) -> list[dict]:
    rows = []
    for case in cases:
        deadline = deadline_of(case.deadline_at, case.deadline_action, timezone)
        rows.append(
            {
                "case": case,
                "state_label": wording.state_label(case.state, case.kind),
                "kind_label": CaseKind(case.kind).label,
                "deadline": deadline,
                "consequence": consequence(deadline),
            }
        )
    return rows


@customer_required
def order_page(request: HttpRequest, order_id: int) -> HttpResponse:
    principal = request.principal
    order = catalog_selectors.order_get(actor=principal, order_id=order_id)
    cases = Case.objects.filter(order=order, customer_id=principal.customer_id).order_by("-id")
    return render(
        request,
        "portal/order.html",
        {"order": order, "cases": _case_rows(cases, order.shop.timezone)},
    )


def _application(order, post) -> dict:
    """The application form as the opening's input (the gate validates it)."""
    lines = []
    for line in order.lines.all():
        raw = post.get(f"qty-{line.id}", "").strip()
        if raw.isdigit() and int(raw) > 0:
            lines.append({"order_line_id": line.id, "quantity": int(raw)})
    return {
        "order_id": order.id,
        "kind": post.get("kind", ""),
        "reason": post.get("reason", ""),
        "description": post.get("description", "")[:5000],
        "lines": lines,
    }


@customer_required
def apply(request: HttpRequest, order_id: int) -> HttpResponse:
    """The application form; ``check`` answers whether it is eligible, before submitting."""
    principal = request.principal
    order = catalog_selectors.order_get(actor=principal, order_id=order_id)
    context = {
        "order": order,
        "kinds": CaseKind.choices,
        "reasons": Reason.choices,
        "chosen": request.POST,
        "preview": None,
        "error": None,
    }
    if request.method == "POST":
        application = _application(order, request.POST)
        try:
            if request.POST.get("check"):
                context["preview"] = services.case_preview(actor=principal, data=application)
            else:
                case = services.case_apply(
                    actor=principal,
                    data=application,
                    uploads=request.FILES.getlist("photos")[:5],
                    # later notices reach the customer in the language they applied in
                    language="zh-hans" if request.LANGUAGE_CODE.startswith("zh") else "en",
                )
                messages.success(
                    request, _("Your application %(number)s is in.") % {"number": case.number}
                )
                return redirect("portal:case", number=case.number)
        except ApplicationError as error:
            context["error"] = {"detail": str(error.detail), "code": error.code}
        template = "portal/_preview.html" if request.htmx else "portal/apply.html"
        return render(request, template, context, status=422 if context["error"] else 200)
    return render(request, "portal/apply.html", context)


def _portal_case_context(request: HttpRequest, number: str, form_errors=None) -> dict:
    principal = request.principal
    case = case_for_forms(principal, number)
    deadline = deadline_of(case.deadline_at, case.deadline_action, case.shop.timezone)
    actions = action_forms(case, principal, form_errors)
    return {
        "case": case,
        "state_label": wording.state_label(case.state, case.kind),
        "kind_label": CaseKind(case.kind).label,
        "reason_label": Reason(case.reason).label,
        "deadline": deadline,
        "consequence": consequence(deadline),
        "steps": progress.steps(case),
        "actions": actions,
        "label_available": case.kind in KINDS_WITH_GOODS
        and case.return_address_id is not None
        and case.state in labels.LABEL_STATES,
        "can_rate": case.state in FINAL_STATES and not hasattr(case, "rating"),
        "rating_reasons": RatingReason.choices,
        "form_errors": form_errors or {},
    }


def portal_case_response(request: HttpRequest, number: str, form_errors=None, status=200):
    context = _portal_case_context(request, number, form_errors)
    template = "portal/_case.html" if request.htmx else "portal/case.html"
    return render(request, template, context, status=status)


@customer_required
def case_page(request: HttpRequest, number: str) -> HttpResponse:
    return portal_case_response(request, number)


@require_POST
@customer_required
def case_act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    errors = form_transition(request, number, action)
    if errors:
        return portal_case_response(request, number, errors, status=422)
    if not request.htmx:
        return redirect("portal:case", number=number)
    return portal_case_response(request, number)


@customer_required
def case_label(request: HttpRequest, number: str) -> HttpResponse:
    case = selectors.case_get(actor=request.principal, number=number)
    response = HttpResponse(labels.label_pdf(case), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{case.number}-label.pdf"'
    return response


@require_POST
def leave(request: HttpRequest) -> HttpResponse:
    request.session.pop(PORTAL_SESSION_KEY, None)
    return redirect("portal:home")
