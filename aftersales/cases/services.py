"""Every write to a case. ``case_transition`` is the only code that changes a case's state."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.cases import eligibility, ledger
from aftersales.cases import policy as policy_rules
from aftersales.cases.choices import (
    FINAL_STATES,
    REASON_FAULT,
    Action,
    CaseKind,
    CaseState,
    Reason,
)
from aftersales.cases.effects import TransitionContext
from aftersales.cases.models import Case, CaseEvent, CaseLine
from aftersales.cases.transitions import MOVE_INDEX, MOVES, STATE_DEADLINES, Move
from aftersales.catalog.selectors import order_head
from aftersales.core import clock
from aftersales.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from aftersales.core.money import ZERO
from aftersales.notify.models import Audience, Notification
from aftersales.notify.services import notification_build
from aftersales.team.principal import Principal

CUSTOMER_NOTICES = {
    "case_opened",
    "case_approved",
    "case_auto_approved",
    "case_rejected",
    "case_refunded",
    "case_closed",
    "case_converted",
    "case_offer",
    "replacement_shipped",
    "case_diagnosed",
    "case_quoted",
    "quote_reminder",
    "quote_expired",
    "goods_shipped_back",
    "case_completed",
}


def _number(case: Case, now: dt.datetime) -> str:
    """``AS`` + the shop's local date + the case id, e.g. ``AS20261124000123``: readable, unique,
    and taken from the row itself, so opening cases never queues on a shared counter."""
    day = now.astimezone(zoneinfo.ZoneInfo(case.shop.timezone)).strftime("%Y%m%d")
    return f"AS{day}{case.id:06d}"


def _set_deadline(case: Case, now: dt.datetime) -> None:
    rule = STATE_DEADLINES.get(case.state)
    if rule is None:
        case.deadline_at = None
        case.deadline_action = ""
        return
    anchor = (rule.anchor(case) if rule.anchor else None) or now
    duration = (rule.duration(case) if rule.duration else None) or policy_rules.timeout(
        case.policy, rule.timeout_name(case)
    )
    case.deadline_at = anchor + duration
    case.deadline_action = rule.action_for(case)


def event_build(
    case: Case, *, actor: Principal, action: str, from_state: str, data: dict, now
) -> CaseEvent:
    """An unsaved timeline entry; ``to_state`` is the case's state as it is now."""
    return CaseEvent(
        case=case,
        actor_id=actor.user_id,
        actor_name=actor.username,
        role=actor.role,
        action=action,
        from_state=from_state,
        to_state=case.state,
        data=data,
        at=now,
    )


def _notifications(case: Case, kinds: list[str]) -> list[Notification]:
    return [
        notification_build(
            case=case,
            kind=kind,
            audience=Audience.CUSTOMER if kind in CUSTOMER_NOTICES else Audience.LEAD,
        )
        for kind in kinds
    ]


@transaction.atomic
def case_open(
    *,
    actor: Principal,
    order_id: int,
    kind: str,
    reason: str,
    description: str = "",
    lines: list[eligibility.LineRequest],
) -> Case:
    """Open a case on an order for some of its lines; the first move of the state table."""
    now = clock.now()
    if actor.role not in MOVE_INDEX[(None, Action.OPEN)].roles:
        raise PermissionDenied(_("Your role cannot open cases."), code="action_forbidden")
    if kind not in CaseKind.values:
        raise InvalidInput(_("Unknown kind %(kind)s.") % {"kind": kind}, code="invalid_kind")
    if reason not in Reason.values:
        raise InvalidInput(
            _("Unknown reason %(reason)s.") % {"reason": reason}, code="invalid_reason"
        )
    if len(description) > 5000:
        raise InvalidInput(_("The description is too long."), code="invalid_input")
    order = order_head(actor=actor, order_id=order_id)
    eligibility.check_order(order)
    order_lines = ledger.lock_lines_of_order(order.id)
    policy = policy_rules.policy_current(shop=order.shop)
    requested_lines = [
        order_lines[r.order_line_id] for r in lines if r.order_line_id in order_lines
    ]
    eligibility.check_kind_and_reason(
        kind=kind, reason=reason, order=order, order_lines=requested_lines, policy=policy, now=now
    )
    grants = eligibility.grant_lines(order=order, requests=lines, locked_lines=order_lines)
    fault = REASON_FAULT[reason]
    case = Case(
        number=f"~{uuid.uuid4().hex[:30]}",  # replaced by the real number once the id exists
        shop=order.shop,
        order=order,
        customer=order.customer,
        policy=policy,
        kind=kind,
        reason=reason,
        fault=fault,
        return_shipping_payer=policy_rules.shipping_payer(policy, fault),
        description=description.strip(),
        state=CaseState.AWAITING_SELLER,
        requested_amount=sum((g.amount for g in grants), ZERO),
        opened_by_id=actor.user_id,
    )
    _set_deadline(case, now)
    case.save()
    case.number = _number(case, now)
    Case.objects.filter(pk=case.pk).update(number=case.number)
    CaseLine.objects.bulk_create(
        CaseLine(case=case, order_line=g.order_line, quantity=g.quantity, requested_amount=g.amount)
        for g in grants
    )
    event_build(
        case,
        actor=actor,
        action=Action.OPEN,
        from_state="",
        data={
            "kind": kind,
            "reason": reason,
            "requested_amount": str(case.requested_amount),
            "lines": [
                {"order_line_id": g.order_line.id, "quantity": g.quantity, "amount": str(g.amount)}
                for g in grants
            ],
        },
        now=now,
    ).save()
    Notification.objects.bulk_create(_notifications(case, ["case_opened"]))
    return case


