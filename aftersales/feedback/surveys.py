"""Writes of the satisfaction surveys: a month's round (the sample and its invitations), the
customer's answer through the one-time link, and the answers an agent records on the phone.

A round samples the shop's cases that ended (reached a final state: ``Case.resolved_at``) in a
calendar month of the shop's time zone: one case per customer (their latest to end), none of a
customer surveyed within the cooldown, stratified by (case kind, agent) with a stored seed
(``sampling.draw``). A sampled customer with an e-mail address is invited by e-mail (and by text
message too where the shop sends texts), one with only a phone by text message where texts go
out, and anyone else is called: their survey waits on the desk's list to call.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from aftersales.cases.choices import FINAL_STATES, RatingReason
from aftersales.cases.models import Case
from aftersales.catalog.models import Shop
from aftersales.core import clock
from aftersales.core.actors import Principal
from aftersales.core.errors import Conflict, InvalidInput, NotFound
from aftersales.core.notices import notice_build, notices_save
from aftersales.core.permissions import require
from aftersales.feedback import sampling, tokens
from aftersales.feedback.models import Survey, SurveyChannel, SurveyRound, SurveyStatus
from aftersales.feedback.notices import INVITE

# A survey's link (and the call) may be answered for this many days after the round.
SURVEY_VALID_DAYS = 30
# Scores up to this one are low: the customer may say what went wrong.
LOW_SCORE = 3
# What went wrong, for a low score: the negative reasons of the portal's rating.
LOW_SCORE_REASONS = (RatingReason.SLOW, RatingReason.UNCLEAR, RatingReason.UNFAIR)
COMMENT_LIMIT = 2000
COOLDOWN_LIMIT = 3650
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")

MANAGE, VIEW, CALL = "survey.manage", "survey.view", "survey.call"


def month_bounds(month: str, timezone: str) -> tuple[dt.datetime, dt.datetime]:
    """``[start, stop)`` in UTC of the calendar month ``YYYY-MM`` in ``timezone``."""
    found = MONTH.match(month or "")
    if found is None:
        raise InvalidInput(
            _("Give the month as YYYY-MM, e.g. 2026-10."), code="invalid_month", field="month"
        )
    year, number = int(found.group(1)), int(found.group(2))
    zone = zoneinfo.ZoneInfo(timezone)
    start = dt.datetime(year, number, 1, tzinfo=zone)
    stop = dt.datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone)
    return start.astimezone(dt.UTC), stop.astimezone(dt.UTC)


def _rate(rate) -> Decimal:
    try:
        value = Decimal(str(rate))
    except (InvalidOperation, ValueError):
        value = Decimal("NaN")
    if not value.is_finite() or not Decimal("0") < value <= 1 or value != round(value, 3):
        raise InvalidInput(
            _("The sample rate is a share above 0 and at most 1, e.g. 0.2 (three decimals)."),
            code="invalid_rate",
            field="rate",
        )
    return value


def _check_round(cooldown_days, seed) -> None:
    if not isinstance(cooldown_days, int) or not 0 <= cooldown_days <= COOLDOWN_LIMIT:
        raise InvalidInput(
            _("The cooldown is 0 to %(limit)s days.") % {"limit": COOLDOWN_LIMIT},
            code="invalid_cooldown",
            field="cooldown_days",
        )
    if seed is not None and (not isinstance(seed, int) or not 0 <= seed < sampling.SEED_LIMIT):
        raise InvalidInput(
            _("The seed is a whole number from 0 to %(limit)s.")
            % {"limit": sampling.SEED_LIMIT - 1},
            code="invalid_seed",
            field="seed",
        )


def sms_goes_out() -> bool:
    """Whether the shop's customers get text messages for an invitation (the notify app's
    settings: a backend, and this kind among the kinds texted)."""
    kinds = settings.AFTERSALES_SMS_KINDS
    return bool(settings.AFTERSALES_SMS_BACKEND) and ("*" in kinds or INVITE in kinds)


def candidates(
    *, shop: Shop, start: dt.datetime, stop: dt.datetime, cooldown_since: dt.datetime
) -> list[sampling.Candidate]:
    """The eligible cases: ended in ``[start, stop)``, not surveyed, of customers not surveyed
    since ``cooldown_since``; of each customer the case that ended last."""
    recent = Survey.objects.filter(shop=shop, created_at__gte=cooldown_since).values("customer_id")
    rows = (
        Case.objects.filter(
            shop=shop, state__in=FINAL_STATES, resolved_at__gte=start, resolved_at__lt=stop
        )
        .filter(survey__isnull=True)
        .exclude(customer_id__in=recent)
        .order_by("customer_id", "-resolved_at", "-id")
        .values_list("id", "customer_id", "kind", "assignee_id")
    )
    chosen: dict[int, sampling.Candidate] = {}
    for case_id, customer_id, kind, agent_id in rows:
        if customer_id not in chosen:
            chosen[customer_id] = sampling.Candidate(case_id, customer_id, kind, agent_id)
    return list(chosen.values())


def surveys_expire(*, shop: Shop, now: dt.datetime) -> int:
    """Mark the shop's unanswered surveys whose time is up as expired."""
    return Survey.objects.filter(shop=shop, status=SurveyStatus.SENT, expires_at__lte=now).update(
        status=SurveyStatus.EXPIRED
    )


