"""The desk's violation points: the shop's standing (``/desk/standing/``: the service score and
why it moved, points this year per class, the penalties in force with their end and countdown,
each calculation, the appeals, the refund rate by fault) and the platform operator's page
(``/desk/violations/``: record a violation, decide the appeals). Thin: reads are selectors,
writes the services; a refusal shows as a message in words."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from pydantic import ValidationError

from aftersales.cases.views.common import deadline_of
from aftersales.cases.views.desk import staff_required
from aftersales.catalog.models import Shop
from aftersales.core import clock
from aftersales.core.errors import ApplicationError
from aftersales.core.permissions import permitted, shops_permitted
from aftersales.core.timeline import readable_time
from aftersales.violations import refund_rate, rules, selectors, services
from aftersales.violations.api import (
    present_penalty_row,
    present_score_change,
    present_violation_row,
)
from aftersales.violations.choices import Action, ViolationKind
from aftersales.violations.lifecycle import available_actions
from aftersales.violations.schemas import ServiceScoreIn


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "violations/forbidden.html",
        {"principal": request.principal},
        status=403,
    )


def _readable_shops(principal):
    shops = shops_permitted(principal, selectors.READ)
    rows = Shop.objects.order_by("code")
    return rows if shops is None else rows.filter(id__in=shops)


def _actions(subject, principal) -> list[dict]:
    return [
        {"name": action, "label": Action(action).label}
        for action in available_actions(subject, principal.role_in(subject.shop_id))
    ]


def _penalty_rows(penalties, principal, now) -> list[dict]:
    rows = []
    for penalty in penalties:
        row = present_penalty_row(penalty, now)
        row["deadline"] = deadline_of(penalty.ends_at, "end", penalty.shop.timezone)
        row["actions"] = _actions(penalty, principal)
        row["subject"] = penalty
        rows.append(row)
    return rows


def _days(raw: str) -> int:
    try:
        days = int(raw)
    except (TypeError, ValueError):
        return refund_rate.DEFAULT_DAYS
    return min(max(days, 1), 366)


@staff_required
def standing_page(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    if not permitted(principal, selectors.READ):
        return _forbidden(request)
    shops = list(_readable_shops(principal))
    code = request.GET.get("shop") or (shops[0].code if shops else "")
    try:
        shop = selectors.shop_for(actor=principal, code=code)
    except ApplicationError as error:
        messages.error(request, str(error.detail))
        return render(
            request,
            "violations/standing.html",
            {"principal": principal, "shops": shops, "shop": None},
            status=404 if error.status == 404 else 200,
        )
    now = clock.now()
    data = selectors.standing(actor=principal, shop=shop, now=now)
    days = _days(request.GET.get("days", ""))
    violations = []
    for violation in data["violations"]:
        row = present_violation_row(violation)
        row["actions"] = _actions(violation, principal)
        row["subject"] = violation
        violations.append(row)
    history = selectors.penalty_list(actor=principal, shop=shop.code, limit=50)
    score_changes = [
        {
            **present_score_change(change),
            "when": readable_time(change.changed_at, shop.timezone),
        }
        for change in data["service_score_changes"]
    ]
    return render(
        request,
        "violations/standing.html",
        {
            "principal": principal,
            "shops": shops,
            "shop": shop,
            "standing": data,
            "in_force": _penalty_rows(data["penalties_in_force"], principal, now),
            "penalties": _penalty_rows(history, principal, now),
            "violations": violations,
            "resets_at": readable_time(
                rules.year_bounds(data["year"], data["timezone"])[1], data["timezone"]
            ),
            "refunds": refund_rate.refund_rate(shop=shop, now=now, days=days),
            "days": days,
            "score_changes": score_changes,
            "may_set_score": permitted(principal, selectors.SET_SCORE, shop),
        },
    )


@staff_required
def operator_page(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    if not (permitted(principal, "violation.record") or permitted(principal, "violation.decide")):
        return _forbidden(request)
    now = clock.now()
    violations, penalties = selectors.appeals_pending(actor=principal)
    appealed = []
    for violation in violations:
        row = present_violation_row(violation)
        row["actions"] = _actions(violation, principal)
        row["subject"] = violation
        appealed.append(row)
    return render(
        request,
        "violations/operator.html",
        {
            "principal": principal,
            "shops": list(_readable_shops(principal)),
            "kinds": ViolationKind.choices,
            "appealed_violations": appealed,
            "appealed_penalties": _penalty_rows(penalties, principal, now),
            "recent": [present_violation_row(v) for v in selectors.violation_list(actor=principal)],
        },
    )


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(fallback)


@require_POST
@staff_required
def set_score(request: HttpRequest) -> HttpResponse:
    """Set the shop's service score from the standing page (the platform)."""
    principal = request.principal
    code = request.POST.get("shop", "")
    back = f"{reverse('violations_desk:standing')}?{urlencode({'shop': code})}"
    try:
        shop = selectors.shop_for(actor=principal, code=code)
        score = ServiceScoreIn.model_validate(
            {"score": request.POST.get("score", ""), "reason": request.POST.get("reason", "")}
        )
        services.service_score_set(
            actor=principal, shop=shop, score=score.score, reason=score.reason
        )
    except ApplicationError as error:
        messages.error(request, str(error.detail))
        return redirect(back)
    except ValidationError:
        messages.error(request, _("Give a score from 0 to 5 (two decimals) and the reason."))
        return redirect(back)
    messages.success(request, _("Service score set."))
    return redirect(back)


@require_POST
@staff_required
def record(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    data = {key: request.POST.get(key, "") for key in ("shop", "kind", "reason")}
    try:
        violation = services.violation_record_from_body(actor=principal, data=data)
    except ApplicationError as error:
        messages.error(request, str(error.detail))
        return redirect("violations_desk:operator")
    messages.success(request, _("Violation %(number)s recorded.") % {"number": violation.number})
    return redirect(f"{reverse('violations_desk:operator')}?{urlencode({'shop': data['shop']})}")


def _act(request: HttpRequest, number: str, action: str, *, penalty: bool) -> HttpResponse:
    principal = request.principal
    fallback = (
        f"{reverse('violations_desk:standing')}"
        if principal.shop_ids is not None
        else reverse("violations_desk:operator")
    )
    body = {key: request.POST.get(key, "") for key in ("text", "reason")}
    try:
        if penalty:
            subject = selectors.penalty_get(actor=principal, number=number)
            services.penalty_transition(
                penalty_id=subject.pk, action=action, actor=principal, data=body
            )
        else:
            subject = selectors.violation_get(actor=principal, number=number)
            services.violation_transition(
                violation_id=subject.pk, action=action, actor=principal, data=body
            )
    except ApplicationError as error:
        messages.error(request, str(error.detail))
        return _back(request, fallback)
    messages.success(request, _("%(number)s: done.") % {"number": number})
    return _back(request, fallback)


@require_POST
@staff_required
def violation_act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    return _act(request, number, action, penalty=False)


@require_POST
@staff_required
def penalty_act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    return _act(request, number, action, penalty=True)
