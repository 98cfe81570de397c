"""Tokens and teams over HTTP: exchange a user name and password for a bearer token (failures
are rate-limited per user name and address, and per address); a shop's team, the role of each
member in it, and its audit log."""

from __future__ import annotations

import datetime as dt
from enum import Enum

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from aftersales.catalog.selectors import shop_get
from aftersales.core.actors import STAFF_ROLES, Role
from aftersales.core.errors import Throttled, Unauthenticated
from aftersales.core.permissions import require
from aftersales.core.ratelimit import login_allowed, login_succeeded
from aftersales.core.schemas import (
    ERROR_RESPONSES,
    Id,
    Input,
    Output,
    page_limit,
    refuse_unknown_parameters,
)
from aftersales.team.audit import audit_for_shop
from aftersales.team.members import team_member_remove, team_member_set, team_of
from aftersales.team.models import AuditChange
from aftersales.team.services import token_for_credentials

router = Router(tags=["authentication"])


class TokenIn(Input):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=200)
    name: str = Field("", max_length=100)


class TokenOut(Output):
    token: str


@router.post("/auth/token", auth=None, response={201: TokenOut, **ERROR_RESPONSES})
def create_token(request: HttpRequest, payload: TokenIn):
    if not login_allowed(request, payload.username):
        raise Throttled(_("Too many attempts; wait a few minutes."))
    token = token_for_credentials(
        username=payload.username, password=payload.password, name=payload.name
    )
    if token is None:
        raise Unauthenticated(_("Unknown user name or wrong password."), code="invalid_credentials")
    login_succeeded(request, payload.username)
    return Status(201, {"token": token})


# --- a shop's team and its audit log --------------------------------------------------------------

# The roles a member holds in a shop, as the body names them.
TeamRole = Enum("TeamRole", {role: role for role in Role.values if role in STAFF_ROLES}, type=str)


class MemberIn(Input):
    role: TeamRole


class MemberOut(Output):
    username: str
    role: str
    role_label: str


class TeamOut(Output):
    items: list[MemberOut]


class AuditEntryOut(Output):
    id: int
    at: dt.datetime
    shop: str | None
    member: str
    actor: str
    change: str
    change_label: str
    role_before: str | None
    role_after: str | None


class AuditPage(Output):
    items: list[AuditEntryOut]
    next_cursor: str | None


class AuditQuery(Schema):
    cursor: Id | None = None
    limit: int = 50


def _member(username: str, role: str) -> dict:
    return {"username": username, "role": role, "role_label": str(Role(role).label)}


@router.get("/shops/{code}/team", response={200: TeamOut, **ERROR_RESPONSES}, tags=["team"])
def get_team(request: HttpRequest, code: str):
    """The shop's team: each member and the role they hold in this shop. Administrators and
    team leads of the shop."""
    shop = shop_get(actor=request.auth, code=code)
    members = team_of(actor=request.auth, shop=shop)
    return {"items": [_member(m.username, m.role) for m in members]}


@router.put(
    "/shops/{code}/team/{username}", response={200: MemberOut, **ERROR_RESPONSES}, tags=["team"]
)
def put_team_member(request: HttpRequest, code: str, username: str, payload: MemberIn):
    """Give a member of staff a role in the shop (adding them to its team) or change it. A team
    lead gives only the roles under their own (agent, logistics, technician); the shop's last
    administrator keeps the role (409 ``last_admin``). On the audit log."""
    shop = shop_get(actor=request.auth, code=code)
    member = team_member_set(
        actor=request.auth, shop=shop, username=username, role=payload.role.value
    )
    return _member(member.username, member.role)


@router.delete(
    "/shops/{code}/team/{username}", response={204: None, **ERROR_RESPONSES}, tags=["team"]
)
def delete_team_member(request: HttpRequest, code: str, username: str):
    """Take a member off the shop's team (their other shops stay). The same limits as giving a
    role; on the audit log."""
    shop = shop_get(actor=request.auth, code=code)
    team_member_remove(actor=request.auth, shop=shop, username=username)
    return Status(204, None)


def present_audit(entry) -> dict:
    return {
        "id": entry.id,
        "at": entry.at,
        "shop": entry.shop.code if entry.shop_id else None,
        "member": entry.member_name,
        "actor": entry.actor_name,
        "change": entry.change,
        "change_label": str(AuditChange(entry.change).label),
        "role_before": entry.role_before or None,
        "role_after": entry.role_after or None,
    }


@router.get("/shops/{code}/audit", response={200: AuditPage, **ERROR_RESPONSES}, tags=["team"])
def get_team_audit(request: HttpRequest, code: str, query: Query[AuditQuery]):
    """Every change of a role in the shop's team, oldest first: who changed whose role, when,
    from what to what. Administrators and team leads of the shop."""
    refuse_unknown_parameters(request, AuditQuery)
    actor = request.auth
    shop = shop_get(actor=actor, code=code)
    require(actor, "team.read", shop)
    limit = page_limit(query.limit)
    entries = list(
        audit_for_shop(shop_id=shop.id, after_id=query.cursor).select_related("shop")[:limit]
    )
    next_cursor = str(entries[-1].id) if len(entries) == limit else None
    return {"items": [present_audit(entry) for entry in entries], "next_cursor": next_cursor}
