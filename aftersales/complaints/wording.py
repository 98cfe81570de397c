"""The words people read about a complaint, beside its codes: its stage for the team and for the
customer, who acts next, what its due time means, and each timeline entry in sentences (in the
reader's language and the shop's time; never a code or an ISO time)."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.complaints.choices import (
    Action,
    ComplaintState,
    ComplaintType,
    DeadlineAction,
    Satisfaction,
    Solution,
)
from aftersales.core.timeline import readable_time
from aftersales.team.models import ContactChannel

S = ComplaintState

# The stage in the customer's words.
CUSTOMER_STATE_LABELS = {
    S.RECEIVED: gettext_lazy("Complaint received"),
    S.ANALYSING: gettext_lazy("Taken up: the shop is finding the cause"),
    S.DECIDING: gettext_lazy("Cause found: the shop is deciding the solution"),
    S.EXECUTING: gettext_lazy("Solution decided: the shop is carrying it out"),
    S.FOLLOWING_UP: gettext_lazy("Done: waiting for your answer"),
    S.CLOSED: gettext_lazy("Complaint closed"),
    S.WITHDRAWN: gettext_lazy("You withdrew the complaint"),
}

# What the stage's due time means to the customer.
CUSTOMER_DUE = {
    S.RECEIVED: gettext_lazy("The shop contacts you by %(when)s."),
    S.ANALYSING: gettext_lazy("The shop finds the cause by %(when)s."),
    S.DECIDING: gettext_lazy("The shop decides the solution by %(when)s."),
    S.EXECUTING: gettext_lazy("The shop carries out the solution by %(when)s."),
    S.FOLLOWING_UP: gettext_lazy(
        "The shop follows up with you by %(when)s; you can answer here at any time."
    ),
}


def state_label(state: str) -> str:
    return str(ComplaintState(state).label)


def customer_state_label(state: str) -> str:
    return str(CUSTOMER_STATE_LABELS[state])


def type_label(value: str) -> str:
    return str(ComplaintType(value).label)


def waiting_on(complaint) -> str:
    """Who acts next, in a sentence for the team."""
    sentences = {
        S.RECEIVED: _("Contact the customer and take the complaint up."),
        S.ANALYSING: _("Find and record the root cause."),
        S.DECIDING: _("Decide the solution; the customer is told."),
        S.EXECUTING: _("Carry out the solution and inform the customer."),
        S.FOLLOWING_UP: _("Follow up: record whether the customer is satisfied."),
    }
    return sentences.get(complaint.state, _("This complaint has ended."))


def customer_due(complaint) -> str:
    sentence = CUSTOMER_DUE.get(complaint.state)
    if sentence is None or complaint.due_at is None:
        return ""
    return str(sentence) % {"when": readable_time(complaint.due_at, complaint.shop.timezone)}


def deadline_action_label(action: str) -> str:
    """What the deadline does next; once escalated, that it went to the team lead."""
    if not action:
        return _("Escalated to the team lead")
    return str(DeadlineAction(action).label)


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value or "")


def describe(event, complaint) -> list[str]:
    """A timeline entry's details in sentences (``event`` is a ``core.models.Event`` or a
    ``TimelineEntry`` with the data its reader may see)."""
    data = event.data or {}
    zone = complaint.shop.timezone
    action = event.action
    parts: list[str] = []
    if action == Action.FILE:
        parts.append(_label(ComplaintType, data.get("type")))
        if data.get("order"):
            parts.append(_("Order %(number)s") % {"number": data["order"]})
    elif action == Action.ACKNOWLEDGE and data.get("channel"):
        parts.append(_label(ContactChannel, data["channel"]))
    elif action == Action.ANALYSE and data.get("root_cause"):
        parts.append(_("Root cause: %(text)s") % {"text": data["root_cause"]})
    elif action == Action.DECIDE:
        parts.append(
            _("%(kind)s: %(solution)s")
            % {
                "kind": _label(Solution, data.get("solution_kind")),
                "solution": data.get("solution", ""),
            }
        )
    elif action == Action.EXECUTE and data.get("outcome"):
        parts.append(data["outcome"])
    elif action == Action.ANSWER:
        parts.append(_label(Satisfaction, data.get("answer")))
        if data.get("answer_note"):
            parts.append(data["answer_note"])
    elif action == Action.WITHDRAW and data.get("reason"):
        parts.append(data["reason"])
    elif action == Action.ASSIGN and data.get("owner"):
        parts.append(_("Owner: %(name)s") % {"name": data["owner"]})
    elif action == Action.LINK:
        if data.get("case"):
            parts.append(_("Case %(number)s linked") % {"number": data["case"]})
        if data.get("order"):
            parts.append(_("Order %(number)s linked") % {"number": data["order"]})
    elif action == Action.REMIND:
        when = _due_time(data.get("due_at"), zone)
        parts.append(
            _("Reminded %(name)s; due at %(when)s") % {"name": data["owner"], "when": when}
            if data.get("owner")
            else _("Nobody owns it: the team lead was reminded; due at %(when)s") % {"when": when}
        )
    elif action == Action.ESCALATE:
        parts.append(_("Overdue: it went to the team lead"))
    elif action in ("message", "customer_message") and data.get("text"):
        parts.append(data["text"])  # the conversation's messages (aftersales.conversations)
    stage_moves = (Action.ACKNOWLEDGE, Action.ANALYSE, Action.DECIDE, Action.EXECUTE)
    if action in stage_moves and data.get("owner"):
        parts.append(_("Owner: %(name)s") % {"name": data["owner"]})
    if data.get("note"):
        parts.append(_("Internal note: %(text)s") % {"text": data["note"]})
    return parts


def _due_time(value: str | None, zone: str) -> str:
    if not value:
        return "—"
    try:
        return readable_time(dt.datetime.fromisoformat(value), zone)
    except ValueError:
        return "—"
