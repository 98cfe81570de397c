"""Reads of the playbooks: which playbook is a case's checklist, what is done on it, and the
completion report. Nothing here writes (the first read of a shop's playbooks copies the starter
set through ``services.playbooks_ready``)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from aftersales.cases.models import Case, CaseLine
from aftersales.catalog.models import Shop, Sku
from aftersales.core.errors import InvalidInput
from aftersales.playbooks.definitions import action_label
from aftersales.playbooks.models import Playbook, Step, StepDone
from aftersales.playbooks.words import word

# A report reads the cases opened in its period: at most this many days.
REPORT_MAX_DAYS = 366
# Dates any time zone can turn into moments (as the API's timestamps).
REPORT_FIRST_YEAR, REPORT_LAST_YEAR = 1900, 2999


def playbooks_loaded(shop_id: int | None) -> list[Playbook]:
    """A shop's playbooks (the starter set for ``None``), each with its steps in order
    (``playbook.step_list``), in one query."""
    steps = Step.objects.filter(playbook__shop_id=shop_id).select_related("playbook")
    playbooks: dict[int, Playbook] = {}
    for step in steps.order_by("playbook__key", "order", "id"):
        playbook = playbooks.setdefault(step.playbook_id, step.playbook)
        playbook.__dict__.setdefault("step_list", []).append(step)
        step.playbook = playbook
    return list(playbooks.values())


def specificity(playbook: Playbook, *, kind: str, reason: str, categories: set[str]):
    """How closely ``playbook`` fits a case (larger is closer), or ``None`` when it does not.
    Each field set counts one; between as many, a reason beats a kind, a kind a category."""
    if playbook.kind and playbook.kind != kind:
        return None
    if playbook.reason and playbook.reason != reason:
        return None
    if playbook.category and playbook.category not in categories:
        return None
    fields = (bool(playbook.reason), bool(playbook.kind), bool(playbook.category))
    return (sum(fields), *fields)


def playbook_match(
    playbooks: Iterable[Playbook], *, kind: str, reason: str, categories: set[str]
) -> Playbook | None:
    """The most specific playbook that matches (the first by key between equals)."""
    best, best_score = None, None
    for playbook in sorted(playbooks, key=lambda p: p.key):
        score = specificity(playbook, kind=kind, reason=reason, categories=categories)
        if score is not None and (best_score is None or score > best_score):
            best, best_score = playbook, score
    return best


def case_categories(case: Case) -> set[str]:
    """The product categories of a case's lines: from memory when the gate loaded them with the
    case, else in one query."""
    lines = list(case.lines.all())
    skus = [line.order_line.sku for line in lines if CaseLine.order_line.is_cached(line)]
    if len(skus) == len(lines) and all(Sku.product.is_cached(sku) for sku in skus):
        found = {sku.product.category for sku in skus}
    else:
        found = set(
            CaseLine.objects.filter(case_id=case.pk).values_list(
                "order_line__sku__product__category", flat=True
            )
        )
    return {category for category in found if category}


def playbook_for_case(case: Case, playbooks: Iterable[Playbook]) -> Playbook | None:
    playbooks = list(playbooks)
    # The lines' categories are read only when some playbook asks for one.
    categories = case_categories(case) if any(p.category for p in playbooks) else set()
    return playbook_match(playbooks, kind=case.kind, reason=case.reason, categories=categories)


@dataclass
class StepState:
    """One step of a case's checklist as the page and the API show it."""

    step: Step
    done: StepDone | None
    title: str
    detail: str
    required_before: list[tuple[str, str]]  # (action, its label)

    @property
    def key(self) -> str:
        return self.step.key


@dataclass
class Checklist:
    """A case's playbook (``None`` when none matches) and the state of each of its steps."""

    case: Case
    playbook: Playbook | None
    steps: list[StepState] = field(default_factory=list)

    @property
    def title(self) -> str:
        if self.playbook is None:
            return ""
        return word(self.playbook, "title", starter=self.playbook.is_starter)

    def pending(self) -> dict[str, list[StepState]]:
        """Each action some step must be done before, with the steps not done yet."""
        waiting: dict[str, list[StepState]] = {}
        for state in self.steps:
            for action, _label in state.required_before:
                waiting.setdefault(action, [])
                if state.done is None:
                    waiting[action].append(state)
        return waiting

    @property
    def complete(self) -> bool:
        return all(state.done is not None for state in self.steps)


