"""The case's vocabulary: states, kinds, reasons and their fault, actions, deadline actions.

Codes and labels follow the words sellers use on the platforms (docs/domain.md, the glossary).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from aftersales.policy.choices import Condition, Fault

# (Fault, ShippingPayer, Condition and CompensationReason are the policy's words: policy.choices.)


class CaseState(models.TextChoices):
    AWAITING_SELLER = "awaiting_seller", _("Awaiting seller")
    REJECTED = "rejected", _("Rejected by seller")
    AWAITING_RETURN = "awaiting_return", _("Awaiting buyer's return")
    RETURN_IN_TRANSIT = "return_in_transit", _("Return in transit")
    INSPECTING = "inspecting", _("Inspecting")
    REFUND_PENDING = "refund_pending", _("Refund pending")
    REPLACEMENT_PENDING = "replacement_pending", _("Replacement to be shipped")
    DIAGNOSING = "diagnosing", _("Diagnosing")
    QUOTE_PENDING = "quote_pending", _("Repair quote awaiting the customer")
    REPAIRING = "repairing", _("Repairing")
    RETURN_UNREPAIRED = "return_unrepaired", _("To be returned unrepaired")
    SHIPPED_TO_CUSTOMER = "shipped_to_customer", _("Shipped to the customer")
    REFUNDED = "refunded", _("Refunded")
    COMPLETED = "completed", _("Completed")
    CLOSED = "closed", _("Closed")


FINAL_STATES = frozenset({CaseState.REFUNDED, CaseState.COMPLETED, CaseState.CLOSED})
# States in which the goods of a case are back with the customer (a repaired or replaced item):
# its units may be claimed again, by a new repair of the same fault say.
GOODS_RETURNED_STATES = frozenset({CaseState.CLOSED, CaseState.COMPLETED})


class CaseKind(models.TextChoices):
    REFUND_ONLY = "refund_only", _("Refund only")
    RETURN_REFUND = "return_refund", _("Return and refund")
    EXCHANGE = "exchange", _("Exchange")
    REPAIR = "repair", _("Repair")


# Kinds whose goods travel back to the shop.
KINDS_WITH_GOODS = frozenset({CaseKind.RETURN_REFUND, CaseKind.EXCHANGE, CaseKind.REPAIR})

# Which kind a case may be converted to, and in which states (after inspection or diagnosis):
# return → exchange or repair; exchange → refund when out of stock; repair → return when
# irreparable (or exchange under 三包).
CONVERSIONS: dict[tuple[str, str], frozenset[str]] = {
    (CaseKind.RETURN_REFUND, CaseKind.EXCHANGE): frozenset({CaseState.REFUND_PENDING}),
    (CaseKind.RETURN_REFUND, CaseKind.REPAIR): frozenset({CaseState.REFUND_PENDING}),
    (CaseKind.EXCHANGE, CaseKind.RETURN_REFUND): frozenset({CaseState.REPLACEMENT_PENDING}),
    (CaseKind.REPAIR, CaseKind.RETURN_REFUND): frozenset(
        {CaseState.DIAGNOSING, CaseState.REPAIRING}
    ),
    (CaseKind.REPAIR, CaseKind.EXCHANGE): frozenset({CaseState.DIAGNOSING, CaseState.REPAIRING}),
}


class Reason(models.TextChoices):
    NO_REASON = "no_reason", _("7-day no-reason return")
    CHANGED_MIND = "changed_mind", _("Changed mind")
    WRONG_SIZE = "wrong_size", _("Wrong size")
    BOUGHT_BY_MISTAKE = "bought_by_mistake", _("Bought by mistake")
    QUALITY_ISSUE = "quality_issue", _("Quality issue")
    NOT_AS_DESCRIBED = "not_as_described", _("Not as described")
    WRONG_ITEM = "wrong_item", _("Wrong item sent")
    MISSING_ITEM = "missing_item", _("Missing item")
    COUNTERFEIT = "counterfeit", _("Counterfeit")
    NOT_RECEIVED = "not_received", _("Not received")
    NOT_SHIPPED = "not_shipped", _("Not shipped / out of stock")
    DAMAGED_IN_TRANSIT = "damaged_in_transit", _("Damaged in transit")


REASON_FAULT: dict[str, str] = {
    Reason.NO_REASON: Fault.BUYER,
    Reason.CHANGED_MIND: Fault.BUYER,
    Reason.WRONG_SIZE: Fault.BUYER,
    Reason.BOUGHT_BY_MISTAKE: Fault.BUYER,
    Reason.QUALITY_ISSUE: Fault.SELLER,
    Reason.NOT_AS_DESCRIBED: Fault.SELLER,
    Reason.WRONG_ITEM: Fault.SELLER,
    Reason.MISSING_ITEM: Fault.SELLER,
    Reason.COUNTERFEIT: Fault.SELLER,
    Reason.NOT_RECEIVED: Fault.SELLER,
    Reason.NOT_SHIPPED: Fault.SELLER,
    # The shop pays the buyer and claims from the carrier.
    Reason.DAMAGED_IN_TRANSIT: Fault.CARRIER,
}

# Reasons that make no sense when goods travel back to the shop.
REASONS_WITHOUT_GOODS = frozenset({Reason.NOT_RECEIVED, Reason.NOT_SHIPPED})


class DiagnosedBy(models.TextChoices):
    SHOP = "shop", _("The shop")
    SUPPLIER = "supplier", _("The upstream supplier")
    SERVICE_CENTER = "service_center", _("An authorised service center")


class WarrantyEntitlement(models.TextChoices):
    """What 三包 grants the customer at diagnosis, beside a free repair."""

    NONE = "", _("Repair only")
    RETURN = "return", _("Return (within the return days of 三包)")
    EXCHANGE = "exchange", _("Exchange (within the exchange days of 三包)")
    REPLACE_OR_RETURN = (
        "replace_or_return",
        _("Replacement or return (repairs of this fault failed)"),
    )


class QuoteDecision(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired: returned unrepaired")


class FlagColor(models.TextChoices):
    """The workbench's coloured flags; each shop gives each colour its meaning (the handbook's
    "mark the note purple once the refund is confirmed")."""

    RED = "red", _("Red")
    ORANGE = "orange", _("Orange")
    YELLOW = "yellow", _("Yellow")
    GREEN = "green", _("Green")
    BLUE = "blue", _("Blue")
    PURPLE = "purple", _("Purple")


class RatingReason(models.TextChoices):
    FAST = "fast", _("Fast")
    FRIENDLY = "friendly", _("Friendly")
    FAIR = "fair", _("Fair outcome")
    SLOW = "slow", _("Too slow")
    UNCLEAR = "unclear", _("Unclear")
    UNFAIR = "unfair", _("Unfair outcome")


class DeadlineAction(models.TextChoices):
    AUTO_APPROVE = "auto_approve", _("Auto-approve")
    AUTO_CLOSE = "auto_close", _("Auto-close")
    AUTO_REFUND = "auto_refund", _("Auto-refund")
    ESCALATE = "escalate", _("Escalate to the team lead")
    REMIND = "remind", _("Remind the customer")
    AUTO_DECLINE = "auto_decline", _("Return unrepaired")
    AUTO_CONFIRM = "auto_confirm", _("Confirm receipt automatically")
    # A marketplace's request (``aftersales.connectors``): at the platform's own timeout, read it
    # again (the platform acts by its rules); at the shop's, carry its automatic action out on
    # the platform (within the store's cap) or hand it to a person.
    PLATFORM_DUE = "platform_due", _("Read the platform again")
    PLATFORM_AUTO = "platform_auto", _("Act on the platform automatically")


class InspectionResult(models.TextChoices):
    PASS = "pass", _("Intact: refund in full")
    DEDUCT = "deduct", _("Damaged or used: deduct")


class Authenticity(models.TextChoices):
    """The inspection's verdict on whether the returned goods are the shop's genuine article: the
    recorded proof that a counterfeit claim (假一赔十) needs."""

    GENUINE = "genuine", _("Genuine")
    COUNTERFEIT = "counterfeit", _("Counterfeit")
    INCONCLUSIVE = "inconclusive", _("Inconclusive")


class FeePayer(models.TextChoices):
    """Who pays an authentication of the goods (``policy.inspection.fee_payer_if_*``)."""

    BUYER = "buyer", _("The buyer")
    SELLER = "seller", _("The shop")
    PLATFORM = "platform", _("The platform")


# Conditions that mean the buyer did not send back what they should have: the case is flagged.
DISPUTED_CONDITIONS = frozenset({Condition.WRONG_ITEM, Condition.EMPTY_BOX})


class Disposition(models.TextChoices):
    RESTOCK = "restock", _("Restock")
    REFURBISH = "refurbish", _("Refurbish")
    SCRAP = "scrap", _("Scrap")
    RETURN_TO_VENDOR = "return_to_vendor", _("Return to vendor")


class CompensationKind(models.TextChoices):
    COUPON = "coupon", _("Coupon")
    STORE_CREDIT = "store_credit", _("Store credit")


class Action(models.TextChoices):
    OPEN = "open", _("Open")
    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Reject")
    CANCEL = "cancel", _("Cancel")
    MODIFY = "modify", _("Modify and resubmit")
    SHIP_RETURN = "ship_return", _("Ship the return")
    RECEIVE = "receive", _("Confirm receipt")
    INSPECT = "inspect", _("Inspect")
    REFUND = "refund", _("Refund")
    AUTO_APPROVE = "auto_approve", _("Auto-approved on timeout")
    AUTO_CLOSE = "auto_close", _("Auto-closed on timeout")
    AUTO_REFUND = "auto_refund", _("Auto-refunded on timeout")
    ESCALATE = "escalate", _("Escalated on timeout")
    COMPENSATE = "compensate", _("Compensation given")
    MESSAGE = "message", _("Message to the customer")
    CUSTOMER_MESSAGE = "customer_message", _("Message from the customer")
    CONTACT = "contact", _("Contact logged")
    ASSIGN = "assign", _("Assigned")
    PRIORITIZE = "prioritize", _("Priority changed")
    RATE = "rate", _("Service rated")
    CONVERT = "convert", _("Convert the resolution")
    SHIP_REPLACEMENT = "ship_replacement", _("Ship the replacement")
    OFFER = "offer", _("Offer an alternative")
    DIAGNOSE = "diagnose", _("Record the diagnosis")
    ACCEPT_QUOTE = "accept_quote", _("Accept the repair quote")
    DECLINE_QUOTE = "decline_quote", _("Decline the repair quote")
    SHIP_BACK = "ship_back", _("Ship the goods back")
    CONFIRM_RECEIPT = "confirm_receipt", _("Confirm receipt")
    REMIND = "remind", _("Reminder sent on timeout")
    AUTO_DECLINE = "auto_decline", _("Quote expired: returned unrepaired")
    AUTO_CONFIRM = "auto_confirm", _("Receipt confirmed on timeout")
    # A platform dispute about the case (aftersales.disputes): its deadline paused on opening,
    # resumed with the time it had left when the dispute ends without a refund, or the refund the
    # platform decided.
    DISPUTE_PAUSE = "dispute_pause", _("Dispute opened: the deadline is paused")
    DISPUTE_RESUME = "dispute_resume", _("Dispute ended: the deadline runs again")
    DISPUTE_REFUND = "dispute_refund", _("Refunded by the platform's decision")
    # The platform's inspection center (aftersales.inspections): the case's deadline paused while
    # the goods are at the center and resumed after, and the center's verdict on the goods (the
    # proof a counterfeit claim needs).
    INSPECTION_PAUSE = "inspection_pause", _("Goods sent for inspection: the deadline is paused")
    INSPECTION_RESUME = "inspection_resume", _("Inspection over: the deadline runs again")
    CENTER_VERDICT = "center_verdict", _("Inspection center's verdict")
    # A marketplace's request (``aftersales.connectors`` takes these, as the system): what the
    # platform changed, its customer service stepping in (the deadline paused) and out, and the
    # deadlines of the platform's clock.
    PLATFORM_UPDATE = "platform_update", _("Changed on the platform")
    PLATFORM_PAUSE = "platform_pause", _("The platform stepped in: the deadline is paused")
    PLATFORM_RESUME = "platform_resume", _("The platform stepped back: the deadline runs again")
    PLATFORM_DUE = "platform_due", _("The platform's deadline passed: read again")
    PLATFORM_AUTO = "platform_auto", _("Automatic action sent to the platform")
