"""The routing's API bodies and answers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field

from aftersales.core.schemas import BodyBool, BodyInt, Input, Output
from aftersales.routing.choices import MAX_CAPACITY, Strategy

Capacity = Annotated[BodyInt, Field(ge=0, le=MAX_CAPACITY)]
# A team's name: the service trims it and refuses one over 60 characters with its own code
# (``invalid_team_name``); the bound here only keeps bodies small.
TeamName = Annotated[
    str, Field(max_length=200, description="1 to 60 characters, no slash or control characters")
]
Words = Annotated[list[Annotated[str, Field(max_length=100)]], Field(max_length=100)]


class RoutingIn(Input):
    """Only the fields sent change."""

    strategy: Strategy | None = None
    default_capacity: Capacity | None = None
    auto_assign: BodyBool | None = None


class RoutingOut(Output):
    shop: str
    strategy: Strategy
    strategy_label: str
    default_capacity: int
    auto_assign: bool


class SkillsIn(Input):
    """Each list sent replaces the agent's; a list left out stays as it is."""

    kinds: Words | None = None
    reasons: Words | None = None
    categories: Words | None = None
    languages: Words | None = None


class AgentIn(Input):
    """``capacity``: the open cases and complaints the agent takes at most (``null``: the shop's
    default). ``team``: the name of one of the shop's teams (``null``: no team). A field left out
    stays as it is."""

    capacity: Capacity | None = None
    skills: SkillsIn | None = None
    team: TeamName | None = None


class AgentOut(Output):
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
    last_assigned_at: dt.datetime | None
    team: str | None


class AgentList(Output):
    items: list[AgentOut]


class AgentTeamIn(Input):
    """A team's name (spaces around it are dropped)."""

    name: TeamName


class AgentTeamOut(Output):
    name: str
    members: list[str]
    member_count: int


class AgentTeamList(Output):
    items: list[AgentTeamOut]


class DutyIn(Input):
    """``shops``: the codes of the shops to change (default: every shop of the caller)."""

    on_duty: BodyBool
    shops: Annotated[list[Annotated[str, Field(max_length=40)]], Field(max_length=100)] | None = (
        None
    )


class DutyChangeOut(Output):
    shop: str
    on_duty: bool
    reassigned: int
    unassigned: int


class DutyOut(Output):
    on_duty: bool
    changes: list[DutyChangeOut]


class ClaimOut(Output):
    number: str
    assignee: str
