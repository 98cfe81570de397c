"""The case's side of a marketplace request (``aftersales.connectors``): a case kept for a request a
buyer opened on Taobao, JD, Pinduoduo, Douyin or Kuaishou follows what the platform says.

- ``platform_update``: the platform changed the request (the buyer shipped the return, the
  platform refunded, the buyer withdrew…): the case goes to the state the platform's mapping table
  gives. A refund the platform reports as paid is booked through the ledger once (its key is the
  request's), never more than the request nor than the lines were paid; an exchange or a repair
  the platform calls done is completed, with no money out.
- ``platform_pause`` / ``platform_resume``: the platform's customer service stepped in (an
  intervention, a dispute) and out: the deadline stops with the time it had left, then runs again
  (as a dispute pauses it).
- ``platform_due``: the platform's own timeout for the step passed. The platform acts by its own
  rules; the case asks for the request to be read again and takes no action of its own.
- ``platform_auto``: the shop's own timeout, earlier than the platform's, ran out: its automatic
  action (an automatic approval or refund) is carried out on the platform, within the store's cap
  on automatic refunds, or handed to a person.

The deadline of a platform's case is the earlier of the shop's own and the platform's
(``deadline``, the case table's ``deadline_hook``); it is never an automatic action taken here
alone, since the money and the request's state are the platform's.

The case does not know the connectors app (a higher layer): what the platform says comes from the
desk that app registers at its start (``register_platform_desk``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.utils.translation import gettext as _

from aftersales.cases import ledger
from aftersales.cases.choices import FINAL_STATES, Action, CaseKind, CaseState, DeadlineAction
from aftersales.cases.moves.dispute import restart_deadline, stop_deadline
from aftersales.catalog.invoices import credit_note_issue
from aftersales.core.errors import Conflict
from aftersales.core.lifecycle import Context
from aftersales.core.money import ZERO, split_proportionally


@dataclass(frozen=True)
class PlatformView:
    """What the platform says of a case's request, as last read: the store and platform (code and
    name), the platform's raw status and kind, what they mean here (``state``: blank for a code
    the mapping table does not know), whether the platform paid the buyer (``money_out``, with the
    amount it gives), whether its customer service handles it, its own deadline for the step, a
    person needed, the back office's page where an API may not act."""

    store: str
    platform: str
    platform_name: str
    request_id: str
    status: str
    kind: str
    state: str
    money_out: bool
    amount: Decimal
    handling: bool
    deadline_at: dt.datetime | None
    needs_person: bool = False
    handle_url: str = ""
    write_pending: bool = False
    # Why a person is needed, in words ("": the mapping's own flag, an unknown code).
    problem: str = ""


class PlatformDesk(Protocol):
    def platform_of(self, case) -> PlatformView | None:
        """What the platform says of ``case``'s request (``None``: the case is the shop's own)."""

    def stores_for(self, shop_ids: frozenset[int] | None) -> list[tuple[int, str]]:
        """The stores of these shops (``None``: every shop), as (id, name) for a filter."""

    def platform_name(self, platform: str) -> str:
        """The marketplace's name, in the reader's language ("" for one it does not know)."""

    def due(self, case, action: str) -> None:
        """The case's ``action`` came due (``platform_due``: read again; ``platform_auto``: carry
        out the shop's automatic action on the platform): arrange it after the commit."""


_DESKS: list[PlatformDesk] = []


def register_platform_desk(desk: PlatformDesk) -> None:
    """Called once by the connectors app at its start."""
    if desk not in _DESKS:
        _DESKS.append(desk)


def platform_of(case) -> PlatformView | None:
    if case.pk is None or not case.platform:
        return None  # the shop's own case: nothing to ask
    return next((view for desk in _DESKS if (view := desk.platform_of(case)) is not None), None)


def stores_for(shop_ids: frozenset[int] | None) -> list[tuple[int, str]]:
    return [store for desk in _DESKS for store in desk.stores_for(shop_ids)]


def platform_label(platform: str) -> str:
    """A marketplace's name, in words (its code only if no desk knows it)."""
    return next((name for desk in _DESKS if (name := desk.platform_name(platform))), platform)


def _view(case) -> PlatformView:
    view = platform_of(case)
    if view is None:
        raise Conflict(_("This case is not a marketplace's request."), code="not_platform_case")
    return view


# --- the deadline -------------------------------------------------------------------------------


