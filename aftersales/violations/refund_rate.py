"""The refund rate by fault (退款率), and the figure it weighs toward the shop's ranking.

Over a period of whole days in the shop's time zone (by default the last 30, today included):

- paid orders: the shop's orders paid in the period;
- refunds: the shop's after-sales cases that ended refunded (state ``refunded``) in the period,
  one refund per case, counted at the refund's success (the case's ``resolved_at``);
- each refund's fault is its case's (``seller`` / ``buyer`` / ``carrier``, from its reason);
- a refund is *platform-intervened* when its case carries a dispute signal
  (``dispute_signals`` not empty) or was escalated (``escalated_at`` set). This stands in for
  the flag the disputes part will set on a case the platform intervened in; the one place to
  change it is ``platform_intervened``;
- the rate: refunds ÷ paid orders, in per cent (none without paid orders), in total and per
  fault, each split into negotiated and intervened;
- the ranking figure: the weighted refunds ÷ paid orders, in per cent, where a
  platform-intervened refund with the seller at fault weighs ``seller_intervened``, a
  negotiated seller-fault refund ``seller`` and any other refund ``other``: the shop's current
  policy's ``violations.refund_weights`` (Taobao's handbook: intervened seller-fault refunds
  weigh more, refunds for other reasons "lower the weight in the ranking"; no platform
  publishes the weights, so the presets' 3 / 1 / 0.5 are product defaults).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import ROUND_HALF_UP, Decimal

from aftersales.cases.choices import CaseState
from aftersales.cases.models import Case
from aftersales.catalog.models import Order, Shop
from aftersales.policy.choices import Fault
from aftersales.policy.services import policy_current
from aftersales.violations.rules import violation_rules

DEFAULT_DAYS = 30
HUNDREDTH = Decimal("0.01")


def platform_intervened(dispute_signals, escalated_at) -> bool:
    """Whether the platform intervened in a case (until the disputes part's own flag)."""
    return bool(dispute_signals) or escalated_at is not None


def weights_of(shop: Shop) -> dict[str, Decimal]:
    """The ranking weights of the shop's current policy (``violations.refund_weights``)."""
    found = violation_rules(policy_current(shop=shop))["refund_weights"]
    return {key: Decimal(str(value)) for key, value in found.items()}


def weight(fault: str, intervened: bool, weights: dict[str, Decimal]) -> Decimal:
    if fault == Fault.SELLER:
        return weights["seller_intervened"] if intervened else weights["seller"]
    return weights["other"]


def period(
    timezone: str, *, now: dt.datetime, days: int = DEFAULT_DAYS, end: dt.date | None = None
) -> tuple[dt.date, dt.date, dt.datetime, dt.datetime]:
    """``days`` whole local days ending with ``end`` (default today): the first and last day,
    and ``[start, end)`` in UTC."""
    zone = zoneinfo.ZoneInfo(timezone)
    last = end or now.astimezone(zone).date()
    first = last - dt.timedelta(days=days - 1)
    start = dt.datetime.combine(first, dt.time.min, tzinfo=zone).astimezone(dt.UTC)
    stop = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return first, last, start, stop.astimezone(dt.UTC)


def percent(part, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / whole).quantize(HUNDREDTH, rounding=ROUND_HALF_UP)


def refund_rate(
    *, shop: Shop, now: dt.datetime, days: int = DEFAULT_DAYS, end: dt.date | None = None
) -> dict:
    """The refund rate of ``shop`` over the period, split by fault and intervention, with the
    weighted ranking figure (the reader's scope is the caller's to check)."""
    first, last, start, stop = period(shop.timezone, now=now, days=days, end=end)
    paid = Order.objects.filter(shop=shop, paid_at__gte=start, paid_at__lt=stop).count()
    refunded = Case.objects.filter(
        shop=shop, state=CaseState.REFUNDED, resolved_at__gte=start, resolved_at__lt=stop
    ).values_list("fault", "dispute_signals", "escalated_at")
    counts: dict[tuple[str, bool], int] = {}
    for fault, signals, escalated_at in refunded:
        key = (fault, platform_intervened(signals, escalated_at))
        counts[key] = counts.get(key, 0) + 1
    refunds = sum(counts.values())
    intervened = sum(n for (_fault, by_platform), n in counts.items() if by_platform)
    weights = weights_of(shop)
    weighted = sum(
        (weight(fault, by_platform, weights) * n for (fault, by_platform), n in counts.items()),
        Decimal("0"),
    )
    by_fault = []
    for fault, label in Fault.choices:
        negotiated = counts.get((fault, False), 0)
        by_platform = counts.get((fault, True), 0)
        by_fault.append(
            {
                "fault": fault,
                "label": str(label),
                "refunds": negotiated + by_platform,
                "negotiated": negotiated,
                "intervened": by_platform,
                "rate": percent(negotiated + by_platform, paid),
                "intervened_rate": percent(by_platform, paid),
            }
        )
    return {
        "shop": shop.code,
        "timezone": shop.timezone,
        "start": first,
        "end": last,
        "days": days,
        "paid_orders": paid,
        "refunds": refunds,
        "rate": percent(refunds, paid),
        "intervened": intervened,
        "intervened_rate": percent(intervened, paid),
        "by_fault": by_fault,
        "weighted_refunds": weighted.quantize(HUNDREDTH),
        "ranking_rate": percent(weighted, paid),
        "weights": weights,
    }
