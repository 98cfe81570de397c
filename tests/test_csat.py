"""Satisfaction surveys: the monthly draw (reproducible from its seed, stratified by kind and
agent, equal chances, the cooldown), the invitations in the outbox, the Wilson interval, the
command."""

from __future__ import annotations

import datetime as dt
import io
import math
import random
from collections import Counter
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from aftersales.cases.models import Case
from aftersales.core.errors import Conflict, InvalidInput, PermissionDenied
from aftersales.core.models import Notice
from aftersales.feedback import sampling, stats, tokens
from aftersales.feedback.models import Survey, SurveyRound
from aftersales.feedback.surveys import candidates, month_bounds, survey_round_run
from aftersales.notify import channels
from aftersales.notify.deliveries import deliveries_start, delivery_attempt
from aftersales.notify.models import Delivery
from tests.conftest import NOW, make_user, open_case
from tests.test_csat_data import IN_OCTOBER, MONTH, customer_of, ended_case, population, user


@pytest.fixture
def template(customer, order, clock):
    """A real case the customer cancelled (closed): the model of the cases made in bulk."""
    number = open_case(customer, order)["number"]
    assert customer.act(number, "cancel").status_code == 200
    # it ended in November: not part of October's population
    return Case.objects.get(number=number)


@pytest.fixture
def lead(shop):
    return make_user("lead", "lead", shop="shop")


def sampled(survey_round) -> list[int]:
    return sorted(Survey.objects.filter(round=survey_round).values_list("case_id", flat=True))


# --- the draw -----------------------------------------------------------------------------------


def test_the_month_is_the_shops_calendar_month():
    # Shanghai is UTC+8: October starts at 16:00 UTC on 30 September
    assert month_bounds("2026-10", "Asia/Shanghai") == (
        dt.datetime(2026, 9, 30, 16, tzinfo=dt.UTC),
        dt.datetime(2026, 10, 31, 16, tzinfo=dt.UTC),
    )
    assert month_bounds("2026-12", "UTC")[1] == dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    for bad in ("2026-13", "2026-1", "26-10", "", "2026-10-01"):
        with pytest.raises(InvalidInput):
            month_bounds(bad, "UTC")


def test_a_round_samples_the_cases_that_ended_in_the_month(shop, template, lead):
    # given cases that ended in October, one in November, one open, one ended on 1 November at
    # 07:00 in Shanghai (still 31 October in UTC) and one on 1 October at 01:00 in Shanghai
    shop_id = shop.id
    october = population(template, shop, {("return_refund", None): 4})
    customer = customer_of(shop, "EDGE", email="edge@example.com")
    ended_case(template, customer, ended_at=dt.datetime(2026, 10, 31, 23, tzinfo=dt.UTC))
    first = ended_case(
        template,
        customer_of(shop, "FIRST", email="first@example.com"),
        ended_at=dt.datetime(2026, 9, 30, 17, tzinfo=dt.UTC),
    )
    ended_case(template, customer_of(shop, "OPEN"), state="inspecting")
    # when the lead runs October at a rate of 1
    survey_round = survey_round_run(
        actor=lead.principal, shop=shop, month=MONTH, rate=Decimal("1"), cooldown_days=90, seed=7
    )
    # then exactly the October cases are sampled, in the shop's time zone
    assert sampled(survey_round) == sorted([c.id for c in october] + [first.id])
    assert (survey_round.population, survey_round.seed, survey_round.shop_id) == (5, 7, shop_id)
    assert survey_round.created_by == user("lead")


def test_one_case_per_customer_the_last_to_end(shop, template, lead):
    customer = customer_of(shop, "TWICE", email="t@example.com")
    ended_case(template, customer, ended_at=IN_OCTOBER)
    later = ended_case(template, customer, ended_at=IN_OCTOBER + dt.timedelta(days=3))
    survey_round = survey_round_run(
        actor=lead.principal, shop=shop, month=MONTH, rate=1, cooldown_days=0, seed=1
    )
    assert sampled(survey_round) == [later.id]


