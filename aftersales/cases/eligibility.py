"""Whether an order may get a case of a kind, for a reason, over some lines and quantities.

Every refusal is an ``Ineligible`` (422) or ``NotFound`` (404) with its own code; nothing here
writes. The quantity and amount checks must run while the order lines are locked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from aftersales.cases.choices import (
    KINDS_WITH_GOODS,
    REASON_FAULT,
    REASONS_WITHOUT_GOODS,
    CaseKind,
    Reason,
)
from aftersales.cases.ledger import reserved_by_open_cases
from aftersales.cases.timeline import readable_time
from aftersales.catalog.models import Order, OrderLine, OrderStatus, ProductFlag
from aftersales.core.errors import Ineligible, InvalidInput
from aftersales.core.money import ZERO, money
from aftersales.policy import rules as policy_rules
from aftersales.policy.choices import Fault
from aftersales.policy.models import Policy


@dataclass(frozen=True)
class LineRequest:
    order_line_id: int
    quantity: int
    amount: Decimal | None = None


@dataclass(frozen=True)
class LineGrant:
    order_line: OrderLine
    quantity: int
    amount: Decimal


def check_order(order: Order) -> None:
    if order.status in (OrderStatus.UNPAID, OrderStatus.CANCELLED) or order.paid_at is None:
        raise Ineligible(
            _("Order %(order)s is not paid; there is nothing to refund.")
            % {"order": order.external_id},
            code="order_not_paid",
        )


def check_kind_and_reason(
    *,
    kind: str,
    reason: str,
    order: Order,
    order_lines: list[OrderLine],
    policy: Policy,
    now: dt.datetime,
) -> None:
    if kind in KINDS_WITH_GOODS and not order.is_shipped:
        raise Ineligible(
            _("The order has not been shipped; ask for a refund only instead of a return."),
            code="order_not_shipped",
        )
    if kind in KINDS_WITH_GOODS and reason in REASONS_WITHOUT_GOODS:
        raise Ineligible(
            _("The reason %(reason)s leaves no goods to send back; ask for a refund only.")
            % {"reason": Reason(reason).label},
            code="reason_not_for_kind",
        )
    if kind == CaseKind.REPAIR and REASON_FAULT[reason] == Fault.BUYER:
        raise Ineligible(
            _("A repair is for a fault of the goods; the reason %(reason)s is not one.")
            % {"reason": Reason(reason).label},
            code="reason_not_for_kind",
        )
    if reason == Reason.NOT_RECEIVED and order.is_signed:
        raise Ineligible(
            _("The order was signed for on %(date)s; it cannot be reported as not received.")
            % {"date": readable_time(order.signed_at, order.shop.timezone)},
            code="not_received_but_signed",
        )
    if reason == Reason.NOT_SHIPPED and order.is_shipped:
        raise Ineligible(
            _("The order has been shipped; it cannot be reported as not shipped."),
            code="order_already_shipped",
        )
    if reason == Reason.NO_REASON:
        for line in order_lines:
            excluded = policy_rules.excluded_flags(policy, line.sku.product.flags)
            if excluded:
                raise Ineligible(
                    _("%(title)s is excluded from no-reason returns (%(flags)s).")
                    % {
                        "title": line.title,
                        "flags": ", ".join(str(ProductFlag(flag).label) for flag in excluded),
                    },
                    code="no_reason_excluded_product",
                    order_line_id=line.id,
                )
        window = policy_rules.no_reason_window(order=order, policy=policy)
        if window is not None and now >= window[1]:
            raise Ineligible(
                _("The %(days)s-day no-reason window ended at %(end)s.")
                % {
                    "days": policy.data["no_reason_days"],
                    "end": readable_time(window[1], order.shop.timezone, ends_period=True),
                },
                code="no_reason_window_closed",
                window_end=window[1].isoformat(),
            )


def grant_lines(
    *,
    order: Order,
    requests: list[LineRequest],
    locked_lines: dict[int, OrderLine],
    excluding_case_id: int | None = None,
) -> list[LineGrant]:
    """Check quantities and amounts against what is left of each line; fill in default amounts.

    ``locked_lines`` must be the order's lines as locked by the caller's transaction.
    """
    if not requests:
        raise InvalidInput(_("Pick at least one order line."), code="lines_required")
    seen: set[int] = set()
    for request in requests:
        if request.order_line_id in seen:
            raise InvalidInput(
                _("Order line %(id)s is listed twice.") % {"id": request.order_line_id},
                code="duplicate_line",
            )
        seen.add(request.order_line_id)
        line = locked_lines.get(request.order_line_id)
        if line is None or line.order_id != order.id:
            raise Ineligible(
                _("Line %(id)s is not part of order %(order)s.")
                % {"id": request.order_line_id, "order": order.external_id},
                code="line_not_in_order",
                order_line_id=request.order_line_id,
            )
    reserved = reserved_by_open_cases(seen, excluding_case_id=excluding_case_id)
    grants = []
    for request in requests:
        line = locked_lines[request.order_line_id]
        units_claimed, money_pending = reserved.get(line.id, (0, ZERO))
        units_left = line.quantity - units_claimed
        if request.quantity > units_left:
            raise Ineligible(
                _(
                    "Only %(left)s of the %(bought)s units of %(title)s are left to claim; "
                    "other cases hold the rest."
                )
                % {"left": max(units_left, 0), "bought": line.quantity, "title": line.title},
                code="quantity_exceeds_available",
                order_line_id=line.id,
                available_quantity=max(units_left, 0),
            )
        refundable = line.paid_amount - line.refunded_amount - money_pending
        if request.amount is None:
            if request.quantity == units_left:
                # The last units take the paid amount less the other units' shares, so rounding
                # leaves no cent behind (money deducted from other cases stays deducted).
                share = line.paid_amount - money(line.paid_amount * units_claimed / line.quantity)
            else:
                share = money(line.paid_amount * request.quantity / line.quantity)
            amount = min(share, refundable)
        else:
            amount = money(request.amount)
            if amount <= 0:
                # Nothing to refund is not a case (the API's schema says so too; forms land here).
                raise InvalidInput(
                    _("The amount for %(title)s must be more than 0.") % {"title": line.title},
                    code="invalid_amount",
                    field="amount",
                    order_line_id=line.id,
                )
        if amount > refundable:
            raise Ineligible(
                _("At most %(left)s can still be refunded for %(title)s.")
                % {"left": max(refundable, ZERO), "title": line.title},
                code="amount_exceeds_refundable",
                order_line_id=line.id,
                refundable_amount=str(max(refundable, ZERO)),
            )
        if amount <= 0 and request.amount is None:
            raise Ineligible(
                _("%(title)s has been refunded in full already.") % {"title": line.title},
                code="amount_exceeds_refundable",
                order_line_id=line.id,
                refundable_amount="0.00",
            )
        grants.append(LineGrant(order_line=line, quantity=request.quantity, amount=amount))
    return grants
