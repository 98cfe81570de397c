"""A policy's data as a typed model: its shape, its bounds and the legal floor it cannot go below,
all from the types (``PolicyData``). ``policy_validate`` turns the model's verdict into the
product's refusals: ``unknown_policy_field``, ``invalid_duration``, ``invalid_policy`` and, with
the law's reason, ``policy_below_legal_floor``."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.utils.dateparse import parse_duration
from django.utils.translation import gettext as _
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    model_validator,
)
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError

from aftersales.catalog.models import ProductFlag
from aftersales.core.errors import Ineligible, InvalidInput
from aftersales.core.money import money
from aftersales.policy.choices import ShippingPayer

TIMEOUT_NAMES = (
    "seller_response_unshipped",
    "seller_response_shipped",
    "buyer_reaction_after_reject",
    "buyer_return_shipment",
    "seller_receipt",
    "refund_duty",
    "seller_replacement_shipment",
    "buyer_confirm_receipt",
    "diagnosis",
    "quote_reminder",
    "quote_response",
    "repair",
    "seller_ship_back",
    "complaint_response",
    "complaint_analysis",
    "complaint_solution",
    "complaint_execution",
    "complaint_follow_up",
)
LONGEST_TIMEOUT = dt.timedelta(days=90)
# The law: 7-day no-reason returns, a refund within 7 days of receiving the return; 三包: return
# within 7 days, exchange within 15, replacement or return after two failed repairs.
LEGAL_NO_REASON_DAYS = 7
LEGAL_REFUND_DUTY = dt.timedelta(days=7)
LEGAL_WARRANTY = {"return_days": 7, "exchange_days": 15, "failed_repairs": 2}


def below_floor(message: str) -> PydanticCustomError:
    return PydanticCustomError("policy_below_legal_floor", message)


def _duration(value: str) -> str:
    parsed = parse_duration(value) if value.startswith("P") else None
    if parsed is None:
        raise PydanticCustomError(
            "invalid_duration",
            _("must be an ISO 8601 duration such as P5D or PT48H, not “{value}”."),
            {"value": value},
        )
    if parsed <= dt.timedelta(0) or parsed > LONGEST_TIMEOUT:
        raise PydanticCustomError(
            "invalid_duration", _("must be longer than zero and at most 90 days.")
        )
    return value


Duration = Annotated[str, AfterValidator(_duration)]
Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2), AfterValidator(money)]
Percent = Annotated[StrictInt, Field(ge=0, le=100)]


class Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Timeouts(Closed):
    """How long each waiting state lasts before its automatic action (ISO 8601 durations)."""

    seller_response_unshipped: Duration
    seller_response_shipped: Duration
    buyer_reaction_after_reject: Duration
    buyer_return_shipment: Duration
    seller_receipt: Duration
    refund_duty: Duration
    seller_replacement_shipment: Duration
    buyer_confirm_receipt: Duration
    diagnosis: Duration
    quote_reminder: Duration
    quote_response: Duration
    repair: Duration
    seller_ship_back: Duration
    # The stages of a complaint: each is due after its timeout, with a reminder at half of it.
    complaint_response: Duration
    complaint_analysis: Duration
    complaint_solution: Duration
    complaint_execution: Duration
    complaint_follow_up: Duration

    @model_validator(mode="after")
    def _the_law_and_the_quote(self) -> Timeouts:
        if parse_duration(self.refund_duty) > LEGAL_REFUND_DUTY:
            raise below_floor(_("The law requires a refund within 7 days of receiving the return."))
        if parse_duration(self.quote_reminder) >= parse_duration(self.quote_response):
            raise PydanticCustomError(
                "invalid_policy", _("The quote reminder must come before the quote expires.")
            )
        return self


class ShippingPayers(Closed):
    """Who pays the return shipping, by who is at fault."""

    buyer: ShippingPayer
    seller: ShippingPayer
    carrier: ShippingPayer

    @model_validator(mode="after")
    def _the_shop_pays_for_its_faults(self) -> ShippingPayers:
        if self.seller != ShippingPayer.SELLER or self.carrier != ShippingPayer.SELLER:
            raise below_floor(
                _("When the seller or the carrier is at fault the shop pays the return shipping.")
            )
        return self


class DeductionPercents(Closed):
    """The deduction suggested at inspection, as a percent of a line's approved amount."""

    intact: Percent
    packaging_damaged: Percent
    used: Percent
    dirty: Percent
    damaged: Percent
    wrong_item: Percent
    missing_parts: Percent
    empty_box: Percent

    @model_validator(mode="after")
    def _intact_is_refunded_in_full(self) -> DeductionPercents:
        if self.intact != 0:
            raise below_floor(_("Goods returned intact are refunded in full."))
        return self


