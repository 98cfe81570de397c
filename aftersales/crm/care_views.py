"""The desk's pages of care campaigns: a shop's campaigns with what they sent, the form that
creates or changes one (the API's fields, checked by the same input and the same service, each
error beside its field), pause and resume, delete after a confirmation, a campaign's sends with
how each channel went. Thin: ``crm.care`` writes and reads; a refusal is a message in words,
never a 500. The helpers of the forms serve the tiers' page too (``crm.tier_views``)."""

from __future__ import annotations

from math import ceil

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST
from pydantic import BaseModel, ValidationError

from aftersales.cases.views.desk import staff_required
from aftersales.catalog.models import Shop
from aftersales.core.errors import ApplicationError, InvalidInput, NotFound
from aftersales.core.forms import choices_of
from aftersales.core.permissions import permitted, shops_permitted
from aftersales.core.timeline import readable_time
from aftersales.crm import care, care_selectors, classification
from aftersales.crm.care_api import CampaignIn, CampaignPatch
from aftersales.crm.models import CareCampaign, CareKind, Segment
from aftersales.notify.models import Channel, DeliveryStatus

PAGE_SIZE = 50
# The reasons a delivery records when nothing went out (``Delivery.last_error``), in words.
NOT_SENT_REASONS = {
    care.OPTED_OUT_BY_EMAIL: gettext_lazy("The customer opted out of care messages by e-mail."),
    care.OPTED_OUT_BY_SMS: gettext_lazy("The customer opted out of care messages by text message."),
    "no e-mail address": gettext_lazy("The customer has no e-mail address."),
    "no phone number": gettext_lazy("The customer has no phone number."),
}
ALL = "__all__"  # an error of the whole form, shown above it


# --- shared ----------------------------------------------------------------------------------


def refused_page(request: HttpRequest, template: str) -> HttpResponse:
    return render(request, template, {"principal": request.principal, "refused": True}, status=403)


def shops_for(principal, action: str) -> list[Shop]:
    permitted_shops = shops_permitted(principal, action)
    shops = Shop.objects.order_by("code")
    return list(shops if permitted_shops is None else shops.filter(id__in=permitted_shops))


def shop_chosen(request: HttpRequest, shops: list[Shop], template: str):
    """The shop of ``?shop=`` (the first by default), or the page saying there is none."""
    code = request.GET.get("shop") or request.POST.get("shop") or (shops[0].code if shops else "")
    shop = next((s for s in shops if s.code == code), None)
    if shop is None:
        messages.error(request, _("No shop %(code)s.") % {"code": code})
        context = {"principal": request.principal, "shops": shops}
        return None, render(request, template, context, status=404)
    return shop, None


def _input_errors(error: ValidationError, schema: type[BaseModel]) -> dict[str, str]:
    """The input's problems in words, one per field (the first)."""
    errors: dict[str, str] = {}
    for problem in error.errors():
        location = problem.get("loc") or ()
        field = str(location[0]) if location else ALL
        if field in errors:
            continue
        kind, context = problem["type"], problem.get("ctx") or {}
        if kind in ("missing", "string_too_short"):
            text = _("Fill this in.")
        elif kind == "string_too_long":
            limit = context.get("max_length", 0)
            text = ngettext(
                "Write at most %(limit)s character.", "Write at most %(limit)s characters.", limit
            ) % {"limit": limit}
        elif field in ("send_on",):
            text = _("Write the date as year-month-day.")
        elif field == "days":
            text = _("Choose a number of days from %(low)s to %(high)s.") % {
                "low": 0,
                "high": care.DAYS_MAX,
            }
        elif field == "kind":
            text = _("Unknown kind of care.")
        elif field == "segments":
            text = _("Unknown customer class.")
        elif field == "tier_ids":
            text = _("No such tier in this shop.")
        elif field in ("min_spend",):
            text = _("Write an amount of 0 or more, such as 12.50.")
        else:
            text = _("Write a whole number from %(low)s to %(high)s.") % _bounds(schema, field)
        errors[field] = text
    return errors


