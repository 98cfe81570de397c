"""The complaint's vocabulary: its types, its stages, its actions, the solutions and the
customer's answer.

Types are Taobao's complaint list (违规出价, 付款未发货, 未履行承诺的服务, 欺骗确认收货, 描述不符,
恶意评价, 恶意骚扰) and the three dispute classes of everyday service (产品纠纷, 物流纠纷,
服务态度纠纷). The stages are the complaint-handling standard's: receive and record, analyse the
root cause, decide a solution, carry it out and inform the customer, follow up.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ComplaintType(models.TextChoices):
    IMPROPER_BIDDING = "improper_bidding", _("Improper bidding")
    NOT_SHIPPED = "not_shipped", _("Paid but not shipped")
    PROMISE_BROKEN = "promise_broken", _("Promised service not kept")
    DECEIVED_RECEIPT = "deceived_receipt", _("Tricked into confirming receipt")
    NOT_AS_DESCRIBED = "not_as_described", _("Not as described")
    MALICIOUS_REVIEW = "malicious_review", _("Malicious review")
    HARASSMENT = "harassment", _("Harassment")
    PRODUCT = "product", _("Product dispute")
    LOGISTICS = "logistics", _("Logistics dispute")
    ATTITUDE = "attitude", _("Service attitude dispute")


# The marketplace's complaint types: each is about one trade, so it names its order.
TRADE_TYPES = frozenset(
    {
        ComplaintType.IMPROPER_BIDDING,
        ComplaintType.NOT_SHIPPED,
        ComplaintType.PROMISE_BROKEN,
        ComplaintType.DECEIVED_RECEIPT,
        ComplaintType.NOT_AS_DESCRIBED,
        ComplaintType.MALICIOUS_REVIEW,
        ComplaintType.HARASSMENT,
    }
)


class ComplaintState(models.TextChoices):
    """The stage a complaint is in: the work the shop owes it next (the last two are ends)."""

    RECEIVED = "received", _("Received: to be taken up")
    ANALYSING = "analysing", _("Analysing the root cause")
    DECIDING = "deciding", _("Deciding the solution")
    EXECUTING = "executing", _("Carrying out the solution")
    FOLLOWING_UP = "following_up", _("Following up with the customer")
    CLOSED = "closed", _("Complaint closed")
    WITHDRAWN = "withdrawn", _("Withdrawn by the customer")


FINAL_STATES = frozenset({ComplaintState.CLOSED, ComplaintState.WITHDRAWN})
OPEN_STATES = tuple(s for s in ComplaintState if s not in FINAL_STATES)

# Each stage's policy timeout: its due time, with a reminder at half of it.
STAGE_TIMEOUTS = {
    ComplaintState.RECEIVED: "complaint_response",
    ComplaintState.ANALYSING: "complaint_analysis",
    ComplaintState.DECIDING: "complaint_solution",
    ComplaintState.EXECUTING: "complaint_execution",
    ComplaintState.FOLLOWING_UP: "complaint_follow_up",
}


class Action(models.TextChoices):
    FILE = "file", _("File a complaint")
    ACKNOWLEDGE = "acknowledge", _("Contact the customer and take it up")
    ANALYSE = "analyse", _("Record the root cause")
    DECIDE = "decide", _("Decide the solution")
    EXECUTE = "execute", _("Carry it out and inform the customer")
    ANSWER = "answer", _("Answer the follow-up")
    WITHDRAW = "withdraw", _("Withdraw the complaint")
    ASSIGN = "assign", _("Assign the owner")
    LINK = "link", _("Link a case or an order")
    REMIND = "remind", _("Reminder sent on timeout")
    ESCALATE = "escalate", _("Escalated on timeout")


class DeadlineAction(models.TextChoices):
    REMIND = "remind", _("Remind the owner")
    ESCALATE = "escalate", _("Escalate to the team lead")


class Solution(models.TextChoices):
    REFUND = "refund", _("Refund")
    EXCHANGE = "exchange", _("Exchange")
    COUPON = "coupon", _("Coupon")
    APOLOGY = "apology", _("Apology")
    OTHER = "other", _("Other solution")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    UNSATISFIED = "unsatisfied", _("Not satisfied")