@transaction.atomic
def survey_round_run(
    *,
    actor: Principal,
    shop: Shop,
    month: str,
    rate,
    cooldown_days: int,
    seed: int | None = None,
) -> SurveyRound:
    """Draw the month's sample of ``shop`` and invite it (leads and administrators). A month is
    surveyed once, after it has ended; the seed (drawn when not given) is stored, and the same
    seed on the same cases draws the same sample."""
    require(actor, MANAGE, shop)
    rate = _rate(rate)
    _check_round(cooldown_days, seed)
    start, stop = month_bounds(month, shop.timezone)
    now = clock.now()
    if stop > now:
        raise Conflict(
            _("A month is surveyed once it has ended."), code="month_not_over", field="month"
        )
    if SurveyRound.objects.filter(shop=shop, month=month).exists():
        raise Conflict(
            _("The survey of %(month)s has been run already.") % {"month": month},
            code="survey_round_exists",
        )
    surveys_expire(shop=shop, now=now)
    seed = sampling.new_seed() if seed is None else seed
    eligible = candidates(
        shop=shop, start=start, stop=stop, cooldown_since=now - dt.timedelta(days=cooldown_days)
    )
    try:
        with transaction.atomic():
            survey_round = SurveyRound.objects.create(
                shop=shop,
                month=month,
                sample_rate=rate,
                cooldown_days=cooldown_days,
                seed=seed,
                population=len(eligible),
                created_at=now,
                created_by_id=actor.user_id,
            )
    except IntegrityError:
        # Another run of the same month committed first.
        raise Conflict(
            _("The survey of %(month)s has been run already.") % {"month": month},
            code="survey_round_exists",
        ) from None
    _invite(survey_round, sampling.draw(eligible, rate, seed), now)
    return survey_round


def _invite(survey_round: SurveyRound, chosen: list[sampling.Candidate], now) -> None:
    cases = {
        case_id: (number, email, phone)
        for case_id, number, email, phone in Case.objects.filter(
            pk__in=[c.case_id for c in chosen]
        ).values_list("id", "number", "customer__email", "customer__phone")
    }
    texts = sms_goes_out()
    surveys = []
    for candidate in chosen:
        _number, email, phone = cases[candidate.case_id]
        if email:
            channel = SurveyChannel.EMAIL
        elif phone and texts:
            channel = SurveyChannel.SMS
        else:
            channel = SurveyChannel.PHONE
        salt = tokens.new_salt()
        surveys.append(
            Survey(
                round=survey_round,
                shop_id=survey_round.shop_id,
                case_id=candidate.case_id,
                customer_id=candidate.customer_id,
                kind=candidate.kind,
                agent_id=candidate.agent_id,
                channel=channel,
                token_salt=salt,
                token_hash=tokens.token_hash(tokens.survey_token(salt)),
                created_at=now,
                expires_at=now + dt.timedelta(days=SURVEY_VALID_DAYS),
            )
        )
    Survey.objects.bulk_create(surveys, batch_size=500)
    notices_save(
        [
            notice_build(survey, INVITE, {"number": cases[survey.case_id][0], "state": ""})
            for survey in surveys
            if survey.channel != SurveyChannel.PHONE
        ]
    )