TABLE_ACTIONS = frozenset(m.action for m in MOVES)


def check_move(case: Case, action: str, actor: Principal) -> Move:
    """The table's verdict on ``action`` by ``actor`` on ``case`` as it is now."""
    if action not in TABLE_ACTIONS or action == Action.OPEN:
        raise NotFound(_("Unknown action %(action)s.") % {"action": action}, code="unknown_action")
    if not any(actor.role in m.roles for m in MOVES if m.action == action):
        raise PermissionDenied(
            _("Your role may not take the action “%(action)s”.") % {"action": Action(action).label},
            code="action_forbidden",
        )
    move = MOVE_INDEX.get((case.state, action))
    if move is None:
        raise Conflict(
            _("The action “%(action)s” is not possible while the case is “%(state)s”.")
            % {"state": CaseState(case.state).label, "action": Action(action).label},
            code="action_not_allowed",
            state=case.state,
        )
    if actor.role not in move.roles:
        raise PermissionDenied(
            _("Your role may not take the action “%(action)s”.") % {"action": Action(action).label},
            code="action_forbidden",
        )
    return move


def apply_move(
    case: Case, move: Move, *, actor: Principal, data: dict[str, Any], now: dt.datetime
) -> tuple[CaseEvent, list[Notification]]:
    """Run the move's effect and set the next state and deadline on the (locked) case in memory;
    return the timeline event and notifications for the caller to write with the case."""
    ctx = TransitionContext(actor=actor, data=data, now=now)
    from_state = case.state
    if move.effect is not None:
        move.effect(case, ctx)
    case.state = move.next_state(case)
    if case.state != from_state:
        _set_deadline(case, now)
        if case.state in FINAL_STATES:
            case.resolved_at = now
            if case.state == CaseState.CLOSED:
                ctx.notifications.append("case_closed")
    elif move.action == Action.ESCALATE:
        # The escalation has used up the deadline's action; the deadline itself stays, so the
        # case keeps showing as overdue. (Other same-state moves keep the deadline, or, like the
        # quote reminder, set the next one.)
        case.deadline_action = ""
    case.updated_at = now
    event = event_build(
        case, actor=actor, action=move.action, from_state=from_state, data=ctx.event_data, now=now
    )
    return event, _notifications(case, ctx.notifications)


@transaction.atomic
def case_transition(
    *, case_id: int, action: str, actor: Principal, data: dict[str, Any] | None = None
) -> Case:
    """Take ``action`` on a case: lock it, check the table, apply the effect, record the event,
    set or clear the deadline and queue notifications, all in one transaction."""
    data = data or {}
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("order__shop", "policy", "shop", "customer")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise NotFound(_("No such case."), code="case_not_found")
    key = data.get("idempotency_key")
    if key and case.events.filter(action=action, data__idempotency_key=key).exists():
        return case  # a retried request: it was done once, and is not done again
    move = check_move(case, action, actor)
    event, notifications = apply_move(case, move, actor=actor, data=data, now=clock.now())
    case.save()
    event.save()
    Notification.objects.bulk_create(notifications)
    return case


class _Preview(Exception):
    def __init__(self, result: dict):
        self.result = result


def case_preview(
    *,
    actor: Principal,
    order_id: int,
    kind: str,
    reason: str,
    lines: list[eligibility.LineRequest],
) -> dict:
    """Whether ``case_open`` would accept this application, and what it would mean: who pays the
    return shipping and the refund to expect. Runs the very same code and rolls it back, so the
    answer cannot drift from the real one; refusals raise as they would on opening."""
    try:
        with transaction.atomic():
            case = case_open(actor=actor, order_id=order_id, kind=kind, reason=reason, lines=lines)
            deduction = ZERO
            if kind == CaseKind.RETURN_REFUND and case.return_shipping_payer == "buyer":
                deduction = min(
                    policy_rules.buyer_shipping_deduction(case.policy), case.requested_amount
                )
            raise _Preview(
                {
                    "eligible": True,
                    "kind": kind,
                    "fault": case.fault,
                    "return_shipping_payer": case.return_shipping_payer,
                    "requested_amount": case.requested_amount,
                    "expected_refund": case.requested_amount - deduction
                    if kind in (CaseKind.REFUND_ONLY, CaseKind.RETURN_REFUND)
                    else ZERO,
                    "currency": case.shop.currency,
                }
            )
    except _Preview as preview:
        return preview.result
