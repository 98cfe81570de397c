"""The platform's decision and what follows it: refund in full, in part, or reject the claim,
with a written reason and its calculation (stored on the decision, shown to both sides), and
the violation points it proposes; the shop's acceptance or its one appeal within
``disputes.appeal_window``; the review of the appeal (upheld or changed); the decision made
final when the window runs out. A final decision acts on the case (``disputes.effects``).

Autonomy (``policy.autonomy``): a refund-only request after receipt (a ``refund_only`` case on
a signed order) is not the platform's to refund when the shop's service score is in a ``shop``
band; in a ``negotiate`` band only once both sides added evidence; in a ``platform`` band the
platform decides. Since 1 Feb 2026 a platform may not force refund-only on a merchant.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aftersales.cases.choices import CaseKind
from aftersales.cases.moves.common import labelled, required_text, text
from aftersales.core.errors import Conflict, Ineligible, InvalidInput
from aftersales.core.lifecycle import ActionInput, Context
from aftersales.core.money import ZERO, split_proportionally
from aftersales.core.schemas import PositiveAmount
from aftersales.disputes import effects, rules
from aftersales.disputes.choices import (
    REFUND_OUTCOMES,
    Autonomy,
    Outcome,
    ReviewResult,
    Side,
)
from aftersales.disputes.models import Decision
from aftersales.disputes.moves.evidence import sides_heard


class DecideIn(ActionInput):
    """Decide the dispute: refund in full, in part (``amount``), or reject, with the reason both
    sides read; ``violation_kind`` (a kind of the policy's ``violations.kinds``) proposes its
    points against the shop."""

    error_codes: ClassVar[dict[str, str]] = {"outcome": "invalid_outcome"}

    outcome: labelled(Outcome, gettext_noop("Decision"))
    amount: labelled(PositiveAmount | None, gettext_noop("Amount to refund")) = None
    reason: required_text(5000, gettext_noop("Reason (both sides read it)"), widget="textarea")
    violation_kind: text(40, gettext_noop("Violation (points against the shop)")) = ""


class AppealIn(ActionInput):
    """Appeal the platform's decision (once, within the appeal window)."""

    reason: required_text(5000, gettext_noop("Why the decision is wrong"), widget="textarea")


class ReviewIn(ActionInput):
    """Review the shop's appeal: uphold the decision, or change it (a new outcome, amount and
    violation, as when deciding)."""

    error_codes: ClassVar[dict[str, str]] = {"result": "invalid_result"}

    result: labelled(ReviewResult, gettext_noop("Review"))
    reason: required_text(5000, gettext_noop("Reason (both sides read it)"), widget="textarea")
    outcome: labelled(Outcome | None, gettext_noop("Decision")) = None
    amount: labelled(PositiveAmount | None, gettext_noop("Amount to refund")) = None
    violation_kind: text(40, gettext_noop("Violation (points against the shop)")) = ""


# --- the checks ------------------------------------------------------------------------------


def refund_only_after_receipt(dispute) -> bool:
    case = dispute.case
    return case.kind == CaseKind.REFUND_ONLY and case.order.signed_at is not None


def check_autonomy(dispute, outcome: str) -> dict:
    """Refuse a refund the shop's autonomy band keeps from the platform; returns the band's
    part of the calculation."""
    score = rules.shop_score(dispute.shop_id)
    band = rules.autonomy(dispute.policy, score)
    found = {"service_score": str(score), "autonomy": str(band)}
    if outcome not in REFUND_OUTCOMES or not refund_only_after_receipt(dispute):
        return found
    if band == Autonomy.SHOP:
        raise Ineligible(
            _(
                "The shop's service score (%(score)s) leaves a refund-only request after receipt "
                "to the shop: the platform does not overrule it."
            )
            % {"score": score},
            code="shop_autonomy",
        )
    if band == Autonomy.NEGOTIATE and sides_heard(dispute) != {Side.BUYER, Side.SHOP}:
        raise Ineligible(
            _(
                "With the shop's service score (%(score)s) the platform decides a refund-only "
                "request after receipt only once both sides added evidence."
            )
            % {"score": score},
            code="both_sides_first",
        )
    return found


def _amount(dispute, outcome: str, amount: Decimal | None) -> tuple[Decimal, dict]:
    case = dispute.case
    refundable = case.requested_amount - case.refunded_amount
    numbers = {
        "requested": str(case.requested_amount),
        "refunded_before": str(case.refunded_amount),
        "refundable": str(refundable),
    }
    if outcome == Outcome.REJECT:
        if amount is not None:
            raise InvalidInput(
                _("A rejection refunds nothing: leave the amount out."),
                code="invalid_amount",
                field="amount",
            )
        return ZERO, numbers
    if refundable <= 0:
        raise Conflict(_("Nothing of this case is left to refund."), code="nothing_to_refund")
    if outcome == Outcome.REFUND_FULL:
        if amount is not None and amount != refundable:
            raise InvalidInput(
                _("A refund in full is %(amount)s; for less, refund in part.")
                % {"amount": refundable},
                code="invalid_amount",
                field="amount",
            )
        amount = refundable
    else:
        if amount is None:
            raise InvalidInput(
                _("%(field)s is required for this action.") % {"field": _("Amount to refund")},
                code="amount_required",
                field="amount",
            )
        if amount >= refundable:
            raise InvalidInput(
                _("A refund in part is less than the %(amount)s still requested.")
                % {"amount": refundable},
                code="invalid_amount",
                field="amount",
            )
    # What the order's lines still allow (other cases may have refunded them since).
    lines = list(case.lines.select_related("order_line"))
    shares = split_proportionally(amount, [line.requested_amount for line in lines])
    for line, share in zip(lines, shares, strict=True):
        left = line.order_line.paid_amount - line.order_line.refunded_amount
        if share > left:
            raise Conflict(
                _("Refunding %(amount)s would exceed what line %(line)s was paid.")
                % {"amount": share, "line": line.order_line.external_id},
                code="refund_exceeds_paid",
            )
    return amount, numbers


def _violation(dispute, kind: str) -> tuple[int, dict]:
    if not kind:
        return 0, {}
    if not rules.section(dispute.policy, "violations").get("enabled"):
        # Refused when the decision is taken, not when it is carried out days later.
        raise Ineligible(
            _("This shop's rules keep no violation points."),
            code="violations_disabled",
            field="violation_kind",
        )
    rule = rules.violation_rule(dispute.policy, kind)
    if rule is None:
        known = ", ".join(sorted(rules.section(dispute.policy, "violations").get("kinds", {})))
        raise InvalidInput(
            _("Unknown violation %(kind)s; the policy knows: %(known)s.")
            % {"kind": kind, "known": known},
            code="unknown_violation_kind",
            field="violation_kind",
        )
    points = int(rule["points"])
    return points, {
        "kind": kind,
        "class": rule.get("violation_class", ""),
        "points": points,
        "rule": f"violations.kinds.{kind}.points",
    }


def make_decision(
    dispute,
    ctx: Context,
    *,
    outcome: str,
    amount: Decimal | None,
    reason: str,
    violation_kind: str = "",
    by_jury: bool = False,
    review_result: str = "",
    votes: dict | None = None,
) -> Decision:
    """Check, calculate and store a decision (every check before the first write)."""
    calculation = check_autonomy(dispute, outcome)
    amount, numbers = _amount(dispute, outcome, amount)
    points, violation = _violation(dispute, violation_kind)
    calculation.update(numbers, outcome=outcome, amount=str(amount))
    if violation:
        calculation["violation"] = violation
    if votes:
        calculation["votes"] = votes
    decision = Decision.objects.create(
        dispute=dispute,
        outcome=outcome,
        amount=amount,
        reason=reason,
        calculation=calculation,
        violation_kind=violation_kind,
        violation_points=points,
        by_jury=by_jury,
        review_result=review_result,
        decided_by_id=ctx.actor.user_id,
        decided_by_name=ctx.actor.username,
        decided_at=ctx.now,
    )
    dispute.decision = decision
    ctx.event_data.update(outcome=outcome, amount=str(amount), reason=reason)
    if points:
        ctx.event_data.update(violation_kind=violation_kind, violation_points=points)
    return decision


# --- the effects ---------------------------------------------------------------------------


def decide(dispute, ctx: Context) -> None:
    data: DecideIn = ctx.input
    make_decision(
        dispute,
        ctx,
        outcome=data.outcome,
        amount=data.amount,
        reason=data.reason,
        violation_kind=data.violation_kind,
    )
    ctx.notices.extend(("dispute_decided", "dispute_decided_shop"))


def accept(dispute, ctx: Context) -> None:
    ctx.event_data.update(effects.carry_out(dispute, dispute.decision, ctx.now))
    ctx.notices.extend(("dispute_final", "dispute_final_shop"))


def appeal(dispute, ctx: Context) -> None:
    allowed = rules.section(dispute.policy, "disputes")["appeals"]
    if dispute.appeals >= allowed:
        raise Conflict(_("The shop has used its appeal of this dispute."), code="appeal_used")
    if dispute.deadline_at is not None and ctx.now >= dispute.deadline_at:
        raise Ineligible(
            _("The time to appeal ended; the decision is final."), code="appeal_window_closed"
        )
    dispute.appeals += 1
    dispute.appeal_reason = ctx.input.reason
    dispute.appealed_at = ctx.now
    ctx.event_data["reason"] = ctx.input.reason
    ctx.notices.append("dispute_appealed")


def review(dispute, ctx: Context) -> None:
    data: ReviewIn = ctx.input
    before = dispute.decision
    if data.result == ReviewResult.UPHELD:
        if data.outcome is not None or data.amount is not None or data.violation_kind:
            raise InvalidInput(
                _("An upheld decision stays as it is: change nothing else."),
                code="invalid_review",
                field="outcome",
            )
        outcome, amount, kind = before.outcome, before.amount, before.violation_kind
        if outcome == Outcome.REJECT:
            amount = None
        elif outcome == Outcome.REFUND_FULL:
            amount = None  # in full: whatever is still requested
    else:
        if data.outcome is None:
            raise InvalidInput(
                _("%(field)s is required for this action.") % {"field": _("Decision")},
                code="outcome_required",
                field="outcome",
            )
        outcome, amount, kind = data.outcome, data.amount, data.violation_kind
    decision = make_decision(
        dispute,
        ctx,
        outcome=outcome,
        amount=amount,
        reason=data.reason,
        violation_kind=kind,
        review_result=data.result,
    )
    ctx.event_data["result"] = data.result
    ctx.event_data.update(effects.carry_out(dispute, decision, ctx.now))
    ctx.notices.extend(("dispute_final", "dispute_final_shop"))


def finalize(dispute, ctx: Context) -> None:
    """The appeal window ran out: the decision in force is final and acts on the case."""
    ctx.event_data.update(effects.carry_out(dispute, dispute.decision, ctx.now))
    ctx.notices.extend(("dispute_final", "dispute_final_shop"))


def escalate(dispute, ctx: Context) -> None:
    dispute.escalated_at = ctx.now
    ctx.event_data["overdue_since"] = (
        dispute.deadline_at.isoformat() if dispute.deadline_at else None
    )
    ctx.notices.append("dispute_escalated")


def close_evidence(dispute, ctx: Context) -> None:
    ctx.event_data["sides"] = sorted(sides_heard(dispute))


class WithdrawIn(ActionInput):
    reason: text(2000, gettext_noop("Reason"), widget="textarea") = ""


def withdraw(dispute, ctx: Context) -> None:
    from aftersales.disputes import jury

    jury.close_round(dispute, ctx.now)
    effects.case_resume(dispute)
    if ctx.input.reason:
        ctx.event_data["reason"] = ctx.input.reason
    ctx.notices.append("dispute_withdrawn")
