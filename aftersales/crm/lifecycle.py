"""The retention item's table of moves (its lifecycle, run by the kernel in ``core.lifecycle``).

The retention feed (``crm.retention.retention_sweep``, the system) queues a customer after a bad
after-sales experience: the opening row. Each later bad experience of the same customer while
their item is open joins it (``add_trigger``: the item stays open, its reasons and gesture
follow). Whoever works the queue (``customer.manage``) marks it contacted, or dismisses it
saying why. An item has no deadline: it waits for the team.
"""

from __future__ import annotations

import datetime as dt

from aftersales.core.actors import SYSTEM_ROLE
from aftersales.core.lifecycle import Lifecycle, Move, register
from aftersales.core.permissions import roles_for
from aftersales.crm import retention_moves as moves
from aftersales.crm.access import MANAGE
from aftersales.crm.models import (
    RETENTION_FINAL_STATES,
    RetentionAction,
    RetentionItem,
    RetentionState,
)

SYSTEM = frozenset({SYSTEM_ROLE})
S, A = RetentionState, RetentionAction

# Who may: the one matrix's row (``core.permissions``), never a list kept here.
WORK = roles_for(MANAGE)

MOVES = (
    Move(None, A.QUEUE, S.OPEN, SYSTEM, moves.queue, moves.QueueIn),
    Move(S.OPEN, A.ADD_TRIGGER, S.OPEN, SYSTEM, moves.add_trigger, moves.TriggerIn),
    Move(S.OPEN, A.CONTACT, S.CONTACTED, WORK, moves.handled, moves.ContactIn),
    Move(
        S.OPEN, A.DISMISS, S.DISMISSED, WORK, moves.handled, moves.DismissIn, guard=moves.says_why
    ),
)


def _label(choices, value: str) -> str:
    return str(choices(value).label) if value in choices.values else value


RETENTION = register(
    Lifecycle(
        subject_type="retention_item",
        model=RetentionItem,
        moves=MOVES,
        deadlines={},
        final_states=RETENTION_FINAL_STATES,
        timeout=lambda item, name: dt.timedelta(0),
        state_label=lambda state: _label(RetentionState, state),
        action_label=lambda action: _label(RetentionAction, action),
    )
)
