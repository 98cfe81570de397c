"""The effects of the violation's and the penalty's tables: recording a violation (and starting
the penalty its points reach), the one appeal, the platform's decision, and a penalty's start,
end and lifting."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aftersales.cases.moves.common import labelled, required_text, text
from aftersales.catalog.models import Shop
from aftersales.core.actors import SYSTEM
from aftersales.core.errors import Conflict, Ineligible, NotFound
from aftersales.core.lifecycle import ActionInput, Context
from aftersales.core.schemas import WholeId
from aftersales.core.timeline import readable_time
from aftersales.policy.services import policy_current
from aftersales.violations import rules
from aftersales.violations.choices import (
    PENALTY_HOLDING_STATES,
    AppealDecision,
    PenaltyState,
    ViolationKind,
)
from aftersales.violations.models import Penalty, Violation

# --- recording a violation ------------------------------------------------------------------------


class RecordIn(ActionInput):
    """Record a violation on a shop: its kind (the policy gives its class and points) and the
    reason in words. ``source_type`` and ``source_id`` name what caused it (a dispute, an
    inspection) when another part records it."""

    shop: required_text(40, gettext_noop("Shop"))
    kind: labelled(ViolationKind, gettext_noop("Violation"))
    reason: required_text(2000, gettext_noop("Reason"), widget="textarea")
    source_type: text(30, gettext_noop("Source type"), widget="hidden") = ""
    source_id: labelled(WholeId | None, gettext_noop("Source id"), widget="hidden") = None


def subject_number(prefix: str, subject, now: dt.datetime) -> str:
    """``prefix`` + the shop's local date + the id, e.g. ``WG20261124000042``."""
    day = now.astimezone(zoneinfo.ZoneInfo(subject.shop.timezone)).strftime("%Y%m%d")
    return f"{prefix}{day}{subject.id:06d}"


def record_violation(violation: Violation, ctx: Context) -> None:
    """Fill the new violation from the shop's current policy and start the penalty its points
    reach (once it has an id). The shop's row is locked, so two recordings on one shop count
    their totals one after the other."""
    data: RecordIn = ctx.input
    shop = Shop.objects.select_for_update().filter(code=data.shop).first()
    if shop is None or not ctx.actor.can_see_shop(shop.pk):
        raise NotFound(_("No shop %(code)s.") % {"code": data.shop}, code="shop_not_found")
    policy = policy_current(shop=shop)
    section = rules.violation_rules(policy)
    rules.require_enabled(section)
    rule = rules.kind_rule(section, data.kind)
    timezone = section["timezone"]
    year = rules.platform_year(ctx.now, timezone)
    before = rules.class_total(shop_id=shop.pk, violation_class=rule["violation_class"], year=year)
    violation.number = f"~{uuid.uuid4().hex[:30]}"  # replaced once the id exists
    violation.shop, violation.policy = shop, policy
    violation.kind = data.kind
    violation.violation_class = rule["violation_class"]
    violation.points = rule["points"]
    violation.year = year
    violation.reason = data.reason
    violation.source_type, violation.source_id = data.source_type, data.source_id
    violation.recorded_at = ctx.now
    violation.recorded_by_id = ctx.actor.user_id
    violation.recorded_by_name = ctx.actor.username
    violation.calculation = rules.violation_calculation(
        kind=data.kind, rule=rule, year=year, timezone=timezone, before=before, policy=policy
    )
    after = before + rule["points"]
    crossed = rules.steps_crossed(section[rule["violation_class"]], before, after)

    def after_insert(violation: Violation) -> None:
        violation.number = subject_number("WG", violation, ctx.now)
        Violation.objects.filter(pk=violation.pk).update(number=violation.number)
        if crossed:
            from aftersales.violations.services import penalty_start

            index, _step = crossed[-1]
            penalty_start(
                StartIn(
                    violation_id=violation.pk,
                    step_index=index,
                    steps_crossed=[step["points"] for _i, step in crossed],
                    total_before=before,
                    total_after=after,
                )
            )

    ctx.after_insert.append(after_insert)
    ctx.event_data.update(
        kind=data.kind,
        violation_class=rule["violation_class"],
        points=rule["points"],
        year=year,
        total_before=before,
        total_after=after,
        source_type=data.source_type,
        source_id=data.source_id,
    )
    ctx.notices.append("violation_recorded")


# --- the one appeal and the platform's decision -------------------------------------------------


class AppealIn(ActionInput):
    """Appeal the decision, once: say why it is wrong."""

    text: required_text(5000, gettext_noop("Why it is wrong"), widget="textarea")


class DecideIn(ActionInput):
    """Decide the appeal, with the reason in words (the shop reads it)."""

    reason: required_text(5000, gettext_noop("Reason for the decision"), widget="textarea")


def _subject_type(subject) -> str:
    return subject._meta.model_name


def not_appealed_yet(subject, ctx: Context) -> None:
    """The one appeal, within the policy's ``violations.appeal_window``."""
    if subject.appealed_at is not None:
        raise Conflict(
            _("%(number)s was appealed already on %(when)s; an appeal is allowed once.")
            % {"number": subject.number, "when": subject.appealed_at.date().isoformat()},
            code="already_appealed",
        )
    ends = rules.appeal_window_end(subject)
    if ctx.now >= ends:
        raise Ineligible(
            _("The time to appeal %(number)s ended at %(end)s (violations.appeal_window).")
            % {"number": subject.number, "end": readable_time(ends, subject.shop.timezone)},
            code="appeal_window_closed",
        )


