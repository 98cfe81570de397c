"""The moves of the cover and of the abuse flag: their typed inputs and effects (the tables are
in ``lifecycle``). Every effect refuses with an ``ApplicationError`` and leaves nothing behind."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.utils.dateparse import parse_duration
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from pydantic import StrictInt

from aftersales.cases.models import Case
from aftersales.cases.moves.common import labelled, required_text
from aftersales.catalog.models import Customer, Order, OrderStatus
from aftersales.core.errors import Conflict, Ineligible, NotFound
from aftersales.core.lifecycle import ActionInput, Context, NoInput
from aftersales.core.permissions import require
from aftersales.core.schemas import POSITIVE_MONEY, WholeId, _money
from aftersales.insurance.choices import RETURN_KINDS, CoverAction, CoverState
from aftersales.insurance.models import Claim, Cover
from aftersales.insurance.pricing import premium_for, returns_counted, service_score
from aftersales.insurance.signals import address_key
from aftersales.policy.rules import policy_data_complete
from aftersales.policy.services import policy_current

# The postage of one parcel: more than 0, at most 1000.00.
Postage = _money(
    POSITIVE_MONEY, 1, 1000, 'More than 0, at most 1000, two decimals: "12.50".', gt=0, le=1000
)


def insurance_rules(policy) -> dict[str, Any]:
    return policy_data_complete(policy)["insurance"]


def guarded(permission: str) -> Callable[[Any, Context], None]:
    """A guard that asks the matrix with its scope (the table's roles alone do not say whose)."""

    def guard(subject, ctx: Context) -> None:
        require(ctx.actor, permission, subject)

    return guard


def _offered_rules(order: Order) -> tuple[Any, dict[str, Any]]:
    """The shop's current policy and its insurance rules, refused unless the shop offers it:
    since 1 February 2026 a platform may not force 运费险 on a merchant."""
    policy = policy_current(shop=order.shop)
    rules = insurance_rules(policy)
    if not rules["offered"]:
        raise Ineligible(
            _(
                "This shop does not offer shipping insurance; it is the shop's choice and is "
                "never forced on it."
            ),
            code="insurance_not_offered",
        )
    if order.status in (OrderStatus.CANCELLED, OrderStatus.UNPAID):
        raise Ineligible(_("Only a paid order can be insured."), code="order_not_insurable")
    return policy, rules


def _price(cover: Cover, order: Order, ctx: Context) -> None:
    policy, rules = _offered_rules(order)
    quote = premium_for(
        rules=rules,
        score=service_score(order.shop_id),
        returns=returns_counted(
            customer=order.customer_id, now=ctx.now, lookback_days=rules["lookback_days"]
        ),
        now=ctx.now,
    )
    cover.policy = policy
    cover.premium = quote.premium
    cover.formula_version = quote.inputs["formula_version"]
    cover.service_score = quote.service_score
    cover.score_factor = quote.score_factor
    cover.returns_counted = quote.returns_counted
    cover.returns_factor = quote.returns_factor
    cover.inputs = quote.inputs | {"policy_version": policy.version}
    cover.quoted_at = ctx.now
    ctx.event_data.update(cover.inputs)


# --- the cover ---------------------------------------------------------------------------------


class QuoteIn(ActionInput):
    """Quote the premium of an order's shipping insurance (stored, with its inputs)."""

    order_id: labelled(WholeId, gettext_noop("Order"))


def quote(cover: Cover, ctx: Context) -> None:
    order = (
        ctx.actor.scope(Order.objects.select_for_update(of=("self",)))
        .select_related("shop")
        .filter(pk=ctx.input.order_id)
        .first()
    )
    if order is None:
        raise NotFound(_("No such order."), code="order_not_found")
    require(ctx.actor, f"insurance_cover.{CoverAction.QUOTE}", order)
    if Cover.objects.filter(order=order).exists():
        raise Conflict(_("This order already has a quote."), code="already_quoted")
    cover.shop_id, cover.order_id, cover.customer_id = order.shop_id, order.pk, order.customer_id
    _price(cover, order, ctx)


class RequoteIn(NoInput):
    """Quote the premium again, from the inputs as they are now."""


def requote(cover: Cover, ctx: Context) -> None:
    _price(cover, cover.order, ctx)
    if cover.state == CoverState.QUOTED:
        # A new quote is valid anew; the gate sets a deadline only on entering a state (a
        # lapsed quote quoted again gets it there).
        cover.deadline_at = ctx.lifecycle.deadline_after(
            cover, ctx.now, quote_validity(cover.policy)
        )


def payout_cap(policy) -> Decimal:
    """What a claim pays at most: ``insurance.payout_cap`` of the version the quote was priced
    under."""
    return Decimal(str(insurance_rules(policy)["payout_cap"]))


def quote_validity(policy) -> dt.timedelta:
    """How long a quote may be insured (``insurance.quote_valid``)."""
    return parse_duration(insurance_rules(policy)["quote_valid"])


def review_due(policy) -> dt.timedelta:
    """How long a flag may wait for its review (``insurance.review_due``)."""
    return parse_duration(insurance_rules(policy)["review_due"])


def lapse(cover: Cover, ctx: Context) -> None:
    ctx.event_data.update(premium=str(cover.premium), quoted_at=cover.quoted_at.isoformat())


def escalate_flag(flag, ctx: Context) -> None:
    """The review is overdue: the shop's team lead is told (the flag stays open)."""
    flag.escalated_at = ctx.now
    ctx.event_data["overdue_since"] = flag.deadline_at.isoformat() if flag.deadline_at else None
    ctx.notices.append("insurance_flag_overdue")


class InsureIn(NoInput):
    """Insure the order at its quoted premium."""


def insure(cover: Cover, ctx: Context) -> None:
    _offered_rules(cover.order)
    if cover.deadline_at is not None and ctx.now >= cover.deadline_at:
        # Its validity ended and the sweep has not lapsed it yet: it lapsed all the same.
        raise Conflict(
            _("This quote is no longer valid; quote again to insure."), code="quote_lapsed"
        )
    cover.insured_at = ctx.now
    ctx.event_data.update(premium=str(cover.premium))
    ctx.notify("insurance_insured")


class ClaimIn(ActionInput):
    """Claim the return shipping of one return case of the insured order."""

    case_number: required_text(32, gettext_noop("Case"))
    postage: labelled(Postage, gettext_noop("Postage paid for the return"))
    sender_address: required_text(500, gettext_noop("Address the return was sent from"))


def _case_of(cover: Cover, number: str, *, lock: bool = False) -> Case:
    query = Case.objects.select_for_update(of=("self",)) if lock else Case.objects
    case = query.filter(order_id=cover.order_id, number=number).first()
    if case is None:
        raise NotFound(
            _("Case %(number)s is not a case of this order.") % {"number": number},
            code="case_not_found",
            field="case_number",
        )
    return case


def claim(cover: Cover, ctx: Context) -> None:
    """Pay min(postage, cap) on a return case whose goods were shipped back, once per case."""
    case = _case_of(cover, ctx.input.case_number, lock=True)
    if case.kind not in RETURN_KINDS:
        raise Ineligible(
            _("Only a return or an exchange sends goods back: there is no return shipping."),
            code="not_a_return",
        )
    if case.return_shipped_at is None:
        raise Conflict(
            _("The return has not been shipped yet; claim once it is on its way."),
            code="return_not_shipped",
        )
    if Claim.objects.filter(case=case).exists():
        raise Conflict(_("This case has been claimed already."), code="already_claimed")
    cap = payout_cap(cover.policy)
    payout = min(ctx.input.postage, cap)
    Claim.objects.create(
        cover=cover,
        shop_id=cover.shop_id,
        customer_id=cover.customer_id,
        case=case,
        stated_postage=ctx.input.postage,
        sender_address=ctx.input.sender_address,
        address_key=address_key(ctx.input.sender_address),
        payout_cap=cap,
        payout=payout,
        created_at=ctx.now,
    )
    ctx.event_data.update(
        case=case.number,
        postage=str(ctx.input.postage),
        payout_cap=str(cap),
        payout=str(payout),
        calculation=f"min({ctx.input.postage}, {cap}) = {payout}",
        sender_address=ctx.input.sender_address,
    )
    ctx.notify("insurance_claim_paid")


class RecordPostageIn(ActionInput):
    """Record the postage on the carrier's bill for a claimed return (it checks the payout)."""

    case_number: required_text(32, gettext_noop("Case"))
    actual_postage: labelled(Postage, gettext_noop("Real postage"))


class ActualPostageIn(ActionInput):
    """The postage on the carrier's bill (the case is in the path)."""

    actual_postage: labelled(Postage, gettext_noop("Real postage"))


def record_postage(cover: Cover, ctx: Context) -> None:
    case = _case_of(cover, ctx.input.case_number)
    claimed = Claim.objects.select_for_update().filter(cover=cover, case=case).first()
    if claimed is None:
        raise NotFound(_("This case has no claim."), code="claim_not_found")
    claimed.actual_postage = ctx.input.actual_postage
    claimed.save(update_fields=["actual_postage"])
    ctx.event_data.update(
        case=case.number, actual_postage=str(claimed.actual_postage), payout=str(claimed.payout)
    )


# --- the abuse flag ----------------------------------------------------------------------------


class RaiseIn(ActionInput):
    """The worker's or a claim's finding (not a person's action)."""

    customer_id: StrictInt
    reasons: list[dict[str, Any]]
    signature: str


def raise_flag(flag, ctx: Context) -> None:
    customer = Customer.objects.get(pk=ctx.input.customer_id)
    flag.shop_id, flag.customer_id = customer.shop_id, customer.pk
    flag.reasons, flag.signature = ctx.input.reasons, ctx.input.signature
    ctx.event_data.update(reasons=ctx.input.reasons)


class RefreshIn(ActionInput):
    """New signals for a flag still under review."""

    reasons: list[dict[str, Any]]
    signature: str


def refresh(flag, ctx: Context) -> None:
    flag.reasons, flag.signature = ctx.input.reasons, ctx.input.signature
    ctx.event_data.update(reasons=ctx.input.reasons)


class FlagReviewIn(ActionInput):
    """The operator's decision on a flag, with a written reason."""

    reason: required_text(2000, gettext_noop("Reason"), widget="textarea")


def review(flag, ctx: Context) -> None:
    flag.review_reason = ctx.input.reason
    flag.reviewed_by = ctx.actor.username
    flag.reviewed_at = ctx.now
    ctx.event_data.update(reason=ctx.input.reason)


def confirm(flag, ctx: Context) -> None:
    review(flag, ctx)
    ctx.notify("insurance_flag_confirmed")
