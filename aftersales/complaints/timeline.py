"""What a caller may read of a complaint's timeline, and its steps in the customer's words.

Every kind of event (``choices.Action``) has ONE visibility, in ``VISIBILITY``: the customer sees
the stages, the solution and what was done; never the staff's notes, the root cause the team
recorded, who owns it, the reminders or the escalations. The API and the pages read the timeline
through ``events_for``, so a customer sees the same entries everywhere; a staff member's name
reads as "The shop" to a customer.
"""

from __future__ import annotations

from collections.abc import Iterable

from aftersales.cases.choices import Action as CaseAction
from aftersales.complaints.choices import Action
from aftersales.complaints.wording import customer_state_label, describe
from aftersales.core.actors import Principal
from aftersales.core.timeline import (
    STAFF_ONLY,
    TimelineEntry,
    Visibility,
    customer_visible,
    entries_for,
)

VISIBILITY: dict[str, Visibility] = {
    Action.FILE: customer_visible(),
    Action.ACKNOWLEDGE: customer_visible("note", "owner"),
    # The root cause is the team's own analysis (it may name a colleague or a supplier).
    Action.ANALYSE: customer_visible("root_cause", "note", "owner"),
    Action.DECIDE: customer_visible("note", "owner"),
    Action.EXECUTE: customer_visible("note", "owner"),
    Action.ANSWER: customer_visible(),
    Action.WITHDRAW: customer_visible(),
    Action.ASSIGN: STAFF_ONLY,
    Action.LINK: STAFF_ONLY,
    Action.REMIND: STAFF_ONLY,
    Action.ESCALATE: STAFF_ONLY,
    # The conversation beside the stages (aftersales.conversations), in the case's words.
    CaseAction.MESSAGE: customer_visible(),
    CaseAction.CUSTOMER_MESSAGE: customer_visible(),
}

ACTION_LABELS = {
    **dict(Action.choices),
    CaseAction.MESSAGE: CaseAction.MESSAGE.label,
    CaseAction.CUSTOMER_MESSAGE: CaseAction.CUSTOMER_MESSAGE.label,
}


def events_for(principal: Principal, events: Iterable) -> list[TimelineEntry]:
    """The entries of ``events`` (a complaint's events, oldest first) that ``principal`` may
    see (``core.timeline``'s rule with the complaint's visibilities)."""
    return entries_for(principal, events, visibility=VISIBILITY, labels=ACTION_LABELS)


# Steps are the customer's account of the complaint, whoever reads them.
CUSTOMER_VIEW = Principal(user_id=None, username="", role="customer")


def steps(complaint) -> list[dict]:
    """The stages the complaint entered, oldest first, in the customer's words, each with what
    the customer may read of it (the solution, what was done, their answer)."""
    result = []
    for entry in events_for(CUSTOMER_VIEW, complaint.events.all()):
        if not entry.to_state or entry.to_state == entry.from_state:
            continue
        result.append(
            {
                "state": entry.to_state,
                "label": customer_state_label(entry.to_state),
                "at": entry.at,
                # Filing needs no detail: the customer wrote it.
                "detail": ""
                if entry.action == Action.FILE
                else "; ".join(describe(entry, complaint)),
            }
        )
    return result
