"""What a caller may read of any subject's timeline (``core.models.Event`` rows), and how a
moment reads to people.

Each subject's app gives every kind of event ONE visibility (its ``VISIBILITY`` table):
staff-only, or shown to the customer with some of its data kept for the staff. Staff and the
system see every entry with all its data and the real actor names; a customer sees only the
customer-visible kinds, without their staff-only keys, and the word for the shop ("The shop" /
本店) instead of a staff member's name. The customer's own events and the system's automatic
ones keep their actor. An event kind missing from the table is staff-only.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from aftersales.core.actors import STAFF_ROLES, Principal


@dataclass(frozen=True)
class Visibility:
    """Who may see an event kind; for a customer-visible kind, the data keys they may not."""

    customer: bool
    staff_only_keys: frozenset[str] = frozenset()


STAFF_ONLY = Visibility(customer=False)


def customer_visible(*staff_only_keys: str) -> Visibility:
    return Visibility(customer=True, staff_only_keys=frozenset(staff_only_keys))


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

    def as_dict(self) -> dict[str, Any]:
        """The entry's fields as a dict, its data shared (``dataclasses.asdict`` deep-copies
        every value: a fifth of a long case page's time, for an answer that only renders it)."""
        return dict(self.__dict__)


# Words for the event kinds any subject may carry (an SLA warning, a playbook's tick), given by
# the app that writes them; a subject's own table of labels comes first.
_EVENT_LABELS: dict[str, Any] = {}


def register_event_labels(labels: Mapping[str, Any]) -> None:
    _EVENT_LABELS.update(labels)


def event_label(action: str, labels: Mapping[str, Any]) -> str:
    """The event kind ``action`` in words: the subject's ``labels``, else the registered ones."""
    return str(labels.get(action) or _EVENT_LABELS.get(action, ""))


def sees_everything(principal: Principal) -> bool:
    return principal.is_staff or principal.is_system


def visible_events(
    principal: Principal, events: Iterable, *, visibility: Mapping[str, Visibility]
) -> Iterator[tuple[Any, dict[str, Any]]]:
    """Each event of ``events`` (oldest first) that ``principal`` may see, with the data they may
    see of it, in the same order, by the subject's ``visibility`` table."""
    everything = sees_everything(principal)
    for event in events:
        data = event.data or {}
        if everything:
            yield event, data
            continue
        seen = visibility.get(event.action, STAFF_ONLY)
        if not seen.customer:
            continue
        hidden = seen.staff_only_keys
        yield event, {k: v for k, v in data.items() if k not in hidden} if hidden else dict(data)


def entries_for(
    principal: Principal,
    events: Iterable,
    *,
    visibility: Mapping[str, Visibility],
    labels: Mapping[str, Any],
) -> list[TimelineEntry]:
    """The entries of ``events`` (oldest first) that ``principal`` may see, in the same order,
    by the subject's ``visibility`` table; ``labels`` names each event kind."""
    everything = sees_everything(principal)
    # Each word once per read, not once per entry (a long timeline repeats a few kinds).
    words: dict[str, str] = {}
    the_shop = None
    entries = []
    for event, data in visible_events(principal, events, visibility=visibility):
        action = event.action
        label = words.get(action)
        if label is None:
            label = words[action] = event_label(action, labels)
        actor = event.actor_name
        if not everything and event.role in STAFF_ROLES:
            if the_shop is None:
                the_shop = str(_("The shop"))
            actor = the_shop
        entries.append(
            TimelineEntry(
                action=action,
                action_label=label,
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
