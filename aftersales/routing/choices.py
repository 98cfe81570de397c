"""The routing's vocabulary: how a shop picks the agent of a new case, and who may be picked."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from aftersales.core.actors import Role


class Strategy(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("Round robin")
    LEAST_LOADED = "least_loaded", _("Least loaded")
    SKILLS = "skills", _("By skills")


# The team lead's role (added by the roles work; until then nobody holds it). Leads manage the
# routing of their shops; leads and agents are the ones cases are routed to.
LEAD = "lead"
MANAGER_ROLES = frozenset({Role.ADMIN, LEAD})
ROUTED_ROLES = frozenset({Role.AGENT, LEAD})

# The open work an agent is given automatically unless the shop or the agent says otherwise.
DEFAULT_CAPACITY = 20
MAX_CAPACITY = 1000
