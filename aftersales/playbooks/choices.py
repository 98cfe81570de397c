"""The playbooks' vocabulary."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class StepType(models.TextChoices):
    CHECK = "check", _("Check")
    QUESTION = "question", _("Question to ask")
    EVIDENCE = "evidence", _("Evidence to request")
    ACTION = "action", _("Action to take")
    TEMPLATE = "template", _("Reply to send")


# The events a tick and an untick write on the case's timeline (staff only).
STEP_DONE = "playbook_step_done"
STEP_UNDONE = "playbook_step_undone"
