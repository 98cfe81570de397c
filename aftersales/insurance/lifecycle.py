"""The tables of shipping insurance (run by the kernel in ``core.lifecycle``).

The cover of an order: quoting is the first row (``quoted``); it may be quoted again, then
insured; an insured order takes a claim per return case and the real postage of a claim. A quote
not insured within ``insurance.quote_valid`` lapses (the sweep); a lapsed quote may be quoted
again (valid anew), never insured as it stands. The abuse flag: raised by the system (``open``),
refreshed with new signals, then cleared or confirmed by a platform operator with a written
reason; one not reviewed within ``insurance.review_due`` of its raising escalates (the shop's
team lead is told, the flag stays open for the review).
"""

from __future__ import annotations

from aftersales.core.actors import SYSTEM_ROLE
from aftersales.core.lifecycle import Lifecycle, Move, NoInput, StateDeadline, register
from aftersales.core.permissions import roles_for
from aftersales.insurance import moves
from aftersales.insurance.choices import (
    FLAG_FINAL_STATES,
    CoverAction,
    CoverState,
    FlagAction,
    FlagState,
)
from aftersales.insurance.models import AbuseFlag, Cover
from aftersales.policy.services import policy_current

SYSTEM = frozenset({SYSTEM_ROLE})
C, CA = CoverState, CoverAction
F, FA = FlagState, FlagAction


def cover_who(action: str) -> frozenset[str]:
    """The roles of a person's action: its row of the one matrix (``core.permissions``)."""
    return roles_for(f"insurance_cover.{action}")


def flag_who(action: str) -> frozenset[str]:
    return roles_for(f"insurance_flag.{action}")


def _cover_move(source, action, target, effect, input):
    return Move(
        source,
        action,
        target,
        cover_who(action),
        effect,
        input,
        guard=None if source is None else moves.guarded(f"insurance_cover.{action}"),
    )


COVER_MOVES = (
    _cover_move(None, CA.QUOTE, C.QUOTED, moves.quote, moves.QuoteIn),
    _cover_move(C.QUOTED, CA.REQUOTE, C.QUOTED, moves.requote, moves.RequoteIn),
    _cover_move(C.LAPSED, CA.REQUOTE, C.QUOTED, moves.requote, moves.RequoteIn),
    Move(C.QUOTED, CA.LAPSE, C.LAPSED, SYSTEM, moves.lapse, NoInput),
    _cover_move(C.QUOTED, CA.INSURE, C.INSURED, moves.insure, moves.InsureIn),
    _cover_move(C.INSURED, CA.CLAIM, C.INSURED, moves.claim, moves.ClaimIn),
    _cover_move(
        C.INSURED, CA.RECORD_POSTAGE, C.INSURED, moves.record_postage, moves.RecordPostageIn
    ),
)


def _cover_timeout(cover, name: str):
    """``quote_valid`` of the policy version the quote was priced under."""
    if name != "quote_valid":
        raise KeyError(f"a cover has no timeout {name}")
    return moves.quote_validity(cover.policy)


COVERS = register(
    Lifecycle(
        subject_type="insurance_cover",
        model=Cover,
        moves=COVER_MOVES,
        # Nobody needs a warning that an uninsured quote lapses: the buyer quotes again.
        deadlines={C.QUOTED: StateDeadline("quote_valid", CA.LAPSE, warn=False)},
        # An insured order stays insured: its claims come as its return cases do; a lapsed
        # quote may be quoted again.
        final_states=frozenset(),
        timeout=_cover_timeout,
        related=("shop", "order", "order__shop", "customer", "policy"),
        state_label=lambda state: str(CoverState(state).label),
        action_label=lambda action: str(CoverAction(action).label),
        notice_audience=lambda kind: "customer",
    )
)


def _flag_move(source, action, target, effect, input):
    return Move(
        source,
        action,
        target,
        flag_who(action),
        effect,
        input,
        guard=moves.guarded(f"insurance_flag.{action}"),
    )


FLAG_MOVES = (
    Move(None, FA.RAISE, F.OPEN, SYSTEM, moves.raise_flag, moves.RaiseIn),
    Move(F.OPEN, FA.REFRESH, F.OPEN, SYSTEM, moves.refresh, moves.RefreshIn),
    _flag_move(F.OPEN, FA.CLEAR, F.CLEARED, moves.review, moves.FlagReviewIn),
    _flag_move(F.OPEN, FA.CONFIRM, F.CONFIRMED, moves.confirm, moves.FlagReviewIn),
    Move(F.OPEN, FA.ESCALATE, F.OPEN, SYSTEM, moves.escalate_flag, NoInput),
)


def _flag_timeout(flag, name: str):
    """``review_due`` of the shop's current policy (a flag is not priced under a version)."""
    if name != "review_due":
        raise KeyError(f"an abuse flag has no timeout {name}")
    return moves.review_due(policy_current(shop=flag.shop))


FLAGS = register(
    Lifecycle(
        subject_type="insurance_flag",
        model=AbuseFlag,
        moves=FLAG_MOVES,
        # From the raising; new signals do not restart it (the state does not change).
        deadlines={F.OPEN: StateDeadline("review_due", FA.ESCALATE)},
        final_states=FLAG_FINAL_STATES,
        timeout=_flag_timeout,
        related=("shop", "customer"),
        state_label=lambda state: str(FlagState(state).label),
        action_label=lambda action: str(FlagAction(action).label),
        notice_audience=lambda kind: "lead",
        escalate_action=FA.ESCALATE,
        escalate_notice="insurance_flag_overdue",
    )
)