def _bounds(schema: type[BaseModel], field: str) -> dict:
    """The least and the greatest number the input's field takes."""
    bounds = {"low": 0, "high": 0}
    info = schema.model_fields.get(field)
    for rule in info.metadata if info is not None else ():
        bounds["low"] = getattr(rule, "ge", bounds["low"])
        bounds["high"] = getattr(rule, "le", bounds["high"])
    return bounds


def refusal_errors(error: ApplicationError) -> dict[str, str]:
    return {str(error.extra.get("field") or ALL): str(error.detail)}


def validated(schema: type[BaseModel], values: dict) -> tuple[dict, dict[str, str]]:
    try:
        return schema.model_validate(values).model_dump(exclude_unset=True), {}
    except ValidationError as error:
        return {}, _input_errors(error, schema)


# --- the campaigns ---------------------------------------------------------------------------


def schedule_words(campaign: CareCampaign) -> str:
    days = campaign.days or 0
    if campaign.kind in care.DATED:
        day = campaign.send_on.isoformat() if campaign.send_on else "—"
        return _("On %(day)s") % {"day": day}
    if campaign.kind == CareKind.BIRTHDAY:
        if days == 0:
            return _("On the birthday")
        return ngettext(
            "%(days)s day before the birthday", "%(days)s days before the birthday", days
        ) % {"days": days}
    if campaign.kind == CareKind.AFTER_USE:
        return ngettext(
            "%(days)s day after an order was signed for",
            "%(days)s days after an order was signed for",
            days,
        ) % {"days": days}
    return ngettext(
        "%(days)s day after the last paid order", "%(days)s days after the last paid order", days
    ) % {"days": days}


def audience_words(campaign: CareCampaign, tiers: dict[int, str]) -> list[str]:
    words = []
    if campaign.tier_ids:
        names = ", ".join(tiers.get(tier_id, "—") for tier_id in campaign.tier_ids)
        words.append(_("Tiers: %(names)s") % {"names": names})
    if campaign.segments:
        labels = ", ".join(str(Segment(segment).label) for segment in campaign.segments)
        words.append(_("Classes: %(names)s") % {"names": labels})
    return words or [_("Every customer")]


def _channel_words(kind: str) -> str:
    return " · ".join(
        str(Channel(channel).label) for channel in care_selectors.campaign_channels(kind)
    )


