"""The review's table of moves (its lifecycle, run by the kernel in ``core.lifecycle``).

Opening is the first row (the worker's, for an order signed since reviews began, or the service's
when a buyer rates an order that has none yet). ``pending`` waits for the buyer until the end of
the window, then the clock gives the automatic positive (or closes it unrated when the policy
gives none). A neutral or negative rating is ``held`` for ``hold`` (48 hours), then the clock
publishes it. The buyer may change a neutral or negative review to positive (``changed``) or
delete it; the shop logs its contact and replies."""

from __future__ import annotations

import datetime as dt

from aftersales.core.actors import SYSTEM_ROLE
from aftersales.core.lifecycle import Lifecycle, Move, NoInput, StateDeadline, register
from aftersales.core.permissions import roles_for
from aftersales.reviews import moves
from aftersales.reviews.choices import FINAL_STATES, Action, ReviewState
from aftersales.reviews.models import Review
from aftersales.reviews.rules import hold, review_rules

SYSTEM = frozenset({SYSTEM_ROLE})

S = ReviewState
A = Action


def who(action: str) -> frozenset[str]:
    """The roles that may take a person's action: its row of the one matrix."""
    return roles_for(f"review.{action}")


MOVES = (
    Move(None, A.OPEN, S.PENDING, SYSTEM, moves.open_review, moves.ReviewOpenIn),
    Move(
        S.PENDING,
        A.RATE,
        moves.after_rating,
        who(A.RATE),
        moves.rate,
        moves.RateIn,
        guard=moves.check_window,
    ),
    Move(S.PENDING, A.AUTO_POSITIVE, S.PUBLISHED, SYSTEM, moves.auto_positive, NoInput),
    Move(S.PENDING, A.EXPIRE, S.EXPIRED, SYSTEM, None, NoInput),
    Move(S.HELD, A.PUBLISH, S.PUBLISHED, SYSTEM, moves.publish, NoInput),
    *(
        move
        for state in (S.HELD, S.PUBLISHED)
        for move in (
            Move(
                state,
                A.CHANGE,
                S.CHANGED,
                who(A.CHANGE),
                moves.change,
                moves.ChangeIn,
                guard=moves.check_change,
            ),
            Move(
                state,
                A.DELETE,
                S.DELETED,
                who(A.DELETE),
                moves.delete,
                moves.DeleteIn,
                guard=moves.check_delete,
            ),
            Move(state, A.CONTACT, state, who(A.CONTACT), moves.contact, moves.ContactIn),
        )
    ),
    *(
        Move(state, A.REPLY, state, who(A.REPLY), moves.reply, moves.ReplyIn)
        for state in (S.HELD, S.PUBLISHED, S.CHANGED)
    ),
)


def _at_window_end(review: Review) -> dt.datetime:
    return review.window_ends_at


def _window_action(review: Review) -> str:
    return A.AUTO_POSITIVE if review_rules(review.policy)["auto_positive"] else A.EXPIRE


def _timeout(review: Review, name: str) -> dt.timedelta:
    # The window's end is fixed when it opens (its deadline is that moment); the hold starts when
    # the buyer rates.
    return hold(review.policy) if name == "hold" else dt.timedelta(0)


DEADLINES: dict[str, StateDeadline] = {
    # The automatic positive at the end of every trade's window is routine: the bell stays quiet.
    S.PENDING: StateDeadline("window", _window_action, anchor=_at_window_end, warn=False),
    S.HELD: StateDeadline("hold", A.PUBLISH),
}


REVIEWS = register(
    Lifecycle(
        subject_type="review",
        model=Review,
        moves=MOVES,
        deadlines=DEADLINES,
        final_states=FINAL_STATES,
        timeout=_timeout,
        related=("shop", "customer", "order", "policy"),
        state_label=lambda state: str(ReviewState(state).label),
        action_label=lambda action: str(Action(action).label),
        notice_audience=lambda kind: "shop",
        entry_notices={S.HELD: ("review_held",)},
        escalate_action=A.ESCALATE,
        escalate_notice="review_escalated",
    )
)

PERSON_ACTIONS = frozenset(m.action for m in MOVES if m.roles != SYSTEM and m.source is not None)


def available_actions(review: Review, role: str | None) -> list[str]:
    return REVIEWS.available(review, role)
