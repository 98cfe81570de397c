"""Reads of the satisfaction surveys, scoped to the caller: a shop's rounds and results (leads
and administrators, ``survey.view``) and the surveys to call (the shop's handlers,
``survey.call``)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from aftersales.cases.choices import FINAL_STATES, CaseKind, RatingReason, Reason
from aftersales.catalog.models import Shop
from aftersales.catalog.selectors import shop_get_for
from aftersales.core.actors import Principal
from aftersales.core.permissions import require, shops_permitted
from aftersales.feedback import stats
from aftersales.feedback.models import Rating, Survey, SurveyChannel, SurveyRound, SurveyStatus
from aftersales.feedback.surveys import CALL, VIEW, month_bounds


def shop_for(*, actor: Principal, code: str, action: str = VIEW) -> Shop:
    """The shop ``code`` among those where the caller may take ``action``; any other is 404."""
    return shop_get_for(actor=actor, code=code, action=action)


def shops_readable(actor: Principal, action: str = VIEW) -> list[Shop]:
    permitted = shops_permitted(actor, action)
    shops = Shop.objects.order_by("code")
    return list(shops if permitted is None else shops.filter(id__in=permitted))


def round_counts(survey_rounds: list[SurveyRound]) -> dict[int, dict]:
    """Per round: surveys sampled, by channel and by status (the survey's state)."""
    counts: dict[int, dict] = {
        r.pk: {"sampled": 0, "by_channel": {}, "by_status": {}} for r in survey_rounds
    }
    rows = (
        Survey.objects.filter(round__in=survey_rounds)
        .values_list("round_id", "channel", "state")
        .annotate(n=Count("id"))
    )
    for round_id, channel, status, n in rows:
        entry = counts[round_id]
        entry["sampled"] += n
        entry["by_channel"][channel] = entry["by_channel"].get(channel, 0) + n
        entry["by_status"][status] = entry["by_status"].get(status, 0) + n
    for entry in counts.values():
        entry["by_channel"] = {c: entry["by_channel"].get(c, 0) for c in SurveyChannel.values}
        entry["by_status"] = {s: entry["by_status"].get(s, 0) for s in SurveyStatus.values}
    return counts


def round_list(*, actor: Principal, shop: Shop) -> list[SurveyRound]:
    require(actor, VIEW, shop)
    return list(
        SurveyRound.objects.filter(shop=shop).select_related("created_by").order_by("-month")
    )


def surveys_to_call(*, actor: Principal, shop: Shop, now: dt.datetime, limit: int = 200):
    """The shop's phone surveys still waiting for a call, oldest first."""
    require(actor, CALL, shop)
    return list(
        Survey.objects.filter(
            shop=shop, channel=SurveyChannel.PHONE, state=SurveyStatus.SENT, deadline_at__gt=now
        )
        .select_related("customer", "case", "agent", "round")
        .order_by("created_at", "id")[:limit]
    )


def _agent_name(user) -> str:
    if user is None:
        return _("Nobody assigned")
    return user.get_full_name() or user.username


def survey_results(*, actor: Principal, shop: Shop, month: str | None = None) -> dict:
    """The shop's survey results (of one month's round, or of every round): overall, by agent,
    by case kind and by case reason, each with surveys sent, answered, the response rate, the
    mean score and the CSAT share (scores 4-5) with 95% intervals; what went wrong in the low
    scores; and, apart, the ratings customers left on the portal for cases that ended in the
    month, which are self-selected (only who chose to rate)."""
    require(actor, VIEW, shop)
    surveys = Survey.objects.filter(shop=shop)
    if month:
        month_bounds(month, shop.timezone)  # refuses a malformed month
        surveys = surveys.filter(round__month=month)
    rows = list(
        surveys.values_list("state", "score", "reasons", "kind", "case__reason", "agent_id")
    )
    agents = {
        survey.agent_id: survey.agent
        for survey in surveys.filter(agent__isnull=False)
        .select_related("agent")
        .only("agent_id", "agent__username", "agent__first_name", "agent__last_name")
    }
    groups: dict[str, dict] = {"agent": defaultdict(list), "kind": defaultdict(list)}
    groups["reason"] = defaultdict(list)
    overall = []
    for status, score, _reasons, kind, reason, agent_id in rows:
        answered = score if status == SurveyStatus.ANSWERED else None
        overall.append(answered)
        groups["agent"][agent_id or 0].append(answered)
        groups["kind"][kind].append(answered)
        groups["reason"][reason].append(answered)

    def figures(values: list) -> dict:
        scores = [value for value in values if value is not None]
        return stats.summary(scores, len(values))

    low = defaultdict(int)
    for status, score, reasons, *_rest in rows:
        if status == SurveyStatus.ANSWERED and score is not None and score <= 3:
            for reason in reasons or []:
                low[reason] += 1
    return {
        "shop": shop.code,
        "month": month,
        "overall": figures(overall),
        "by_agent": [
            {
                "agent": agents[key].username if key else None,
                "label": _agent_name(agents.get(key)) if key else _agent_name(None),
                **figures(values),
            }
            for key, values in sorted(
                groups["agent"].items(), key=lambda item: (item[0] != 0, _name_key(agents, item))
            )
        ],
        "by_kind": [
            {"kind": key, "label": _label(CaseKind, key), **figures(values)}
            for key, values in sorted(groups["kind"].items())
        ],
        "by_reason": [
            {"reason": key, "label": _label(Reason, key), **figures(values)}
            for key, values in sorted(groups["reason"].items())
        ],
        "low_score_reasons": [
            {"reason": key, "label": _label(RatingReason, key), "count": low[key]}
            for key in sorted(low)
        ],
        "portal_ratings": portal_ratings(shop=shop, month=month),
    }


def _name_key(agents, item) -> str:
    user = agents.get(item[0])
    return user.username if user is not None else ""


def _label(choices, value: str) -> str:
    return str(choices(value).label) if value in choices.values else value


def portal_ratings(*, shop: Shop, month: str | None) -> dict:
    """The ratings customers chose to leave on the portal (of the cases that ended in
    ``month``): the same figures, marked self-selected; nothing was sent, so no response rate."""
    ratings = Rating.objects.filter(case__shop=shop, case__state__in=FINAL_STATES)
    if month:
        start, stop = month_bounds(month, shop.timezone)
        ratings = ratings.filter(Q(case__resolved_at__gte=start) & Q(case__resolved_at__lt=stop))
    scores = list(ratings.values_list("score", flat=True))
    figures = stats.summary(scores, 0)
    return {
        "self_selected": True,
        "rated": figures["answered"],
        "mean_score": figures["mean_score"],
        "mean_interval": figures["mean_interval"],
        "satisfied": figures["satisfied"],
        "csat": figures["csat"],
        "csat_interval": figures["csat_interval"],
    }
