"""The desk's customer pages: the list with its search, a customer's profile (with the
preferences form), and the retention queue with its "contacted" and "dismissed" actions. Thin:
the services write, the selectors read; a refusal is a message in words, never a 500."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aftersales.cases.views.desk import staff_required
from aftersales.catalog.models import CustomerLanguage, Shop
from aftersales.core.errors import ApplicationError, InvalidInput
from aftersales.core.permissions import permitted, shops_permitted
from aftersales.core.timeline import readable_time
from aftersales.crm import access, profiles, retention
from aftersales.crm.models import Gesture, RetentionReason


def _refused(request: HttpRequest, template: str) -> HttpResponse:
    return render(request, template, {"principal": request.principal, "refused": True}, status=403)


def _shops(principal, action: str) -> list[Shop]:
    permitted_shops = shops_permitted(principal, action)
    shops = Shop.objects.order_by("code")
    return list(shops if permitted_shops is None else shops.filter(id__in=permitted_shops))


@staff_required
def customer_list(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    if not permitted(principal, access.VIEW):
        return _refused(request, "crm/customers.html")
    shops = _shops(principal, access.VIEW)
    code = request.GET.get("shop", "")
    shop = next((s for s in shops if s.code == code), None)
    query = request.GET.get("q", "")[:100]
    rows = profiles.customer_search(actor=principal, query=query, shop_id=shop.pk if shop else None)
    context = {"principal": principal, "shops": shops, "shop": shop, "q": query, "rows": rows}
    return render(request, "crm/customers.html", context)


def _when(moment: dt.datetime | None, timezone: str) -> str:
    return readable_time(moment, timezone) if moment else "—"


@staff_required
def customer_page(request: HttpRequest, customer_id: int) -> HttpResponse:
    principal = request.principal
    if not permitted(principal, access.VIEW):
        return _refused(request, "crm/customer.html")
    try:
        profile = profiles.customer_profile(actor=principal, customer_id=customer_id)
    except ApplicationError as error:
        messages.error(request, str(error.detail))
        return render(request, "crm/customer.html", {"principal": principal}, status=404)
    zone = profile["shop_timezone"]
    for section, field in (
        ("orders", "paid_at"),
        ("cases", "opened_at"),
        ("complaints", "filed_at"),
        ("contacts", "at"),
        ("ratings", "at"),
        ("surveys", "at"),
        ("retention", "created_at"),
    ):
        for row in profile[section]:
            row["when"] = _when(row[field], zone)
    for row in profile["retention"]:
        row["gesture_label"] = Gesture(row["gesture"]).label
    profile["classification"]["tier_until_text"] = _when(
        profile["classification"]["tier_until"], zone
    )
    context = {
        "principal": principal,
        "profile": profile,
        "customer_languages": CustomerLanguage.choices,
        "may_manage": permitted(principal, access.MANAGE, profile["shop_id"]),
    }
    return render(request, "crm/customer.html", context)


def _checked(request: HttpRequest, name: str) -> bool:
    return request.POST.get(name) == "1"


@require_POST
@staff_required
def preferences_save(request: HttpRequest, customer_id: int) -> HttpResponse:
    principal = request.principal
    raw_birthday = request.POST.get("birthday", "").strip()
    try:
        try:
            birthday = dt.date.fromisoformat(raw_birthday) if raw_birthday else None
        except ValueError as error:
            raise InvalidInput(
                _("Write the birthday as year-month-day."), code="invalid_birthday"
            ) from error
        profiles.preferences_update(
            actor=principal,
            customer_id=customer_id,
            email_opt_out=_checked(request, "email_opt_out"),
            sms_opt_out=_checked(request, "sms_opt_out"),
            care_opt_out=_checked(request, "care_opt_out"),
            language=request.POST.get("language") or None,
            birthday=birthday,
            clear_birthday=birthday is None,
        )
    except ApplicationError as error:
        messages.error(request, str(error.detail))
    else:
        messages.success(request, _("The preferences were saved."))
    return redirect("crm:customer", customer_id=customer_id)


@staff_required
def retention_page(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    if not permitted(principal, access.MANAGE):
        return _refused(request, "crm/retention.html")
    shops = _shops(principal, access.MANAGE)
    code = request.GET.get("shop") or (shops[0].code if shops else "")
    shop = next((s for s in shops if s.code == code), None)
    if shop is None:
        messages.error(request, _("No shop %(code)s.") % {"code": code})
        return render(
            request, "crm/retention.html", {"principal": principal, "shops": shops}, status=404
        )
    items = retention.retention_list(actor=principal, shop=shop)
    rows = [
        {
            "item": item,
            "contact": access.contact_of(principal, item.customer),
            "reasons": [RetentionReason(r).label for r in item.reasons],
            "gesture": Gesture(item.gesture).label,
            "when": readable_time(item.created_at, shop.timezone),
        }
        for item in items
    ]
    context = {"principal": principal, "shops": shops, "shop": shop, "rows": rows}
    return render(request, "crm/retention.html", context)


@require_POST
@staff_required
def retention_resolve(request: HttpRequest, item_id: int) -> HttpResponse:
    principal = request.principal
    code = request.POST.get("shop", "")
    try:
        retention.retention_resolve(
            actor=principal,
            item_id=item_id,
            outcome=request.POST.get("outcome", ""),
            note=request.POST.get("note", ""),
        )
    except ApplicationError as error:
        messages.error(request, str(error.detail))
    else:
        messages.success(request, _("The item was handled."))
    return redirect(f"{reverse('crm:retention')}?shop={code}")
