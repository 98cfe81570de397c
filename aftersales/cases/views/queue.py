"""The desk's queue (``/desk/``): tabs by state group with their counts, filters, sorting, the
staff's saved views, keyboard shortcuts (``aftersales/shortcuts.js``) and the CSV export of the
view on screen. Thin: the reads are ``cases.queue``'s, the same as the API's."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aftersales.cases import queue, selectors, wording
from aftersales.cases.choices import CaseKind, CaseState, FlagColor, Reason
from aftersales.cases.moves.platform import platform_label, stores_for
from aftersales.cases.views.common import deadline_of
from aftersales.cases.views.desk import staff_required
from aftersales.catalog.models import Shop
from aftersales.core import clock
from aftersales.core.errors import ApplicationError
from aftersales.core.exports import csv_response
from aftersales.sla import selectors as sla_selectors

PAGE = 50


def _link(chosen: dict, **changes) -> str:
    query = queue.query_of({**chosen, **changes})
    return f"?{urlencode(query, doseq=True)}" if query else "?"


@staff_required
def queue_page(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    view = queue.queue_parameters(request.GET, principal)
    try:
        rows, next_cursor = queue.queue_page(
            actor=principal, view=view, cursor=request.GET.get("cursor"), limit=PAGE
        )
    except ApplicationError as error:
        messages.error(request, str(error.detail))
        rows, next_cursor = [], None
    extras = selectors.queue_extras([row["id"] for row in rows])
    # The caller's shops, once: the filter's choices and each row's time zone.
    shops = Shop.objects.order_by("code")
    if principal.shop_ids is not None:
        shops = shops.filter(id__in=principal.shop_ids)
    shop_rows = list(shops.values_list("code", "name", "timezone"))
    zones = {code: zone for code, _name, zone in shop_rows}
    for row in rows:
        row.update(extras.get(row["id"], {}))
        row["deadline"] = deadline_of(
            row["deadline_at"], row["deadline_action"], zones.get(row["shop__code"], "UTC")
        )
        row["state_label"] = wording.state_label(row["state"], row["kind"])
        row["kind_label"] = CaseKind(row["kind"]).label
        row["reason_label"] = Reason(row["reason"]).label
        # A marketplace's request: its platform's badge, and whose countdown the deadline is.
        row["platform_name"] = platform_label(row["platform"]) if row["platform"] else ""
    clocks = sla_selectors.badges("case", [row["id"] for row in rows])
    for row in rows:
        # The clocks still to meet (met ones need no attention on a queue).
        row["sla"] = [badge for badge in clocks.get(row["id"], []) if badge.state != "met"]
    counts = queue.tab_counts(actor=principal, view=view)
    chosen = view.chosen
    query = queue.query_of(chosen)
    context = {
        "rows": rows,
        "next_url": _link(chosen) + "&" + urlencode({"cursor": next_cursor}) if next_cursor else "",
        "chosen": chosen,
        "tabs": [
            {
                "code": tab.code,
                "label": tab.label,
                "count": counts[tab.code],
                "url": _link(chosen, tab=tab.code),
                "active": tab.code == view.tab,
            }
            for tab in queue.TABS
        ],
        "sorts": [(code, queue.SORT_LABELS[code]) for code in queue.SORTS],
        "saved_views": [
            {"view": saved, "url": f"?{urlencode(saved.query, doseq=True)}"}
            for saved in queue.saved_views_for(principal)
        ],
        "query": urlencode(query, doseq=True),
        "states": CaseState.choices,
        "kinds": CaseKind.choices,
        "reasons": Reason.choices,
        "shops": [(code, name) for code, name, _zone in shop_rows],
        "stores": stores_for(principal.shop_ids),
        "flag_colors": FlagColor.choices,
        "sla_choices": sla_selectors.filter_choices(),
        "principal": principal,
    }
    template = (
        "desk/_rows.html" if request.htmx and request.htmx.target == "rows" else "desk/queue.html"
    )
    return render(request, template, context)


@staff_required
def queue_export(request: HttpRequest) -> HttpResponse:
    """The view on screen as a CSV file: the same tab, filters and order, every page."""
    principal = request.principal
    header, rows = queue.export_table(
        actor=principal, view=queue.queue_parameters(request.GET, principal)
    )
    stamp = clock.now().strftime("%Y%m%d-%H%M")
    return csv_response(filename=f"cases-{stamp}.csv", header=header, rows=rows)


@require_POST
@staff_required
def saved_view_create(request: HttpRequest) -> HttpResponse:
    """Save the view on screen (its parameters come with the form) under a name."""
    principal = request.principal
    parameters = {
        name: request.POST.getlist(name) if name == "state" else request.POST.get(name, "")
        for name in queue.QUEUE_PARAMETERS
        if name in request.POST
    }
    try:
        saved = queue.saved_view_create(
            actor=principal, name=request.POST.get("name", ""), query=parameters
        )
    except ApplicationError as error:
        messages.error(request, str(error.detail))
        return redirect(f"{reverse('desk:queue')}?{urlencode(parameters, doseq=True)}")
    messages.success(request, _("View “%(name)s” saved.") % {"name": saved.name})
    return redirect(f"{reverse('desk:queue')}?{urlencode(saved.query, doseq=True)}")


@require_POST
@staff_required
def saved_view_delete(request: HttpRequest, view_id: int) -> HttpResponse:
    try:
        queue.saved_view_delete(actor=request.principal, view_id=view_id)
    except ApplicationError as error:
        messages.error(request, str(error.detail))
    return redirect("desk:queue")