class PercentRule(Closed):
    percent: Percent
    min: Money
    max: Money

    @model_validator(mode="after")
    def _floor_below_cap(self) -> PercentRule:
        if self.min > self.max:
            raise PydanticCustomError("invalid_policy", _("The least given exceeds the most."))
        return self


class GoodwillRule(Closed):
    max: Money


class CounterfeitRule(Closed):
    multiple: Annotated[StrictInt, Field(ge=1, le=10)]


class CompensationRules(Closed):
    """Coupons and store credit, by reason."""

    out_of_stock: PercentRule
    late_shipment: PercentRule
    goodwill: GoodwillRule
    counterfeit: CounterfeitRule


class WarrantyRules(Closed):
    """三包: a fault within ``return_days`` may be returned, within ``exchange_days`` exchanged,
    and after ``failed_repairs`` failed repairs the customer chooses a replacement or a return."""

    return_days: Annotated[StrictInt, Field(gt=0, le=365)]
    exchange_days: Annotated[StrictInt, Field(gt=0, le=365)]
    failed_repairs: Annotated[StrictInt, Field(gt=0, le=365)]

    @model_validator(mode="after")
    def _never_less_than_the_law(self) -> WarrantyRules:
        if (
            self.return_days < LEGAL_WARRANTY["return_days"]
            or self.exchange_days < LEGAL_WARRANTY["exchange_days"]
            or self.failed_repairs > LEGAL_WARRANTY["failed_repairs"]
        ):
            raise below_floor(
                _(
                    "三包 grants a return within 7 days, an exchange within 15 days, and a "
                    "replacement or return after two failed repairs; the warranty cannot give "
                    "less."
                )
            )
        return self


# --- the marketplace's rules (disputes, jury, inspection, reviews, violations, insurance) ---------
# A shop on a marketplace takes its platform's preset; an operator hosting shops writes its own.
# Since 1 Feb 2026 (《网络交易平台规则监督管理办法》) a platform may not force refund-only or
# shipping insurance on a merchant, and every penalty states its calculation and may be appealed:
# those are not settings, they are the floor below.

Days = Annotated[StrictInt, Field(gt=0, le=365)]
Score = Annotated[Decimal, Field(ge=0, le=5, max_digits=3, decimal_places=2)]
Factor = Annotated[Decimal, Field(gt=0, le=10, max_digits=5, decimal_places=2)]


class DisputeRules(Closed):
    """维权 / 平台介入: when a buyer may ask the platform to step in, how long the sides have to
    add evidence, how soon the platform decides, and the shop's appeal of a decision."""

    # A refund dispute: this long after the request while the shop has not settled it, or at
    # once after a rejection, for ``escalate_after_reject``.
    escalate_after_request: Duration
    escalate_after_reject: Duration
    # An after-sale dispute: within this many days of the trade's success.
    after_sale_days: Days
    evidence_window: Duration
    decision_due: Duration
    appeal_window: Duration
    appeals: Annotated[StrictInt, Field(ge=0, le=3)]

    @model_validator(mode="after")
    def _a_penalty_may_be_appealed(self) -> DisputeRules:
        if self.appeals < 1:
            raise below_floor(
                _(
                    "Since 1 February 2026 a merchant may appeal a platform's decision and "
                    "penalty: at least one appeal."
                )
            )
        return self


