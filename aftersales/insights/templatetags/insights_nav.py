"""``{% insights_link %}``: the desk's "Insights" entry, for the members who may read the KPIs
of at least one shop (``insights.view``: leads and administrators); nothing for the others."""

from __future__ import annotations

from django import template

from aftersales.core.permissions import permitted
from aftersales.insights.selectors import PERMISSION

register = template.Library()


@register.inclusion_tag("insights/_nav.html", takes_context=True)
def insights_link(context) -> dict:
    principal = context.get("principal")
    return {"show": principal is not None and permitted(principal, PERMISSION)}
