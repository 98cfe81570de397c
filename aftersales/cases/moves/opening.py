"""Opening a case, the first row of the table: the application on an order (kind, reason, lines
and quantities), checked against the order, the policy and what other cases hold.

``opening_plan`` is the whole decision as a pure evaluation: the eligibility preview calls it
without locking or writing anything; the opening effect calls it with the order's lines locked,
so that the quantities and amounts it grants cannot be taken by another case at the same moment.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import FilteredRelation, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext_noop
from pydantic import Field

from aftersales.cases import eligibility, ledger
from aftersales.cases.choices import REASON_FAULT, CaseKind, Reason
from aftersales.cases.models import Case, CaseLine
from aftersales.cases.moves.common import labelled, text
from aftersales.catalog.models import Order, OrderLine
from aftersales.catalog.selectors import order_head
from aftersales.core.actors import Principal
from aftersales.core.compiled import CompiledJoined
from aftersales.core.gate import known_related
from aftersales.core.lifecycle import ActionInput, Context
from aftersales.core.money import ZERO
from aftersales.core.schemas import PositiveAmount, WholeId, whole_number
from aftersales.policy import rules as policy_rules
from aftersales.policy.models import Policy
from aftersales.policy.services import policy_current


class CaseLineIn(ActionInput):
    order_line_id: labelled(WholeId, gettext_noop("Order line"))
    quantity: labelled(whole_number(1, 1_000_000), gettext_noop("Quantity"))
    amount: labelled(PositiveAmount | None, gettext_noop("Amount")) = None


class OpenIn(ActionInput):
    order_id: labelled(WholeId, gettext_noop("Order"))
    kind: labelled(CaseKind, gettext_noop("What do you want?"))
    reason: labelled(Reason, gettext_noop("Reason"))
    description: text(5000, gettext_noop("Describe the problem"), widget="textarea") = ""
    lines: list[CaseLineIn] = Field(min_length=1, max_length=200, title=gettext_noop("Order lines"))


class PlatformOpenIn(OpenIn):
    """A request a buyer made on a marketplace, opened by the system (``aftersales.connectors``):
    the platform's rules admitted it already, so the shop's windows are not asked again; the
    order's lines and the ledger still bound what it may ask. Never parsed from a body (the API
    and the forms build ``OpenIn``)."""

    platform: str


@dataclass(frozen=True)
class OpeningPlan:
    order: Order
    policy: Policy
    kind: str
    reason: str
    fault: str
    return_shipping_payer: str
    grants: list[eligibility.LineGrant]

    @property
    def requested_amount(self) -> Decimal:
        return sum((grant.amount for grant in self.grants), ZERO)

    @property
    def expected_refund(self) -> Decimal:
        """What a refund case should pay back, before inspection (the return shipping a buyer
        owes may be deducted)."""
        if self.kind not in (CaseKind.REFUND_ONLY, CaseKind.RETURN_REFUND):
            return ZERO
        deduction = ZERO
        if self.kind == CaseKind.RETURN_REFUND and self.return_shipping_payer == "buyer":
            deduction = min(
                policy_rules.buyer_shipping_deduction(self.policy), self.requested_amount
            )
        return self.requested_amount - deduction


def _lines_with_order_and_policy(
    order_id: int, *, lock: bool, customer_id: int | None = None, **shop_ids: int
) -> QuerySet[OrderLine]:
    """The order's lines in id order, each with its SKU and product, the order with its shop and
    customer, and the shop's current policy (``current_policy``, ``None`` if it has none): one
    statement for what an opening reads before it asks what other cases hold. With ``lock``
    the lines are locked (in id order, so two openings cannot deadlock). Scoped as
    ``Principal.scope`` scopes orders: a customer's own (``customer_id``), a member's shops
    (``shop_ids``, any names), or everything."""
    latest = Policy.objects.filter(shop_id=OuterRef("order__shop_id")).order_by("-version")
    lines = OrderLine.objects.annotate(
        current_policy=FilteredRelation(
            "order__shop__policies",
            condition=Q(order__shop__policies__version=Subquery(latest.values("version")[:1])),
        )
    ).select_related("order__shop", "order__customer", "sku__product", "current_policy")
    if lock:
        lines = lines.select_for_update(of=("self",))
    if customer_id is not None:
        lines = lines.filter(order__customer_id=customer_id)
    elif shop_ids:
        lines = lines.filter(order__shop_id__in=list(shop_ids.values()))
    return lines.filter(order_id=order_id).order_by("id")


# The read compiled once per shape of the caller's scope (``core.compiled``); a member of more
# shops than this is read through the ORM.
_MOST_SHOPS_COMPILED = 8
_OPENING_READS: dict[tuple, CompiledJoined] = {}


def _opening_read_query(shape: tuple) -> CompiledJoined:
    read = _OPENING_READS.get(shape)
    if read is None:
        scope, count, lock = shape
        values = {"order_id": int}
        if scope == "customer":
            values["customer_id"] = int
        values |= {f"shop{index}": int for index in range(count)}
        read = CompiledJoined(
            lambda **given: _lines_with_order_and_policy(lock=lock, **given), **values
        )
        _OPENING_READS[shape] = read
    return read


def opening_lines(
    *, actor: Principal, order_id: int, lock: bool
) -> tuple[Order, dict[int, OrderLine], Policy | None] | None:
    """The order as ``order_head`` gives it, its lines by id as ``ledger.lock_lines_of_order``
    gives them (locked with ``lock``) and its shop's current policy, by one compiled query;
    ``None`` when that query cannot tell (no line the caller may see: no such order, not
    theirs, or no lines; or a scope it does not cover), and the caller reads them one by one."""
    values: dict[str, int] = {"order_id": order_id}
    if actor.is_customer:
        if actor.customer_id is None:
            return None
        scope, values["customer_id"] = "customer", actor.customer_id
    elif actor.shop_ids is not None:
        if not 0 < len(actor.shop_ids) <= _MOST_SHOPS_COMPILED:
            return None
        scope = "shops"
        values |= {f"shop{index}": shop for index, shop in enumerate(sorted(actor.shop_ids))}
    else:
        scope = "all"
    count = len(actor.shop_ids) if scope == "shops" else 0
    rows = _opening_read_query((scope, count, lock)).instances(**values)
    if not rows:
        return None
    # (the ORM sets no ``current_policy`` at all when the shop has none)
    order, policy = rows[0].order, getattr(rows[0], "current_policy", None)
    if policy is not None:
        policy.shop = order.shop  # as ``shop.policies`` gives it
    for line in rows:
        line.order = order
    return order, {line.id: line for line in rows}, policy


def opening_plan(*, actor: Principal, data: OpenIn, now: dt.datetime, lock: bool) -> OpeningPlan:
    """Whether the application may be opened, and what it grants; refusals raise. With ``lock``
    the order's lines are locked for the caller's transaction (opening); without, nothing is
    locked or written (the preview)."""
    admitted = isinstance(data, PlatformOpenIn)  # the platform's rules decided already
    read = opening_lines(actor=actor, order_id=data.order_id, lock=lock)
    if read is not None:
        order, order_lines, policy = read
        if not admitted:
            eligibility.check_order(order)
        if policy is None:
            policy = policy_current(shop=order.shop)  # the shop's first
    else:
        order = order_head(actor=actor, order_id=data.order_id)
        if not admitted:
            eligibility.check_order(order)
        if lock:
            order_lines = ledger.lock_lines_of_order(order.id)
        else:
            order_lines = {
                line.id: line for line in order.lines.select_related("sku__product").order_by("id")
            }
        policy = policy_current(shop=order.shop)
    requests = [
        eligibility.LineRequest(
            order_line_id=line.order_line_id, quantity=line.quantity, amount=line.amount
        )
        for line in data.lines
    ]
    if not admitted:
        eligibility.check_kind_and_reason(
            kind=data.kind,
            reason=data.reason,
            order=order,
            order_lines=[
                order_lines[r.order_line_id] for r in requests if r.order_line_id in order_lines
            ],
            policy=policy,
            now=now,
        )
    grants = eligibility.grant_lines(order=order, requests=requests, locked_lines=order_lines)
    fault = REASON_FAULT[data.reason]
    return OpeningPlan(
        order=order,
        policy=policy,
        kind=data.kind,
        reason=data.reason,
        fault=fault,
        return_shipping_payer=policy_rules.shipping_payer(policy, fault),
        grants=grants,
    )


def case_number(case: Case, now: dt.datetime) -> str:
    """``AS`` + the shop's local date + the case id, e.g. ``AS20261124000123``: readable, unique,
    and taken from the row itself, so opening cases never queues on a shared counter."""
    day = now.astimezone(zoneinfo.ZoneInfo(case.shop.timezone)).strftime("%Y%m%d")
    return f"AS{day}{case.id:06d}"


def open_case(case: Case, ctx: Context) -> None:
    """Fill the new case from the plan, under the order lines' locks; its number and lines
    come once its id is known, and are written with it."""
    plan = opening_plan(actor=ctx.actor, data=ctx.input, now=ctx.now, lock=True)
    case.number = f"~{uuid.uuid4().hex[:30]}"  # replaced by the real number once the id exists
    case.shop = plan.order.shop
    case.order = plan.order
    case.customer = plan.order.customer
    case.policy = plan.policy
    case.kind = plan.kind
    case.reason = plan.reason
    case.fault = plan.fault
    case.return_shipping_payer = plan.return_shipping_payer
    case.description = ctx.input.description
    case.requested_amount = plan.requested_amount
    case.opened_by_id = ctx.actor.user_id
    if isinstance(ctx.input, PlatformOpenIn):
        case.platform = ctx.input.platform

    def with_id(case: Case) -> list[CaseLine]:
        case.number = case_number(case, ctx.now)
        lines = [
            CaseLine(
                case=case,
                order_line=grant.order_line,
                quantity=grant.quantity,
                requested_amount=grant.amount,
            )
            for grant in plan.grants
        ]
        # the opened case's answer shows these lines without reading them back
        known_related(case, "lines", lines)
        return lines

    ctx.with_id.append(with_id)
    ctx.event_data.update(
        kind=plan.kind,
        reason=plan.reason,
        requested_amount=str(plan.requested_amount),
        lines=[
            {"order_line_id": g.order_line.id, "quantity": g.quantity, "amount": str(g.amount)}
            for g in plan.grants
        ],
    )
    ctx.notices.append("case_opened")
