"""The desk's page of membership tiers: the shop's tiers for whoever reads the customers; for
those who define them (``tier.manage``), the form that adds or changes one (the API's fields,
checked by the same input, each error beside its field) and delete after a confirmation. Thin:
``crm.classification`` writes and reads; a refusal is a message in words, never a 500."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from aftersales.cases.views.desk import staff_required
from aftersales.catalog.models import Shop
from aftersales.core.errors import ApplicationError, NotFound
from aftersales.core.permissions import permitted
from aftersales.crm import access, classification
from aftersales.crm.api import TierIn
from aftersales.crm.care_views import (
    ALL,
    refusal_errors,
    refused_page,
    shop_chosen,
    shops_for,
    validated,
)
from aftersales.crm.models import MembershipTier

TIER_NUMBERS = ("rank", "min_orders", "window_days", "validity_days")


def _posted_tier(request: HttpRequest) -> tuple[dict, dict[str, str]]:
    post = request.POST
    errors: dict[str, str] = {}
    values: dict = {
        "name": post.get("name", "").strip(),
        "min_spend": post.get("min_spend", "").strip() or "0",
        "benefits": post.get("benefits", "").strip(),
    }
    for name in TIER_NUMBERS:
        raw = post.get(name, "").strip()
        try:
            values[name] = int(raw)
        except ValueError:
            values[name] = raw
            errors[name] = _("Write a whole number.")
    return values, errors


def _tiers_page(request, *, shops, shop, values=None, errors=None, editing=None, status=200):
    principal = request.principal
    tiers = classification.tier_list(actor=principal, shop=shop)
    rows = [
        {
            "tier": tier,
            "spend": f"{tier.min_spend} {shop.currency}",
        }
        for tier in tiers
    ]
    context = {
        "principal": principal,
        "shops": shops,
        "shop": shop,
        "rows": rows,
        "may_manage": permitted(principal, access.TIERS, shop),
        "values": values
        or {"min_spend": "0.00", "min_orders": 0, "window_days": 365, "validity_days": 365},
        "errors": errors or {},
        "form_error": (errors or {}).get(ALL, ""),
        "editing": editing,
    }
    return render(request, "crm/tiers.html", context, status=status)


@staff_required
def tiers_page(request: HttpRequest) -> HttpResponse:
    """The shop's tiers; for those who define them, the form that adds one."""
    principal = request.principal
    if not permitted(principal, access.VIEW):
        return refused_page(request, "crm/tiers.html")
    shops = shops_for(principal, access.VIEW)
    shop, refusal = shop_chosen(request, shops, "crm/tiers.html")
    if refusal:
        return refusal
    return _tiers_page(request, shops=shops, shop=shop)


def _tier_of(principal, shop: Shop, tier_id: int) -> MembershipTier:
    tier = next(
        (t for t in classification.tier_list(actor=principal, shop=shop) if t.pk == tier_id), None
    )
    if tier is None:
        raise NotFound(_("No such tier."), code="tier_not_found")
    return tier


@staff_required
def tier_save(request: HttpRequest, tier_id: int | None = None) -> HttpResponse:
    """Add a tier (``tier_id`` none) or change one: GET shows the form filled in, POST saves."""
    principal = request.principal
    if not permitted(principal, access.TIERS):
        return refused_page(request, "crm/tiers.html")
    shops = shops_for(principal, access.TIERS)
    shop, refusal = shop_chosen(request, shops, "crm/tiers.html")
    if refusal:
        return refusal
    editing = _tier_of(principal, shop, tier_id) if tier_id else None
    if request.method != "POST":
        if editing is None:
            return redirect(f"{reverse('crm:tiers')}?shop={shop.code}")
        values = {name: getattr(editing, name) for name in TierIn.model_fields}
        return _tiers_page(request, shops=shops, shop=shop, values=values, editing=editing)
    values, errors = _posted_tier(request)
    fields, input_errors = validated(TierIn, values)
    errors = {**input_errors, **errors}
    if not errors:
        try:
            if editing is None:
                tier = classification.tier_create(actor=principal, shop=shop, **fields)
            else:
                tier = classification.tier_update(
                    actor=principal, shop=shop, tier_id=editing.pk, **fields
                )
        except ApplicationError as error:
            errors = refusal_errors(error)
        else:
            messages.success(request, _("The tier %(name)s was saved.") % {"name": tier.name})
            return redirect(f"{reverse('crm:tiers')}?shop={shop.code}")
    return _tiers_page(
        request, shops=shops, shop=shop, values=values, errors=errors, editing=editing, status=422
    )


@staff_required
def tier_delete(request: HttpRequest, tier_id: int) -> HttpResponse:
    """Ask first (the page), then remove on the confirmation's POST."""
    principal = request.principal
    if not permitted(principal, access.TIERS):
        return refused_page(request, "crm/tiers.html")
    shops = shops_for(principal, access.TIERS)
    shop, refusal = shop_chosen(request, shops, "crm/tiers.html")
    if refusal:
        return refusal
    tier = _tier_of(principal, shop, tier_id)
    if request.method != "POST":
        context = {"principal": principal, "shop": shop, "tier": tier}
        return render(request, "crm/tier_delete.html", context)
    classification.tier_delete(actor=principal, shop=shop, tier_id=tier.pk)
    messages.success(request, _("The tier %(name)s was deleted.") % {"name": tier.name})
    return redirect(f"{reverse('crm:tiers')}?shop={shop.code}")
