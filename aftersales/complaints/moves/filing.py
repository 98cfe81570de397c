"""Filing a complaint, the first row of the table: its type and what happened, about an order of
the customer's, within the complaint window of the shop's policy.

The window (《售后服务手册》, Taobao's complaint rule): within ``complaint_window_days`` (15) days
after the trade ended, counted like the no-reason window from the day after, to the end of the
last day in the shop's time zone. The trade ends when the order is signed for (success) or, when
later, when its latest after-sales case ends (the trade closed). "Paid but not shipped" may be
filed while the order is unshipped.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aftersales.cases.moves.common import labelled, required_text, text
from aftersales.cases.trade import trade_ended_at
from aftersales.catalog.models import Customer, Order, Shop
from aftersales.catalog.selectors import order_head
from aftersales.complaints.choices import TRADE_TYPES, ComplaintState, ComplaintType
from aftersales.complaints.models import Complaint
from aftersales.complaints.moves.stages import enter_stage
from aftersales.core.actors import Principal
from aftersales.core.errors import Ineligible, InvalidInput, NotFound
from aftersales.core.lifecycle import ActionInput, Context
from aftersales.core.schemas import WholeId
from aftersales.core.timeline import readable_time
from aftersales.policy import rules as policy_rules
from aftersales.policy.models import Policy
from aftersales.policy.services import policy_current


class FileIn(ActionInput):
    """File a complaint. With an order, the complaint is its customer's; without one (only the
    three everyday dispute classes), the shop's staff name the customer (and the shop, when
    they serve several)."""

    order_id: labelled(WholeId | None, gettext_noop("Order"), widget="order") = None
    type: labelled(ComplaintType, gettext_noop("What is the complaint about?"))
    description: required_text(5000, gettext_noop("What happened"), widget="textarea")
    customer: text(100, gettext_noop("Customer number"), widget="staff_only") = ""
    shop: text(40, gettext_noop("Shop"), widget="staff_only") = ""


# --- the window ---------------------------------------------------------------------------------


def complaint_window(*, order: Order, policy: Policy) -> tuple[dt.datetime, dt.datetime] | None:
    """``[trade end, window end)`` in UTC, or ``None`` while the trade goes on."""
    ended = trade_ended_at(order)
    if ended is None:
        return None
    days = policy_rules.policy_data_complete(policy)["complaint_window_days"]
    zone = zoneinfo.ZoneInfo(order.shop.timezone)
    end_day = ended.astimezone(zone).date() + dt.timedelta(days=1 + days)
    end = dt.datetime.combine(end_day, dt.time.min, tzinfo=zone)
    return ended, end.astimezone(dt.UTC)


def check_window(*, order: Order, type: str, policy: Policy, now: dt.datetime) -> None:
    window = complaint_window(order=order, policy=policy)
    if window is None:
        if type == ComplaintType.NOT_SHIPPED and not order.is_shipped:
            return
        raise Ineligible(
            _(
                "A complaint about order %(order)s can be filed once it is signed for or its "
                "after-sales case has ended; before it ships, only “%(not_shipped)s”."
            )
            % {"order": order.external_id, "not_shipped": ComplaintType.NOT_SHIPPED.label},
            code="trade_not_ended",
            field="type",
        )
    if now >= window[1]:
        raise Ineligible(
            _("The %(days)s-day complaint window of order %(order)s ended at %(end)s.")
            % {
                "days": policy_rules.policy_data_complete(policy)["complaint_window_days"],
                "order": order.external_id,
                "end": readable_time(window[1], order.shop.timezone, ends_period=True),
            },
            code="complaint_window_closed",
            window_end=window[1].isoformat(),
        )


# --- whose complaint ----------------------------------------------------------------------------


def _shop_for_staff(actor: Principal, code: str) -> Shop:
    shops = (
        Shop.objects.all() if actor.shop_ids is None else Shop.objects.filter(id__in=actor.shop_ids)
    )
    if code:
        shop = shops.filter(code=code).first()
        if shop is None:
            raise NotFound(_("No shop %(code)s.") % {"code": code}, code="shop_not_found")
        return shop
    only = list(shops[:2])
    if len(only) != 1:
        raise InvalidInput(
            _("%(field)s is required for this action.") % {"field": _("Shop")},
            code="shop_required",
            field="shop",
        )
    return only[0]


def customer_without_order(actor: Principal, data: FileIn) -> Customer:
    """The complainant when no order is named: the customer themself, or whom the staff name."""
    if data.type in TRADE_TYPES:
        raise InvalidInput(
            _("A complaint of “%(type)s” names the order it is about.")
            % {"type": ComplaintType(data.type).label},
            code="order_required",
            field="order_id",
        )
    if actor.is_customer:
        return Customer.objects.select_related("shop").get(pk=actor.customer_id)
    if not data.customer:
        raise InvalidInput(
            _("%(field)s is required for this action.") % {"field": _("Customer number")},
            code="customer_required",
            field="customer",
        )
    shop = _shop_for_staff(actor, data.shop)
    customer = (
        Customer.objects.select_related("shop").filter(shop=shop, external_id=data.customer).first()
    )
    if customer is None:
        raise NotFound(
            _("No customer %(number)s.") % {"number": data.customer}, code="customer_not_found"
        )
    return customer


# --- the effect -----------------------------------------------------------------------------------


def complaint_number(complaint: Complaint, now: dt.datetime) -> str:
    """``TS`` + the shop's local date + the complaint id, e.g. ``TS20261124000042``."""
    day = now.astimezone(zoneinfo.ZoneInfo(complaint.shop.timezone)).strftime("%Y%m%d")
    return f"TS{day}{complaint.id:06d}"


def file_complaint(complaint: Complaint, ctx: Context) -> None:
    """Fill the new complaint: whose it is, under which policy, within the window; its number
    follows its insert (it needs the id)."""
    data: FileIn = ctx.input
    order = order_head(actor=ctx.actor, order_id=data.order_id) if data.order_id else None
    customer = order.customer if order is not None else customer_without_order(ctx.actor, data)
    shop = order.shop if order is not None else customer.shop
    policy = policy_current(shop=shop)
    if order is not None:
        check_window(order=order, type=data.type, policy=policy, now=ctx.now)
    complaint.number = f"~{uuid.uuid4().hex[:30]}"  # replaced once the id exists
    complaint.shop, complaint.customer, complaint.order = shop, customer, order
    complaint.policy = policy
    complaint.type = data.type
    complaint.description = data.description
    complaint.filed_by_id = ctx.actor.user_id
    enter_stage(complaint, ctx, ComplaintState.RECEIVED)

    def after_insert(complaint: Complaint) -> None:
        complaint.number = complaint_number(complaint, ctx.now)
        Complaint.objects.filter(pk=complaint.pk).update(number=complaint.number)

    ctx.after_insert.append(after_insert)
    ctx.event_data.update(type=data.type, order=order.external_id if order is not None else "")
    ctx.notices.append("complaint_filed")
