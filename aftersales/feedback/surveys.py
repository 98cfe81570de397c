"""Writes of the satisfaction surveys: a month's round (the sample and its invitations), the
customer's answer through the one-time link, and the answers an agent records on the phone. A
survey's state changes through its table (``feedback.lifecycle``) alone: the round sends the
sample through the gate (in bulk), the answers are its moves, and the sweep expires a survey
whose link has ended.

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

from aftersales.cases.choices import FINAL_STATES
from aftersales.cases.models import Case
from aftersales.catalog.models import Shop
from aftersales.core import clock
from aftersales.core.actors import Principal
from aftersales.core.errors import Conflict, InvalidInput, NotFound
from aftersales.core.gate import open_subjects, transition
from aftersales.core.notices import notice_build, notices_save
from aftersales.core.permissions import require
from aftersales.feedback import sampling, tokens
from aftersales.feedback.lifecycle import SURVEYS
from aftersales.feedback.models import (
    Survey,
    SurveyAction,
    SurveyChannel,
    SurveyRound,
    SurveyStatus,
)
from aftersales.feedback.moves import (  # noqa: F401 (the pages' and the API's words and limits)
    COMMENT_LIMIT,
    LOW_SCORE,
    LOW_SCORE_REASONS,
    SURVEY_VALID_DAYS,
    SendIn,
    link_principal,
)
from aftersales.feedback.notices import INVITE

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
    _invite(actor, survey_round, sampling.draw(eligible, rate, seed))
    return survey_round


def _invite(actor: Principal, survey_round: SurveyRound, chosen: list[sampling.Candidate]) -> None:
    """Send the sample's surveys (each through the survey's table, written in bulk) and queue
    the invitations of those that go out by e-mail or text message."""
    cases = {
        case_id: (number, email, phone)
        for case_id, number, email, phone in Case.objects.filter(
            pk__in=[c.case_id for c in chosen]
        ).values_list("id", "number", "customer__email", "customer__phone")
    }
    texts = sms_goes_out()
    sent = []
    for candidate in chosen:
        _number, email, phone = cases[candidate.case_id]
        if email:
            channel = SurveyChannel.EMAIL
        elif phone and texts:
            channel = SurveyChannel.SMS
        else:
            channel = SurveyChannel.PHONE
        sent.append(
            SendIn(
                round_id=survey_round.pk,
                shop_id=survey_round.shop_id,
                case_id=candidate.case_id,
                customer_id=candidate.customer_id,
                kind=candidate.kind,
                agent_id=candidate.agent_id,
                channel=channel,
            )
        )
    surveys = open_subjects(SURVEYS, actor=actor, data=sent)
    notices_save(
        [
            notice_build(survey, INVITE, {"number": cases[survey.case_id][0], "state": ""})
            for survey in surveys
            if survey.channel != SurveyChannel.PHONE
        ]
    )


# --- answers ----------------------------------------------------------------------------------


def survey_by_token(token: str) -> Survey | None:
    """The survey a link opens (``None``: no such link)."""
    if not token or len(token) > 100:
        return None
    return (
        Survey.objects.select_related("shop", "customer", "case")
        .filter(token_hash=tokens.token_hash(token))
        .first()
    )


def is_expired(survey: Survey, now: dt.datetime) -> bool:
    """Expired, or past its deadline and not yet expired by the sweep: its link no longer
    works either way."""
    return survey.state == SurveyStatus.EXPIRED or (
        survey.state == SurveyStatus.SENT
        and survey.deadline_at is not None
        and survey.deadline_at <= now
    )


def _answer_data(declined: bool, score, reasons, comment: str) -> tuple[str, dict | None]:
    if declined:
        return SurveyAction.DECLINE, None
    return SurveyAction.ANSWER, {"score": score, "reasons": list(reasons), "comment": comment}


def _move(survey_id: int, action: str, actor: Principal, data: dict | None) -> Survey:
    """The gate's move; its "not possible in this state" said as the survey's own refusal."""
    try:
        return transition(SURVEYS, subject_id=survey_id, action=action, actor=actor, data=data)
    except Conflict as error:
        if error.code != "action_not_allowed":
            raise
        if error.extra.get("state") == SurveyStatus.EXPIRED:
            raise Conflict(_("This survey has expired."), code="survey_expired") from None
        raise Conflict(
            _("This survey has been answered already."), code="survey_answered"
        ) from None


def survey_answer_by_link(
    *, token: str, score=None, reasons=(), comment: str = "", declined: bool = False
) -> Survey:
    """The customer's answer through the one-time link (or their "no, thanks"): once, before
    the link's end."""
    found = survey_by_token(token)
    if found is None:
        raise NotFound(_("This survey link is not valid."), code="survey_not_found")
    action, data = _answer_data(declined, score, reasons, comment)
    return _move(found.pk, action, link_principal(found), data)


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
    survey = actor.scope(Survey.objects.filter(pk=survey_id)).only("id", "shop_id").first()
    if survey is None or actor.is_customer:
        raise NotFound(_("No such survey."), code="survey_not_found")
    require(actor, CALL, survey)
    action, data = _answer_data(declined, score, reasons, comment)
    if action == SurveyAction.ANSWER:
        action = SurveyAction.RECORD_CALL
    return _move(survey.pk, action, actor, data)