# --- answers ----------------------------------------------------------------------------------


def answer_check(score, reasons: list[str], comment: str) -> tuple[int, list[str], str]:
    """The answer as stored, or ``InvalidInput`` naming its field: a score 1 to 5, reasons (of
    a low score only; dropped for a high one) from ``LOW_SCORE_REASONS``, a comment up to 2000
    characters."""
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise InvalidInput(_("Give a score from 1 to 5."), code="invalid_score", field="score")
    if not isinstance(reasons, list) or set(reasons) - set(LOW_SCORE_REASONS):
        raise InvalidInput(_("Unknown reason."), code="invalid_reason", field="reasons")
    if not isinstance(comment, str) or len(comment) > COMMENT_LIMIT:
        raise InvalidInput(
            _("The comment is at most %(limit)s characters.") % {"limit": COMMENT_LIMIT},
            code="comment_too_long",
            field="comment",
        )
    kept = sorted(set(reasons)) if score <= LOW_SCORE else []
    return score, kept, comment.strip()


def _waiting(survey: Survey, now: dt.datetime) -> None:
    if survey.status in (SurveyStatus.ANSWERED, SurveyStatus.DECLINED):
        raise Conflict(_("This survey has been answered already."), code="survey_answered")
    if survey.status == SurveyStatus.EXPIRED or survey.expires_at <= now:
        raise Conflict(_("This survey has expired."), code="survey_expired")


def _record(survey: Survey, *, answer, declined: bool, now, recorded_by: int | None) -> Survey:
    if declined:
        survey.status = SurveyStatus.DECLINED
    else:
        survey.score, survey.reasons, survey.comment = answer
        survey.status = SurveyStatus.ANSWERED
    survey.answered_at = now
    survey.recorded_by_id = recorded_by
    survey.save(
        update_fields=["status", "score", "reasons", "comment", "answered_at", "recorded_by"]
    )
    return survey


def survey_by_token(token: str) -> Survey | None:
    """The survey a link opens (``None``: no such link)."""
    if not token or len(token) > 100:
        return None
    return (
        Survey.objects.select_related("shop", "customer", "case")
        .filter(token_hash=tokens.token_hash(token))
        .first()
    )


@transaction.atomic
def survey_answer_by_link(
    *, token: str, score=None, reasons=(), comment: str = "", declined: bool = False
) -> Survey:
    """The customer's answer through the one-time link (or their "no, thanks"): once."""
    found = survey_by_token(token)
    if found is None:
        raise NotFound(_("This survey link is not valid."), code="survey_not_found")
    survey = Survey.objects.select_for_update().get(pk=found.pk)
    now = clock.now()
    _waiting(survey, now)
    answer = None if declined else answer_check(score, list(reasons), comment)
    return _record(survey, answer=answer, declined=declined, now=now, recorded_by=None)


@transaction.atomic
def survey_expire_by_link(*, token: str) -> None:
    """A link used after its time: the survey is marked expired."""
    found = survey_by_token(token)
    if found is not None:
        Survey.objects.filter(
            pk=found.pk, status=SurveyStatus.SENT, expires_at__lte=clock.now()
        ).update(status=SurveyStatus.EXPIRED)


@transaction.atomic
def survey_answer_call(
    *,
    actor: Principal,
    survey_id: int,
    score=None,
    reasons=(),
    comment: str = "",
    declined: bool = False,
) -> Survey:
    """The answers a customer gave an agent on the phone (or that they declined), recorded by
    the agent (``survey.call``): once, on a survey to call."""
    survey = actor.scope(Survey.objects.filter(pk=survey_id)).select_for_update().first()
    if survey is None or actor.is_customer:
        raise NotFound(_("No such survey."), code="survey_not_found")
    require(actor, CALL, survey)
    if survey.channel != SurveyChannel.PHONE:
        raise Conflict(
            _("The customer answers this survey through their link."), code="not_a_phone_survey"
        )
    now = clock.now()
    _waiting(survey, now)
    answer = None if declined else answer_check(score, list(reasons), comment)
    return _record(survey, answer=answer, declined=declined, now=now, recorded_by=actor.user_id)
