"""Coupons and store credit on a case, by the shop policy's rules (《售后服务手册》, the after-sales
handbook: out of stock after payment, 5% of the amount, at most 30 yuan; 假一赔十 for a proven
counterfeit; goodwill)."""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from aftersales.cases.choices import Action, Authenticity, CompensationKind, Reason
from aftersales.cases.models import Case, Compensation
from aftersales.cases.services import case_lock
from aftersales.core import clock
from aftersales.core.actors import Principal
from aftersales.core.errors import Conflict, Ineligible, InvalidInput, PermissionDenied
from aftersales.core.gate import event_for
from aftersales.core.money import ZERO, money
from aftersales.core.notices import notice_build, notices_save
from aftersales.core.permissions import permitted
from aftersales.policy.choices import CompensationReason
from aftersales.policy.rules import compensation_rule

ONCE_PER_CASE = frozenset(
    {
        CompensationReason.OUT_OF_STOCK,
        CompensationReason.LATE_SHIPMENT,
        CompensationReason.COUNTERFEIT,
    }
)


def _paid_share(case: Case) -> Decimal:
    return sum(
        (
            money(line.order_line.paid_amount * line.quantity / line.order_line.quantity)
            for line in case.lines.select_related("order_line")
        ),
        ZERO,
    )


def _price(case: Case) -> Decimal:
    return sum(
        (
            line.order_line.unit_price * line.quantity
            for line in case.lines.select_related("order_line")
        ),
        ZERO,
    )


def counterfeit_proven(case: Case) -> bool:
    """Whether the case holds recorded proof that its goods are counterfeit: its authenticity
    verdict, the one record of it, written by the shop's own inspection of the returned goods
    (``inspect``) or by the platform's inspection center (``center_verdict``, taken by
    ``aftersales.inspections``), each on the case's timeline."""
    return case.authenticity_verdict == Authenticity.COUNTERFEIT


def _amount_for(case: Case, reason: str, requested: Decimal | None) -> Decimal:
    rule = compensation_rule(case.policy, reason)
    if reason in (CompensationReason.OUT_OF_STOCK, CompensationReason.LATE_SHIPMENT):
        share = money(_paid_share(case) * rule["percent"] / 100)
        due = min(max(share, money(rule["min"])), money(rule["max"]))
        if requested is not None and requested > due:
            raise Ineligible(
                _("The policy gives at most %(amount)s for this.") % {"amount": due},
                code="compensation_above_limit",
                limit=str(due),
            )
        return requested if requested is not None else due
    if reason == CompensationReason.COUNTERFEIT:
        if case.reason != Reason.COUNTERFEIT:
            raise Ineligible(
                _("Ten-fold compensation is for a counterfeit claim."),
                code="not_a_counterfeit_case",
            )
        if not counterfeit_proven(case):
            raise Conflict(
                _(
                    "Ten-fold compensation needs proof: record the inspection's verdict "
                    "“Counterfeit” first."
                ),
                code="counterfeit_not_proven",
            )
        return _price(case) * rule["multiple"]
    # goodwill: the agent names the amount, within what the policy allows per case
    if requested is None:
        raise InvalidInput(_("Goodwill needs an amount."), code="amount_required", field="amount")
    given = Compensation.objects.filter(case=case, reason=reason).aggregate(total=Sum("amount"))
    left = money(rule["max"]) - (given["total"] or ZERO)
    if requested > left:
        raise Ineligible(
            _("At most %(amount)s of goodwill is left for this case.")
            % {"amount": max(left, ZERO)},
            code="compensation_above_limit",
            limit=str(max(left, ZERO)),
        )
    return requested


@transaction.atomic
def compensation_grant(
    *,
    actor: Principal,
    case_id: int,
    reason: str,
    kind: str,
    amount: Decimal | None = None,
    note: str = "",
    idempotency_key: str = "",
) -> Compensation:
    """Give a coupon or store credit on a case, by the policy's rules; recorded on the timeline."""
    if reason not in CompensationReason.values or kind not in CompensationKind.values:
        raise InvalidInput(_("Unknown compensation."), code="invalid_compensation")
    # Ten times the price is a decision on a proven claim (a lead's or an administrator's), not
    # an agent's gesture.
    allowed = (
        "compensation.counterfeit"
        if reason == CompensationReason.COUNTERFEIT
        else "compensation.grant"
    )
    if not permitted(actor, allowed):
        raise PermissionDenied(_("Your role may not grant this compensation."), code="forbidden")
    case = case_lock(case_id)
    if not permitted(actor, allowed, case):
        raise PermissionDenied(_("Your role may not grant this compensation."), code="forbidden")
    if idempotency_key:
        done = Compensation.objects.filter(case=case, idempotency_key=idempotency_key).first()
        if done is not None:
            return done
    if reason in ONCE_PER_CASE and Compensation.objects.filter(case=case, reason=reason).exists():
        raise Conflict(_("This case was compensated for that already."), code="already_compensated")
    if amount is not None and amount <= 0:
        raise InvalidInput(_("Amounts must be more than 0."), code="invalid_amount", field="amount")
    value = _amount_for(case, reason, amount)
    now = clock.now()
    prefix = "CP" if kind == CompensationKind.COUPON else "SC"
    granted = Compensation.objects.create(
        case=case,
        shop_id=case.shop_id,
        customer_id=case.customer_id,
        kind=kind,
        reason=reason,
        amount=value,
        code=f"{prefix}{secrets.token_hex(8).upper()}",
        note=note[:2000],
        idempotency_key=idempotency_key,
        granted_by_id=actor.user_id,
        created_at=now,
    )
    event_for(
        case,
        actor=actor,
        action=Action.COMPENSATE,
        from_state=case.state,
        data={"kind": kind, "reason": reason, "amount": str(value), "code": granted.code},
        now=now,
    ).save()
    notices_save([notice_build(case, "case_compensated", {"compensation_code": granted.code})])
    return granted