@staff_required
def care_list(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    if not permitted(principal, care.MANAGE):
        return refused_page(request, "crm/care_list.html")
    shops = shops_for(principal, care.MANAGE)
    shop, refusal = shop_chosen(request, shops, "crm/care_list.html")
    if refusal:
        return refusal
    campaigns = care.campaigns_of(actor=principal, shop=shop)
    tallies = care_selectors.campaign_tallies([campaign.pk for campaign in campaigns])
    tiers = {tier.pk: tier.name for tier in classification.tier_list(actor=principal, shop=shop)}
    rows = [
        {
            "campaign": campaign,
            "kind": CareKind(campaign.kind).label,
            "audience": audience_words(campaign, tiers),
            "schedule": schedule_words(campaign),
            "channels": _channel_words(campaign.kind),
            "tally": tallies[campaign.pk],
            "updated": readable_time(campaign.updated_at, shop.timezone),
        }
        for campaign in campaigns
    ]
    context = {"principal": principal, "shops": shops, "shop": shop, "rows": rows}
    return render(request, "crm/care_list.html", context)


def _posted_campaign(request: HttpRequest, kind: str) -> tuple[dict, dict[str, str]]:
    """The form's values as the API takes them, and the errors of those that are not even
    numbers or ids."""
    post = request.POST
    errors: dict[str, str] = {}
    tier_ids = []
    for raw in post.getlist("tier_ids"):
        if raw.isdigit():
            tier_ids.append(int(raw))
        else:
            errors["tier_ids"] = _("No such tier in this shop.")
    values = {
        "name": post.get("name", ""),
        "subject": post.get("subject", ""),
        "body": post.get("body", ""),
        "tier_ids": tier_ids,
        "segments": post.getlist("segments"),
        "days": None,
        "send_on": post.get("send_on", "").strip() or None,
        "is_active": post.get("is_active") == "1",
    }
    days = post.get("days", "").strip()
    if kind not in care.DATED and days:
        try:
            values["days"] = int(days)
        except ValueError:
            errors["days"] = _("Write the number of days as a whole number.")
    if kind in care.DATED:
        values["days"] = None
    else:
        values["send_on"] = None
    return values, errors


def _form_page(request, *, shop: Shop, campaign=None, values=None, errors=None, status=200):
    principal = request.principal
    tiers = classification.tier_list(actor=principal, shop=shop)
    if values is None:
        source = campaign
        values = {
            "kind": source.kind if source else CareKind.BIRTHDAY,
            "name": source.name if source else "",
            "subject": source.subject if source else "",
            "body": source.body if source else "",
            "tier_ids": source.tier_ids if source else [],
            "segments": source.segments if source else [],
            "days": source.days if source else None,
            "send_on": source.send_on.isoformat() if source and source.send_on else None,
            "is_active": source.is_active if source else True,
        }
    context = {
        "principal": principal,
        "shop": shop,
        "campaign": campaign,
        "values": values,
        "errors": errors or {},
        "form_error": (errors or {}).get(ALL, ""),
        "kinds": choices_of(CareKind),
        "kind_label": CareKind(campaign.kind).label if campaign else "",
        "segments": choices_of(Segment),
        "tiers": tiers,
        "birthday_days_max": care.BIRTHDAY_DAYS_MAX,
        "days_max": care.DAYS_MAX,
    }
    return render(request, "crm/care_form.html", context, status=status)


@staff_required
def care_new(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    if not permitted(principal, care.MANAGE):
        return refused_page(request, "crm/care_form.html")
    shop, refusal = shop_chosen(request, shops_for(principal, care.MANAGE), "crm/care_form.html")
    if refusal:
        return refusal
    if request.method != "POST":
        return _form_page(request, shop=shop)
    kind = request.POST.get("kind", "")
    values, errors = _posted_campaign(request, kind)
    fields, input_errors = validated(CampaignIn, {**values, "kind": kind})
    errors = {**input_errors, **errors}
    if not errors:
        try:
            campaign = care.campaign_create(actor=principal, shop=shop, fields=fields)
        except InvalidInput as error:
            errors = refusal_errors(error)
        else:
            messages.success(
                request, _("The campaign %(name)s was added.") % {"name": campaign.name}
            )
            return redirect(f"{reverse('crm:care')}?shop={shop.code}")
    return _form_page(
        request, shop=shop, values={**values, "kind": kind}, errors=errors, status=422
    )


@staff_required
def care_edit(request: HttpRequest, campaign_id: int) -> HttpResponse:
    principal = request.principal
    if not permitted(principal, care.MANAGE):
        return refused_page(request, "crm/care_form.html")
    campaign = care.campaign_for(actor=principal, campaign_id=campaign_id)
    if request.method != "POST":
        return _form_page(request, shop=campaign.shop, campaign=campaign)
    values, errors = _posted_campaign(request, campaign.kind)
    changes, input_errors = validated(CampaignPatch, values)
    errors = {**input_errors, **errors}
    if not errors:
        try:
            campaign = care.campaign_update(
                actor=principal, campaign_id=campaign.pk, changes=changes
            )
        except InvalidInput as error:
            errors = refusal_errors(error)
        else:
            messages.success(request, _("The campaign was saved."))
            return redirect(f"{reverse('crm:care')}?shop={campaign.shop.code}")
    values["kind"] = campaign.kind
    return _form_page(
        request, shop=campaign.shop, campaign=campaign, values=values, errors=errors, status=422
    )


@require_POST
@staff_required
def care_active(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Pause (``is_active=0``) or resume (``is_active=1``) a campaign."""
    principal = request.principal
    is_active = request.POST.get("is_active") == "1"
    try:
        campaign = care.campaign_update(
            actor=principal, campaign_id=campaign_id, changes={"is_active": is_active}
        )
    except InvalidInput as error:
        # a campaign saved before a rule it now breaks: its form says what to change
        messages.error(request, str(error.detail))
        return redirect("crm:care_edit", campaign_id=campaign_id)
    if is_active:
        messages.success(request, _("The campaign %(name)s runs again.") % {"name": campaign.name})
    else:
        messages.success(request, _("The campaign %(name)s is paused.") % {"name": campaign.name})
    return redirect(f"{reverse('crm:care')}?shop={campaign.shop.code}")


@staff_required
def care_delete(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Ask first (the page), then remove on the confirmation's POST."""
    principal = request.principal
    if not permitted(principal, care.MANAGE):
        return refused_page(request, "crm/care_delete.html")
    campaign = care.campaign_for(actor=principal, campaign_id=campaign_id)
    if request.method != "POST":
        tally = care_selectors.campaign_tallies([campaign.pk])[campaign.pk]
        context = {"principal": principal, "campaign": campaign, "tally": tally}
        return render(request, "crm/care_delete.html", context)
    care.campaign_delete(actor=principal, campaign_id=campaign.pk)
    messages.success(request, _("The campaign %(name)s was deleted.") % {"name": campaign.name})
    return redirect(f"{reverse('crm:care')}?shop={campaign.shop.code}")


def occasion_words(occasion: str, orders: dict[int, str]) -> str:
    kind, _colon, key = occasion.partition(":")
    if kind == CareKind.BIRTHDAY:
        return _("Birthday in %(year)s") % {"year": key}
    if kind in care.DATED:
        return _("On %(day)s") % {"day": key}
    number = orders.get(int(key)) if key.isdigit() else None
    return _("Order %(number)s") % {"number": number or "—"}


def delivery_words(delivery, timezone: str) -> dict:
    """One channel of a send: its label, how it went and, when nothing went out, why."""
    status = delivery.status
    row = {
        "channel": Channel(delivery.channel).label,
        "status": status,
        "status_label": DeliveryStatus(status).label,
        "when": "",
        "reason": "",
    }
    if status == DeliveryStatus.DELIVERED and delivery.delivered_at:
        row["when"] = readable_time(delivery.delivered_at, timezone)
    if status == DeliveryStatus.SKIPPED:
        reason = NOT_SENT_REASONS.get(delivery.last_error)
        row["reason"] = str(reason) if reason else _("Nothing to send it to on this channel.")
    return row


@staff_required
def care_sends(request: HttpRequest, campaign_id: int) -> HttpResponse:
    principal = request.principal
    if not permitted(principal, care.MANAGE):
        return refused_page(request, "crm/care_sends.html")
    campaign = care.campaign_for(actor=principal, campaign_id=campaign_id)
    raw_page = request.GET.get("page", "1")
    page = int(raw_page) if raw_page.isdigit() and 0 < int(raw_page) <= 100000 else 0
    if not page:
        raise NotFound(_("This page of the list does not exist."), code="invalid_page")
    sends, count = care.sends_of(
        actor=principal, campaign_id=campaign.pk, page=page, size=PAGE_SIZE
    )
    pages = max(ceil(count / PAGE_SIZE), 1)
    if page > pages:
        raise NotFound(_("This page of the list does not exist."), code="invalid_page")
    zone = campaign.shop.timezone
    deliveries = care_selectors.sends_deliveries(sends)
    orders = care_selectors.occasion_orders(sends)
    rows = [
        {
            "send": send,
            "customer": send.customer.name or send.customer.external_id,
            "when": readable_time(send.created_at, zone),
            "occasion": occasion_words(send.occasion, orders),
            "channels": [delivery_words(d, zone) for d in deliveries[send.pk]],
        }
        for send in sends
    ]
    base = reverse("crm:care_sends", args=[campaign.pk])
    context = {
        "principal": principal,
        "campaign": campaign,
        "kind_label": CareKind(campaign.kind).label,
        "rows": rows,
        "count": count,
        "page": page,
        "pages": pages,
        "previous_url": f"{base}?page={page - 1}" if page > 1 else "",
        "next_url": f"{base}?page={page + 1}" if page < pages else "",
    }
    return render(request, "crm/care_sends.html", context)
