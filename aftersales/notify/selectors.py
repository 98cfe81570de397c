"""Reads of the notifications, scoped to the caller."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from aftersales.catalog.models import Shop
from aftersales.core.actors import Principal, Role
from aftersales.core.errors import PermissionDenied
from aftersales.notify.models import WebhookEndpoint


def require_shop_admin(actor: Principal, shop: Shop) -> None:
    if not (actor.is_system or (actor.role == Role.ADMIN and actor.can_see_shop(shop.pk))):
        raise PermissionDenied(
            _("Only the shop's administrators manage its webhooks."), code="forbidden"
        )


def webhook_endpoints_for(*, actor: Principal, shop: Shop) -> QuerySet[WebhookEndpoint]:
    """A shop's endpoints, for its administrators (``shop`` came from ``shop_get``)."""
    require_shop_admin(actor, shop)
    return WebhookEndpoint.objects.filter(shop=shop).order_by("id")
