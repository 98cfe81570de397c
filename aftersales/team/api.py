"""Tokens over HTTP: exchange a user name and password for a bearer token (failures are
rate-limited per user name and address, and per address)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Status

from aftersales.core.errors import Throttled, Unauthenticated
from aftersales.core.ratelimit import login_allowed, login_succeeded
from aftersales.core.schemas import ERROR_RESPONSES, Input, Output
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
