"""The service levels' vocabulary: the subjects they watch, the three metrics, a subject's
priority and the state of a clock."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SubjectType(models.TextChoices):
    CASE = "case", _("After-sales case")
    COMPLAINT = "complaint", _("Complaint")


class Metric(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    NEXT_RESPONSE = "next_response", _("Reply to the customer's message")
    RESOLUTION = "resolution", _("Resolution")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class ClockState(models.TextChoices):
    RUNNING = "running", _("On time")
    PAUSED = "paused", _("Paused: waiting on the customer")
    WARNED = "warned", _("Due soon")
    BREACHED = "breached", _("Overdue")
    MET = "met", _("Met")


# The states a clock may still leave as time passes or events come.
OPEN_CLOCK_STATES = (ClockState.RUNNING, ClockState.PAUSED, ClockState.WARNED)
# Events the clocks write themselves: never a response, never a reason to recompute.
SLA_ACTIONS = frozenset({"sla_warning", "sla_breach"})
# What the inbox writes when a customer sends a message; what the workbench writes for a reply.
CUSTOMER_MESSAGE = "customer_message"
STAFF_MESSAGE = "message"
