"""The review's vocabulary: its ratings, its states and its actions (评价: 好评 / 中评 / 差评).

A trade's review waits while its window is open (``pending``), is held for the shop to reach the
buyer when it is neutral or negative (``held``), is shown (``published``), and may end changed to
positive (``changed``), deleted by the buyer (``deleted``) or unrated when the window closed
without an automatic review (``expired``)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Rating(models.TextChoices):
    POSITIVE = "positive", _("Positive")
    NEUTRAL = "neutral", _("Neutral")
    NEGATIVE = "negative", _("Negative")


# A rating's points in the shop's score (中评不计分: neutral is 0 but counts in the positive rate).
POINTS = {Rating.POSITIVE: 1, Rating.NEUTRAL: 0, Rating.NEGATIVE: -1}


class ReviewState(models.TextChoices):
    PENDING = "pending", _("Waiting for the buyer's review")
    HELD = "held", _("Held for the shop to follow up")
    PUBLISHED = "published", _("Published")
    CHANGED = "changed", _("Changed to positive")
    DELETED = "deleted", _("Deleted by the buyer")
    EXPIRED = "expired", _("Not reviewed")


FINAL_STATES = frozenset({ReviewState.DELETED, ReviewState.EXPIRED})
# The states whose review is shown (and may count in the shop's score).
SHOWN_STATES = (ReviewState.PUBLISHED, ReviewState.CHANGED)


class Action(models.TextChoices):
    OPEN = "open", _("Review window opened")
    RATE = "rate", _("Review the order")
    AUTO_POSITIVE = "auto_positive", _("Automatic positive review")
    EXPIRE = "expire", _("Window closed without a review")
    PUBLISH = "publish", _("Published after the hold")
    CHANGE = "change", _("Change the review to positive")
    DELETE = "delete", _("Delete the review")
    CONTACT = "contact", _("Log contact with the buyer")
    REPLY = "reply", _("Reply to the review")
    # The sweep's answer to an automatic action a rule refused (the kernel's).
    ESCALATE = "escalate", _("Escalated: the automatic step was refused")
