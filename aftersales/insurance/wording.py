"""How a cover reads to its buyer: the premium's calculation in words, from the inputs stored
with the quote (never the shop's current ones), and what a claim paid."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from aftersales.insurance.models import Claim, Cover


def _whole(value) -> str:
    """A count stored as a band's floor ("3.00") as people say it ("3")."""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return str(int(number)) if number == number.to_integral_value() else str(number)


def calculation_lines(cover: Cover) -> list[str]:
    """The formula with its numbers, then where each factor comes from."""
    inputs = cover.inputs
    currency = cover.shop.currency
    return [
        _(
            "Premium = base premium × service-score factor × return-frequency factor = "
            "%(base)s × %(score_factor)s × %(returns_factor)s = %(premium)s %(currency)s"
        )
        % {
            "base": inputs.get("base_premium", ""),
            "score_factor": cover.score_factor,
            "returns_factor": cover.returns_factor,
            "premium": cover.premium,
            "currency": currency,
        },
        _(
            "The shop's service score is %(score)s (out of 5.00): a score of %(at_least)s or "
            "more gives the factor ×%(factor)s."
        )
        % {
            "score": cover.service_score,
            "at_least": inputs.get("score_band_at_least", ""),
            "factor": cover.score_factor,
        },
        _(
            "Your returns and exchanges at this shop in the %(days)s days before the quote: "
            "%(count)s; %(at_least)s or more give the factor ×%(factor)s."
        )
        % {
            "days": inputs.get("lookback_days", ""),
            "count": cover.returns_counted,
            "at_least": _whole(inputs.get("returns_band_at_least", "")),
            "factor": cover.returns_factor,
        },
    ]


def payout_words(claim: Claim, currency: str) -> str:
    """What the claim paid and why: the postage, at most the cap."""
    values = {
        "payout": claim.payout,
        "postage": claim.stated_postage,
        "cap": claim.payout_cap,
        "currency": currency,
    }
    if claim.stated_postage > claim.payout_cap:
        return (
            _("%(payout)s %(currency)s: the postage %(postage)s, paid up to the cap of %(cap)s")
            % values
        )
    return _("%(payout)s %(currency)s: the postage paid in full (the cap is %(cap)s)") % values


def quote_consequence(when: str) -> str:
    """What the buyer reads next to the quote's countdown."""
    return _(
        "Insure before %(when)s: after that the quote lapses and you will need to quote again."
    ) % {"when": when}