def deadline(case, deadline_at: dt.datetime | None, action: str) -> tuple[dt.datetime | None, str]:
    """The deadline a case keeps: a shop's own case its table's; a platform's case the earlier of
    the shop's own and the platform's — at the platform's, read again; at the shop's, its
    automatic action goes to the platform (or to a person). None while the platform handles it."""
    view = platform_of(case)
    if view is None:
        return deadline_at, action
    if view.handling or case.state in FINAL_STATES:
        return None, ""
    theirs = view.deadline_at
    if theirs is not None and (deadline_at is None or theirs <= deadline_at):
        return theirs, DeadlineAction.PLATFORM_DUE
    if deadline_at is None or action in ("", DeadlineAction.ESCALATE, DeadlineAction.REMIND):
        return deadline_at, action  # a person is told; nothing is done in the platform's name
    return deadline_at, DeadlineAction.PLATFORM_AUTO


# --- the moves ------------------------------------------------------------------------------------


def next_state(case) -> str:
    """The state the platform's mapping table gives (the case's own for an unknown code)."""
    view = platform_of(case)
    return (view.state or case.state) if view is not None else case.state


def _book_platform_refund(case, ctx: Context, view: PlatformView) -> None:
    """The refund the platform paid, in the ledger once (by the request's key), within what the
    case still asks for."""
    outstanding = case.requested_amount - case.refunded_amount
    amount = min(view.amount if view.amount > 0 else outstanding, outstanding)
    if amount <= 0:
        return
    lines = list(case.lines.all())
    shares = split_proportionally(amount, [line.requested_amount for line in lines])
    key = f"platform:{view.platform}:{view.request_id}"
    paid = ledger.refund_post(
        case=case,
        idempotency_key=key,
        now=ctx.now,
        amounts={line.id: share for line, share in zip(lines, shares, strict=True)},
    )
    case.approved_amount = max(case.approved_amount, case.refunded_amount)
    ctx.event_data.update(idempotency_key=key, refunded=str(paid or ZERO))
    note = credit_note_issue(case=case, amount=paid, now=ctx.now)
    if note is not None:
        ctx.event_data["credit_note"] = note.number
    ctx.notices.append("case_refunded")


def update(case, ctx: Context) -> None:
    """Follow the platform: its words on the record, a refund it paid in the ledger, and the
    platform's deadline when the state stays the same."""
    view = _view(case)
    target = view.state or case.state
    ctx.event_data.update(
        platform=view.platform, store=view.store, status=view.status, kind=view.kind
    )
    approved = target not in (CaseState.AWAITING_SELLER, CaseState.REJECTED, CaseState.CLOSED)
    if approved and case.approved_at is None:
        case.approved_at = ctx.now
        if case.kind in (CaseKind.REFUND_ONLY, CaseKind.RETURN_REFUND):
            case.approved_amount = case.requested_amount
    if case.first_response_at is None and target != CaseState.AWAITING_SELLER:
        case.first_response_at = ctx.now
    if target == CaseState.REFUNDED and view.money_out:
        _book_platform_refund(case, ctx, view)
    if target == case.state:
        # No new state, so the gate sets no deadline: the platform's may have moved.
        case.deadline_at, case.deadline_action = deadline(
            case, case.deadline_at, case.deadline_action
        )
    if view.deadline_at is not None:
        ctx.event_data["platform_deadline"] = view.deadline_at.isoformat()


def pause(case, ctx: Context) -> None:
    view = _view(case)
    ctx.event_data.update(platform=view.platform, status=view.status)
    stop_deadline(case, ctx)


def resume(case, ctx: Context) -> None:
    view = _view(case)
    ctx.event_data.update(platform=view.platform, status=view.status)
    restart_deadline(case, ctx, Action.PLATFORM_PAUSE)
    case.deadline_at, case.deadline_action = deadline(case, case.deadline_at, case.deadline_action)


def due(case, ctx: Context) -> None:
    """The platform's deadline passed: read the request again (the platform acted, or will)."""
    view = _view(case)
    ctx.event_data.update(platform=view.platform, status=view.status)
    case.deadline_at, case.deadline_action = None, ""
    for desk in _DESKS:
        desk.due(case, Action.PLATFORM_DUE)


def auto(case, ctx: Context) -> None:
    """The shop's own timeout ran out on a platform's case: its automatic action is carried out
    on the platform after the commit, within the store's cap, or handed to a person."""
    view = _view(case)
    ctx.event_data.update(platform=view.platform, status=view.status)
    case.deadline_at, case.deadline_action = None, ""
    for desk in _DESKS:
        desk.due(case, Action.PLATFORM_AUTO)