class AutonomyBand(Closed):
    """From ``min_score`` of the shop's service score up: who decides a refund-only request after
    the buyer received the goods (``shop``: the platform does not step in; ``negotiate``: the
    platform steps in only after the sides talked; ``platform``: the platform may decide)."""

    min_score: Score
    refund_only_after_receipt: Literal["shop", "negotiate", "platform"]


class AutonomyRules(Closed):
    """Graded autonomy by service score (Taobao, Aug 2024: 4.8 and above is not overruled)."""

    bands: Annotated[list[AutonomyBand], Field(min_length=1, max_length=10)]

    @model_validator(mode="after")
    def _bands_cover_every_score(self) -> AutonomyRules:
        scores = [band.min_score for band in self.bands]
        if scores != sorted(scores, reverse=True) or len(set(scores)) != len(scores):
            raise PydanticCustomError(
                "invalid_policy", _("List the bands from the highest score down, once each.")
            )
        if scores[-1] != 0:
            raise PydanticCustomError(
                "invalid_policy", _("The last band starts at a score of 0, so every shop has one.")
            )
        return self


class JuryRules(Closed):
    """A jury of users (Xianyu 小法庭): ``size`` jurors drawn at random, the first side to reach
    ``majority`` votes within ``vote_window`` wins. Short of it when the window ends
    (``short_vote``): ``platform``, the platform decides; ``plurality``, the side with more votes
    wins (a tie, or no vote, still goes to the platform)."""

    size: Annotated[StrictInt, Field(ge=3, le=99)]
    majority: Annotated[StrictInt, Field(ge=2, le=99)]
    vote_window: Duration
    # Who may sit: an account at least this old with at least this many completed trades.
    min_account_days: Annotated[StrictInt, Field(ge=0, le=3650)]
    min_trades: Annotated[StrictInt, Field(ge=0, le=1000)]
    short_vote: Literal["platform", "plurality"]

    @model_validator(mode="after")
    def _a_majority_of_the_jury(self) -> JuryRules:
        if not self.size // 2 < self.majority <= self.size:
            raise PydanticCustomError(
                "invalid_policy", _("The majority must be more than half of the jury, at most all.")
            )
        return self


class InspectionRules(Closed):
    """The platform's inspection center (拼多多 假一赔十): the verdict is due within
    ``verdict_due``; who pays the authentication when the goods prove genuine or counterfeit;
    whether a proven counterfeit records a violation (``counterfeit_points`` 0: none; its points
    and class are ``violations.kinds.counterfeit``'s). The multiple paid to the buyer is
    ``compensation.counterfeit``."""

    verdict_due: Duration
    authentication_fee: Money
    fee_payer_if_genuine: Literal["buyer", "seller", "platform"]
    fee_payer_if_counterfeit: Literal["seller", "platform"]
    counterfeit_points: Annotated[StrictInt, Field(ge=0, le=48)]


class ReviewRules(Closed):
    """评价: a trade may be reviewed within ``window_days`` of its success; then a positive review
    is given for whoever did not (scored or not); a neutral or negative review is held ``hold``
    for the shop to reach the buyer; the buyer may change it ``changes`` times within
    ``change_days`` (only to positive) or delete it; scores +1 / 0 / −1, at most
    ``pair_monthly_cap`` points between the same buyer and shop in a calendar month."""

    window_days: Days
    auto_positive: StrictBool
    auto_positive_scored: StrictBool
    hold: Duration
    change_days: Days
    changes: Annotated[StrictInt, Field(ge=0, le=3)]
    may_delete: StrictBool
    pair_monthly_cap: Annotated[StrictInt, Field(ge=1, le=100)]


