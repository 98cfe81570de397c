"""The rules of violation points, read from the shop's policy (``policy.violations``): the
platform year of a moment, a class's total in a year, the steps a new total crosses, and the
calculation every violation and penalty carries (data, and the same in words).

- The year: the calendar year of the moment in ``violations.timezone`` (the platform's, e.g.
  Asia/Shanghai): totals restart at 00:00 on 1 January there.
- A class's total: the points of the shop's violations of that class and year that count
  (recorded or appealed; a violation withdrawn on appeal counts no more).
- The appeal: once, within ``violations.appeal_window`` of the violation's recording or of the
  penalty's start.
- A step is crossed when the total before is below its points and the total after reaches
  them. When one violation crosses several steps, the highest one starts a penalty (its
  calculation names every step crossed).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.db.models import Sum
from django.utils.dateparse import parse_duration
from django.utils.translation import gettext as _

from aftersales.core.errors import Ineligible, InvalidInput
from aftersales.policy.models import Policy
from aftersales.policy.rules import policy_data_complete
from aftersales.violations.choices import (
    COUNTING_STATES,
    Measure,
    ViolationClass,
    ViolationKind,
)


def violation_rules(policy: Policy) -> dict[str, Any]:
    """The policy version's ``violations`` section (completed from its preset)."""
    return policy_data_complete(policy)["violations"]


def platform_year(moment: dt.datetime, timezone: str) -> int:
    """The calendar year of ``moment`` in the platform's time zone."""
    return moment.astimezone(zoneinfo.ZoneInfo(timezone)).year


def year_bounds(year: int, timezone: str) -> tuple[dt.datetime, dt.datetime]:
    """``[00:00 on 1 Jan, 00:00 on 1 Jan of the next year)`` in the zone, in UTC."""
    zone = zoneinfo.ZoneInfo(timezone)
    start = dt.datetime(year, 1, 1, tzinfo=zone)
    end = dt.datetime(year + 1, 1, 1, tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def appeal_window_end(subject) -> dt.datetime:
    """When the shop's one appeal of a violation (from its recording) or a penalty (from its
    start) is no longer open: ``violations.appeal_window`` of the policy version the violation
    was recorded under."""
    from aftersales.violations.models import Violation

    violation = subject if isinstance(subject, Violation) else subject.violation
    window = parse_duration(violation_rules(violation.policy)["appeal_window"])
    start = subject.recorded_at if isinstance(subject, Violation) else subject.starts_at
    return start + window


def require_enabled(rules: dict[str, Any]) -> None:
    if not rules["enabled"]:
        raise Ineligible(
            _(
                "Violation points are off in this shop's policy (violations.enabled): they are a "
                "marketplace's rules, not a shop's."
            ),
            code="violations_disabled",
        )


def kind_rule(rules: dict[str, Any], kind: str) -> dict[str, Any]:
    """The class and points of ``kind`` (``violations.kinds.<kind>``)."""
    rule = rules["kinds"].get(kind)
    if rule is None:
        raise InvalidInput(
            _("The policy gives no points for “%(kind)s” (violations.kinds).")
            % {"kind": kind_label(kind)},
            code="unknown_violation_kind",
            field="kind",
        )
    return rule


def class_total(*, shop_id: int, violation_class: str, year: int, exclude_id=None) -> int:
    """The points that count in a class and year (a violation being withdrawn left out)."""
    from aftersales.violations.models import Violation

    rows = Violation.objects.filter(
        shop_id=shop_id, violation_class=violation_class, year=year, state__in=COUNTING_STATES
    )
    if exclude_id is not None:
        rows = rows.exclude(pk=exclude_id)
    return rows.aggregate(total=Sum("points"))["total"] or 0


def steps_crossed(steps: list[dict], before: int, after: int) -> list[tuple[int, dict]]:
    """The steps (with their index in the class's list) that ``before → after`` crosses."""
    return [(index, step) for index, step in enumerate(steps) if before < step["points"] <= after]


# --- words ---------------------------------------------------------------------------------------


def kind_label(kind: str) -> str:
    return str(ViolationKind(kind).label) if kind in ViolationKind.values else kind


def class_label(violation_class: str) -> str:
    return (
        str(ViolationClass(violation_class).label)
        if violation_class in ViolationClass.values
        else violation_class
    )


def measures_text(measures: list[str]) -> str:
    return _(", ").join(str(Measure(m).label) if m in Measure.values else m for m in measures)


def violation_calculation(
    *, kind: str, rule: dict, year: int, timezone: str, before: int, policy: Policy
) -> dict[str, Any]:
    return {
        "rule": f"violations.kinds.{kind}",
        "kind": kind,
        "violation_class": rule["violation_class"],
        "points": rule["points"],
        "year": year,
        "timezone": timezone,
        "total_before": before,
        "total_after": before + rule["points"],
        "policy_version": policy.version,
    }


def violation_calculation_text(data: dict[str, Any]) -> str:
    """A violation's calculation in the reader's language."""
    if not data:
        return ""
    return _(
        "“%(kind)s”: %(class)s, %(points)s points (%(rule)s, policy version %(version)s). "
        "Points of this class in %(year)s (%(zone)s): %(before)s → %(after)s."
    ) % {
        "kind": kind_label(data["kind"]),
        "class": class_label(data["violation_class"]),
        "points": data["points"],
        "rule": data["rule"],
        "version": data["policy_version"],
        "year": data["year"],
        "zone": data["timezone"],
        "before": data["total_before"],
        "after": data["total_after"],
    }


def penalty_calculation_text(data: dict[str, Any], readable) -> str:
    """A penalty's calculation in the reader's language (``readable`` shows a moment)."""
    if not data:
        return ""
    values = {
        "class": class_label(data["violation_class"]),
        "year": data["year"],
        "before": data["total_before"],
        "after": data["total_after"],
        "violation": data["violation"],
        "rule": data["rule"],
        "step": data["step_points"],
        "measures": measures_text(data["measures"]),
        "days": data["days"],
        "start": readable(data["starts_at"]),
        "end": readable(data["ends_at"]) if data["ends_at"] else "",
    }
    reached = (
        _(
            "Points of “%(class)s” in %(year)s went from %(before)s to %(after)s with violation "
            "%(violation)s, reaching the step at %(step)s points (%(rule)s)."
        )
        % values
    )
    if data["days"] is None:
        brings = _("It brings, permanently from %(start)s: %(measures)s.") % values
    else:
        brings = _("It brings %(days)s days, from %(start)s to %(end)s: %(measures)s.") % values
    return f"{reached} {brings}"