def appeal(subject, ctx: Context) -> None:
    subject.appeal_text = ctx.input.text
    subject.appealed_at = ctx.now
    subject.appealed_by_id = ctx.actor.user_id
    ctx.event_data["text"] = ctx.input.text
    ctx.notices.append(f"{_subject_type(subject)}_appealed")


def _decide(subject, ctx: Context, decision: str) -> None:
    subject.appeal_decision = decision
    subject.decision_reason = ctx.input.reason
    subject.decided_at = ctx.now
    subject.decided_by_id = ctx.actor.user_id
    ctx.event_data.update(decision=decision, reason=ctx.input.reason)


def uphold(subject, ctx: Context) -> None:
    """The appeal is rejected: the violation or penalty stands as it was."""
    _decide(subject, ctx, AppealDecision.UPHELD)
    ctx.notices.append(f"{_subject_type(subject)}_upheld")


def withdraw_violation(violation: Violation, ctx: Context) -> None:
    """The appeal is granted: the violation's points no longer count, and the penalties of its
    class and year that the new total no longer reaches are lifted."""
    _decide(violation, ctx, AppealDecision.WITHDRAWN)
    total = rules.class_total(
        shop_id=violation.shop_id,
        violation_class=violation.violation_class,
        year=violation.year,
        exclude_id=violation.pk,
    )
    from aftersales.violations.services import penalty_transition

    lifted = []
    for penalty_id, number in Penalty.objects.filter(
        shop_id=violation.shop_id,
        violation_class=violation.violation_class,
        year=violation.year,
        state__in=PENALTY_HOLDING_STATES,
        step_points__gt=total,
    ).values_list("id", "number"):
        penalty_transition(
            penalty_id=penalty_id,
            action="lift",
            actor=SYSTEM,
            data=LiftIn(violation=violation.number, total=total),
        )
        lifted.append(number)
    ctx.event_data.update(total_after=total, penalties_lifted=lifted)
    ctx.notices.append("violation_withdrawn")


def withdraw_penalty(penalty: Penalty, ctx: Context) -> None:
    """The appeal is granted: the penalty ends now (the points stay)."""
    _decide(penalty, ctx, AppealDecision.WITHDRAWN)
    ctx.notices.append("penalty_withdrawn")


# --- the penalty's own moves ------------------------------------------------------------------


class StartIn(ActionInput):
    """What the system starts a penalty with: the violation whose points crossed a step."""

    violation_id: int
    step_index: int
    steps_crossed: list[int]
    total_before: int
    total_after: int


class LiftIn(ActionInput):
    """The violation withdrawn on appeal, and the class's total without it."""

    violation: str
    total: int


def holding_state(penalty: Penalty) -> str:
    """In force until its end, or permanently."""
    return PenaltyState.ACTIVE if penalty.ends_at is not None else PenaltyState.PERMANENT


def start_penalty(penalty: Penalty, ctx: Context) -> None:
    data: StartIn = ctx.input
    violation = Violation.objects.select_related("shop", "policy").get(pk=data.violation_id)
    section = rules.violation_rules(violation.policy)
    step = section[violation.violation_class][data.step_index]
    penalty.number = f"~{uuid.uuid4().hex[:30]}"
    penalty.shop, penalty.violation = violation.shop, violation
    penalty.violation_class = violation.violation_class
    penalty.year = violation.year
    penalty.step_points = step["points"]
    penalty.days = step["days"]
    penalty.measures = list(step["measures"])
    penalty.starts_at = ctx.now
    penalty.ends_at = ctx.now + dt.timedelta(days=step["days"]) if step["days"] else None
    penalty.calculation = {
        "rule": f"violations.{violation.violation_class}[{data.step_index}]",
        "violation": violation.number,
        "violation_class": violation.violation_class,
        "year": violation.year,
        "total_before": data.total_before,
        "total_after": data.total_after,
        "step_points": step["points"],
        "steps_crossed": data.steps_crossed,
        "days": step["days"],
        "measures": list(step["measures"]),
        "starts_at": penalty.starts_at.isoformat(),
        "ends_at": penalty.ends_at.isoformat() if penalty.ends_at else None,
        "policy_version": violation.policy.version,
    }

    def after_insert(penalty: Penalty) -> None:
        penalty.number = subject_number("CF", penalty, ctx.now)
        Penalty.objects.filter(pk=penalty.pk).update(number=penalty.number)

    ctx.after_insert.append(after_insert)
    ctx.event_data.update(
        violation=violation.number,
        step_points=step["points"],
        days=step["days"],
        measures=list(step["measures"]),
        ends_at=penalty.calculation["ends_at"],
    )
    ctx.notices.append("penalty_started")


def lift(penalty: Penalty, ctx: Context) -> None:
    ctx.event_data.update(violation=ctx.input.violation, total=ctx.input.total)
    ctx.notices.append("penalty_lifted")
