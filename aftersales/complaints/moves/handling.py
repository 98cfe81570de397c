"""Moves that keep the complaint in its stage: the stage's owner, the cases and orders it
concerns, and the due time acting on its own (a reminder at half the stage's time, then the
escalation to the team lead at its end)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aftersales.cases.models import Case
from aftersales.cases.moves.common import required_text, text
from aftersales.catalog.models import Order
from aftersales.complaints.choices import DeadlineAction
from aftersales.core.actors import STAFF_ROLES
from aftersales.core.errors import Conflict, Ineligible, InvalidInput, NotFound
from aftersales.core.lifecycle import ActionInput, Context

# --- the owner ---------------------------------------------------------------------------------


class AssignIn(ActionInput):
    """Give the complaint's stage to a member of the shop's staff (by user name)."""

    owner: required_text(150, gettext_noop("Owner"), widget="staff")


def shop_staff(shop_id: int):
    """The active staff of a shop (an installation admin, tied to no shop, is not its staff)."""
    return get_user_model().objects.filter(
        is_active=True, membership__role__in=STAFF_ROLES, membership__shops=shop_id
    )


def assign(complaint, ctx: Context) -> None:
    username = ctx.input.owner
    owner = shop_staff(complaint.shop_id).filter(username=username).first()
    if owner is None:
        raise InvalidInput(
            _("No member of this shop's staff is called %(name)s.") % {"name": username},
            code="unknown_owner",
            field="owner",
        )
    if owner.pk == complaint.owner_id:
        raise Conflict(
            _("%(name)s owns this complaint already.") % {"name": username},
            code="already_owner",
            field="owner",
        )
    previous = complaint.owner.username if complaint.owner_id else ""
    complaint.owner = owner
    ctx.event_data.update(owner=username, previous_owner=previous)
    if owner.pk != ctx.actor.user_id:  # nobody is told what they did themselves
        ctx.notify("complaint_assigned", recipient_id=owner.pk)


# --- cases and orders it concerns --------------------------------------------------------------


class LinkIn(ActionInput):
    """Link an after-sales case or an order of the same customer (by their numbers)."""

    case_number: text(32, gettext_noop("Case number")) = ""
    order_number: text(100, gettext_noop("Order number")) = ""


def _other_customer(what: str) -> Ineligible:
    return Ineligible(
        _("%(what)s belongs to another customer; a complaint links only its customer's.")
        % {"what": what},
        code="link_other_customer",
    )


def _already_linked(what: str) -> Conflict:
    return Conflict(
        _("%(what)s is linked to this complaint already.") % {"what": what}, code="already_linked"
    )


def _link_case(complaint, number: str) -> Case:
    spellings = list(dict.fromkeys([number, number.upper()]))
    case = Case.objects.filter(shop_id=complaint.shop_id, number__in=spellings).first()
    if case is None:
        raise NotFound(_("No case %(number)s.") % {"number": number}, code="case_not_found")
    if case.customer_id != complaint.customer_id:
        raise _other_customer(case.number)
    if complaint.linked_cases.filter(pk=case.pk).exists():
        raise _already_linked(case.number)
    return case


def _link_order(complaint, number: str) -> Order:
    order = Order.objects.filter(shop_id=complaint.shop_id, external_id=number).first()
    if order is None:
        raise NotFound(_("No order %(id)s.") % {"id": number}, code="order_not_found")
    if order.customer_id != complaint.customer_id:
        raise _other_customer(order.external_id)
    if order.pk == complaint.order_id or complaint.linked_orders.filter(pk=order.pk).exists():
        raise _already_linked(order.external_id)
    return order


def link(complaint, ctx: Context) -> None:
    """Every check first, then the links: a refused half writes nothing."""
    data = ctx.input
    if not data.case_number and not data.order_number:
        raise InvalidInput(
            _("Name a case number or an order number to link."),
            code="link_required",
            field="case_number",
        )
    case = _link_case(complaint, data.case_number) if data.case_number else None
    order = _link_order(complaint, data.order_number) if data.order_number else None
    if case is not None:
        complaint.linked_cases.add(case)
        ctx.event_data["case"] = case.number
    if order is not None:
        complaint.linked_orders.add(order)
        ctx.event_data["order"] = order.external_id


# --- the due time acting on its own ------------------------------------------------------------


def remind(complaint, ctx: Context) -> None:
    """Half the stage's time has passed: remind its owner (the team lead when nobody owns it),
    and escalate at the stage's due time."""
    complaint.deadline_at = complaint.due_at or ctx.now
    complaint.deadline_action = DeadlineAction.ESCALATE
    ctx.event_data["due_at"] = complaint.deadline_at.isoformat()
    if complaint.owner_id is not None:
        ctx.event_data["owner"] = complaint.owner.username
        ctx.notify("complaint_reminder", recipient_id=complaint.owner_id)
    else:
        ctx.notices.append("complaint_reminder_lead")


def escalate(complaint, ctx: Context) -> None:
    """The stage is overdue: it goes to the team lead, and stays in its stage (the kernel keeps
    the passed deadline, so the complaint shows as overdue until it moves on)."""
    complaint.escalated_at = ctx.now
    if complaint.owner_id is not None:
        ctx.event_data["owner"] = complaint.owner.username
    ctx.notices.append("complaint_escalated")