def test_the_sample_is_reproducible_from_its_stored_seed(shop, template, lead):
    # given 30 ended cases in three strata
    make_user("agent", "agent", shop="shop")
    strata = {("return_refund", user("agent")): 12, ("exchange", None): 10, ("repair", None): 8}
    population(template, shop, strata)
    start, stop = month_bounds(MONTH, shop.timezone)
    eligible = candidates(shop=shop, start=start, stop=stop, cooldown_since=NOW)
    # when a round is run without a seed
    first = survey_round_run(
        actor=lead.principal, shop=shop, month=MONTH, rate="0.3", cooldown_days=90
    )
    chosen = sampled(first)
    # then the seed it drew is stored, and drawing with it gives the same cases
    assert 0 <= first.seed < sampling.SEED_LIMIT
    assert len(chosen) == 9
    assert [c.case_id for c in sampling.draw(eligible, Decimal("0.3"), first.seed)] == chosen
    # and the round run anew on the same data with that seed samples the same cases
    seed = first.seed
    Notice.objects.filter(kind="survey_invite").delete()
    first.delete()
    rerun = survey_round_run(
        actor=lead.principal, shop=shop, month=MONTH, rate="0.3", cooldown_days=90, seed=seed
    )
    assert (rerun.seed, sampled(rerun)) == (seed, chosen)
    # while other seeds draw other samples
    others = {
        tuple(c.case_id for c in sampling.draw(eligible, Decimal("0.3"), seed + n))
        for n in range(1, 6)
    }
    assert others != {tuple(chosen)}


def test_a_month_is_run_once(shop, template, lead):
    population(template, shop, {("return_refund", None): 3})
    survey_round_run(actor=lead.principal, shop=shop, month=MONTH, rate="0.5", cooldown_days=0)
    with pytest.raises(Conflict) as refused:
        survey_round_run(actor=lead.principal, shop=shop, month=MONTH, rate="1", cooldown_days=0)
    assert refused.value.code == "survey_round_exists"
    assert SurveyRound.objects.count() == 1
    assert Survey.objects.count() == 2  # round(0.5 × 3) = round(1.5) = 2


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"month": "2026-11"}, "month_not_over"),
        ({"month": "2026-13"}, "invalid_month"),
        ({"rate": "0"}, "invalid_rate"),
        ({"rate": "1.5"}, "invalid_rate"),
        ({"rate": "0.1234"}, "invalid_rate"),
        ({"rate": "x"}, "invalid_rate"),
        ({"cooldown_days": -1}, "invalid_cooldown"),
        ({"seed": -3}, "invalid_seed"),
        ({"seed": 2**53}, "invalid_seed"),
    ],
)
def test_bad_rounds_are_refused_and_nothing_is_written(shop, template, lead, changes, code):
    population(template, shop, {("return_refund", None): 3})
    arguments = {"month": MONTH, "rate": "0.5", "cooldown_days": 30, **changes}
    with pytest.raises((InvalidInput, Conflict)) as refused:
        survey_round_run(actor=lead.principal, shop=shop, **arguments)
    assert refused.value.code == code
    assert (SurveyRound.objects.count(), Survey.objects.count()) == (0, 0)


def test_only_leads_and_administrators_run_a_round(shop, template, agent):
    population(template, shop, {("return_refund", None): 3})
    with pytest.raises(PermissionDenied):
        survey_round_run(actor=agent.principal, shop=shop, month=MONTH, rate=1, cooldown_days=0)
    assert not SurveyRound.objects.exists()


# --- stratified, with equal chances -------------------------------------------------------------


def pool(strata: dict[tuple[str, int], int]) -> list[sampling.Candidate]:
    ids = iter(range(1, 10_000))
    return [
        sampling.Candidate(case_id=(case_id := next(ids)), customer_id=case_id, kind=k, agent_id=a)
        for (k, a), size in strata.items()
        for _ in range(size)
    ]


def test_each_stratum_gets_its_share_within_rounding():
    # given strata whose exact shares are fractions
    strata = {
        ("return_refund", 1): 7,
        ("return_refund", 0): 3,
        ("exchange", 2): 6,
        ("repair", 1): 11,
    }
    candidates_ = pool(strata)
    rate = Decimal("0.25")
    for seed in range(1, 101):
        chosen = sampling.draw(candidates_, rate, seed)
        per_stratum = Counter(c.stratum for c in chosen)
        # then the total is round(0.25 × 27) = 7 (6.75), and each stratum gets the floor or the
        # ceiling of its exact share
        assert len(chosen) == 7
        for (kind, agent), size in strata.items():
            exact = rate * size
            assert math.floor(exact) <= per_stratum[(kind, agent)] <= math.ceil(exact)