def checklist_of(case: Case, playbooks: Iterable[Playbook]) -> Checklist:
    """The case's checklist from its shop's playbooks (``playbooks_loaded``)."""
    playbook = playbook_for_case(case, playbooks)
    if playbook is None:
        return Checklist(case=case, playbook=None)
    done = {d.step_key: d for d in StepDone.objects.filter(case=case)}
    starter = playbook.is_starter
    return Checklist(
        case=case,
        playbook=playbook,
        steps=[
            StepState(
                step=step,
                done=done.get(step.key),
                title=word(step, "title", starter=starter),
                detail=word(step, "detail", starter=starter),
                required_before=[(a, action_label(a)) for a in step.required_before],
            )
            for step in playbook.step_list
        ],
    )


def pending_steps(case: Case, action: str, playbooks: Iterable[Playbook]) -> list[Step]:
    """The steps of the case's playbook that must be done before ``action`` and are not, when its
    playbook is enforced (none otherwise)."""
    playbook = playbook_for_case(case, playbooks)
    if playbook is None or not playbook.enforced:
        return []
    required = [step for step in playbook.step_list if action in step.required_before]
    if not required:
        return []
    done = set(
        StepDone.objects.filter(case=case, step_key__in=[s.key for s in required]).values_list(
            "step_key", flat=True
        )
    )
    return [step for step in required if step.key not in done]


# --- the report ----------------------------------------------------------------------------------


def report_period(shop: Shop, start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The moments the days ``start`` to ``end`` (both included, the shop's calendar) begin and
    end."""
    if not (start.year >= REPORT_FIRST_YEAR and end.year <= REPORT_LAST_YEAR):
        raise InvalidInput(
            _("A report covers the years %(first)s to %(last)s.")
            % {"first": REPORT_FIRST_YEAR, "last": REPORT_LAST_YEAR},
            code="invalid_period",
        )
    if end < start:
        raise InvalidInput(_("The period ends before it starts."), code="invalid_period")
    if (end - start).days + 1 > REPORT_MAX_DAYS:
        raise InvalidInput(
            _("A report covers at most %(days)s days.") % {"days": REPORT_MAX_DAYS},
            code="invalid_period",
        )
    zone = zoneinfo.ZoneInfo(shop.timezone)
    begins = dt.datetime.combine(start, dt.time.min, tzinfo=zone)
    ends = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return begins, ends


def playbook_report(*, shop: Shop, playbooks: list[Playbook], start: dt.date, end: dt.date):
    """For the cases of ``shop`` opened in the period: per playbook, how many cases it was the
    checklist of, how many have every step done, and per step how many have it done. Four
    queries, whatever the number of cases."""
    begins, ends = report_period(shop, start, end)
    opened = Case.objects.filter(shop=shop, created_at__gte=begins, created_at__lt=ends)
    categories: dict[int, set[str]] = defaultdict(set)
    for case_id, category in CaseLine.objects.filter(case__in=opened).values_list(
        "case_id", "order_line__sku__product__category"
    ):
        if category:
            categories[case_id].add(category)
    done: dict[int, set[str]] = defaultdict(set)
    for case_id, key in StepDone.objects.filter(case__in=opened).values_list("case_id", "step_key"):
        done[case_id].add(key)
    figures = {p.id: {"cases": 0, "completed": 0, "steps": defaultdict(int)} for p in playbooks}
    for case_id, kind, reason in opened.values_list("id", "kind", "reason"):
        playbook = playbook_match(
            playbooks, kind=kind, reason=reason, categories=categories[case_id]
        )
        if playbook is None:
            continue
        row = figures[playbook.id]
        row["cases"] += 1
        keys = [step.key for step in playbook.step_list]
        for key in keys:
            if key in done[case_id]:
                row["steps"][key] += 1
        if all(key in done[case_id] for key in keys):
            row["completed"] += 1
    return begins, ends, figures


def share(part: int, whole: int) -> float:
    """``part`` of ``whole`` in per cent, one decimal (0 of nothing is 0)."""
    return round(100 * part / whole, 1) if whole else 0.0
