"""Satisfaction surveys over HTTP: run a month's round, list the rounds, read the results, and
record a phone survey's answers. Thin: parse, authorise (in the services and selectors), call,
present. Another shop's rounds or surveys answer 404."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import StrictBool, StrictInt

from aftersales.core.schemas import ERROR_RESPONSES, Id, Input, Output, refuse_unknown_parameters
from aftersales.feedback import selectors, surveys
from aftersales.feedback.models import Survey, SurveyChannel, SurveyRound, SurveyStatus

router = Router(tags=["surveys"])

Interval = tuple[float, float] | None


class RoundIn(Input):
    """A month's survey: the month (``YYYY-MM``, in the shop's time zone) whose ended cases are
    sampled, the share to sample, the days within which a customer surveyed before is left out,
    and optionally the seed (drawn and stored when left out; the same seed on the same cases
    draws the same sample)."""

    month: Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-10"])]
    rate: Annotated[Decimal, Field(gt=0, le=1, max_digits=4, decimal_places=3)]
    cooldown_days: Annotated[StrictInt, Field(ge=0, le=surveys.COOLDOWN_LIMIT)]
    seed: Annotated[StrictInt, Field(ge=0, lt=2**53)] | None = None


class RoundOut(Output):
    id: int
    shop: str
    month: str
    rate: Decimal
    cooldown_days: int
    seed: int
    population: int
    sampled: int
    by_channel: dict[SurveyChannel, int]
    by_status: dict[SurveyStatus, int]
    created_at: dt.datetime
    created_by: str | None


class RoundPage(Output):
    items: list[RoundOut]


class Figures(Output):
    sent: int
    answered: int
    response_rate: float | None
    mean_score: float | None
    mean_interval: Interval
    satisfied: int
    csat: float | None
    csat_interval: Interval


class AgentFigures(Figures):
    agent: str | None
    label: str


class KindFigures(Figures):
    kind: str
    label: str


class ReasonFigures(Figures):
    reason: str
    label: str


class LowScoreReason(Output):
    reason: str
    label: str
    count: int


class PortalRatings(Output):
    self_selected: bool
    rated: int
    mean_score: float | None
    mean_interval: Interval
    satisfied: int
    csat: float | None
    csat_interval: Interval


class ResultsOut(Output):
    shop: str
    month: str | None
    overall: Figures
    by_agent: list[AgentFigures]
    by_kind: list[KindFigures]
    by_reason: list[ReasonFigures]
    low_score_reasons: list[LowScoreReason]
    portal_ratings: PortalRatings


class ResultsQuery(Schema):
    month: Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] | None = None


class AnswerIn(Input):
    """What the customer said on the phone: a score 1 to 5, for a score up to 3 what went wrong
    (``slow``, ``unclear``, ``unfair``), a comment; or ``declined`` when they would not answer."""

    score: Annotated[StrictInt, Field(ge=1, le=5)] | None = None
    reasons: list[str] = []
    comment: Annotated[str, Field(max_length=surveys.COMMENT_LIMIT)] = ""
    declined: StrictBool = False


class SurveyOut(Output):
    id: int
    case: str
    channel: SurveyChannel
    status: SurveyStatus
    score: int | None
    reasons: list[str]
    comment: str
    answered_at: dt.datetime | None
    recorded_by: str | None


def present_round(survey_round: SurveyRound, counts: dict) -> dict:
    return {
        "id": survey_round.pk,
        "shop": survey_round.shop.code,
        "month": survey_round.month,
        "rate": survey_round.sample_rate,
        "cooldown_days": survey_round.cooldown_days,
        "seed": survey_round.seed,
        "population": survey_round.population,
        **counts,
        "created_at": survey_round.created_at,
        "created_by": survey_round.created_by.username if survey_round.created_by else None,
    }


def present_survey(survey: Survey) -> dict:
    return {
        "id": survey.pk,
        "case": survey.case.number,
        "channel": survey.channel,
        "status": survey.state,
        "score": survey.score,
        "reasons": survey.reasons,
        "comment": survey.comment,
        "answered_at": survey.answered_at,
        "recorded_by": survey.recorded_by.username if survey.recorded_by else None,
    }


@router.post("/shops/{code}/survey-rounds", response={201: RoundOut, **ERROR_RESPONSES})
def run_survey_round(request: HttpRequest, code: str, payload: RoundIn):
    """Run the month's satisfaction survey of the shop (leads and administrators): draw the
    stratified sample of the cases that ended in the month and invite it by e-mail or text
    message, or put it on the list to call. A month is run once (409 ``survey_round_exists``)."""
    actor = request.auth
    shop = selectors.shop_for(actor=actor, code=code, action=surveys.MANAGE)
    survey_round = surveys.survey_round_run(
        actor=actor,
        shop=shop,
        month=payload.month,
        rate=payload.rate,
        cooldown_days=payload.cooldown_days,
        seed=payload.seed,
    )
    survey_round = SurveyRound.objects.select_related("shop", "created_by").get(pk=survey_round.pk)
    counts = selectors.round_counts([survey_round])[survey_round.pk]
    return Status(201, present_round(survey_round, counts))


@router.get("/shops/{code}/survey-rounds", response={200: RoundPage, **ERROR_RESPONSES})
def list_survey_rounds(request: HttpRequest, code: str):
    """The shop's survey rounds, newest month first, with their counts."""
    actor = request.auth
    shop = selectors.shop_for(actor=actor, code=code)
    rows = selectors.round_list(actor=actor, shop=shop)
    counts = selectors.round_counts(rows)
    return {"items": [present_round(row, counts[row.pk]) for row in rows]}


@router.get("/shops/{code}/survey-results", response={200: ResultsOut, **ERROR_RESPONSES})
def get_survey_results(request: HttpRequest, code: str, query: Query[ResultsQuery]):
    """The survey results of one month (``month=YYYY-MM``) or of every round: by agent, case
    kind and case reason, with response rates, mean scores and CSAT shares (scores 4-5) with
    95% intervals (Wilson for the shares); the portal's ratings apart, as self-selected."""
    refuse_unknown_parameters(request, ResultsQuery)
    actor = request.auth
    shop = selectors.shop_for(actor=actor, code=code)
    return selectors.survey_results(actor=actor, shop=shop, month=query.month)


@router.post("/surveys/{survey_id}/answer", response={200: SurveyOut, **ERROR_RESPONSES})
def answer_survey(request: HttpRequest, survey_id: Id, payload: AnswerIn):
    """Record the answers a customer gave on the phone (agents, leads, administrators), once."""
    survey = surveys.survey_answer_call(
        actor=request.auth,
        survey_id=survey_id,
        score=payload.score,
        reasons=payload.reasons,
        comment=payload.comment,
        declined=payload.declined,
    )
    survey = Survey.objects.select_related("case", "recorded_by").get(pk=survey.pk)
    return present_survey(survey)