def test_the_quota_goes_to_the_largest_remainders():
    rng = random.Random(1)
    quotas = sampling.quotas({("a", 0): 7, ("b", 0): 3, ("c", 0): 6}, Decimal("0.25"), rng)
    # exact 1.75, 0.75, 1.5: floors 1, 0, 1; round(4.0) = 4, so the two largest remainders
    assert quotas == {("a", 0): 2, ("b", 0): 1, ("c", 0): 1}


def test_every_eligible_case_has_the_same_chance():
    # given four strata whose shares at 20% are whole (2, 3, 4, 1 of 10, 15, 20, 5)
    candidates_ = pool(
        {("return_refund", 1): 10, ("return_refund", 2): 15, ("exchange", 1): 20, ("repair", 0): 5}
    )
    seeds = range(1000, 1800)  # fixed: the test is deterministic
    counts = Counter()
    for seed in seeds:
        counts.update(c.case_id for c in sampling.draw(candidates_, Decimal("0.2"), seed))
    # then every case is drawn in about 20% of the rounds: within 4 standard deviations
    trials, p = len(seeds), 0.2
    sigma = math.sqrt(p * (1 - p) / trials)
    frequencies = [counts[c.case_id] / trials for c in candidates_]
    assert all(abs(f - p) < 4 * sigma for f in frequencies), frequencies
    # and the counts are as even as chance makes them (chi-square, 49 degrees of freedom, below
    # its 99.9% quantile of 85.4)
    expected = trials * p
    chi_square = sum((counts[c.case_id] - expected) ** 2 / expected for c in candidates_)
    assert chi_square < 85.4, chi_square
    # the case id order is not favoured: the first and the last five of a stratum alike
    first = sum(counts[i] for i in range(1, 6)) / (5 * trials)
    last = sum(counts[i] for i in range(6, 11)) / (5 * trials)
    assert abs(first - last) < 0.06


def test_the_order_the_candidates_come_in_does_not_matter():
    candidates_ = pool({("return_refund", 1): 9, ("exchange", 0): 8})
    assert sampling.draw(candidates_, Decimal("0.4"), 5) == sampling.draw(
        list(reversed(candidates_)), Decimal("0.4"), 5
    )


# --- the cooldown -------------------------------------------------------------------------------


def _surveyed_ten_days_ago(shop, template, lead, clock):
    """Customer REPEAT was surveyed (about a September case) on 14 November; they have an October
    case too, as have two others."""
    repeat = customer_of(shop, "REPEAT", email="repeat@example.com")
    ended_case(template, repeat, ended_at=dt.datetime(2026, 9, 10, tzinfo=dt.UTC))
    clock.set(NOW - dt.timedelta(days=10))
    september = survey_round_run(
        actor=lead.principal, shop=shop, month="2026-09", rate=1, cooldown_days=0, seed=3
    )
    assert Survey.objects.get(round=september).customer == repeat
    clock.set(NOW)
    again = ended_case(template, repeat)
    others = population(template, shop, {("return_refund", None): 2})
    return again, others


def test_a_customer_surveyed_within_the_cooldown_is_never_picked(shop, template, lead, clock):
    again, others = _surveyed_ten_days_ago(shop, template, lead, clock)
    survey_round = survey_round_run(
        actor=lead.principal, shop=shop, month=MONTH, rate=1, cooldown_days=30, seed=3
    )
    # rate 1 takes everyone eligible: the repeat customer is not
    assert sampled(survey_round) == sorted(c.id for c in others)
    assert survey_round.population == 2
    assert again.id not in sampled(survey_round)


def test_a_customer_surveyed_before_the_cooldown_may_be_picked(shop, template, lead, clock):
    again, others = _surveyed_ten_days_ago(shop, template, lead, clock)
    survey_round = survey_round_run(
        actor=lead.principal, shop=shop, month=MONTH, rate=1, cooldown_days=5, seed=3
    )
    assert sampled(survey_round) == sorted([again.id, *(c.id for c in others)])


# --- the invitations ----------------------------------------------------------------------------


