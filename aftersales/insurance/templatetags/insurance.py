"""The portal's order and case pages show the order's shipping insurance (the cases app does not
know this app: its templates include ``insurance/_on_order.html`` and ``insurance/_on_case.html``,
which ask these tags)."""

from __future__ import annotations

from django import template

from aftersales.core import clock
from aftersales.core.permissions import permitted
from aftersales.insurance import selectors
from aftersales.insurance.choices import RETURN_KINDS, CoverAction, CoverState
from aftersales.insurance.wording import payout_words

register = template.Library()


def _principal(context):
    request = context.get("request")
    return getattr(request, "principal", None)


@register.simple_tag(takes_context=True)
def insurance_on_order(context, order) -> dict | None:
    """The order's insurance in a word, when the shop offers it or the order has a cover."""
    principal = _principal(context)
    if principal is None or order is None:
        return None
    cover = selectors.cover_or_none(actor=principal, order=order, with_history=False)
    if cover is None:
        return {"state": "", "label": ""} if selectors.insurance_offered(order.shop) else None
    if selectors.cover_lapsed(cover, clock.now()):
        return {"state": CoverState.LAPSED, "label": CoverState.LAPSED.label}
    return {"state": cover.state, "label": CoverState(cover.state).label}


@register.simple_tag(takes_context=True)
def insurance_on_case(context, case) -> dict | None:
    """A return case of an insured order: its claim's payout, or whether it may be claimed."""
    principal = _principal(context)
    if principal is None or case is None or case.kind not in RETURN_KINDS:
        return None
    cover = selectors.cover_or_none(actor=principal, order=case.order, with_history=False)
    if cover is None or cover.state != CoverState.INSURED:
        return None
    claim = selectors.claim_of_case(actor=principal, case=case)
    return {
        "order_id": case.order_id,
        "payout": payout_words(claim, cover.shop.currency) if claim else "",
        "claimable": claim is None
        and case.return_shipped_at is not None
        and permitted(principal, f"insurance_cover.{CoverAction.CLAIM}", cover),
        "not_shipped": claim is None and case.return_shipped_at is None,
    }
