"""The dispute's vocabulary: its kinds, classes, states, actions, the decision's outcomes, the
evidence's kinds, the sides and the jury's votes.

A buyer asks the platform to step in (维权 / 平台介入) on a refund that the shop rejected or let
run (a refund dispute), or after the trade (an after-sale dispute); the dispute is about the
product, the logistics or the shop's attitude (产品 / 物流 / 服务态度纠纷).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DisputeKind(models.TextChoices):
    REFUND = "refund", _("Refund dispute")
    AFTER_SALE = "after_sale", _("After-sale dispute")


class DisputeClass(models.TextChoices):
    PRODUCT = "product", _("Product")
    LOGISTICS = "logistics", _("Logistics")
    ATTITUDE = "attitude", _("Service attitude")


class DisputeState(models.TextChoices):
    EVIDENCE = "evidence", _("Both sides add evidence")
    DECIDING = "deciding", _("The platform is deciding")
    JURY = "jury", _("The jury is voting")
    DECIDED = "decided", _("Decided: open to the shop's appeal")
    APPEALED = "appealed", _("Appealed by the shop")
    FINAL = "final", _("Final")
    WITHDRAWN = "withdrawn", _("Withdrawn by the buyer")


FINAL_STATES = frozenset({DisputeState.FINAL, DisputeState.WITHDRAWN})
OPEN_STATES = tuple(s for s in DisputeState if s not in FINAL_STATES)
# While these run, a buyer or the shop may still be heard and the decision is not made.
BEFORE_DECISION = (DisputeState.EVIDENCE, DisputeState.DECIDING, DisputeState.JURY)


class Action(models.TextChoices):
    OPEN = "open", _("Open a dispute")
    ADD_EVIDENCE = "add_evidence", _("Add evidence")
    WITHDRAW = "withdraw", _("Withdraw the dispute")
    CLOSE_EVIDENCE = "close_evidence", _("Evidence closed on time")
    DECIDE = "decide", _("Decide")
    SEND_TO_JURY = "send_to_jury", _("Send to the jury")
    JURY_DECIDE = "jury_decide", _("Decided by the jury's majority")
    JURY_EXPIRE = "jury_expire", _("Too few votes: back to the platform")
    ACCEPT = "accept", _("Accept the decision")
    APPEAL = "appeal", _("Appeal the decision")
    REVIEW = "review", _("Review the appeal")
    FINALIZE = "finalize", _("Decision final on time")
    ESCALATE = "escalate", _("Overdue at the platform")


class DeadlineAction(models.TextChoices):
    CLOSE_EVIDENCE = "close_evidence", _("Close the evidence")
    JURY_EXPIRE = "jury_expire", _("Back to the platform")
    FINALIZE = "finalize", _("Make the decision final")
    ESCALATE = "escalate", _("Mark it overdue")


class Outcome(models.TextChoices):
    REFUND_FULL = "refund_full", _("Refund in full")
    REFUND_PART = "refund_part", _("Refund in part")
    REJECT = "reject", _("Reject the claim")


REFUND_OUTCOMES = frozenset({Outcome.REFUND_FULL, Outcome.REFUND_PART})


class ReviewResult(models.TextChoices):
    UPHELD = "upheld", _("Upheld")
    CHANGED = "changed", _("Changed")


class Side(models.TextChoices):
    BUYER = "buyer", _("The buyer's side")
    SHOP = "shop", _("The shop's side")


class EvidenceKind(models.TextChoices):
    TEXT = "text", _("Statement")
    PHOTO = "photo", _("Photo or video of the case")
    MESSAGE = "message", _("A message of the case's conversation")
    CONTACT = "contact", _("An entry of the shop's contact log")
    TRACKING = "tracking", _("A tracking number")


class Autonomy(models.TextChoices):
    """Who decides a refund-only request after receipt, by the shop's service score."""

    SHOP = "shop", _("The shop decides (the platform does not overrule it)")
    NEGOTIATE = "negotiate", _("The platform decides once both sides were heard")
    PLATFORM = "platform", _("The platform may decide")
