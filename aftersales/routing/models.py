"""How a shop hands its cases and complaints to its agents: the shop's routing settings, its teams
of agents (售后小组), each agent's duty, capacity, skills and team in a shop, and the record of
every change of duty."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from aftersales.routing.choices import DEFAULT_CAPACITY, TEAM_NAME_LENGTH, Strategy


class RoutingSettings(models.Model):
    """A shop's way of picking the agent of a new case or complaint, the open work an agent is
    given at most unless their own capacity says otherwise, and whether the worker assigns new
    unassigned work on its own. Its row is also the shop's routing lock: every routing write of
    the shop locks it first, so two of them never count the same agent's load at once."""

    shop = models.OneToOneField(
        "catalog.Shop", on_delete=models.CASCADE, related_name="routing_settings"
    )
    strategy = models.CharField(
        max_length=20, choices=Strategy.choices, default=Strategy.ROUND_ROBIN
    )
    default_capacity = models.PositiveIntegerField(default=DEFAULT_CAPACITY)
    auto_assign = models.BooleanField(default=False)
    # How many times the shop's routing has given out work: round robin's clock, which a frozen
    # or coarse wall clock could not be (two assignments in one instant would tie).
    turns = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.shop_id}: {self.strategy}"


class Team(models.Model):
    """A named group of a shop's agents (售前组, 退换货一组, 维修组…): the KPIs are read by team as
    well as by agent. The name is unique in the shop (as written: letter case counts), without
    leading or trailing spaces; an agent belongs to at most one team of the shop."""

    shop = models.ForeignKey("catalog.Shop", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=TEAM_NAME_LENGTH)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "name"], name="team_unique_name")]

    def __str__(self) -> str:
        return f"{self.name}@{self.shop_id}"


class AgentProfile(models.Model):
    """One agent in one shop: on duty or not, the open work they take at most (``None``: the
    shop's default), their skills (case kinds, reasons, product categories, customer languages;
    empty lists: no particular skill), their team of the shop (``None``: none; deleting the team
    leaves them in none) and the shop's turn at which the routing last gave them something
    (round robin goes to whoever waited longest), with its time for people."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_profiles"
    )
    shop = models.ForeignKey("catalog.Shop", on_delete=models.CASCADE, related_name="+")
    on_duty = models.BooleanField(default=False)
    capacity = models.PositiveIntegerField(null=True, blank=True)
    kinds = models.JSONField(default=list, blank=True)
    reasons = models.JSONField(default=list, blank=True)
    categories = models.JSONField(default=list, blank=True)
    languages = models.JSONField(default=list, blank=True)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    last_turn = models.PositiveBigIntegerField(default=0)
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "user"], name="agent_profile_unique")
        ]
        indexes = [models.Index(fields=["shop", "on_duty"], name="agent_profile_duty")]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.shop_id}"


class DutyChange(models.Model):
    """An agent going on or off duty in a shop: who changed it, when, and, going off, how many
    of their open cases and complaints went to colleagues and how many were left to nobody."""

    shop = models.ForeignKey("catalog.Shop", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    on_duty = models.BooleanField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    by_name = models.CharField(max_length=150)
    reassigned = models.PositiveIntegerField(default=0)
    unassigned = models.PositiveIntegerField(default=0)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["shop", "user", "at"], name="duty_change_agent")]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.shop_id} {'on' if self.on_duty else 'off'} {self.at}"
