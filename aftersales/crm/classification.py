"""Membership tiers and the RFM classification, computed from the orders.

Spending is net: what the customer paid on the order lines less what was refunded to them (the
refund ledger's mirror, ``OrderLine.refunded_amount``). Only paid orders count (``paid_at`` set,
not cancelled).

**Tiers.** A customer qualifies for a tier when, within the tier's ``window_days`` before now,
their net spending reaches ``min_spend`` and they placed at least ``min_orders`` paid orders (a
threshold of 0 asks nothing). The highest-ranked tier they qualify for is theirs, held until now
+ its ``validity_days``. A customer who no longer qualifies keeps the tier they hold until its
validity ends (会员有效期), then drops to what they qualify for.

**RFM.** Over the whole history in the shop: recency (days since the last paid order),
frequency (paid orders), monetary (net spending) and the average order value (monetary ÷
frequency). Each of R, F and M is scored 1–5 by quintile among the shop's buyers: a customer's
score is ``1 + ⌊5 × (buyers doing strictly worse) ÷ buyers⌋`` (fewer days since the last order is
better), so ties share a score. The segment is the first row that matches of ``SEGMENTS``.
"""

from __future__ import annotations

import bisect
import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Sum
from django.utils.translation import gettext as _

from aftersales.catalog.models import OrderLine, OrderStatus, Shop
from aftersales.core import clock
from aftersales.core.actors import Principal
from aftersales.core.errors import Conflict, NotFound
from aftersales.core.money import money
from aftersales.core.permissions import require
from aftersales.crm.access import TIERS
from aftersales.crm.models import CareCampaign, CustomerProfile, MembershipTier, Segment

NEW_CUSTOMER_DAYS = 30
ZERO = Decimal("0.00")

# (segment, test on the scores and figures): the first that matches names the customer.
SEGMENTS = (
    # one order, placed within the last month
    (
        Segment.NEW,
        lambda r, f, m, figures: (
            figures["frequency"] == 1 and figures["recency_days"] <= NEW_CUSTOMER_DAYS
        ),
    ),
    # bought recently, often and much
    (Segment.CHAMPION, lambda r, f, m, figures: r >= 4 and f >= 4 and m >= 4),
    # buys often, not lapsed
    (Segment.LOYAL, lambda r, f, m, figures: f >= 4 and r >= 3),
    # bought often or much, but not for a long time
    (Segment.AT_RISK, lambda r, f, m, figures: r <= 2 and (f >= 3 or m >= 4)),
    # long gone, bought little
    (Segment.HIBERNATING, lambda r, f, m, figures: r <= 2),
    (Segment.REGULAR, lambda r, f, m, figures: True),
)


def quintile_scores(values: dict[int, Any], *, lower_is_better: bool = False) -> dict[int, int]:
    """Score each key 1–5 by the share of all keys with a strictly worse value."""
    count = len(values)
    ordered = sorted(values.values())
    scores = {}
    for key, value in values.items():
        if lower_is_better:
            worse = count - bisect.bisect_right(ordered, value)
        else:
            worse = bisect.bisect_left(ordered, value)
        scores[key] = 1 + (5 * worse) // count
    return scores


def segment_for(r: int, f: int, m: int, figures: dict) -> str:
    for segment, test in SEGMENTS:
        if test(r, f, m, figures):
            return segment
    return Segment.REGULAR


def _paid_lines(shop: Shop):
    return OrderLine.objects.filter(order__shop=shop, order__paid_at__isnull=False).exclude(
        order__status__in=[OrderStatus.CANCELLED, OrderStatus.UNPAID]
    )


def _spending(shop: Shop, since: dt.datetime | None) -> dict[int, tuple[Decimal, int, dt.datetime]]:
    """customer id → (net spending, paid orders, last paid) since ``since`` (or ever)."""
    lines = _paid_lines(shop)
    if since is not None:
        lines = lines.filter(order__paid_at__gte=since)
    rows = lines.values("order__customer_id").annotate(
        spend=Sum(F("paid_amount") - F("refunded_amount")),
        orders=Count("order_id", distinct=True),
        last=Max("order__paid_at"),
    )
    return {
        row["order__customer_id"]: (money(row["spend"] or ZERO), row["orders"], row["last"])
        for row in rows
    }


