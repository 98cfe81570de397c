"""The desk's KPI pages: the dashboard (filters, headline, trend and group charts, the table of
every figure), the cases behind any number, and the exports. Thin: ``dashboards`` reads and
writes the figures for people, ``exports`` builds and logs the files; a refusal is a message in
words on the page (never a 500), a role without ``insights.view`` gets a 403 page."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from aftersales.cases.views.desk import staff_required
from aftersales.catalog import selectors as catalog
from aftersales.core.errors import ApplicationError
from aftersales.core.permissions import permitted, shops_permitted
from aftersales.insights import dashboards, drill_pages, exports, selectors


def _refused(request: HttpRequest, template: str) -> HttpResponse | None:
    if permitted(request.principal, selectors.PERMISSION):
        return None
    return render(request, template, {"principal": request.principal, "refused": True}, status=403)


def _shops(principal):
    shops = catalog.shops_for(principal).order_by("code")
    readable = shops_permitted(principal, selectors.PERMISSION)
    return list(shops if readable is None else shops.filter(pk__in=readable))


@require_GET
@staff_required
def dashboard_page(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    refused = _refused(request, "insights/dashboard.html")
    if refused is not None:
        return refused
    context = {
        "principal": principal,
        "shops": _shops(principal),
        "groups": [(key, str(label)) for key, label in dashboards.GROUP_LABELS.items()],
        "form": {name: request.GET.get(name, "") for name in ("shop", "since", "until")},
    }
    try:
        report = dashboards.report_from(principal, request.GET)
        context.update(dashboards.dashboard(principal, report))
    except ApplicationError as error:
        messages.error(request, str(error.detail))
        context["form"]["group_by"] = "shop"
        return render(request, "insights/dashboard.html", context, status=error.status)
    context.update(
        {
            "report": report,
            "form": {
                "shop": report.shop.code if report.shop else "",
                "since": report.since.isoformat(),
                "until": report.until.isoformat(),
                "group_by": report.group_by,
            },
            "group_label": dashboards.GROUP_LABELS[report.group_by],
            "period": (dashboards.day_text(report.since), dashboards.day_text(report.until)),
            "export_urls": {
                file_format: f"{reverse('insights:export', args=[file_format])}?"
                f"{urlencode(report.query())}"
                for file_format in exports.FORMATS
            },
        }
    )
    return render(request, "insights/dashboard.html", context)


@require_GET
@staff_required
def cases_page(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    refused = _refused(request, "insights/cases.html")
    if refused is not None:
        return refused
    try:
        context = drill_pages.drill_page(principal, request.GET)
    except ApplicationError as error:
        messages.error(request, str(error.detail))
        return render(request, "insights/cases.html", {"principal": principal}, status=error.status)
    context["principal"] = principal
    context["period"] = (
        dashboards.day_text(context["report"].since),
        dashboards.day_text(context["report"].until),
    )
    return render(request, "insights/cases.html", context)


@require_GET
@staff_required
def export(request: HttpRequest, file_format: str) -> HttpResponse:
    """The cases behind the dashboard's filter (or behind one of its numbers), one row each, as
    CSV or XLSX (logged with the filter)."""
    principal = request.principal
    refused = _refused(request, "insights/dashboard.html")
    if refused is not None:
        return refused
    try:
        report = dashboards.report_from(principal, request.GET)
        measure, filters = drill_pages.export_filters(request.GET)
        return exports.export_response(
            actor=principal,
            report=report,
            file_format=file_format,
            via="page",
            measure=measure,
            filters=filters,
        )
    except ApplicationError as error:
        messages.error(request, str(error.detail))
        context = {
            "principal": principal,
            "shops": _shops(principal),
            "groups": [(key, str(label)) for key, label in dashboards.GROUP_LABELS.items()],
            "form": {name: request.GET.get(name, "") for name in ("shop", "since", "until")},
        }
        return render(request, "insights/dashboard.html", context, status=error.status)