def test_invitations_reach_the_outbox_by_email_text_or_a_call(shop, template, lead, settings):
    # given customers with an e-mail address, with only a phone, and with neither
    by_mail = ended_case(
        template, customer_of(shop, "MAIL", email="m@example.com", phone="13900000001")
    )
    by_text = ended_case(template, customer_of(shop, "TEXT", phone="13900000002"))
    by_call = ended_case(template, customer_of(shop, "CALL"))
    # when the round runs
    survey_round = survey_round_run(
        actor=lead.principal, shop=shop, month=MONTH, rate=1, cooldown_days=0, seed=1
    )
    # then the surveys' channels follow what the customers gave
    channels_of = dict(Survey.objects.values_list("case_id", "channel"))
    assert channels_of == {by_mail.id: "email", by_text.id: "sms", by_call.id: "phone"}
    # and an invitation is in the outbox for the two with an address, none for the call
    notices = Notice.objects.filter(kind="survey_invite").order_by("id")
    assert [(n.audience, n.payload["number"]) for n in notices] == [
        ("customer", by_mail.number),
        ("customer", by_text.number),
    ]
    # the notice holds no token
    for notice in notices:
        salt = Survey.objects.get(pk=notice.subject_id).token_salt
        assert tokens.survey_token(salt) not in str(notice.payload)
    # when the worker plans and sends them
    deliveries_start([n.pk for n in notices])
    rows = Delivery.objects.order_by("id")
    assert sorted((d.notice_id, d.channel) for d in rows) == sorted(
        (n.pk, channel) for n in notices for channel in ("email", "sms")
    )
    for delivery in rows:
        delivery_attempt(delivery.pk)
    # then the e-mail carries the survey's one-time link, and so does the text message
    survey = Survey.objects.get(case=by_mail)
    link = tokens.survey_link(survey.token_salt)
    [message] = mail.outbox
    assert message.to == ["m@example.com"]
    assert message.subject == f"How did we do with after-sales case {by_mail.number}?"
    assert link in message.body
    assert tokens.token_hash(tokens.survey_token(survey.token_salt)) == survey.token_hash
    text = channels.sms_message(
        Delivery.objects.get(notice__subject_id=Survey.objects.get(case=by_text).pk, channel="sms")
    )
    assert tokens.survey_link(Survey.objects.get(case=by_text).token_salt) in text.text
    assert text.phone == "13900000002"
    assert survey_round.surveys.count() == 3


def test_without_text_messages_a_phone_only_customer_is_called(shop, template, lead, settings):
    settings.AFTERSALES_SMS_KINDS = ["case_opened"]
    ended_case(template, customer_of(shop, "TEXT", phone="13900000002"))
    survey_round_run(actor=lead.principal, shop=shop, month=MONTH, rate=1, cooldown_days=0)
    assert Survey.objects.get().channel == "phone"
    assert not Notice.objects.filter(kind="survey_invite").exists()


# --- the figures --------------------------------------------------------------------------------


def test_the_wilson_interval_matches_known_values():
    # 8 of 10: 0.4902 to 0.9433 (Wilson 1927; Newcombe 1998, method 3)
    low, high = stats.wilson(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)
    # 0 of 10: 0 to 0.2775; all of 10: 0.7225 to 1
    assert tuple(round(x, 4) for x in stats.wilson(0, 10)) == (0.0, 0.2775)
    assert tuple(round(x, 4) for x in stats.wilson(10, 10)) == (0.7225, 1.0)
    # 81 of 263 (Newcombe's example): 0.2553 to 0.3662
    assert tuple(round(x, 4) for x in stats.wilson(81, 263)) == (0.2553, 0.3662)
    assert stats.wilson(0, 0) is None


def test_the_mean_interval_is_the_normal_one():
    low, high = stats.mean_interval([1, 2, 3, 4, 5])
    # mean 3, sample sd √2.5, n 5: 3 ± 1.96 × 0.7071
    assert (round(low, 4), round(high, 4)) == (1.6141, 4.3859)
    assert stats.mean_interval([4]) is None


# --- the command --------------------------------------------------------------------------------


def test_the_command_runs_a_round(shop, template):
    population(template, shop, {("return_refund", None): 5})
    output = io.StringIO()
    call_command(
        "survey_round",
        shop="shop",
        month=MONTH,
        rate=Decimal("0.4"),
        cooldown=90,
        seed=11,
        stdout=output,
    )
    survey_round = SurveyRound.objects.get()
    assert (survey_round.seed, survey_round.sample_rate, survey_round.created_by) == (
        11,
        Decimal("0.400"),
        None,
    )
    assert output.getvalue().strip() == (
        "shop 2026-10: 2 of 5 eligible sampled (e-mail 2, text 0, to call 0); seed 11"
    )
    # the same month again is refused in words
    with pytest.raises(CommandError, match="survey_round_exists"):
        call_command(
            "survey_round",
            "--shop",
            "shop",
            "--month",
            MONTH,
            "--rate",
            "0.4",
            "--cooldown",
            "90",
            stdout=io.StringIO(),
        )
