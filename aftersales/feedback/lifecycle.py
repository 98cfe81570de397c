"""The survey's table of moves (its lifecycle, run by the kernel in ``core.lifecycle``).

A month's round sends each sampled case's survey (the opening row: the lead who runs the round,
or the system for the command). A sent survey waits for its answer until ``SURVEY_VALID_DAYS``
after sending: the customer answers or declines through the link (no login: the link's holder
acts as the survey's customer), or, for a survey to call, an agent records what the customer
said on the phone (or that they declined). When the time is up the sweep expires it; a link
used after that moment but before the sweep ran is refused as expired all the same.
"""

from __future__ import annotations

import datetime as dt

from aftersales.core.actors import SYSTEM_ROLE
from aftersales.core.lifecycle import Lifecycle, Move, NoInput, StateDeadline, register
from aftersales.core.permissions import roles_for
from aftersales.feedback import moves
from aftersales.feedback.models import (
    SURVEY_FINAL_STATES,
    Survey,
    SurveyAction,
    SurveyStatus,
)

SYSTEM = frozenset({SYSTEM_ROLE})
S, A = SurveyStatus, SurveyAction

# Who may: the one matrix's rows (``core.permissions``), never a list kept here.
SEND = roles_for("survey.manage") | SYSTEM
ANSWER = roles_for("survey.answer")
CALL = roles_for("survey.call")

MOVES = (
    Move(None, A.SEND, S.SENT, SEND, moves.send, moves.SendIn),
    Move(
        S.SENT, A.ANSWER, S.ANSWERED, ANSWER, moves.answer, moves.AnswerIn, guard=moves.not_expired
    ),
    Move(
        S.SENT,
        A.RECORD_CALL,
        S.ANSWERED,
        CALL,
        moves.answer,
        moves.AnswerIn,
        guard=moves.on_the_phone,
    ),
    Move(
        S.SENT,
        A.DECLINE,
        S.DECLINED,
        ANSWER | CALL,
        moves.decline,
        NoInput,
        guard=moves.declinable,
    ),
    Move(S.SENT, A.EXPIRE, S.EXPIRED, SYSTEM, None, NoInput),
)


def _label(choices, value: str) -> str:
    return str(choices(value).label) if value in choices.values else value


SURVEYS = register(
    Lifecycle(
        subject_type="survey",
        model=Survey,
        moves=MOVES,
        # An expiry is no news to anyone: the bell does not warn of it.
        deadlines={S.SENT: StateDeadline("survey_valid", A.EXPIRE, warn=False)},
        final_states=SURVEY_FINAL_STATES,
        timeout=lambda survey, name: dt.timedelta(days=moves.SURVEY_VALID_DAYS),
        state_label=lambda state: _label(SurveyStatus, state),
        action_label=lambda action: _label(SurveyAction, action),
        notice_audience=lambda kind: "customer",
    )
)