@transaction.atomic
def customers_recompute(*, shop: Shop, now: dt.datetime | None = None) -> int:
    """Compute every buyer's tier and class in ``shop``; returns how many profiles were written.
    Idempotent: run again, it writes the same."""
    now = now or clock.now()
    tiers = list(MembershipTier.objects.filter(shop=shop).order_by("-rank"))
    history = _spending(shop, None)
    windows = {
        days: _spending(shop, now - dt.timedelta(days=days))
        for days in {tier.window_days for tier in tiers}
    }
    profiles = {
        p.customer_id: p for p in CustomerProfile.objects.select_for_update().filter(shop=shop)
    }
    figures = {
        customer_id: {
            "recency_days": max((now - last).days, 0),
            "frequency": orders,
            "monetary": spend,
            "average_order_value": money(spend / orders) if orders else ZERO,
        }
        for customer_id, (spend, orders, last) in history.items()
    }
    r_scores = quintile_scores(
        {k: v["recency_days"] for k, v in figures.items()}, lower_is_better=True
    )
    f_scores = quintile_scores({k: v["frequency"] for k, v in figures.items()})
    m_scores = quintile_scores({k: v["monetary"] for k, v in figures.items()})
    customer_ids = set(figures) | set(profiles)
    written = 0
    for customer_id in sorted(customer_ids):
        profile = profiles.get(customer_id) or CustomerProfile(customer_id=customer_id, shop=shop)
        if profile.erased_at is not None:
            continue
        qualified = None
        for tier in tiers:
            spend, orders, _last = windows[tier.window_days].get(customer_id, (ZERO, 0, None))
            if spend >= tier.min_spend and orders >= tier.min_orders and (spend > 0 or orders > 0):
                qualified = tier
                break
        held = (
            profile.tier
            if profile.tier_id and profile.tier_until and profile.tier_until > now
            else None
        )
        if qualified is not None and (held is None or qualified.rank >= held.rank):
            profile.tier = qualified
            profile.tier_until = now + dt.timedelta(days=qualified.validity_days)
        elif held is None:
            profile.tier = None
            profile.tier_until = None
        row = figures.get(customer_id)
        if row is None:
            profile.recency_days = None
            profile.frequency, profile.monetary, profile.average_order_value = 0, ZERO, ZERO
            profile.recency_score = profile.frequency_score = profile.monetary_score = None
            profile.segment = ""
        else:
            r, f, m = r_scores[customer_id], f_scores[customer_id], m_scores[customer_id]
            profile.recency_days = row["recency_days"]
            profile.frequency = row["frequency"]
            profile.monetary = row["monetary"]
            profile.average_order_value = row["average_order_value"]
            profile.recency_score, profile.frequency_score, profile.monetary_score = r, f, m
            profile.segment = segment_for(r, f, m, row)
        profile.classified_at = now
        profile.save()
        written += 1
    return written


def all_shops_recompute(*, now: dt.datetime | None = None) -> int:
    return sum(customers_recompute(shop=shop, now=now) for shop in Shop.objects.order_by("id"))


# --- the tiers --------------------------------------------------------------------------------


def tier_list(*, actor: Principal, shop: Shop) -> list[MembershipTier]:
    return list(MembershipTier.objects.filter(shop=shop).order_by("rank"))


def _tier_of(shop: Shop, tier_id: int) -> MembershipTier:
    tier = MembershipTier.objects.select_for_update().filter(shop=shop, pk=tier_id).first()
    if tier is None:
        raise NotFound(_("No such tier."), code="tier_not_found")
    return tier


def _save_tier(tier: MembershipTier) -> MembershipTier:
    try:
        with transaction.atomic():
            tier.save()
    except IntegrityError as error:
        raise Conflict(
            _("Another tier of the shop has this name or rank."), code="tier_exists"
        ) from error
    return tier


@transaction.atomic
def tier_create(*, actor: Principal, shop: Shop, **fields) -> MembershipTier:
    require(actor, TIERS, shop)
    return _save_tier(MembershipTier(shop=shop, **fields))


@transaction.atomic
def tier_update(*, actor: Principal, shop: Shop, tier_id: int, **fields) -> MembershipTier:
    require(actor, TIERS, shop)
    tier = _tier_of(shop, tier_id)
    for name, value in fields.items():
        setattr(tier, name, value)
    return _save_tier(tier)


@transaction.atomic
@transaction.atomic
def tier_delete(*, actor: Principal, shop: Shop, tier_id: int) -> None:
    """Remove a tier; its members hold no tier until the next recompute. The care campaigns
    that name it no longer do; one that named no other tier is paused (left without a tier it
    would reach every customer)."""
    require(actor, TIERS, shop)
    tier = _tier_of(shop, tier_id)
    CustomerProfile.objects.filter(tier=tier).update(tier=None, tier_until=None)
    for campaign in CareCampaign.objects.select_for_update().filter(shop=shop):
        if tier.pk not in (campaign.tier_ids or []):
            continue
        campaign.tier_ids = [pk for pk in campaign.tier_ids if pk != tier.pk]
        if not campaign.tier_ids:
            campaign.is_active = False
        campaign.updated_at = clock.now()
        campaign.save(update_fields=["tier_ids", "is_active", "updated_at"])
    tier.delete()
