"""The checklist on the desk's case page (``playbooks/_checklist.html``, included by the page):
the case's playbook, its steps with who ticked them, and which of the actions on offer wait on
which steps. It reads what the page has already loaded (the case, its actions, the reply
templates) so the page costs two more queries."""

from __future__ import annotations

from django import template

from aftersales.cases.timeline import readable_time
from aftersales.playbooks import selectors, services
from aftersales.playbooks.choices import StepType
from aftersales.playbooks.data.starter import TEMPLATES
from aftersales.playbooks.definitions import action_label
from aftersales.playbooks.words import language_code, source_words

register = template.Library()


def _template_title(key: str, language: str) -> str:
    titles = TEMPLATES.get(key)
    return titles[language][0] if titles and language in titles else key


@register.simple_tag(takes_context=True)
def checklist_for(context, case):
    """What the checklist card shows, or ``None`` when no playbook matches the case."""
    checklist = selectors.checklist_of(case, services.playbooks_ready(shop=case.shop))
    playbook = checklist.playbook
    if playbook is None:
        return None
    language = language_code()
    templates = {t.title: t for t in context.get("templates") or ()}
    zone = case.shop.timezone
    steps = []
    for state in checklist.steps:
        step = state.step
        reply = templates.get(_template_title(step.template, language)) if step.template else None
        steps.append(
            {
                "key": state.key,
                "type": step.type,
                "type_label": StepType(step.type).label,
                "title": state.title,
                "detail": state.detail,
                "before": [label for _action, label in state.required_before],
                "done": state.done,
                "done_when": readable_time(state.done.done_at, zone) if state.done else "",
                "action_label": action_label(step.action) if step.action else "",
                "template": step.template,
                "reply": reply,
            }
        )
    offered = {action["name"]: action["label"] for action in context.get("actions") or ()}
    gates = [
        {"action": action, "label": offered[action], "steps": [s.title for s in waiting]}
        for action, waiting in checklist.pending().items()
        if waiting and action in offered
    ]
    return {
        "title": checklist.title,
        "enforced": playbook.enforced,
        "sources": source_words(playbook.sources, starter=playbook.is_starter),
        "steps": steps,
        "gates": gates,
        "complete": checklist.complete,
    }
