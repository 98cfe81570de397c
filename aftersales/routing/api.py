"""Assignment over HTTP: the shop's routing settings, agents and teams, the caller's duty, and
claiming a case or complaint. Thin: parse, find the caller's shop or subject, call a service or
selector."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status

from aftersales.catalog.models import Shop
from aftersales.catalog.selectors import shop_get
from aftersales.core.actors import Principal
from aftersales.core.errors import NotFound
from aftersales.core.schemas import ERROR_RESPONSES
from aftersales.routing import selectors, services, teams
from aftersales.routing.choices import Strategy
from aftersales.routing.models import RoutingSettings
from aftersales.routing.schemas import (
    AgentIn,
    AgentList,
    AgentOut,
    AgentTeamIn,
    AgentTeamList,
    AgentTeamOut,
    ClaimOut,
    DutyIn,
    DutyOut,
    RoutingIn,
    RoutingOut,
)
from aftersales.routing.subjects import CASES, COMPLAINTS, Work

router = Router(tags=["routing"])


def present_settings(settings: RoutingSettings, shop: Shop) -> dict:
    return {
        "shop": shop.code,
        "strategy": settings.strategy,
        "strategy_label": str(Strategy(settings.strategy).label),
        "default_capacity": settings.default_capacity,
        "auto_assign": settings.auto_assign,
    }


@router.get("/shops/{code}/routing", response={200: RoutingOut, **ERROR_RESPONSES})
def get_routing(request: HttpRequest, code: str):
    """How the shop assigns its cases and complaints (administrators and team leads)."""
    shop = shop_get(actor=request.auth, code=code)
    return present_settings(selectors.routing_settings_get(actor=request.auth, shop=shop), shop)


@router.put("/shops/{code}/routing", response={200: RoutingOut, **ERROR_RESPONSES})
def update_routing(request: HttpRequest, code: str, payload: RoutingIn):
    """Change the strategy, the default capacity or automatic assignment (the fields sent)."""
    shop = shop_get(actor=request.auth, code=code)
    settings = services.routing_settings_set(
        actor=request.auth,
        shop=shop,
        strategy=payload.strategy,
        default_capacity=payload.default_capacity,
        auto_assign=payload.auto_assign,
    )
    return present_settings(settings, shop)


@router.get("/shops/{code}/agents", response={200: AgentList, **ERROR_RESPONSES})
def list_agents(request: HttpRequest, code: str):
    """The shop's agents and team leads: on duty or not, open work held, capacity, skills."""
    shop = shop_get(actor=request.auth, code=code)
    return {"items": selectors.agents_for_shop(actor=request.auth, shop=shop)}


@router.put("/shops/{code}/agents/{username}", response={200: AgentOut, **ERROR_RESPONSES})
def update_agent(request: HttpRequest, code: str, username: str, payload: AgentIn):
    """An agent's capacity, skills and team in the shop (administrators and team leads)."""
    actor = request.auth
    shop = shop_get(actor=actor, code=code)
    services.routing_agent_set(
        actor=actor,
        shop=shop,
        username=username,
        capacity=payload.capacity,
        clear_capacity="capacity" in payload.model_fields_set and payload.capacity is None,
        skills=payload.skills.model_dump(exclude_unset=True) if payload.skills else None,
        team=payload.team,
        clear_team="team" in payload.model_fields_set and payload.team is None,
    )
    row = next(
        r for r in selectors.agents_for_shop(actor=actor, shop=shop) if r.username == username
    )
    return row


def _team_row(actor: Principal, shop: Shop, name: str):
    return next(r for r in selectors.teams_for_shop(actor=actor, shop=shop) if r.name == name)


@router.get("/shops/{code}/teams", response={200: AgentTeamList, **ERROR_RESPONSES})
def list_teams(request: HttpRequest, code: str):
    """The shop's teams by name, with their members (the shop's staff)."""
    shop = shop_get(actor=request.auth, code=code)
    return {"items": selectors.teams_for_shop(actor=request.auth, shop=shop)}


@router.post("/shops/{code}/teams", response={201: AgentTeamOut, **ERROR_RESPONSES})
def create_team(request: HttpRequest, code: str, payload: AgentTeamIn):
    """A new team (administrators and team leads): 409 ``team_exists`` for a name the shop has,
    422 ``invalid_team_name`` for an empty, too long or unprintable one."""
    shop = shop_get(actor=request.auth, code=code)
    team = teams.team_create(actor=request.auth, shop=shop, name=payload.name)
    return Status(201, _team_row(request.auth, shop, team.name))


@router.patch("/shops/{code}/teams/{name}", response={200: AgentTeamOut, **ERROR_RESPONSES})
def rename_team(request: HttpRequest, code: str, name: str, payload: AgentTeamIn):
    """Rename the team (its members stay in it)."""
    shop = shop_get(actor=request.auth, code=code)
    team = teams.team_rename(actor=request.auth, shop=shop, name=name, new_name=payload.name)
    return _team_row(request.auth, shop, team.name)


@router.delete("/shops/{code}/teams/{name}", response={204: None, **ERROR_RESPONSES})
def delete_team(request: HttpRequest, code: str, name: str):
    """Delete the team; its members are in no team afterwards."""
    shop = shop_get(actor=request.auth, code=code)
    teams.team_delete(actor=request.auth, shop=shop, name=name)
    return Status(204, None)


@router.put("/me/duty", response={200: DutyOut, **ERROR_RESPONSES})
def set_my_duty(request: HttpRequest, payload: DutyIn):
    """Go on or off duty (in every shop of the caller, or the ``shops`` named). Going off duty
    hands the caller's open work to colleagues on duty."""
    actor: Principal = request.auth
    changes = services.routing_duty_set(actor=actor, on_duty=payload.on_duty, shops=payload.shops)
    codes = dict(Shop.objects.filter(id__in=[c.shop_id for c in changes]).values_list("id", "code"))
    return {
        "on_duty": payload.on_duty,
        "changes": [
            {
                "shop": codes[change.shop_id],
                "on_duty": change.on_duty,
                "reassigned": change.reassigned,
                "unassigned": change.unassigned,
            }
            for change in changes
        ],
    }


def _claim(actor: Principal, work: Work, number: str) -> dict:
    subject = actor.scope(work.lifecycle.model.objects.all()).filter(number=number).first()
    if subject is None:
        raise NotFound(
            _("No such record: %(number)s.") % {"number": number},
            code=f"{work.subject_type}_not_found",
        )
    services.routing_claim(actor=actor, subject=subject)
    return {"number": number, "assignee": actor.username}


@router.post("/cases/{number}/claim", response={200: ClaimOut, **ERROR_RESPONSES})
def claim_case(request: HttpRequest, number: str):
    """Take the case from the queue: 409 ``already_assigned`` when a colleague holds it (a team
    lead or an administrator takes it anyway), 409 ``at_capacity`` at the caller's cap."""
    return _claim(request.auth, CASES, number)


@router.post("/complaints/{number}/claim", response={200: ClaimOut, **ERROR_RESPONSES})
def claim_complaint(request: HttpRequest, number: str):
    """Take the complaint from the queue (the same rules as a case)."""
    return _claim(request.auth, COMPLAINTS, number)
