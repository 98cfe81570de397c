"""What a caller may read of a review's timeline, and its entries in words.

Every kind of event (``choices.Action``) has ONE visibility: the buyer sees their rating, its
publication, their change or deletion and the shop's reply; never the shop's logged contacts
(with their notes) or an escalation."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _

from aftersales.core.actors import Principal
from aftersales.core.timeline import (
    STAFF_ONLY,
    TimelineEntry,
    Visibility,
    customer_visible,
    entries_for,
)
from aftersales.reviews.choices import Action, Rating
from aftersales.team.models import ContactChannel

VISIBILITY: dict[str, Visibility] = {
    Action.OPEN: customer_visible(),
    Action.RATE: customer_visible(),
    Action.AUTO_POSITIVE: customer_visible("counted"),
    Action.EXPIRE: customer_visible(),
    Action.PUBLISH: customer_visible("counted", "over_cap"),
    Action.CHANGE: customer_visible(),
    Action.DELETE: customer_visible(),
    Action.CONTACT: STAFF_ONLY,
    Action.REPLY: customer_visible(),
    Action.ESCALATE: STAFF_ONLY,
}

ACTION_LABELS = dict(Action.choices)


def events_for(principal: Principal, events: Iterable) -> list[TimelineEntry]:
    return entries_for(principal, events, visibility=VISIBILITY, labels=ACTION_LABELS)


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value or "")


def describe(event) -> list[str]:
    """An entry's details in sentences (``event`` an Event or a TimelineEntry)."""
    data = event.data or {}
    action = event.action
    parts: list[str] = []
    if action in (Action.RATE, Action.AUTO_POSITIVE, Action.CHANGE) and data.get("rating"):
        if data.get("previous_rating"):
            parts.append(
                _("%(before)s → %(after)s")
                % {
                    "before": _label(Rating, data["previous_rating"]),
                    "after": _label(Rating, data["rating"]),
                }
            )
        else:
            parts.append(_label(Rating, data["rating"]))
        if data.get("text"):
            parts.append(data["text"])
    elif action == Action.CONTACT:
        parts.append(_label(ContactChannel, data.get("channel")))
        if data.get("note"):
            parts.append(_("Internal note: %(text)s") % {"text": data["note"]})
    elif action == Action.REPLY and data.get("reply"):
        parts.append(data["reply"])
    elif action == Action.ESCALATE and data.get("detail"):
        parts.append(data["detail"])
    if data.get("over_cap"):
        parts.append(_("Beyond the monthly cap of this buyer and shop: shown, not scored"))
    return parts
