"""What the desk's routing partials need: the signed-in agent's duty, whether the case page
offers them to claim the case, and whether the menu shows the teams page."""

from __future__ import annotations

from django import template

from aftersales.routing.choices import MANAGER_ROLES, ROUTED_ROLES
from aftersales.routing.selectors import duty_of
from aftersales.routing.services import is_manager, manages_any_shop
from aftersales.routing.subjects import CASES

register = template.Library()


@register.simple_tag(takes_context=True)
def duty_state(context):
    """``True`` / ``False`` for an agent or a team lead, ``None`` (no toggle) for anyone else."""
    principal = context.get("principal")
    if principal is None:
        return None
    return duty_of(actor=principal)


@register.simple_tag(takes_context=True)
def manages_routing(context) -> bool:
    """Whether the signed-in member manages some shop's routing and teams (the menu's "Teams")."""
    principal = context.get("principal")
    return principal is not None and manages_any_shop(principal)


@register.simple_tag
def claim_offer(case, principal):
    """``"claim"`` (nobody holds it), ``"take_over"`` (a colleague does; a lead may take it), or
    ``""``: nothing to offer."""
    if principal is None or principal.role not in ROUTED_ROLES | MANAGER_ROLES:
        return ""
    if not CASES.is_open(case) or case.assignee_id == principal.user_id:
        return ""
    if case.assignee_id is None:
        return "claim"
    return "take_over" if is_manager(principal, case.shop_id) else ""
