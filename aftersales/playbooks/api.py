"""Playbooks over HTTP: a case's checklist and its ticks, a shop's playbooks, and the completion
report. Thin: parse, authorise, call a service or selector, present. Every read is scoped to the
caller; another shop's case or shop answers 404."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from aftersales.cases import selectors as case_selectors
from aftersales.catalog import selectors as catalog_selectors
from aftersales.core import clock
from aftersales.core.actors import Principal
from aftersales.core.errors import InvalidInput, PermissionDenied
from aftersales.core.schemas import ERROR_RESPONSES
from aftersales.playbooks import selectors, services
from aftersales.playbooks.choices import StepType
from aftersales.playbooks.definitions import PlaybookIn, action_label
from aftersales.playbooks.models import Playbook
from aftersales.playbooks.schemas import (
    ChecklistOut,
    PlaybookList,
    PlaybookOut,
    PlaybookReportOut,
    PlaybookStepSetIn,
)
from aftersales.playbooks.words import source_words, word, words_by_language

router = Router(tags=["playbooks"])

REPORT_PARAMETERS = frozenset({"shop", "from", "to"})
REPORT_DEFAULT_DAYS = 30


def _staff(actor: Principal) -> None:
    if not actor.is_staff:
        raise PermissionDenied(_("Only the shop's staff may do this."), code="forbidden")


def present_checklist(checklist: selectors.Checklist) -> dict:
    playbook = checklist.playbook
    pending = checklist.pending()
    return {
        "case": checklist.case.number,
        "playbook": None
        if playbook is None
        else {
            "key": playbook.key,
            "title": checklist.title,
            "version": playbook.version,
            "enforced": playbook.enforced,
            "sources": source_words(playbook.sources, starter=playbook.is_starter),
        },
        "steps": [
            {
                "key": state.key,
                "order": state.step.order,
                "type": state.step.type,
                "type_label": str(StepType(state.step.type).label),
                "title": state.title,
                "detail": state.detail,
                "action": state.step.action,
                "action_label": action_label(state.step.action) if state.step.action else "",
                "template": state.step.template,
                "required_before": [
                    {"action": action, "label": label} for action, label in state.required_before
                ],
                "done": state.done is not None,
                "done_by": state.done.done_by_name if state.done else None,
                "done_at": state.done.done_at if state.done else None,
                "note": state.done.note if state.done else "",
            }
            for state in checklist.steps
        ],
        "gates": [
            {
                "action": action,
                "label": action_label(action),
                "pending": [state.key for state in states],
            }
            for action, states in pending.items()
        ],
        "complete": checklist.complete,
    }


def present_playbook(playbook: Playbook) -> dict:
    starter = playbook.is_starter
    return {
        "key": playbook.key,
        "version": playbook.version,
        "title": words_by_language(playbook, "title", starter=starter),
        "kind": playbook.kind,
        "reason": playbook.reason,
        "category": playbook.category,
        "sources": source_words(playbook.sources, starter=starter),
        "enforced": playbook.enforced,
        "is_starter": starter,
        "steps": [
            {
                "key": step.key,
                "type": step.type,
                "title": words_by_language(step, "title", starter=starter),
                "detail": words_by_language(step, "detail", starter=starter),
                "action": step.action,
                "template": step.template,
                "required_before": list(step.required_before),
            }
            for step in playbook.step_list
        ],
    }


def _checklist(actor: Principal, number: str) -> selectors.Checklist:
    _staff(actor)
    case = case_selectors.case_get(actor=actor, number=number)
    return selectors.checklist_of(case, services.playbooks_ready(shop=case.shop))


@router.get("/cases/{number}/playbook", response={200: ChecklistOut, **ERROR_RESPONSES})
def get_case_playbook(request: HttpRequest, number: str):
    return present_checklist(_checklist(request.auth, number))


@router.post(
    "/cases/{number}/playbook/steps/{key}", response={200: ChecklistOut, **ERROR_RESPONSES}
)
def set_case_playbook_step(request: HttpRequest, number: str, key: str, payload: PlaybookStepSetIn):
    actor = request.auth
    _staff(actor)
    case_id = case_selectors.case_id_for(actor=actor, number=number)
    checklist = services.step_set(
        actor=actor, case_id=case_id, key=key, done=payload.done, note=payload.note
    )
    return present_checklist(checklist)


def _editable_shop(actor: Principal, code: str):
    shop = catalog_selectors.shop_get(actor=actor, code=code)
    services.require_editor(actor, shop)
    return shop


@router.get("/shops/{code}/playbooks", response={200: PlaybookList, **ERROR_RESPONSES})
def list_shop_playbooks(request: HttpRequest, code: str):
    shop = _editable_shop(request.auth, code)
    return {"items": [present_playbook(p) for p in services.playbooks_ready(shop=shop)]}


@router.put("/shops/{code}/playbooks", response={200: PlaybookOut, **ERROR_RESPONSES})
def put_shop_playbook(request: HttpRequest, code: str, payload: PlaybookIn):
    actor = request.auth
    shop = _editable_shop(actor, code)
    playbook = services.playbook_put(actor=actor, shop=shop, data=payload)
    found = next(p for p in selectors.playbooks_loaded(shop.pk) if p.pk == playbook.pk)
    return present_playbook(found)


class PlaybookReportQuery(Schema):
    shop: str = Field(max_length=40)
    start: dt.date | None = Field(None, alias="from")
    end: dt.date | None = Field(None, alias="to")


@router.get("/playbooks/report", response={200: PlaybookReportOut, **ERROR_RESPONSES})
def playbook_report(request: HttpRequest, filters: Query[PlaybookReportQuery]):
    """Step completion per playbook for the cases a shop opened from ``from`` to ``to`` (dates
    in the shop's calendar, both included; by default the last 30 days)."""
    actor = request.auth
    unknown = sorted(set(request.GET) - REPORT_PARAMETERS)
    if unknown:
        raise InvalidInput(
            _("Unknown parameters: %(names)s.") % {"names": ", ".join(unknown)},
            code="unknown_parameter",
        )
    _staff(actor)
    found = catalog_selectors.shop_get(actor=actor, code=filters.shop)
    today = clock.now().astimezone(zoneinfo.ZoneInfo(found.timezone)).date()
    end = filters.end or today
    start = filters.start or end - dt.timedelta(days=REPORT_DEFAULT_DAYS - 1)
    playbooks = services.playbooks_ready(shop=found)
    _begins, _ends, figures = selectors.playbook_report(
        shop=found, playbooks=playbooks, start=start, end=end
    )
    rows = []
    for playbook in playbooks:
        row = figures[playbook.id]
        rows.append(
            {
                "key": playbook.key,
                "title": word(playbook, "title", starter=playbook.is_starter),
                "version": playbook.version,
                "cases": row["cases"],
                "completed_cases": row["completed"],
                "completion": selectors.share(row["completed"], row["cases"]),
                "steps": [
                    {
                        "key": step.key,
                        "title": word(step, "title", starter=playbook.is_starter),
                        "done": row["steps"][step.key],
                        "share": selectors.share(row["steps"][step.key], row["cases"]),
                    }
                    for step in playbook.step_list
                ],
            }
        )
    return {"shop": found.code, "start": start, "end": end, "playbooks": rows}
