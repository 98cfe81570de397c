"""The desk's teams page (``/desk/teams/``): a shop's teams with their members, the forms to add,
rename and delete a team, and per agent the team they are in. For the shop's administrators and
team leads; anyone else sees a refusal in words. Thin: the services write, the selectors read; a
refused form comes back as a message, and changes nothing."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aftersales.cases.views.desk import staff_required
from aftersales.catalog.models import Shop
from aftersales.catalog.selectors import shops_for
from aftersales.core.actors import Role
from aftersales.core.errors import ApplicationError
from aftersales.routing import selectors, services, teams

TEMPLATE = "routing/teams.html"


def _managed_shops(principal) -> list[Shop]:
    """The caller's shops whose routing they manage, by code."""
    return [
        shop
        for shop in shops_for(principal).order_by("code")
        if services.is_manager(principal, shop.id)
    ]


def _refused(request: HttpRequest) -> HttpResponse:
    return render(request, TEMPLATE, {"principal": request.principal, "refused": True}, status=403)


def _not_found(request: HttpRequest, shops: list[Shop], code: str) -> HttpResponse:
    messages.error(request, _("No shop %(code)s.") % {"code": code})
    return render(request, TEMPLATE, {"principal": request.principal, "shops": shops}, status=404)


def _page(request: HttpRequest, code: str) -> HttpResponse:
    return redirect(f"{reverse('routing:teams')}?shop={code}")


@staff_required
def teams_page(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    shops = _managed_shops(principal)
    if not shops:
        return _refused(request)
    code = request.GET.get("shop") or shops[0].code
    shop = next((s for s in shops if s.code == code), None)
    if shop is None:
        return _not_found(request, shops, code)
    team_rows = selectors.teams_for_shop(actor=principal, shop=shop)
    agents = [
        {"username": row.username, "role": Role(row.role).label, "team": row.team}
        for row in selectors.agents_for_shop(actor=principal, shop=shop)
    ]
    context = {
        "principal": principal,
        "shops": shops,
        "shop": shop,
        "teams": team_rows,
        "agents": agents,
    }
    return render(request, TEMPLATE, context)


def _posted(request: HttpRequest, write, success) -> HttpResponse:
    """Run one write of the shop named in the form; its outcome in a message, back to the page."""
    principal = request.principal
    shops = _managed_shops(principal)
    if not shops:
        return _refused(request)
    code = request.POST.get("shop", "")
    shop = next((s for s in shops if s.code == code), None)
    if shop is None:
        return _not_found(request, shops, code)
    try:
        result = write(principal, shop)
    except ApplicationError as error:
        messages.error(request, str(error.detail))
    else:
        messages.success(request, success(result))
    return _page(request, shop.code)


@require_POST
@staff_required
def team_add(request: HttpRequest) -> HttpResponse:
    return _posted(
        request,
        lambda actor, shop: teams.team_create(
            actor=actor, shop=shop, name=request.POST.get("name", "")
        ),
        lambda team: _("Team %(name)s added.") % {"name": team.name},
    )


@require_POST
@staff_required
def team_rename(request: HttpRequest) -> HttpResponse:
    return _posted(
        request,
        lambda actor, shop: teams.team_rename(
            actor=actor,
            shop=shop,
            name=request.POST.get("name", ""),
            new_name=request.POST.get("new_name", ""),
        ),
        lambda team: _("The team is called %(name)s now.") % {"name": team.name},
    )


@require_POST
@staff_required
def team_delete(request: HttpRequest) -> HttpResponse:
    name = request.POST.get("name", "").strip()

    def delete(actor, shop) -> int:
        if request.POST.get("confirm") != "yes":
            raise ApplicationError(_("Tick the box to confirm the removal."), code="unconfirmed")
        return teams.team_delete(actor=actor, shop=shop, name=name)

    return _posted(
        request,
        delete,
        lambda _members: (
            _("Team %(name)s deleted; its members are in no team now.") % {"name": name}
        ),
    )


@require_POST
@staff_required
def agent_team(request: HttpRequest) -> HttpResponse:
    username = request.POST.get("username", "")
    team = request.POST.get("team", "")
    return _posted(
        request,
        lambda actor, shop: services.routing_agent_set(
            actor=actor, shop=shop, username=username, team=team or None, clear_team=not team
        ),
        lambda profile: (
            _("%(agent)s is in team %(team)s now.") % {"agent": username, "team": profile.team.name}
            if profile.team_id
            else _("%(agent)s is in no team now.") % {"agent": username}
        ),
    )
