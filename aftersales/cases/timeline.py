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

from collections.abc import Iterable

from aftersales.cases.choices import Action
from aftersales.core.actors import Principal
from aftersales.core.timeline import (  # noqa: F401 (the case's timeline words, in one place)
    STAFF_ONLY,
    TimelineEntry,
    Visibility,
    customer_visible,
    entries_for,
    readable_time,
    sees_everything,
    visible_events,
)

VISIBILITY: dict[str, Visibility] = {
    # The pause and resumption of the deadline while a platform dispute runs are on the record,
    # for both sides; the refund's request key is the platform's.
    Action.DISPUTE_PAUSE: customer_visible(),
    Action.DISPUTE_RESUME: customer_visible(),
    Action.DISPUTE_REFUND: customer_visible("idempotency_key"),
    # The inspection center's pause of the deadline and its verdict (with the fee and who owes
    # it) are on the record for both sides.
    Action.INSPECTION_PAUSE: customer_visible(),
    Action.INSPECTION_RESUME: customer_visible(),
    Action.CENTER_VERDICT: customer_visible(),
    Action.OPEN: customer_visible(),
    Action.APPROVE: customer_visible(),
    Action.REJECT: customer_visible(),
    Action.CANCEL: customer_visible(),
    Action.MODIFY: customer_visible(),
    Action.SHIP_RETURN: customer_visible(),
    # The receiving desk's note is for the team. The inspection's reason for a deduction is not:
    # the customer reads why less is refunded (the inspector's per-line notes stay on the lines).
    # What a parcel cost the shop and the value of the goods it scraps are internal costs (the
    # cost reports'), never the customer's.
    Action.RECEIVE: customer_visible("note", "shipping_cost"),
    Action.INSPECT: customer_visible("written_off"),
    Action.REFUND: customer_visible("idempotency_key"),
    Action.AUTO_APPROVE: customer_visible("idempotency_key"),
    Action.AUTO_CLOSE: customer_visible(),
    Action.AUTO_REFUND: customer_visible("idempotency_key"),
    # A deadline the shop missed goes to the team lead, with what failed: internal work.
    Action.ESCALATE: STAFF_ONLY,
    Action.COMPENSATE: customer_visible(),
    Action.MESSAGE: customer_visible("template_id"),
    Action.CUSTOMER_MESSAGE: customer_visible(),
    # The contact log, with the staff time it took and what that cost (``team.workbench``).
    Action.CONTACT: STAFF_ONLY,
    Action.ASSIGN: STAFF_ONLY,
    Action.PRIORITIZE: STAFF_ONLY,
    Action.RATE: customer_visible(),
    Action.CONVERT: customer_visible(),
    Action.SHIP_REPLACEMENT: customer_visible("idempotency_key", "shipping_cost"),
    Action.OFFER: customer_visible("stock"),
    Action.DIAGNOSE: customer_visible(),
    Action.ACCEPT_QUOTE: customer_visible(),
    Action.DECLINE_QUOTE: customer_visible(),
    # What the repair cost the shop is for its cost reports, not for the customer.
    Action.SHIP_BACK: customer_visible("note", "parts_cost", "labour_cost", "shipping_cost"),
    Action.CONFIRM_RECEIPT: customer_visible(),
    Action.REMIND: customer_visible(),
    Action.AUTO_DECLINE: customer_visible(),
    Action.AUTO_CONFIRM: customer_visible(),
    # What a marketplace did to its request is on the record for both sides (the ledger key of a
    # refund it paid and the raw codes are the team's).
    Action.PLATFORM_UPDATE: customer_visible("idempotency_key", "status", "kind", "store"),
    Action.PLATFORM_PAUSE: customer_visible("status"),
    Action.PLATFORM_RESUME: customer_visible("status"),
    # The deadline machinery of a platform's case (read again, act on the platform) is the team's.
    Action.PLATFORM_DUE: STAFF_ONLY,
    Action.PLATFORM_AUTO: STAFF_ONLY,
}

ACTION_LABELS = dict(Action.choices)


def events_for(principal: Principal, events: Iterable) -> list[TimelineEntry]:
    """The entries of ``events`` (a case's ``core.models.Event`` rows, oldest first, e.g.
    ``case.events.all()``) that ``principal`` may see, in the same order (``core.timeline``'s
    rule with the case's visibilities). An event kind missing from ``VISIBILITY`` is
    staff-only."""
    return entries_for(principal, events, visibility=VISIBILITY, labels=ACTION_LABELS)
