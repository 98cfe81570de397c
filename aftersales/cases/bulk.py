"""Bulk approval from the workbench's queue: each selected case through the state table."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from aftersales.cases.choices import Action, CaseKind, CaseState
from aftersales.cases.models import Case
from aftersales.cases.services import case_transition
from aftersales.core.actors import Principal
from aftersales.core.errors import ApplicationError


@dataclass
class BulkResult:
    done: list[str]
    refused: dict[str, str]


def bulk_approve(*, actor: Principal, case_ids: list[int]) -> BulkResult:
    """Approve the selected refund-only cases, each through the state table in its own
    transaction; cases the table refuses (or of another kind) are reported, not forced."""
    result = BulkResult(done=[], refused={})
    rows = actor.scope(Case.objects.filter(id__in=case_ids[:200])).values_list(
        "id", "number", "kind", "state"
    )
    for case_id, number, kind, state in rows:
        if kind != CaseKind.REFUND_ONLY:
            result.refused[number] = _("only refund-only cases are approved in bulk")
            continue
        if state != CaseState.AWAITING_SELLER:
            result.refused[number] = str(CaseState(state).label)
            continue
        try:
            case_transition(case_id=case_id, action=Action.APPROVE, actor=actor)
            result.done.append(number)
        except ApplicationError as error:
            result.refused[number] = str(error.detail)
    return result
