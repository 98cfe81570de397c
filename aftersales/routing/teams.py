"""The writes of a shop's teams of agents (售后小组): create, rename, delete. Putting an agent in
a team (or in none) is ``services.routing_agent_set``. Who may: the shop's administrators and
team leads, as for the rest of its routing. Each write takes the shop's routing lock first, so
two of them never both find a name free."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.catalog.models import Shop
from aftersales.core import clock
from aftersales.core.actors import Principal
from aftersales.core.errors import Conflict
from aftersales.routing.models import AgentProfile, Team
from aftersales.routing.services import require_manager, routing_lock, team_named
from aftersales.routing.validation import validated_team_name


def _require_free(shop: Shop, name: str) -> None:
    if Team.objects.filter(shop=shop, name=name).exists():
        raise Conflict(
            _("The shop has a team called %(name)s already.") % {"name": name},
            code="team_exists",
            field="name",
        )


@transaction.atomic
def team_create(*, actor: Principal, shop: Shop, name: str) -> Team:
    """A new team of the shop, with no members yet; 409 ``team_exists`` for a name it has."""
    require_manager(actor, shop.id)
    name = validated_team_name(name)
    routing_lock(shop.id)
    _require_free(shop, name)
    return Team.objects.create(shop=shop, name=name, created_at=clock.now())


@transaction.atomic
def team_rename(*, actor: Principal, shop: Shop, name: str, new_name: str) -> Team:
    """The team called ``name`` is called ``new_name`` from now on (its members stay)."""
    require_manager(actor, shop.id)
    new_name = validated_team_name(new_name)
    routing_lock(shop.id)
    team = team_named(shop.id, name, lock=True)
    if new_name != team.name:
        _require_free(shop, new_name)
        team.name = new_name
        team.save(update_fields=["name"])
    return team


@transaction.atomic
def team_delete(*, actor: Principal, shop: Shop, name: str) -> int:
    """Delete the team; its members are in no team afterwards. How many members it had."""
    require_manager(actor, shop.id)
    routing_lock(shop.id)
    team = team_named(shop.id, name, lock=True)
    members = AgentProfile.objects.filter(team=team).update(team=None)
    team.delete()
    return members
