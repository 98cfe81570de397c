"""Shipping insurance's vocabulary (运费险): the cover's states and actions, the abuse flag's
states and actions, and the signals that raise a flag."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from aftersales.cases.choices import CaseKind

# The formula the premium was priced by (stored with every quote): bump it when the formula in
# ``pricing`` changes, so a stored quote still says how it was computed.
FORMULA_VERSION = 1

# A buyer's "returns": the cases that send goods back for a refund or another item.
RETURN_KINDS = (CaseKind.RETURN_REFUND, CaseKind.EXCHANGE)


class CoverState(models.TextChoices):
    QUOTED = "quoted", _("Quoted, not insured")
    INSURED = "insured", _("Insured")
    # Not insured within ``insurance.quote_valid``: quote it again to insure.
    LAPSED = "lapsed", _("Quote lapsed")


class CoverAction(models.TextChoices):
    QUOTE = "quote", _("Quote the premium")
    REQUOTE = "requote", _("Quote the premium again")
    INSURE = "insure", _("Insure the order")
    CLAIM = "claim", _("Claim the return shipping")
    RECORD_POSTAGE = "record_postage", _("Record the real postage")
    LAPSE = "lapse", _("The quote lapsed")


class FlagState(models.TextChoices):
    OPEN = "open", _("To be reviewed")
    CLEARED = "cleared", _("Cleared")
    CONFIRMED = "confirmed", _("Abuse confirmed")


FLAG_FINAL_STATES = frozenset({FlagState.CLEARED, FlagState.CONFIRMED})


class FlagAction(models.TextChoices):
    RAISE = "raise", _("Flagged for review")
    REFRESH = "refresh", _("New signals found")
    CLEAR = "clear", _("Clear the flag")
    CONFIRM = "confirm", _("Confirm the abuse")
    # Not reviewed within ``insurance.review_due``: the shop's team lead is told.
    ESCALATE = "escalate", _("Review overdue")


class Signal(models.TextChoices):
    MANY_RETURNS = "many_returns", _("Many returns in the look-back")
    PAYOUT_ABOVE_POSTAGE = "payout_above_postage", _("A payout above the real postage")
    SHARED_ADDRESS = "shared_address", _("Many accounts at one address")
