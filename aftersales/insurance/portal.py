"""The buyer's shipping insurance in the portal (``/insurance/orders/<order id>/``): the quote
with its premium and its calculation in words, how long it stays valid (a countdown), the
buttons the matrix allows (get a quote, quote again, insure), and the order's return cases with
their claims (the payout and the cap) and a claim form where the buyer may claim. Thin: reads are
the selectors, writes the services (the kernel's gate); a refused form answers 422 with its
message in place and changes nothing. Another buyer's order is a 404."""

from __future__ import annotations

from collections.abc import Mapping

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aftersales.cases import wording as case_wording
from aftersales.cases.choices import CaseKind
from aftersales.cases.views.common import deadline_of, form_error
from aftersales.cases.views.portal import customer_required
from aftersales.core import clock, forms
from aftersales.core.errors import ApplicationError, NotFound
from aftersales.core.permissions import permitted
from aftersales.core.timeline import readable_time
from aftersales.insurance import selectors, services
from aftersales.insurance.choices import CoverAction, CoverState
from aftersales.insurance.lifecycle import COVERS
from aftersales.insurance.moves import payout_cap
from aftersales.insurance.timeline import cover_entries
from aftersales.insurance.wording import calculation_lines, payout_words, quote_consequence

# The buyer's actions on this page (the shop's real postage is the desk's).
PORTAL_ACTIONS = frozenset(
    {CoverAction.QUOTE, CoverAction.REQUOTE, CoverAction.INSURE, CoverAction.CLAIM}
)


def _claim_fields(cover, posted: Mapping) -> list[forms.Field]:
    """The claim's form without its case (each return case has its own form)."""
    fields = [
        field
        for field in forms.action_fields(COVERS, CoverAction.CLAIM, cover)
        if field.name != "case_number"
    ]
    for field in fields:
        field.initial = posted.get(field.name, "")
    return fields


def _case_rows(cases, cover, *, may_claim: bool, form_errors: Mapping, posted: Mapping):
    insured = cover is not None and cover.state == CoverState.INSURED
    claims = {claim.case_id: claim for claim in cover.claims.all()} if cover else {}
    currency = cover.shop.currency if cover else ""
    rows = []
    for case in cases:
        claim = claims.get(case.id)
        error = form_errors.get(f"{CoverAction.CLAIM}:{case.number}")
        claimable = insured and may_claim and claim is None and case.return_shipped_at is not None
        fields = _claim_fields(cover, posted if error else {}) if claimable else []
        if error:
            error = {**error, "field_shown": error.get("field") in {f.name for f in fields}}
        rows.append(
            {
                "case": case,
                "kind_label": CaseKind(case.kind).label,
                "state_label": case_wording.state_label(case.state, case.kind),
                "claim": claim,
                "payout": payout_words(claim, currency) if claim else "",
                "claimed": readable_time(claim.created_at, cover.shop.timezone) if claim else "",
                "claimable": claimable,
                "not_shipped": insured and claim is None and case.return_shipped_at is None,
                "fields": fields,
                "error": error,
            }
        )
    return rows


def _unplaced_errors(form_errors: Mapping, rows: list[dict]) -> list[dict]:
    """The refusals no claim form shows: the cover's buttons', or a claim whose form is gone."""
    placed = {f"{CoverAction.CLAIM}:{row['case'].number}" for row in rows if row["claimable"]}
    return [error for key, error in form_errors.items() if key not in placed]


def _context(request: HttpRequest, order_id: int, form_errors: Mapping, posted: Mapping) -> dict:
    principal = request.principal
    order = selectors.order_for(actor=principal, order_id=order_id)
    cover = selectors.cover_or_none(actor=principal, order=order)
    offered = selectors.insurance_offered(order.shop)
    timezone = order.shop.timezone
    available = COVERS.available(cover, principal.role_in(order.shop_id)) if cover else []
    lapsed = cover is not None and selectors.cover_lapsed(cover, clock.now())
    due = None
    if cover is not None and cover.state == CoverState.QUOTED and not lapsed:
        due = deadline_of(cover.deadline_at, cover.deadline_action, timezone)
    rows = _case_rows(
        selectors.return_cases_of_order(actor=principal, order=order),
        cover,
        may_claim=CoverAction.CLAIM in available,
        form_errors=form_errors,
        posted=posted,
    )
    return {
        "order": order,
        "cover": cover,
        "offered": offered,
        "state_label": CoverState(cover.state).label if cover else "",
        "lapsed": lapsed,
        "due": due,
        "consequence": quote_consequence(due.local) if due else "",
        "calculation": calculation_lines(cover) if cover else [],
        "quoted": readable_time(cover.quoted_at, timezone) if cover else "",
        "insured": readable_time(cover.insured_at, timezone) if cover and cover.insured_at else "",
        "payout_cap": payout_cap(cover.policy) if cover else None,
        "can_quote": cover is None
        and offered
        and permitted(principal, f"insurance_cover.{CoverAction.QUOTE}", order),
        "can_requote": offered and CoverAction.REQUOTE in available,
        "can_insure": offered and not lapsed and CoverAction.INSURE in available,
        "cases": rows,
        "action_errors": _unplaced_errors(form_errors, rows),
        "timeline": [
            {"entry": entry, "at": readable_time(entry.at, timezone)}
            for entry in cover_entries(principal, cover.events.all())
        ]
        if cover
        else [],
    }


def _page(request, order_id, form_errors=None, status=200, posted=None) -> HttpResponse:
    return render(
        request,
        "insurance/portal/order.html",
        _context(request, order_id, form_errors or {}, posted or {}),
        status=status,
    )


@customer_required
def order_page(request: HttpRequest, order_id: int) -> HttpResponse:
    return _page(request, order_id)


@require_POST
@customer_required
def order_act(request: HttpRequest, order_id: int, action: str) -> HttpResponse:
    """Take one of the buyer's actions with the posted form; a refusal shows in place."""
    if action not in PORTAL_ACTIONS:
        raise NotFound(_("Unknown action."), code="unknown_action")
    principal = request.principal
    order = selectors.order_for(actor=principal, order_id=order_id)
    key = str(action)
    try:
        if action in (CoverAction.QUOTE, CoverAction.REQUOTE):
            cover = services.cover_quote(actor=principal, order_id=order.pk)
            done = _("Quoted: %(premium)s %(currency)s.") % {
                "premium": cover.premium,
                "currency": order.shop.currency,
            }
        elif action == CoverAction.INSURE:
            services.cover_transition(actor=principal, order_id=order.pk, action=action)
            done = _("Insured: this order's return shipping is covered.")
        else:
            data = forms.action_data(COVERS, action, order, request.POST)
            key = f"{action}:{data.get('case_number', '')}"
            services.cover_transition(actor=principal, order_id=order.pk, action=action, data=data)
            done = _("Your claim is paid; the payout is shown with its case.")
    except ApplicationError as error:
        return _page(request, order.pk, {key: form_error(error)}, status=422, posted=request.POST)
    messages.success(request, done)
    return redirect("insurance_portal:order", order_id=order.pk)