class PenaltyStep(Closed):
    """What reaching ``points`` in a class brings: ``days`` of restrictions (none: permanent)."""

    points: Annotated[StrictInt, Field(ge=1, le=1000)]
    days: Annotated[StrictInt, Field(ge=1, le=365)] | None
    measures: Annotated[
        list[
            Literal[
                "shop_hidden",
                "listing_restricted",
                "messages_restricted",
                "goods_delisted",
                "shop_closed",
                "public_warning",
                "banned",
            ]
        ],
        Field(min_length=1),
    ]


class ViolationKind(Closed):
    violation_class: Literal["general", "serious"]
    points: Annotated[StrictInt, Field(ge=0, le=48)]


Weight = Annotated[Decimal, Field(ge=0, le=10, max_digits=4, decimal_places=2)]


class RefundWeights(Closed):
    """How much one refund weighs in the refund rate's ranking figure, by fault: a seller-fault
    refund the platform intervened in, a negotiated seller-fault refund, any other refund."""

    seller_intervened: Weight
    seller: Weight
    other: Weight

    @model_validator(mode="after")
    def _the_sellers_faults_weigh_most(self) -> RefundWeights:
        if not self.seller_intervened >= self.seller >= self.other:
            raise PydanticCustomError(
                "invalid_policy",
                _(
                    "An intervened seller-fault refund weighs at least a negotiated one, which "
                    "weighs at least any other refund."
                ),
            )
        return self


class ViolationRules(Closed):
    """违规扣分: points by class (``general``, A; ``serious``, B), the penalties they reach, reset
    every calendar year in ``timezone`` (the platform's); ``kinds``: the points of each
    violation the after-sales side can cause; ``appeal_window``: how long after a violation is
    recorded (or a penalty starts) the shop may appeal it; ``refund_weights``: the refund rate's
    ranking weights."""

    enabled: StrictBool
    timezone: str
    appeal_window: Duration
    refund_weights: RefundWeights
    general: Annotated[list[PenaltyStep], Field(max_length=10)]
    serious: Annotated[list[PenaltyStep], Field(max_length=10)]
    kinds: dict[
        Literal[
            "broken_promise",
            "late_shipment",
            "not_as_described",
            "counterfeit",
            "harassment",
            "refund_refused",
        ],
        ViolationKind,
    ]

    @model_validator(mode="after")
    def _steps_climb(self) -> ViolationRules:
        for steps in (self.general, self.serious):
            points = [step.points for step in steps]
            if points != sorted(set(points)):
                raise PydanticCustomError(
                    "invalid_policy", _("List each class's penalties by points, rising, once each.")
                )
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise PydanticCustomError(
                "invalid_policy", _("Unknown time zone {zone}."), {"zone": self.timezone}
            ) from None
        return self


class PremiumBand(Closed):
    at_least: Annotated[Decimal, Field(ge=0, le=1000, max_digits=6, decimal_places=2)]
    factor: Factor


class InsuranceRules(Closed):
    """运费险: offered to the shop's buyers only when the shop chooses (never forced, since 2026).
    The premium is ``base_premium`` × the factor of the shop's score band × the factor of the
    buyer's returns in ``lookback_days``; a claim pays the return shipping up to ``payout_cap``;
    a buyer is flagged for review at ``abuse_returns`` returns in the lookback, a payout above
    ``abuse_payout_ratio`` × the real postage, or ``abuse_accounts_per_address`` accounts at one
    address. A quote not insured within ``quote_valid`` lapses (it may be quoted again); a flag
    not reviewed within ``review_due`` goes to the shop's team lead."""

    offered: StrictBool
    base_premium: Money
    score_bands: Annotated[list[PremiumBand], Field(min_length=1, max_length=10)]
    return_bands: Annotated[list[PremiumBand], Field(min_length=1, max_length=10)]
    lookback_days: Days
    payout_cap: Money
    abuse_returns: Annotated[StrictInt, Field(ge=1, le=1000)]
    abuse_payout_ratio: Factor
    abuse_accounts_per_address: Annotated[StrictInt, Field(ge=2, le=100)]
    quote_valid: Duration
    review_due: Duration

    @model_validator(mode="after")
    def _bands_start_at_zero(self) -> InsuranceRules:
        for bands in (self.score_bands, self.return_bands):
            floors = [band.at_least for band in bands]
            if floors != sorted(set(floors)) or floors[0] != 0:
                raise PydanticCustomError(
                    "invalid_policy",
                    _("List the premium bands from 0 up, once each."),
                )
        return self


