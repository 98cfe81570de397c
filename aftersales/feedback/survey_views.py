"""The satisfaction pages: the customer's login-free survey (``/survey/<token>``, in their
language, answered once) and the desk's "Satisfaction" page (run a round, the results with their
intervals, the surveys to call with a form for each call's answers). Thin: the services write,
the selectors read; a refusal is a message in words, never a 500."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from aftersales.cases.choices import CaseKind
from aftersales.cases.views.desk import staff_required
from aftersales.core import clock
from aftersales.core.errors import ApplicationError, InvalidInput
from aftersales.core.permissions import permitted
from aftersales.core.timeline import readable_time
from aftersales.feedback import selectors, surveys
from aftersales.feedback.models import Survey, SurveyStatus

REASON_CHOICES = [(str(r.value), r.label) for r in surveys.LOW_SCORE_REASONS]


def _score(raw: str):
    return int(raw) if raw.isdigit() and len(raw) < 3 else None


# --- the customer's survey --------------------------------------------------------------------


def _survey_page(request, survey: Survey | None, state: str, status: int = 200, **extra):
    context = {
        "state": state,
        "survey": survey,
        "shop": survey.shop if survey else None,
        "kind_label": CaseKind(survey.kind).label if survey else "",
        "reasons": REASON_CHOICES,
        "limit": surveys.COMMENT_LIMIT,
        "low_score": surveys.LOW_SCORE,
        **extra,
    }
    response = render(request, "feedback/survey.html", context, status=status)
    # The token is in the address: no other site learns it through the Referer, no search
    # engine keeps the page.
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    response["Cache-Control"] = "no-store"
    return response


def _language(request, survey: Survey | None) -> str:
    """The visitor's chosen language (the switcher), else the customer's."""
    if survey is not None and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
        return survey.customer.language
    return translation.get_language()


@require_http_methods(["GET", "POST"])
def survey_page(request: HttpRequest, token: str) -> HttpResponse:
    survey = surveys.survey_by_token(token)
    with translation.override(_language(request, survey)):
        if survey is None:
            return _survey_page(request, None, "invalid", status=404)
        if survey.state in (SurveyStatus.ANSWERED, SurveyStatus.DECLINED):
            return _survey_page(
                request, survey, "answered", status=409 if request.method == "POST" else 200
            )
        # Past its end the link says so, whether or not the sweep has expired the survey yet.
        if surveys.is_expired(survey, clock.now()):
            return _survey_page(request, survey, "expired", status=410)
        if request.method == "GET":
            return _survey_page(request, survey, "form")
        return _survey_post(request, survey, token)


def _survey_post(request: HttpRequest, survey: Survey, token: str) -> HttpResponse:
    declined = request.POST.get("decline") == "1"
    form = {
        "score": request.POST.get("score", ""),
        "reasons": request.POST.getlist("reasons"),
        "comment": request.POST.get("comment", ""),
    }
    try:
        surveys.survey_answer_by_link(
            token=token,
            score=_score(form["score"]),
            reasons=form["reasons"],
            comment=form["comment"],
            declined=declined,
        )
    except ApplicationError as error:
        if error.code == "survey_answered":
            return _survey_page(request, survey, "answered", status=409)
        if error.code == "survey_expired":
            return _survey_page(request, survey, "expired", status=410)
        return _survey_page(request, survey, "form", status=422, error=str(error.detail), form=form)
    return _survey_page(request, survey, "declined" if declined else "thanks")


# --- the desk's page --------------------------------------------------------------------------


def _percent(value) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _interval(interval, percent: bool) -> str:
    if interval is None:
        return "—"
    low, high = interval
    if percent:
        return f"{low * 100:.0f}–{high * 100:.0f}%"
    return f"{low:.2f}–{high:.2f}"


def _row(figures: dict) -> dict:
    """The figures as the page writes them."""
    return {
        **figures,
        "response_rate_text": _percent(figures.get("response_rate")),
        "mean_text": "—" if figures["mean_score"] is None else f"{figures['mean_score']:.2f}",
        "mean_interval_text": _interval(figures["mean_interval"], percent=False),
        "csat_text": _percent(figures["csat"]),
        "csat_interval_text": _interval(figures["csat_interval"], percent=True),
    }


@staff_required
def satisfaction_page(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    may_view = permitted(principal, surveys.VIEW)
    may_call = permitted(principal, surveys.CALL)
    if not (may_view or may_call):
        return render(
            request,
            "feedback/satisfaction.html",
            {"principal": principal, "shop": None},
            status=403,
        )
    action = surveys.VIEW if may_view else surveys.CALL
    shops = selectors.shops_readable(principal, action)
    code = request.GET.get("shop") or (shops[0].code if shops else "")
    try:
        shop = selectors.shop_for(actor=principal, code=code, action=action)
    except ApplicationError as error:
        messages.error(request, str(error.detail))
        return render(
            request,
            "feedback/satisfaction.html",
            {"principal": principal, "shops": shops, "shop": None},
            status=404,
        )
    month = request.GET.get("month") or None
    context = {"principal": principal, "shops": shops, "shop": shop, "month": month or ""}
    now = clock.now()
    if permitted(principal, surveys.VIEW, shop):
        try:
            results = selectors.survey_results(actor=principal, shop=shop, month=month)
        except InvalidInput as error:
            messages.error(request, str(error.detail))
            results = selectors.survey_results(actor=principal, shop=shop)
            context["month"] = ""
        context["results"] = {
            **results,
            "overall": _row(results["overall"]),
            "by_agent": [_row(row) for row in results["by_agent"]],
            "by_kind": [_row(row) for row in results["by_kind"]],
            "by_reason": [_row(row) for row in results["by_reason"]],
            "portal_ratings": _row(results["portal_ratings"]),
        }
        rounds = selectors.round_list(actor=principal, shop=shop)
        counts = selectors.round_counts(rounds)
        context["rounds"] = [
            {
                "round": row,
                "when": readable_time(row.created_at, shop.timezone),
                "rate_text": f"{row.sample_rate * 100:.1f}%",
                **counts[row.pk],
            }
            for row in rounds
        ]
        context["may_run"] = permitted(principal, surveys.MANAGE, shop)
    if permitted(principal, surveys.CALL, shop):
        context["to_call"] = [
            {"survey": survey, "until": readable_time(survey.deadline_at, shop.timezone)}
            for survey in selectors.surveys_to_call(actor=principal, shop=shop, now=now)
        ]
        context["reasons"] = REASON_CHOICES
        context["may_call"] = True
    return render(request, "feedback/satisfaction.html", context)


def _back(shop_code: str) -> HttpResponse:
    return redirect(f"{reverse('feedback:satisfaction')}?shop={shop_code}")


@require_POST
@staff_required
def round_run(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    code = request.POST.get("shop", "")
    try:
        shop = selectors.shop_for(actor=principal, code=code, action=surveys.MANAGE)
        cooldown = request.POST.get("cooldown_days", "")
        seed = request.POST.get("seed", "").strip()
        if not cooldown.isdigit():
            raise InvalidInput(_("The cooldown is a number of days."), code="invalid_cooldown")
        if seed and not seed.isdigit():
            raise InvalidInput(_("The seed is a whole number."), code="invalid_seed")
        survey_round = surveys.survey_round_run(
            actor=principal,
            shop=shop,
            month=request.POST.get("month", ""),
            rate=request.POST.get("rate", ""),
            cooldown_days=int(cooldown),
            seed=int(seed) if seed else None,
        )
    except ApplicationError as error:
        messages.error(request, str(error.detail))
        return _back(code)
    sampled = survey_round.surveys.count()
    messages.success(
        request,
        _("The survey of %(month)s is out: %(sampled)s of %(population)s customers sampled.")
        % {"month": survey_round.month, "sampled": sampled, "population": survey_round.population},
    )
    return _back(code)


@require_POST
@staff_required
def call_record(request: HttpRequest, survey_id: int) -> HttpResponse:
    principal = request.principal
    shop_code = request.POST.get("shop", "")
    try:
        surveys.survey_answer_call(
            actor=principal,
            survey_id=survey_id,
            score=_score(request.POST.get("score", "")),
            reasons=request.POST.getlist("reasons"),
            comment=request.POST.get("comment", ""),
            declined=request.POST.get("declined") == "1",
        )
    except ApplicationError as error:
        messages.error(request, str(error.detail))
        return _back(shop_code)
    messages.success(request, _("The answers were recorded."))
    return _back(shop_code)
