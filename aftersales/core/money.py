"""Money is ``Decimal`` with two places; never float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def money(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def split_proportionally(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split ``total`` over ``weights`` in cents, the remainder going to the last share.

    The shares always add up to ``total`` exactly, which keeps per-line ledgers exact when a
    case-level deduction is spread over the case's lines.
    """
    total = money(total)
    weight_sum = sum(weights, Decimal(0))
    if not weights:
        return []
    if weight_sum == 0:
        shares = [ZERO] * len(weights)
        shares[-1] = total
        return shares
    shares = [money(total * weight / weight_sum) for weight in weights[:-1]]
    shares.append(total - sum(shares, ZERO))
    return shares
