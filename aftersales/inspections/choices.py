"""The inspection's vocabulary: its states, actions, the deadline's actions, the verdict and who
sends the goods.

The platform sends a case's goods to its inspection center (鉴定中心, 拼多多's 假一赔十): the
goods go with a label, the center confirms their receipt by it, and gives a verdict with a
written report: genuine (正品), counterfeit (假货) or inconclusive (无法鉴定).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from aftersales.cases.choices import Authenticity, FeePayer  # noqa: F401 (the verdict's words)


class InspectionState(models.TextChoices):
    REQUESTED = "requested", _("Waiting for the goods to be sent")
    SENT = "sent", _("Goods on the way to the center")
    RECEIVED = "received", _("Being authenticated at the center")
    DECIDED = "decided", _("Verdict given")
    LAPSED = "lapsed", _("Lapsed: the goods were not sent in time")
    CANCELLED = "cancelled", _("Cancelled by the platform")


FINAL_STATES = frozenset(
    {InspectionState.DECIDED, InspectionState.LAPSED, InspectionState.CANCELLED}
)
OPEN_STATES = tuple(s for s in InspectionState if s not in FINAL_STATES)


class Action(models.TextChoices):
    OPEN = "open", _("Send the goods for inspection")
    SHIP = "ship", _("Record the shipment to the center")
    RECEIVE = "receive", _("Confirm receipt at the center")
    VERDICT = "verdict", _("Record the verdict")
    CANCEL = "cancel", _("Cancel the inspection")
    LAPSE = "lapse", _("Lapsed: goods not sent in time")
    ESCALATE = "escalate", _("Overdue at the center")


class DeadlineAction(models.TextChoices):
    LAPSE = "lapse", _("The request lapses")
    ESCALATE = "escalate", _("Remind the platform")


class Sender(models.TextChoices):
    """Who holds the goods and sends them to the center."""

    BUYER = "buyer", _("The buyer")
    SHOP = "shop", _("The shop")
