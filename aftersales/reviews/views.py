"""The pages of reviews. The desk (``/desk/reviews/``): "Reviews to follow up" (the held neutral
and negative reviews with their countdown, the buyer's contact and the order's cases) with the
shop's score, and a review's page with the contact and reply forms drawn from the table. The
portal (``/reviews/order/<id>/``): the buyer rates a signed order, then changes or deletes the
review there. Thin: reads are selectors, writes the services."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aftersales.cases.trade import trade_ended_at
from aftersales.cases.views.common import deadline_of
from aftersales.cases.views.desk import staff_required
from aftersales.cases.views.portal import customer_required
from aftersales.catalog import selectors as catalog_selectors
from aftersales.catalog.models import Shop
from aftersales.core import clock, forms
from aftersales.core.errors import ApplicationError
from aftersales.core.timeline import event_label, readable_time
from aftersales.policy.services import policy_current
from aftersales.reviews import selectors, services
from aftersales.reviews.api import change_ends_at
from aftersales.reviews.choices import Action, Rating, ReviewState
from aftersales.reviews.lifecycle import REVIEWS, available_actions
from aftersales.reviews.moves import check_changeable
from aftersales.reviews.rules import window_end
from aftersales.reviews.timeline import ACTION_LABELS, describe, events_for


def form_error(error: ApplicationError) -> dict:
    return {"detail": str(error.detail), "field": error.extra.get("field")}


def action_forms(review, principal, form_errors: dict | None = None) -> list[dict]:
    """The forms of the actions ``principal`` may take on ``review`` now, from the table."""
    found = []
    now = clock.now()
    for action in available_actions(review, principal.role_in(review.shop_id)):
        if action in (Action.CHANGE, Action.DELETE):
            try:  # a change the shop's rules or the period refuse is not offered
                check_changeable(review, now, deleting=action == Action.DELETE)
            except ApplicationError:
                continue
        fields = forms.action_fields(REVIEWS, action, review)
        if action == Action.CHANGE:
            for field in fields:  # only positive is offered: the only change there is
                if field.name == "rating":
                    field.choices = [(Rating.POSITIVE, str(Rating.POSITIVE.label))]
                    field.initial = Rating.POSITIVE
        error = (form_errors or {}).get(action)
        if error:
            error = {**error, "field_shown": error.get("field") in {f.name for f in fields}}
        found.append(
            {"name": action, "label": Action(action).label, "fields": fields, "error": error}
        )
    return found


def _timeline(review, principal) -> list[dict]:
    if principal.is_staff:
        entries = review.events.all()
    else:
        entries = events_for(principal, review.events.all())
    return [
        {
            "action": entry.action,
            "label": event_label(entry.action, ACTION_LABELS),
            "actor": entry.actor_name if principal.is_staff else entry.actor,
            "at": entry.at,
            "details": describe(entry),
        }
        for entry in entries
    ]


# --- the desk ----------------------------------------------------------------------------------


@staff_required
def followup_list(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    rows = []
    for review in selectors.followup_queue(actor=principal):
        rows.append(
            {
                "review": review,
                "deadline": deadline_of(
                    review.deadline_at, review.deadline_action, review.shop.timezone
                ),
                "rating_label": Rating(review.rating).label if review.rating else "",
                "cases": list(review.order.cases.all()),
            }
        )
    summaries = []
    shop_ids = principal.shop_ids
    shops = Shop.objects.order_by("code")
    if shop_ids is not None:
        shops = shops.filter(id__in=shop_ids)
    for shop in shops[:20]:
        summaries.append(selectors.review_summary(actor=principal, shop=shop.code))
    return render(
        request,
        "reviews/desk/list.html",
        {"rows": rows, "summaries": summaries, "principal": principal},
    )


def _desk_context(request: HttpRequest, number: str, form_errors=None) -> dict:
    principal = request.principal
    review = selectors.review_get(actor=principal, number=number)
    return {
        "review": review,
        "state_label": ReviewState(review.state).label,
        "rating_label": Rating(review.rating).label if review.rating else "",
        "due": deadline_of(review.deadline_at, review.deadline_action, review.shop.timezone),
        "cases": list(review.order.cases.all()),
        "actions": action_forms(review, principal, form_errors),
        "timeline": _timeline(review, principal),
        "principal": principal,
    }


@staff_required
def review_page(request: HttpRequest, number: str) -> HttpResponse:
    return render(request, "reviews/desk/review.html", _desk_context(request, number))


@require_POST
@staff_required
def desk_review_act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    principal = request.principal
    review = selectors.review_get(actor=principal, number=number)
    data = (
        forms.action_data(REVIEWS, action, review, request.POST)
        if action in REVIEWS.actions
        else {}
    )
    try:
        services.review_transition(review_id=review.id, action=action, actor=principal, data=data)
    except ApplicationError as error:
        context = _desk_context(request, number, {action: form_error(error)})
        return render(request, "reviews/desk/review.html", context, status=422)
    return redirect("reviews_desk:review", number=number)


# --- the portal --------------------------------------------------------------------------------


def _portal_context(request: HttpRequest, order_id: int, form_errors=None) -> dict:
    principal = request.principal
    order = catalog_selectors.order_head(actor=principal, order_id=order_id)
    review = selectors.review_of_order(actor=principal, order_id=order.id)
    window = None
    if review is not None:
        window = review.window_ends_at
    else:
        ended = trade_ended_at(order)
        if ended is not None:
            window = window_end(
                trade_ended_at=ended,
                policy=policy_current(shop=order.shop),
                timezone=order.shop.timezone,
            )
    can_rate = (
        window is not None
        and clock.now() < window
        and (review is None or review.state == ReviewState.PENDING)
    )
    rate_fields = forms.action_fields(REVIEWS, Action.RATE, order) if can_rate else []
    for field in rate_fields:
        field.initial = request.POST.get(field.name, "") if request.method == "POST" else ""
    return {
        "order": order,
        "review": review,
        "state_label": ReviewState(review.state).label if review is not None else "",
        "rating_label": Rating(review.rating).label if review is not None and review.rating else "",
        "window": deadline_of(window, "", order.shop.timezone) if window else None,
        # The end of a period as people write it: "2026-12-07 24:00", not the next day's 00:00.
        "window_until": readable_time(window, order.shop.timezone, ends_period=True)
        if window
        else "",
        "can_rate": can_rate,
        "rate_fields": rate_fields,
        "rate_error": (form_errors or {}).get(Action.RATE),
        "change_until": readable_time(change_ends_at(review), order.shop.timezone, ends_period=True)
        if review is not None and change_ends_at(review) is not None
        else "",
        "actions": action_forms(review, principal, form_errors) if review is not None else [],
        "timeline": _timeline(review, principal) if review is not None else [],
    }


@customer_required
def order_review(request: HttpRequest, order_id: int) -> HttpResponse:
    """The buyer's review of one of their orders: the rating form while the window is open, the
    review and its change and deletion after."""
    principal = request.principal
    if request.method == "POST":
        order = catalog_selectors.order_head(actor=principal, order_id=order_id)
        data = {
            "order_id": order.id,
            **forms.action_data(REVIEWS, Action.RATE, order, request.POST),
        }
        try:
            review = services.review_rate(actor=principal, data=data)
        except ApplicationError as error:
            context = _portal_context(request, order_id, {Action.RATE: form_error(error)})
            return render(request, "reviews/portal/review.html", context, status=422)
        messages.success(
            request, _("Thank you: your review %(number)s is in.") % {"number": review.number}
        )
        return redirect("reviews_portal:order", order_id=order.id)
    return render(request, "reviews/portal/review.html", _portal_context(request, order_id))


@require_POST
@customer_required
def portal_review_act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    principal = request.principal
    review = selectors.review_get(actor=principal, number=number)
    data = (
        forms.action_data(REVIEWS, action, review, request.POST)
        if action in REVIEWS.actions
        else {}
    )
    try:
        services.review_transition(review_id=review.id, action=action, actor=principal, data=data)
    except ApplicationError as error:
        context = _portal_context(request, review.order_id, {action: form_error(error)})
        return render(request, "reviews/portal/review.html", context, status=422)
    return redirect("reviews_portal:order", order_id=review.order_id)
