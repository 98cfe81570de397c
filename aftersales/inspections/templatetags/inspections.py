"""The case's page shows the inspections of its goods (the case does not know this app: its
templates include ``inspections/_on_case.html``, which asks this tag)."""

from __future__ import annotations

from django import template

from aftersales.inspections.choices import InspectionState
from aftersales.inspections.selectors import inspections_of_case
from aftersales.inspections.wording import explain, verdict_label

register = template.Library()


@register.simple_tag(takes_context=True)
def inspections_on_case(context, case) -> list[dict]:
    request = context.get("request")
    principal = getattr(request, "principal", None)
    if principal is None or case is None:
        return []
    return [
        {
            "inspection": inspection,
            "state_label": InspectionState(inspection.state).label,
            "verdict_label": verdict_label(inspection),
            "explanation": explain(inspection),
        }
        for inspection in inspections_of_case(actor=principal, case=case)
    ]
