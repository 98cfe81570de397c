"""The effects, guards and typed inputs of the survey's table (``feedback.lifecycle``): sending
a sampled customer's survey, their answer through the link (or their "no, thanks"), the answers
an agent records on the phone, and the expiry at the end of the link."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from pydantic import Field, StrictInt

from aftersales.cases.choices import RatingReason
from aftersales.core.actors import Principal
from aftersales.core.errors import Conflict
from aftersales.core.lifecycle import ActionInput, Context
from aftersales.core.schemas import WholeId
from aftersales.feedback import tokens
from aftersales.feedback.models import Survey, SurveyChannel

# A survey's link (and the call) may be answered for this many days after the round.
SURVEY_VALID_DAYS = 30
# Scores up to this one are low: the customer may say what went wrong.
LOW_SCORE = 3
# What went wrong, for a low score: the negative reasons of the portal's rating.
LOW_SCORE_REASONS = (RatingReason.SLOW, RatingReason.UNCLEAR, RatingReason.UNFAIR)
COMMENT_LIMIT = 2000


# --- sending ------------------------------------------------------------------------------------


class SendIn(ActionInput):
    """A sampled case's survey (the round fills it in): the round, the case and its customer,
    kind and agent, and the channel it goes out by."""

    round_id: WholeId
    shop_id: WholeId
    case_id: WholeId
    customer_id: WholeId
    kind: str
    agent_id: WholeId | None = None
    channel: SurveyChannel


def send(survey: Survey, ctx: Context) -> None:
    """Fill the new survey and give it its one-time link (only the token's hash is kept)."""
    data: SendIn = ctx.input
    survey.round_id, survey.shop_id = data.round_id, data.shop_id
    survey.case_id, survey.customer_id = data.case_id, data.customer_id
    survey.kind, survey.agent_id, survey.channel = data.kind, data.agent_id, data.channel
    survey.token_salt = tokens.new_salt()
    survey.token_hash = tokens.token_hash(tokens.survey_token(survey.token_salt))
    survey.created_at = ctx.now
    ctx.event_data.update(channel=str(data.channel))


# --- answering ----------------------------------------------------------------------------------


class AnswerIn(ActionInput):
    """The answer: a score from 1 to 5, for a low score (up to 3) what went wrong, a comment."""

    score: Annotated[StrictInt, Field(ge=1, le=5, title=gettext_noop("Score"))]
    reasons: list[Literal["slow", "unclear", "unfair"]] = []
    comment: Annotated[str, Field(max_length=COMMENT_LIMIT, title=gettext_noop("Comment"))] = ""

    error_codes: ClassVar[dict[str, str]] = {
        "score": "invalid_score",
        "reasons": "invalid_reason",
        "comment": "comment_too_long",
    }
    error_details: ClassVar[dict] = {
        "score": lambda: _("Give a score from 1 to 5."),
        "reasons": lambda: _("Unknown reason."),
        "comment": lambda: (
            _("The comment is at most %(limit)s characters.") % {"limit": COMMENT_LIMIT}
        ),
    }


def link_principal(survey: Survey) -> Principal:
    """Who answers through the link: the survey's customer, without a login (the link is their
    proof), in the survey's shop."""
    customer = survey.customer
    return Principal(
        user_id=None,
        username=customer.name or customer.external_id,
        role="customer",
        shop_ids=frozenset({survey.shop_id}),
        customer_id=survey.customer_id,
    )


def not_expired(survey: Survey, ctx: Context) -> None:
    """The link ends at the survey's deadline, even before the sweep has expired it."""
    if survey.deadline_at is not None and survey.deadline_at <= ctx.now:
        raise Conflict(_("This survey has expired."), code="survey_expired")


def on_the_phone(survey: Survey, ctx: Context) -> None:
    """Staff record the answers of a survey to call only; the others are the customer's link."""
    if survey.channel != SurveyChannel.PHONE:
        raise Conflict(
            _("The customer answers this survey through their link."), code="not_a_phone_survey"
        )
    not_expired(survey, ctx)


def declinable(survey: Survey, ctx: Context) -> None:
    """The customer declines through their link; an agent records a refusal on the phone."""
    if ctx.actor.is_customer:
        not_expired(survey, ctx)
    else:
        on_the_phone(survey, ctx)


def answer(survey: Survey, ctx: Context) -> None:
    """Keep the answer: reasons only for a low score (dropped for a high one), the comment
    trimmed; who recorded it when it was an agent."""
    data: AnswerIn = ctx.input
    survey.score = data.score
    survey.reasons = sorted(set(data.reasons)) if data.score <= LOW_SCORE else []
    survey.comment = data.comment.strip()
    survey.answered_at = ctx.now
    survey.recorded_by_id = None if ctx.actor.is_customer else ctx.actor.user_id
    # The comment stays off the timeline: a customer's erasure blanks it on the survey alone.
    ctx.event_data.update(score=survey.score, reasons=survey.reasons)


def decline(survey: Survey, ctx: Context) -> None:
    survey.answered_at = ctx.now
    survey.recorded_by_id = None if ctx.actor.is_customer else ctx.actor.user_id
