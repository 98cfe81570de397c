"""The vocabulary of violation points (违规扣分): the classes, the kinds of violation the
after-sales side can cause, the penalties' measures, and the states and actions of a violation
and of a penalty.

The classes are the platform's 一般违规 (general, Taobao's old class A) and 严重违规 (serious,
class B). The kinds and the measures are the policy's own lists (``policy.violations``).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ViolationClass(models.TextChoices):
    GENERAL = "general", _("General violation (class A)")
    SERIOUS = "serious", _("Serious violation (class B)")


class ViolationKind(models.TextChoices):
    BROKEN_PROMISE = "broken_promise", _("Promise not kept")
    LATE_SHIPMENT = "late_shipment", _("Late shipment")
    NOT_AS_DESCRIBED = "not_as_described", _("Not as described")
    COUNTERFEIT = "counterfeit", _("Counterfeit goods")
    HARASSMENT = "harassment", _("Harassing a buyer")
    REFUND_REFUSED = "refund_refused", _("Refund wrongly refused")


class Measure(models.TextChoices):
    SHOP_HIDDEN = "shop_hidden", _("Shop hidden from search and navigation")
    LISTING_RESTRICTED = "listing_restricted", _("New listings restricted")
    MESSAGES_RESTRICTED = "messages_restricted", _("In-site messages restricted")
    GOODS_DELISTED = "goods_delisted", _("All goods delisted")
    SHOP_CLOSED = "shop_closed", _("Shop closed")
    PUBLIC_WARNING = "public_warning", _("Public warning")
    BANNED = "banned", _("Permanent ban")


class ViolationState(models.TextChoices):
    RECORDED = "recorded", _("Recorded: its points count")
    APPEALED = "appealed", _("Appealed: awaiting the platform's decision")
    WITHDRAWN = "withdrawn", _("Withdrawn on appeal: its points no longer count")


class PenaltyState(models.TextChoices):
    ACTIVE = "active", _("In force until its end")
    PERMANENT = "permanent", _("In force permanently")
    APPEALED = "appealed", _("Appealed: in force until the platform decides")
    ENDED = "ended", _("Ended: its time is over")
    WITHDRAWN = "withdrawn", _("Withdrawn on appeal")
    LIFTED = "lifted", _("Lifted: the points no longer reach it")


PENALTY_FINAL_STATES = frozenset({PenaltyState.ENDED, PenaltyState.WITHDRAWN, PenaltyState.LIFTED})
# States in which a penalty's measures apply (until its end time, when it has one).
PENALTY_HOLDING_STATES = (PenaltyState.ACTIVE, PenaltyState.PERMANENT, PenaltyState.APPEALED)
VIOLATION_FINAL_STATES = frozenset({ViolationState.WITHDRAWN})
# States in which a violation's points count toward its year's total.
COUNTING_STATES = (ViolationState.RECORDED, ViolationState.APPEALED)


class Action(models.TextChoices):
    RECORD = "record", _("Record a violation")
    START = "start", _("Penalty started")
    APPEAL = "appeal", _("Appeal")
    UPHOLD = "uphold", _("Uphold (reject the appeal)")
    WITHDRAW = "withdraw", _("Withdraw (grant the appeal)")
    END = "end", _("Ended on time")
    LIFT = "lift", _("Lifted: the points no longer reach it")
    ESCALATE = "escalate", _("Escalated: the automatic end was refused")


class AppealDecision(models.TextChoices):
    UPHELD = "upheld", _("Upheld")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ScoreOrigin(models.TextChoices):
    """Where a change of the service score came from."""

    SET = "set", _("Set by the platform")
    FROM_INSURANCE = "from_insurance", _("Carried over from the shipping insurance's score")
    FROM_DISPUTES = "from_disputes", _("Carried over from the disputes' score")
