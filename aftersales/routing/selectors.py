"""Reads of the routing, scoped to the caller: a shop's settings, its agents with their duty, load,
capacity, skills and team, its teams, and the caller's own duty. ``agent_teams`` and
``team_names`` are the KPIs' plain lookups by id (their callers scope the shops)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from aftersales.catalog.models import Shop
from aftersales.core.actors import Principal
from aftersales.core.errors import PermissionDenied
from aftersales.routing.choices import ROUTED_ROLES
from aftersales.routing.models import AgentProfile, RoutingSettings, Team
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
    team: str | None = None


def _require_staff_of(actor: Principal, shop: Shop) -> None:
    if not actor.is_staff or not actor.can_see_shop(shop.id):
        raise PermissionDenied(_("Only the shop's staff may do this."), code="forbidden")


def agents_for_shop(*, actor: Principal, shop: Shop) -> list[AgentRow]:
    """The shop's agents and team leads, by user name, for its staff; three queries."""
    _require_staff_of(actor, shop)
    settings = RoutingSettings.objects.filter(shop=shop).first() or RoutingSettings(shop=shop)
    members = list(
        routed_members(shop.id)
        .values_list("user_id", "user__username", "role")
        .order_by("user__username")
    )
    profiles = {
        p.user_id: p
        for p in AgentProfile.objects.filter(
            shop=shop, user_id__in=[m[0] for m in members]
        ).select_related("team")
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
                team=profile.team.name if profile.team_id else None,
            )
        )
    return rows


@dataclass(frozen=True)
class TeamRow:
    name: str
    members: list[str]
    member_count: int


def teams_for_shop(*, actor: Principal, shop: Shop) -> list[TeamRow]:
    """The shop's teams by name, each with its members' user names (in order), for its staff;
    two queries."""
    _require_staff_of(actor, shop)
    members: dict[int, list[str]] = {}
    # Sorted here, by code point: the databases' collations would order names differently.
    for team_id, username in sorted(
        AgentProfile.objects.filter(shop=shop, team__isnull=False).values_list(
            "team_id", "user__username"
        ),
        key=lambda row: row[1],
    ):
        members.setdefault(team_id, []).append(username)
    teams = sorted(Team.objects.filter(shop=shop).values_list("name", "id"))
    return [
        TeamRow(
            name=name, members=members.get(team_id, []), member_count=len(members.get(team_id, []))
        )
        for name, team_id in teams
    ]


def agent_teams(shop_ids: Iterable[int] | None) -> dict[tuple[int, int], int]:
    """(shop id, user id) → team id, for every agent of those shops (``None``: of every shop)
    who is in a team. Not scoped: the caller has chosen the shops. One query."""
    profiles = AgentProfile.objects.filter(team__isnull=False)
    if shop_ids is not None:
        profiles = profiles.filter(shop_id__in=list(shop_ids))
    return {
        (shop_id, user_id): team_id
        for shop_id, user_id, team_id in profiles.values_list("shop_id", "user_id", "team_id")
    }


def team_names(team_ids: Iterable[int]) -> dict[int, tuple[int, str]]:
    """Team id → (shop id, name), for the teams that exist among ``team_ids``. One query (none
    for no ids)."""
    team_ids = list(team_ids)
    if not team_ids:
        return {}
    return {
        team_id: (shop_id, name)
        for team_id, shop_id, name in Team.objects.filter(id__in=team_ids).values_list(
            "id", "shop_id", "name"
        )
    }


def duty_of(*, actor: Principal) -> bool | None:
    """Whether the caller is on duty (in any of their shops); ``None`` for somebody who is not
    routed work (the desk then shows no toggle)."""
    routed = [shop for shop in actor.shop_ids or () if actor.role_in(shop) in ROUTED_ROLES]
    if not routed:
        return None
    return AgentProfile.objects.filter(
        user_id=actor.user_id, shop_id__in=routed, on_duty=True
    ).exists()
