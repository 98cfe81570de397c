"""What a caller may read of an inspection's timeline. Both sides read the same record (it is
the platform's, and the verdict explains itself with its report); only the platform's own
overdue marks are kept from the buyer. The platform's operator reads everything."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from django.utils.translation import gettext as _

from aftersales.core.actors import SYSTEM, Principal, Role
from aftersales.core.timeline import (
    STAFF_ONLY,
    TimelineEntry,
    Visibility,
    customer_visible,
    entries_for,
)
from aftersales.inspections.choices import Action

VISIBILITY: dict[str, Visibility] = {
    Action.OPEN: customer_visible(),
    Action.SHIP: customer_visible(),
    # The center's note on the parcel is the platform's.
    Action.RECEIVE: customer_visible("note"),
    Action.VERDICT: customer_visible(),
    Action.CANCEL: customer_visible(),
    Action.LAPSE: customer_visible(),
    Action.ESCALATE: STAFF_ONLY,
}


def events_for(principal: Principal, events: Iterable) -> list[TimelineEntry]:
    if principal.role == Role.PLATFORM_OPERATOR:
        principal = SYSTEM
    entries = entries_for(principal, events, visibility=VISIBILITY, labels=dict(Action.choices))
    if principal.is_staff or principal.is_system:
        return entries
    # The buyer reads the platform's moves as the platform's, not as a person's.
    return [
        dataclasses.replace(entry, actor=_("The platform"))
        if entry.role == Role.PLATFORM_OPERATOR
        else entry
        for entry in entries
    ]
