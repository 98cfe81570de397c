"""``{% crm_links %}``: the desk's entries for the care campaigns (members with ``care.manage``:
leads and administrators) and the membership tiers (whoever reads the customers); nothing for
the others."""

from __future__ import annotations

from django import template

from aftersales.core.permissions import permitted
from aftersales.crm import access, care

register = template.Library()


@register.inclusion_tag("crm/_care_nav.html", takes_context=True)
def crm_links(context) -> dict:
    principal = context.get("principal")
    return {
        "care": principal is not None and permitted(principal, care.MANAGE),
        "tiers": principal is not None and permitted(principal, access.VIEW),
    }
