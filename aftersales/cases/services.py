"""Every write to a case. ``case_transition`` is the only code that changes a case's state."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.db import transaction
from django.db.models import F
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
from aftersales.cases.models import Case, CaseEvent, CaseLine, CaseNumberCounter
from aftersales.cases.transitions import MOVE_INDEX, MOVES, STATE_DEADLINES
from aftersales.catalog.selectors import order_get
from aftersales.core import clock
from aftersales.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from aftersales.core.money import ZERO
from aftersales.notify.models import Audience
from aftersales.notify.services import notification_queue
from aftersales.team.principal import Principal

CUSTOMER_NOTICES = {
    "case_opened",
    "case_approved",
    "case_auto_approved",
    "case_rejected",
    "case_refunded",
    "case_closed",
}


def _next_number(*, now: dt.datetime, timezone: str) -> str:
    day = now.astimezone(zoneinfo.ZoneInfo(timezone)).strftime("%Y%m%d")
    CaseNumberCounter.objects.bulk_create([CaseNumberCounter(day=day)], ignore_conflicts=True)
    CaseNumberCounter.objects.filter(day=day).update(last_value=F("last_value") + 1)
    value = CaseNumberCounter.objects.values_list("last_value", flat=True).get(day=day)
    return f"AS{day}{value:06d}"


def _set_deadline(case: Case, now: dt.datetime) -> None:
    rule = STATE_DEADLINES.get(case.state)
    if rule is None:
        case.deadline_at = None
        case.deadline_action = ""
        return
    anchor = (rule.anchor(case) if rule.anchor else None) or now
    case.deadline_at = anchor + policy_rules.timeout(case.policy, rule.timeout_name(case))
    case.deadline_action = rule.action


def _record(case: Case, *, actor: Principal, action: str, from_state: str, data: dict, now) -> None:
    CaseEvent.objects.create(
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


def _notify(case: Case, kinds: list[str]) -> None:
    for kind in kinds:
        audience = Audience.CUSTOMER if kind in CUSTOMER_NOTICES else Audience.LEAD
        notification_queue(case=case, kind=kind, audience=audience)


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
    order = order_get(actor=actor, order_id=order_id)
    eligibility.check_order(order)
    order_lines = ledger.lock_order_lines(line.id for line in order.lines.all())
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
        number=_next_number(now=now, timezone=order.shop.timezone),
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
    CaseLine.objects.bulk_create(
        CaseLine(case=case, order_line=g.order_line, quantity=g.quantity, requested_amount=g.amount)
        for g in grants
    )
    _record(
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
    )
    _notify(case, ["case_opened"])
    return case


@transaction.atomic
def case_transition(
    *, case_id: int, action: str, actor: Principal, data: dict[str, Any] | None = None
) -> Case:
    """Take ``action`` on a case: lock it, check the table, apply the effect, record the event,
    set or clear the deadline and queue notifications, all in one transaction."""
    data = data or {}
    now = clock.now()
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("order__shop", "policy", "shop", "customer")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise NotFound(_("No such case."), code="case_not_found")
    if action not in Action.values or action == Action.OPEN:
        raise NotFound(_("Unknown action %(action)s.") % {"action": action}, code="unknown_action")
    key = data.get("idempotency_key")
    if key and case.events.filter(action=action, data__idempotency_key=key).exists():
        return case  # a retried request: it was done once, and is not done again
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
    else:
        # A same-state move (escalation) has used up the deadline's action; the deadline itself
        # stays, so the case keeps showing as overdue.
        case.deadline_action = ""
    case.save()
    _record(case, actor=actor, action=action, from_state=from_state, data=ctx.event_data, now=now)
    _notify(case, ctx.notifications)
    return case
