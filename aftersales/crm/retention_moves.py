"""The effects and typed inputs of the retention item's table (``crm.lifecycle``): queueing a
customer after a bad experience, another bad experience on their open item, and what the team
did (contacted, or dismissed saying why)."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aftersales.cases.moves.common import text
from aftersales.core.errors import InvalidInput
from aftersales.core.lifecycle import ActionInput, Context
from aftersales.core.schemas import WholeId
from aftersales.crm.models import Gesture, RetentionItem, RetentionReason, RetentionTrigger

NOTE_LIMIT = 2000

# Most serious first: the gesture of an item is the first whose reason the item has.
GESTURES: tuple[tuple[str, str], ...] = (
    # a complaint is about the shop's conduct: the lead calls, listens and owns the answer
    (RetentionReason.COMPLAINT, Gesture.LEAD_CALL),
    # a low score after the case ended: a coupon for the next order
    (RetentionReason.LOW_SCORE, Gesture.COUPON),
    # the customer waited too long: an apology and a small compensation
    (RetentionReason.SLOW_RESOLUTION, Gesture.APOLOGY_COMPENSATION),
    # the request was refused: a call that explains the decision and what else can be done
    (RetentionReason.REJECTED, Gesture.EXPLANATION_CALL),
)


def gesture_for(reasons: list[str]) -> str:
    for reason, gesture in GESTURES:
        if reason in reasons:
            return gesture
    raise ValueError(reasons)


# --- the bad experiences --------------------------------------------------------------------------


class TriggerIn(ActionInput):
    """One bad experience: the reason, the key naming its source (``rating:12``…) and when it
    happened."""

    reason: RetentionReason
    key: str
    at: dt.datetime


class QueueIn(TriggerIn):
    """The first bad experience of a customer without an open item: their shop and the
    customer."""

    shop_id: WholeId
    customer_id: WholeId


def _trigger(item: RetentionItem, ctx: Context) -> None:
    data: TriggerIn = ctx.input
    if data.reason not in item.reasons:
        item.reasons = [*item.reasons, data.reason]
    item.gesture = gesture_for(item.reasons)
    ctx.event_data.update(reason=str(data.reason), key=data.key)


def _trigger_row(item: RetentionItem, data: TriggerIn) -> None:
    RetentionTrigger.objects.create(item=item, key=data.key, reason=data.reason, at=data.at)


def queue(item: RetentionItem, ctx: Context) -> None:
    """A new item about the customer, with the experience's reason and its gesture; the
    experience is kept once the item has an id."""
    data: QueueIn = ctx.input
    item.shop_id, item.customer_id = data.shop_id, data.customer_id
    item.reasons = []
    item.created_at = ctx.now
    _trigger(item, ctx)
    ctx.after_insert.append(lambda item: _trigger_row(item, data))


def add_trigger(item: RetentionItem, ctx: Context) -> None:
    """Another experience on the open item: its reason joins (once), the gravest gesture
    wins."""
    _trigger(item, ctx)
    _trigger_row(item, ctx.input)


# --- what the team did --------------------------------------------------------------------------


class ContactIn(ActionInput):
    """The customer was contacted: what was done (optional)."""

    note: text(NOTE_LIMIT, gettext_noop("Note"), widget="textarea") = ""

    error_codes: ClassVar[dict[str, str]] = {"note": "note_too_long"}
    error_details: ClassVar[dict] = {"note": lambda: _("The note is too long.")}


class DismissIn(ContactIn):
    """The item is dismissed: why (required)."""


def handled(item: RetentionItem, ctx: Context) -> None:
    """Contacted or dismissed: the note, and who handled it (the kernel stamps when)."""
    item.note = ctx.input.note
    item.handled_by_id = ctx.actor.user_id


def says_why(item: RetentionItem, ctx: Context) -> None:
    """A dismissal says why."""
    if not ctx.input.note:
        raise InvalidInput(_("Say why the item is dismissed."), code="note_required", field="note")
