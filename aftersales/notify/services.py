"""Every write of the notifications: deliver what is due now (the one-shot ``aftersales sweep``),
the shops' webhook endpoints, and replaying a delivery."""

from __future__ import annotations

import secrets

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.catalog.models import Shop
from aftersales.core import clock
from aftersales.core.actors import Principal, Role
from aftersales.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from aftersales.core.notices import registered_kinds
from aftersales.notify.deliveries import (
    PRIMARY,
    deliveries_sweep,
    delivery_attempt,
    due_deliveries,
    enqueue,
)
from aftersales.notify.models import Channel, Delivery, DeliveryStatus, WebhookEndpoint
from aftersales.notify.selectors import require_shop_admin
from aftersales.notify.webhooks import webhook_url_check

FINISHED = (DeliveryStatus.DELIVERED, DeliveryStatus.SKIPPED)


def notifications_deliver(*, batch_size: int = 100) -> int:
    """Deliver, in this process, everything due now: notices without deliveries are planned,
    then each due delivery gets its attempt (the same one its task makes). Returns how many
    notices were delivered. The worker does this through tasks; ``aftersales sweep`` and the
    tests call it directly."""
    deliveries_sweep(batch_size=batch_size)
    delivered = 0
    channels = dict(
        Delivery.objects.filter(pk__in=due_deliveries(limit=batch_size * 4)).values_list(
            "pk", "channel"
        )
    )
    for delivery_id, channel in sorted(channels.items()):
        outcome = delivery_attempt(delivery_id)
        if channel in PRIMARY and outcome in FINISHED:
            delivered += 1
    return delivered


def event_kinds_check(event_kinds: list[str]) -> list[str]:
    known = registered_kinds()
    unknown = sorted(set(event_kinds) - set(known))
    if unknown:
        raise InvalidInput(
            _("Unknown event type: %(kinds)s.") % {"kinds": ", ".join(unknown)},
            code="invalid_event_kinds",
            field="event_kinds",
        )
    return sorted(set(event_kinds))


@transaction.atomic
def webhook_endpoint_create(
    *, actor: Principal, shop: Shop, url: str, event_kinds: list[str], description: str = ""
) -> WebhookEndpoint:
    """A new endpoint with a fresh secret (the caller shows it once)."""
    require_shop_admin(actor, shop)
    return WebhookEndpoint.objects.create(
        shop=shop,
        url=webhook_url_check(url),
        secret=secrets.token_urlsafe(32),
        event_kinds=event_kinds_check(event_kinds),
        description=description,
        created_at=clock.now(),
    )


@transaction.atomic
def webhook_endpoint_delete(*, actor: Principal, shop: Shop, endpoint_id: int) -> None:
    """The endpoint goes, and its deliveries with it (those still waiting are not sent)."""
    require_shop_admin(actor, shop)
    deleted, _rows = WebhookEndpoint.objects.filter(shop=shop, pk=endpoint_id).delete()
    if not deleted:
        raise NotFound(_("No such webhook."), code="webhook_not_found")


@transaction.atomic
def delivery_replay(
    *, actor: Principal, delivery_id: int, channel: str | None = Channel.WEBHOOK
) -> Delivery:
    """Send a dead (or delivered) delivery once more, now. It keeps its id, so a receiver that
    has it already can tell; a failure leaves it dead again."""
    deliveries = Delivery.objects.select_for_update().filter(pk=delivery_id)
    if channel is not None:
        deliveries = deliveries.filter(channel=channel)
    if actor.shop_ids is not None:
        deliveries = deliveries.filter(shop_id__in=actor.shop_ids)
    delivery = deliveries.first() if actor.is_staff or actor.is_system else None
    if delivery is None:
        raise NotFound(_("No such delivery."), code="delivery_not_found")
    if not (actor.is_system or actor.role == Role.ADMIN):
        raise PermissionDenied(_("Only administrators replay deliveries."), code="forbidden")
    if delivery.status in (DeliveryStatus.PENDING, DeliveryStatus.SENDING):
        raise Conflict(
            _("This delivery is still being tried; wait for it to finish."),
            code="delivery_in_progress",
        )
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = clock.now()
    delivery.save(update_fields=["status", "next_attempt_at"])
    enqueue([delivery.pk])
    return delivery