class InsightsRules(Closed):
    """What the cost reports count that only the shop knows: ``staff_cost_per_hour``, what an
    hour of its staff's time costs it, in its currency (0: staff time is counted in minutes, not
    in money). A contact's cost is worked out when it is logged, at the rate then."""

    staff_cost_per_hour: Annotated[Money, Field(le=10000)]


def _no_reason_floor(days: int) -> int:
    if days < LEGAL_NO_REASON_DAYS:
        raise below_floor(
            _("The law grants 7-day no-reason returns; the window cannot be shorter.")
        )
    return days


class PolicyData(Closed):
    """A complete policy version."""

    timeouts: Timeouts
    no_reason_days: Annotated[StrictInt, Field(le=365), AfterValidator(_no_reason_floor)]
    no_reason_excluded_flags: list[ProductFlag]
    return_shipping_payer: ShippingPayers
    deduct_buyer_shipping: StrictBool
    buyer_shipping_deduction: Annotated[Money, Field(le=1000)]
    inspection_deduction_percent: DeductionPercents
    compensation: CompensationRules
    warranty: WarrantyRules
    # Days after the trade ended (signed for, or closed) within which a buyer may complain.
    complaint_window_days: Annotated[StrictInt, Field(gt=0, le=365)]
    # The marketplace's rules.
    disputes: DisputeRules
    autonomy: AutonomyRules
    jury: JuryRules
    inspection: InspectionRules
    reviews: ReviewRules
    violations: ViolationRules
    insurance: InsuranceRules
    # The shop's own figures for the cost reports.
    insights: InsightsRules

    def normalised(self) -> dict[str, Any]:
        """As stored: JSON, flags sorted once each, amounts with two decimals."""
        data = self.model_dump(mode="json")
        data["no_reason_excluded_flags"] = sorted(set(data["no_reason_excluded_flags"]))
        return data


def _field_of(location: tuple) -> str:
    return ".".join(str(part) for part in location)


def policy_validate(data: dict[str, Any]) -> dict[str, Any]:
    """Check a complete policy and return its normalised form; refuse anything below the law."""
    try:
        return PolicyData.model_validate(data).normalised()
    except PydanticValidationError as error:
        problems = error.errors()
    unknown = [
        p["loc"][0] for p in problems if p["type"] == "extra_forbidden" and len(p["loc"]) == 1
    ]
    if unknown:
        raise InvalidInput(
            _("Unknown policy fields: %(fields)s.") % {"fields": ", ".join(sorted(unknown))},
            code="unknown_policy_field",
        )
    # The law's refusals first: they say why, and what the shop must grant.
    problems.sort(key=lambda p: p["type"] != "policy_below_legal_floor")
    first = problems[0]
    field = _field_of(first["loc"])
    if first["type"] == "policy_below_legal_floor":
        raise Ineligible(first["msg"], code="policy_below_legal_floor", field=field)
    code = "invalid_duration" if first["type"] == "invalid_duration" else "invalid_policy"
    raise InvalidInput(
        _("%(field)s: %(problem)s") % {"field": field, "problem": first["msg"]},
        code=code,
        field=field,
    )
