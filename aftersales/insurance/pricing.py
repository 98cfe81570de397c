"""The premium (运费险保费), one documented formula (``FORMULA_VERSION`` 1):

    premium = base_premium × score_factor × returns_factor, rounded half up to the cent

- ``score_factor``: the factor of the highest band of ``insurance.score_bands`` whose
  ``at_least`` is at or below the shop's service score (``violations.selectors.service_score``,
  5.00 when unset: the one score the disputes' autonomy reads too);
- ``returns_factor``: the same in ``insurance.return_bands`` for the buyer's returns counted;
- returns counted: the buyer's cases of kind return-and-refund or exchange (in any state) opened
  in the ``lookback_days`` before the quote, ``(quote − lookback, quote]``: a case opened exactly
  ``lookback_days`` before does not count, one a second later does. The buyer is the customer as
  the shop knows them, so only this shop's cases count (customers are kept per shop).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from aftersales.cases.models import Case
from aftersales.catalog.models import Customer, Shop
from aftersales.insurance.choices import FORMULA_VERSION, RETURN_KINDS
from aftersales.violations.selectors import service_score as shop_service_score

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Band:
    at_least: Decimal
    factor: Decimal


def bands_of(rows: list[dict[str, Any]]) -> list[Band]:
    return [Band(Decimal(str(row["at_least"])), Decimal(str(row["factor"]))) for row in rows]


def band_for(bands: list[Band], value: Decimal) -> Band:
    """The highest band whose floor is at or below ``value`` (the policy's bands start at 0)."""
    chosen = bands[0]
    for band in sorted(bands, key=lambda b: b.at_least):
        if band.at_least <= value:
            chosen = band
    return chosen


def service_score(shop: Shop | int) -> Decimal:
    """The shop's one service score (``violations``), which the premium is graded by."""
    return shop_service_score(shop if isinstance(shop, int) else shop.pk)


def lookback_start(now: dt.datetime, lookback_days: int) -> dt.datetime:
    return now - dt.timedelta(days=lookback_days)


def returns_counted(*, customer: Customer | int, now: dt.datetime, lookback_days: int) -> int:
    customer_id = customer if isinstance(customer, int) else customer.pk
    return Case.objects.filter(
        customer_id=customer_id,
        kind__in=RETURN_KINDS,
        created_at__gt=lookback_start(now, lookback_days),
        created_at__lte=now,
    ).count()


@dataclass(frozen=True)
class Quote:
    premium: Decimal
    service_score: Decimal
    score_factor: Decimal
    returns_counted: int
    returns_factor: Decimal
    inputs: dict[str, Any]


def premium_for(*, rules: dict[str, Any], score: Decimal, returns: int, now: dt.datetime) -> Quote:
    """The premium for a shop's ``score`` and a buyer's ``returns``, with its calculation."""
    base = Decimal(str(rules["base_premium"]))
    score_band = band_for(bands_of(rules["score_bands"]), score)
    returns_band = band_for(bands_of(rules["return_bands"]), Decimal(returns))
    premium = (base * score_band.factor * returns_band.factor).quantize(CENT, ROUND_HALF_UP)
    inputs = {
        "formula_version": FORMULA_VERSION,
        "formula": "base_premium × score_factor × returns_factor",
        "base_premium": str(base),
        "service_score": str(score),
        "score_band_at_least": str(score_band.at_least),
        "score_factor": str(score_band.factor),
        "returns_counted": returns,
        "returns_band_at_least": str(returns_band.at_least),
        "returns_factor": str(returns_band.factor),
        "lookback_days": rules["lookback_days"],
        "lookback_from": lookback_start(now, rules["lookback_days"]).isoformat(),
        "lookback_to": now.isoformat(),
        "calculation": (f"{base} × {score_band.factor} × {returns_band.factor} = {premium}"),
        "premium": str(premium),
    }
    return Quote(premium, score, score_band.factor, returns, returns_band.factor, inputs)
