"""Reads of the routing, scoped to the caller: a shop's settings, its agents with their duty, load,
capacity and skills, and the caller's own duty."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from aftersales.catalog.models import Shop
from aftersales.core.actors import Principal
from aftersales.core.errors import PermissionDenied
from aftersales.routing.choices import ROUTED_ROLES
from aftersales.routing.models import AgentProfile, RoutingSettings
from aftersales.routing.services import loads, require_manager, routed_members


def routing_settings_get(*, actor: Principal, shop: Shop) -> RoutingSettings:
    """The shop's settings (the defaults until somebody changes them), for its managers."""
    require_manager(actor, shop.id)
    found = RoutingSettings.objects.filter(shop=shop).first()
    return found or RoutingSettings(shop=shop)


@dataclass(frozen=True)
class AgentRow:
    username: str
    role: str
    on_duty: bool
    load: int
    capacity: int
    capacity_is_default: bool
    kinds: list[str]
    reasons: list[str]
    categories: list[str]
    languages: list[str]
    last_assigned_at: object


def agents_for_shop(*, actor: Principal, shop: Shop) -> list[AgentRow]:
    """The shop's agents and team leads, by user name, for its staff; three queries."""
    if not actor.is_staff or not actor.can_see_shop(shop.id):
        raise PermissionDenied(_("Only the shop's staff may do this."), code="forbidden")
    settings = RoutingSettings.objects.filter(shop=shop).first() or RoutingSettings(shop=shop)
    members = list(
        routed_members(shop.id)
        .values_list("user_id", "user__username", "role")
        .order_by("user__username")
    )
    profiles = {
        p.user_id: p
        for p in AgentProfile.objects.filter(shop=shop, user_id__in=[m[0] for m in members])
    }
    counted = loads(shop.id, [m[0] for m in members])
    rows = []
    for user_id, username, role in members:
        profile = profiles.get(user_id) or AgentProfile()
        rows.append(
            AgentRow(
                username=username,
                role=role,
                on_duty=profile.on_duty,
                load=counted[user_id],
                capacity=settings.default_capacity
                if profile.capacity is None
                else profile.capacity,
                capacity_is_default=profile.capacity is None,
                kinds=list(profile.kinds),
                reasons=list(profile.reasons),
                categories=list(profile.categories),
                languages=list(profile.languages),
                last_assigned_at=profile.last_assigned_at,
            )
        )
    return rows


def duty_of(*, actor: Principal) -> bool | None:
    """Whether the caller is on duty (in any of their shops); ``None`` for somebody who is not
    routed work (the desk then shows no toggle)."""
    routed = [shop for shop in actor.shop_ids or () if actor.role_in(shop) in ROUTED_ROLES]
    if not routed:
        return None
    return AgentProfile.objects.filter(
        user_id=actor.user_id, shop_id__in=routed, on_duty=True
    ).exists()
