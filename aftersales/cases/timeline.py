"""What a caller may read of a case's timeline, and how a moment reads to people.

Every kind of event (``choices.Action``) has ONE visibility, in ``VISIBILITY``: staff-only (the
contact log, assignments, escalations to the team lead), or shown to the customer with some of its
data kept for the staff (notes written at the receiving desk, internal costs, request keys, stock
levels). The API (``cases.api.present_case``) and the pages both read the timeline through
``events_for``, so a customer sees the same entries everywhere.

The customer never sees a staff member's user name: an event by the shop's staff shows the word
for the shop ("The shop" / 本店) as its actor. The customer's own events and the system's
automatic ones keep their actor ("system" for the latter).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from aftersales.cases.choices import Action
from aftersales.core.actors import STAFF_ROLES, Principal


@dataclass(frozen=True)
class Visibility:
    """Who may see an event kind; for a customer-visible kind, the data keys they may not."""

    customer: bool
    staff_only_keys: frozenset[str] = frozenset()


STAFF_ONLY = Visibility(customer=False)


def customer_visible(*staff_only_keys: str) -> Visibility:
    return Visibility(customer=True, staff_only_keys=frozenset(staff_only_keys))


VISIBILITY: dict[str, Visibility] = {
    Action.OPEN: customer_visible(),
    Action.APPROVE: customer_visible(),
    Action.REJECT: customer_visible(),
    Action.CANCEL: customer_visible(),
    Action.MODIFY: customer_visible(),
    Action.SHIP_RETURN: customer_visible(),
    # The receiving desk's note is for the team. The inspection's reason for a deduction is not:
    # the customer reads why less is refunded (the inspector's per-line notes stay on the lines).
    Action.RECEIVE: customer_visible("note"),
    Action.INSPECT: customer_visible(),
    Action.REFUND: customer_visible("idempotency_key"),
    Action.AUTO_APPROVE: customer_visible("idempotency_key"),
    Action.AUTO_CLOSE: customer_visible(),
    Action.AUTO_REFUND: customer_visible("idempotency_key"),
    # A deadline the shop missed goes to the team lead, with what failed: internal work.
    Action.ESCALATE: STAFF_ONLY,
    Action.COMPENSATE: customer_visible(),
    Action.MESSAGE: customer_visible("template_id"),
    Action.CUSTOMER_MESSAGE: customer_visible(),
    Action.CONTACT: STAFF_ONLY,
    Action.ASSIGN: STAFF_ONLY,
    Action.RATE: customer_visible(),
    Action.CONVERT: customer_visible(),
    Action.SHIP_REPLACEMENT: customer_visible("idempotency_key"),
    Action.OFFER: customer_visible("stock"),
    Action.DIAGNOSE: customer_visible(),
    Action.ACCEPT_QUOTE: customer_visible(),
    Action.DECLINE_QUOTE: customer_visible(),
    # What the repair cost the shop is for its cost reports, not for the customer.
    Action.SHIP_BACK: customer_visible("note", "parts_cost", "labour_cost"),
    Action.CONFIRM_RECEIPT: customer_visible(),
    Action.REMIND: customer_visible(),
    Action.AUTO_DECLINE: customer_visible(),
    Action.AUTO_CONFIRM: customer_visible(),
}

ACTION_LABELS = dict(Action.choices)


@dataclass(frozen=True)
class TimelineEntry:
    """One event as a caller may see it."""

    action: str
    action_label: str
    actor: str
    role: str
    from_state: str
    to_state: str
    at: dt.datetime
    data: dict[str, Any]


def sees_everything(principal: Principal) -> bool:
    return principal.is_staff or principal.is_system


def events_for(principal: Principal, events: Iterable) -> list[TimelineEntry]:
    """The entries of ``events`` (a case's ``core.models.Event`` rows, oldest first, e.g.
    ``case.events.all()``) that ``principal`` may see, in the same order. Staff and the system
    see every entry with all its data and the real actor names; anyone else (a customer) sees
    only customer-visible kinds, without their staff-only data keys, and "The shop" instead of a
    staff member's name. An event kind missing from ``VISIBILITY`` is treated as staff-only."""
    everything = sees_everything(principal)
    entries = []
    for event in events:
        visibility = VISIBILITY.get(event.action, STAFF_ONLY)
        if not everything and not visibility.customer:
            continue
        data = event.data or {}
        actor = event.actor_name
        if not everything:
            data = {k: v for k, v in data.items() if k not in visibility.staff_only_keys}
            if event.role in STAFF_ROLES:
                actor = _("The shop")
        entries.append(
            TimelineEntry(
                action=event.action,
                action_label=str(ACTION_LABELS.get(event.action, "")),
                actor=str(actor),
                role=event.role,
                from_state=event.from_state,
                to_state=event.to_state,
                at=event.at,
                data=data,
            )
        )
    return entries


def readable_time(moment: dt.datetime, timezone: str, *, ends_period: bool = False) -> str:
    """``moment`` in the shop's time zone as people write it, ``2026-11-17 18:30``. The end of a
    period (``ends_period``) that falls on midnight reads as ``24:00`` of the day before, so a
    window that ends with the 17th ends at ``2026-11-17 24:00``, not on the 18th."""
    local = moment.astimezone(zoneinfo.ZoneInfo(timezone))
    if ends_period and local.time() == dt.time.min:
        return f"{(local - dt.timedelta(days=1)):%Y-%m-%d} 24:00"
    return f"{local:%Y-%m-%d %H:%M}"
