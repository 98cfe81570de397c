"""Signals of shipping-insurance abuse (骗保) for one buyer, each with its calculation:

- ``many_returns``: at least ``abuse_returns`` returns in the ``lookback_days`` (counted as for
  the premium, ``pricing.returns_counted``);
- ``payout_above_postage``: a claim of the look-back whose payout is above
  ``abuse_payout_ratio`` × the real postage the shop recorded;
- ``shared_address``: at least ``abuse_accounts_per_address`` of the shop's buyers claimed from
  one address (the address text reduced by ``address_key``).

Everything is within the buyer's shop: customers are kept per shop.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from decimal import Decimal
from typing import Any

from django.db.models import Count

from aftersales.catalog.models import Customer
from aftersales.insurance.choices import Signal
from aftersales.insurance.models import Claim
from aftersales.insurance.pricing import lookback_start, returns_counted

# Anything that is not a letter or a digit (spaces, punctuation, full-width or not) is noise.
_NOISE = re.compile(r"[\W_]+", re.UNICODE)


def address_key(address: str) -> str:
    """The address reduced for comparison: full-width folded (NFKC), lower case, without spaces
    or punctuation: "杭州市 余杭区，1号" and "杭州市余杭区1号" are one address."""
    return _NOISE.sub("", unicodedata.normalize("NFKC", address).casefold())[:500]


def buyer_signals(
    *, customer: Customer, rules: dict[str, Any], now: dt.datetime
) -> list[dict[str, Any]]:
    """The signals found for ``customer`` now, each with the numbers it rests on."""
    found: list[dict[str, Any]] = []
    lookback = rules["lookback_days"]
    returns = returns_counted(customer=customer, now=now, lookback_days=lookback)
    if returns >= rules["abuse_returns"]:
        found.append(
            {
                "signal": Signal.MANY_RETURNS.value,
                "value": returns,
                "threshold": rules["abuse_returns"],
                "lookback_days": lookback,
                "calculation": f"{returns} returns in {lookback} days ≥ {rules['abuse_returns']}",
            }
        )
    ratio = Decimal(str(rules["abuse_payout_ratio"]))
    claims = list(
        Claim.objects.filter(customer=customer, created_at__gt=lookback_start(now, lookback))
        .select_related("case")
        .order_by("id")
    )
    over = [
        claim
        for claim in claims
        if claim.actual_postage is not None and claim.payout > ratio * claim.actual_postage
    ]
    if over:
        found.append(
            {
                "signal": Signal.PAYOUT_ABOVE_POSTAGE.value,
                "claims": [
                    {
                        "case": claim.case.number,
                        "payout": str(claim.payout),
                        "actual_postage": str(claim.actual_postage),
                        "limit": str((ratio * claim.actual_postage).quantize(Decimal("0.01"))),
                    }
                    for claim in over
                ],
                "ratio": str(ratio),
                "calculation": "; ".join(
                    f"{claim.case.number}: {claim.payout} > {ratio} × {claim.actual_postage}"
                    for claim in over
                ),
            }
        )
    keys = {claim.address_key for claim in Claim.objects.filter(customer=customer)}
    threshold = rules["abuse_accounts_per_address"]
    shared = (
        Claim.objects.filter(shop_id=customer.shop_id, address_key__in=keys)
        .values("address_key")
        .annotate(accounts=Count("customer", distinct=True))
        .filter(accounts__gte=threshold)
        .order_by("address_key")
    )
    for row in shared:
        address = (
            Claim.objects.filter(customer=customer, address_key=row["address_key"])
            .values_list("sender_address", flat=True)
            .first()
        )
        found.append(
            {
                "signal": Signal.SHARED_ADDRESS.value,
                "address": address,
                "value": row["accounts"],
                "threshold": threshold,
                "calculation": f"{row['accounts']} accounts at one address ≥ {threshold}",
            }
        )
    return found


def signature_of(reasons: list[dict[str, Any]]) -> str:
    """What a flag's reasons rest on, short: equal reasons give an equal signature."""
    parts = []
    for reason in reasons:
        if reason["signal"] == Signal.PAYOUT_ABOVE_POSTAGE:
            parts.append(reason["signal"] + ":" + ",".join(c["case"] for c in reason["claims"]))
        elif reason["signal"] == Signal.SHARED_ADDRESS:
            parts.append(
                f"{reason['signal']}:{address_key(reason['address'] or '')}:{reason['value']}"
            )
        else:
            parts.append(f"{reason['signal']}:{reason['value']}")
    text = "|".join(sorted(parts))
    return hashlib.sha256(text.encode()).hexdigest()[:40] if text else ""
