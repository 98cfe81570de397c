"""The complaint's table of moves (its lifecycle, run by the kernel in ``core.lifecycle``).

Filing is the first row. Each open stage has one move forward (the shop's, or the customer's
answer at the follow-up), the moves that keep it in its stage (the owner, links, and the clock's
reminder and escalation), and the customer's withdrawal. Each stage's deadline is the reminder
at half its policy timeout; the reminder sets the escalation at the stage's due time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from aftersales.complaints.choices import (
    FINAL_STATES,
    OPEN_STATES,
    STAGE_TIMEOUTS,
    Action,
    ComplaintState,
    DeadlineAction,
)
from aftersales.complaints.models import Complaint
from aftersales.complaints.moves import filing, handling, stages
from aftersales.core.actors import SYSTEM_ROLE
from aftersales.core.lifecycle import Lifecycle, Move, NoInput, StateDeadline, register
from aftersales.core.permissions import roles_for
from aftersales.policy import rules as policy_rules

SYSTEM = frozenset({SYSTEM_ROLE})

S = ComplaintState
A = Action


def who(action: str) -> frozenset[str]:
    """The roles that may take a person's action: its row of the one matrix
    (``core.permissions``), never a list kept here."""
    return roles_for(f"complaint.{action}")


FORWARD = (
    Move(None, A.FILE, S.RECEIVED, who(A.FILE), filing.file_complaint, filing.FileIn),
    Move(
        S.RECEIVED,
        A.ACKNOWLEDGE,
        S.ANALYSING,
        who(A.ACKNOWLEDGE),
        stages.acknowledge,
        stages.AcknowledgeIn,
    ),
    Move(S.ANALYSING, A.ANALYSE, S.DECIDING, who(A.ANALYSE), stages.analyse, stages.AnalyseIn),
    Move(S.DECIDING, A.DECIDE, S.EXECUTING, who(A.DECIDE), stages.decide, stages.DecideIn),
    Move(S.EXECUTING, A.EXECUTE, S.FOLLOWING_UP, who(A.EXECUTE), stages.execute, stages.ExecuteIn),
    Move(S.FOLLOWING_UP, A.ANSWER, S.CLOSED, who(A.ANSWER), stages.answer, stages.AnswerIn),
)

IN_EVERY_OPEN_STAGE = tuple(
    move
    for state in OPEN_STATES
    for move in (
        Move(state, A.ASSIGN, state, who(A.ASSIGN), handling.assign, handling.AssignIn),
        Move(state, A.LINK, state, who(A.LINK), handling.link, handling.LinkIn),
        Move(state, A.WITHDRAW, S.WITHDRAWN, who(A.WITHDRAW), stages.withdraw, stages.WithdrawIn),
        Move(state, A.REMIND, state, SYSTEM, handling.remind, NoInput),
        Move(state, A.ESCALATE, state, SYSTEM, handling.escalate, NoInput),
    )
)

MOVES = FORWARD + IN_EVERY_OPEN_STAGE


def _half_of(name: str) -> Callable[[Complaint], dt.timedelta]:
    return lambda complaint: policy_rules.timeout(complaint.policy, name) / 2


DEADLINES: dict[str, StateDeadline] = {
    state: StateDeadline(name, DeadlineAction.REMIND, duration=_half_of(name))
    for state, name in STAGE_TIMEOUTS.items()
}


COMPLAINTS = register(
    Lifecycle(
        subject_type="complaint",
        model=Complaint,
        moves=MOVES,
        deadlines=DEADLINES,
        final_states=FINAL_STATES,
        timeout=lambda complaint, name: policy_rules.timeout(complaint.policy, name),
        related=("shop", "customer", "order", "policy", "owner"),
        state_label=lambda state: str(ComplaintState(state).label),
        action_label=lambda action: str(Action(action).label),
        escalate_action=A.ESCALATE,
        escalate_notice="complaint_escalated",
        # Service levels: a complaint's kind is its type; the follow-up waits on the customer;
        # an owner or a link is internal work, no answer to the customer.
        sla_kind=lambda complaint: complaint.type,
        sla_unseen_actions=frozenset({A.ASSIGN, A.LINK}),
        sla_waiting_states=frozenset({S.FOLLOWING_UP}),
    )
)

PERSON_ACTIONS = frozenset(m.action for m in MOVES if m.roles != SYSTEM and m.source is not None)


def available_actions(complaint, role: str) -> list[str]:
    return COMPLAINTS.available(complaint, role)
