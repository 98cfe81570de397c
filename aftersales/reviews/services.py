"""The writes that change a review: its table (``reviews.lifecycle``) through the kernel's one
gate, the buyer's rating of an order (opening its review first when it has none), and the
worker's step that opens the reviews of orders signed since reviews began."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Min, OuterRef, Subquery
from django.utils.translation import gettext as _
from pydantic import TypeAdapter, ValidationError

from aftersales.catalog.models import Order, Shop
from aftersales.catalog.selectors import order_head
from aftersales.core import clock
from aftersales.core.actors import SYSTEM, Principal
from aftersales.core.errors import ApplicationError, Conflict, InvalidInput
from aftersales.core.gate import open_subject, transition
from aftersales.core.permissions import require
from aftersales.core.schemas import WholeId
from aftersales.reviews.choices import Action, ReviewState
from aftersales.reviews.lifecycle import REVIEWS
from aftersales.reviews.models import Review, ReviewStart
from aftersales.reviews.moves import window_closed


def review_open(*, order_id: int) -> Review:
    """The order's review, opened now if it has none (by the system: the platform opens the
    window, whoever asks first). Two openers at once end with one review."""
    existing = Review.objects.filter(order_id=order_id).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return open_subject(REVIEWS, actor=SYSTEM, data={"order_id": order_id})
    except IntegrityError:
        return Review.objects.get(order_id=order_id)


def _order_id(data: Mapping[str, Any]) -> int:
    raw = data.get("order_id") if isinstance(data, Mapping) else None
    try:
        return TypeAdapter(WholeId).validate_python(raw)
    except ValidationError:
        raise InvalidInput(
            _("%(field)s is required for this action.") % {"field": _("Order")},
            code="order_id_required" if raw is None else "invalid_order_id",
            field="order_id",
        ) from None


@transaction.atomic
def review_rate(*, actor: Principal, data: Mapping[str, Any]) -> Review:
    """The buyer rates one of their signed orders (``order_id``, ``rating``, ``text``): its
    review is opened if needed, then rated through the gate. Another customer's order is 404."""
    require(actor, "review.rate")
    order = order_head(actor=actor, order_id=_order_id(data))
    require(actor, "review.rate", order)
    review = review_open(order_id=order.id)
    if review.state != ReviewState.PENDING:
        if review.state == ReviewState.EXPIRED or review.is_automatic:
            raise window_closed(review)
        raise Conflict(
            _("Order %(order)s is already reviewed (%(number)s).")
            % {"order": order.external_id, "number": review.number},
            code="already_reviewed",
            number=review.number,
        )
    body = {key: value for key, value in data.items() if key != "order_id"}
    return transition(REVIEWS, subject_id=review.id, action=Action.RATE, actor=actor, data=body)


def review_transition(
    *, review_id: int, action: str, actor: Principal, data: Mapping[str, Any] | None = None
) -> Review:
    """Take ``action`` on a review through the gate (see ``core.gate.transition``)."""
    return transition(REVIEWS, subject_id=review_id, action=action, actor=actor, data=data)


def reviews_open_due(*, batch_size: int = 200) -> int:
    """Open the reviews of up to ``batch_size`` orders signed since their shop's reviews began
    (the first run for a shop marks that moment: older orders get a review only when their buyer
    rates), so that each window's end is a deadline the sweep acts on. Returns how many."""
    now = clock.now()
    missing = Shop.objects.filter(review_start__isnull=True).values_list("id", flat=True)
    ReviewStart.objects.bulk_create(
        [ReviewStart(shop_id=shop_id, since=now) for shop_id in missing], ignore_conflicts=True
    )
    earliest = ReviewStart.objects.aggregate(earliest=Min("since"))["earliest"]
    if earliest is None:
        return 0
    since = ReviewStart.objects.filter(shop_id=OuterRef("shop_id")).values("since")[:1]
    # Only orders not yet marked (their partial index), from the earliest start on: the step's
    # cost follows the orders still waiting for a review, not every order ever signed.
    order_ids = list(
        Order.objects.filter(review_opened=False, signed_at__isnull=False)
        .filter(signed_at__gte=earliest)
        .filter(signed_at__gte=Subquery(since))
        .order_by("signed_at", "id")
        .values_list("id", flat=True)[:batch_size]
    )
    # an order its buyer rated before this step came to it has its review already: marked only
    marked = list(Review.objects.filter(order_id__in=order_ids).values_list("order_id", flat=True))
    opened = 0
    for order_id in order_ids:
        if order_id in marked:
            continue
        try:
            review_open(order_id=order_id)
        except ApplicationError:
            continue  # an order that cannot have a review yet (trade not ended) waits
        opened += 1
        marked.append(order_id)
    if marked:
        Order.objects.filter(id__in=marked).update(review_opened=True)
    return opened
