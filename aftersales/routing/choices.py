"""The routing's vocabulary: how a shop picks the agent of a new case, and who may be picked."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from aftersales.core.actors import Role


class Strategy(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("Round robin")
    LEAST_LOADED = "least_loaded", _("Least loaded")
    SKILLS = "skills", _("By skills")


# Leads manage the routing of their shops; leads and agents are the ones cases are routed to
# (by the role they hold in the shop: an agent of one shop may lead another).
MANAGER_ROLES = frozenset({Role.ADMIN, Role.LEAD})
ROUTED_ROLES = frozenset({Role.AGENT, Role.LEAD})

# The open work an agent is given automatically unless the shop or the agent says otherwise.
DEFAULT_CAPACITY = 20
MAX_CAPACITY = 1000

# The longest name of a team (售后小组) of agents.
TEAM_NAME_LENGTH = 60
