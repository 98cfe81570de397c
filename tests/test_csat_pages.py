"""Satisfaction surveys seen from outside: the customer's one-time link, the phone answers an
agent records (API and desk), the API's rounds and results (equal to a direct computation), and
the desk's page."""

from __future__ import annotations

import math

import pytest
from django.test import Client

from aftersales.cases.models import Case
from aftersales.core.sweep import sweep
from aftersales.feedback import stats, tokens
from aftersales.feedback.models import Rating, Survey
from aftersales.feedback.surveys import survey_answer_by_link, survey_answer_call
from aftersales.team.services import user_create
from tests.conftest import NOW, make_user, open_case
from tests.test_csat_data import IN_OCTOBER, MONTH, customer_of, ended_case, population, user


@pytest.fixture
def template(customer, order, clock):
    number = open_case(customer, order)["number"]
    assert customer.act(number, "cancel").status_code == 200
    return Case.objects.get(number=number)


@pytest.fixture
def lead(shop):
    return make_user("lead", "lead", shop="shop")


def run(lead, **body):
    return lead.post(
        "/shops/shop/survey-rounds", {"month": MONTH, "rate": 1, "cooldown_days": 0, **body}
    )


def link_of(survey: Survey) -> str:
    return f"/survey/{tokens.survey_token(survey.token_salt)}"


def state_of(survey: Survey) -> tuple:
    survey.refresh_from_db()
    return (survey.state, survey.score, survey.reasons, survey.comment, survey.answered_at)


@pytest.fixture
def emailed(shop, template, lead):
    """A survey sent by e-mail to a customer who reads Chinese."""
    ended_case(template, customer_of(shop, "ZH", email="zh@example.com", language="zh-hans"))
    assert run(lead).status_code == 201
    return Survey.objects.get()


# --- the customer's link ------------------------------------------------------------------------


def test_the_link_opens_the_form_in_the_customers_language(emailed):
    response = Client().get(link_of(emailed))
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in response.content.decode()
    assert 'data-state="form"' in response.content.decode()
    assert response["Referrer-Policy"] == "no-referrer"


def test_the_link_works_once(emailed, clock):
    client = Client()
    # when the customer answers 2 stars, too slow, with a comment
    response = client.post(
        link_of(emailed), {"score": "2", "reasons": ["slow"], "comment": " 太慢了 "}
    )
    # then it is recorded
    assert response.status_code == 200
    assert 'data-state="thanks"' in response.content.decode()
    assert state_of(emailed) == ("answered", 2, ["slow"], "太慢了", NOW)
    # and a second answer is refused with a clear page, the first one standing
    again = client.post(link_of(emailed), {"score": "5"})
    assert again.status_code == 409
    assert 'data-state="answered"' in again.content.decode()
    assert state_of(emailed) == ("answered", 2, ["slow"], "太慢了", NOW)
    # the link now shows that it was answered
    assert 'data-state="answered"' in client.get(link_of(emailed)).content.decode()


def test_a_high_score_keeps_no_reasons(emailed):
    Client().post(link_of(emailed), {"score": "5", "reasons": ["slow"]})
    assert state_of(emailed)[:3] == ("answered", 5, [])


def test_the_customer_may_decline(emailed):
    response = Client().post(link_of(emailed), {"decline": "1"})
    assert 'data-state="declined"' in response.content.decode()
    assert state_of(emailed)[:2] == ("declined", None)


@pytest.mark.parametrize(
    "form",
    [
        {},
        {"score": "0"},
        {"score": "6"},
        {"score": "abc"},
        {"score": "-1"},
        {"score": "3", "reasons": ["rude"]},
        {"score": "3", "comment": "x" * 2001},
    ],
)
def test_bad_answers_show_the_form_again_and_change_nothing(emailed, form):
    before = state_of(emailed)
    response = Client().post(link_of(emailed), form)
    assert response.status_code == 422
    page = response.content.decode()
    assert 'data-state="form"' in page and 'role="alert"' in page
    assert state_of(emailed) == before == ("sent", None, [], "", None)


@pytest.mark.parametrize("token", ["nope", "x" * 43, "x" * 500])
def test_an_unknown_link_gets_a_clear_page(emailed, token):
    for method in ("get", "post"):
        response = getattr(Client(), method)(f"/survey/{token}")
        assert response.status_code == 404
        assert 'data-state="invalid"' in response.content.decode()
    assert state_of(emailed)[0] == "sent"


def test_an_expired_link_gets_a_clear_page(emailed, clock):
    # given the link's end has come, and the sweep has not run yet
    clock.shift(days=30)
    # then the link says expired all the same, and records nothing
    assert Client().get(link_of(emailed)).status_code == 410
    response = Client().post(link_of(emailed), {"score": "5"})
    assert response.status_code == 410
    assert 'data-state="expired"' in response.content.decode()
    assert state_of(emailed)[:2] == ("sent", None)
    # when the sweep runs, the survey is expired; the link says so still
    assert sweep().acted == 1
    assert state_of(emailed)[:2] == ("expired", None)
    assert Client().get(link_of(emailed)).status_code == 410


# --- the phone answers --------------------------------------------------------------------------


@pytest.fixture
def called(shop, template, lead):
    """A survey to call: the customer gave neither an e-mail address nor a phone for texts."""
    ended_case(template, customer_of(shop, "CALLME"))
    assert run(lead).status_code == 201
    return Survey.objects.get()


def test_an_agent_records_the_answers_of_a_call(called, agent):
    response = agent.post(
        f"/surveys/{called.pk}/answer", {"score": 3, "reasons": ["unclear"], "comment": "ok"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["score"], body["reasons"], body["recorded_by"]) == (
        "answered",
        3,
        ["unclear"],
        "agent",
    )
    assert called.__class__.objects.get(pk=called.pk).recorded_by == user("agent")
    # once
    again = agent.post(f"/surveys/{called.pk}/answer", {"score": 5})
    assert (again.status_code, again.json()["code"]) == (409, "survey_answered")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 422),
        ({"score": 0}, 422),
        ({"score": "5"}, 422),
        ({"score": 4, "reasons": ["nope"]}, 422),
        ({"score": 4, "comment": "x" * 2001}, 422),
        ({"score": 4, "declined": "yes"}, 422),
    ],
)
def test_bad_call_answers_are_refused_and_change_nothing(called, agent, body, status):
    response = agent.post(f"/surveys/{called.pk}/answer", body)
    assert response.status_code == status
    assert set(response.json()) >= {"code", "detail"}
    assert state_of(called)[:2] == ("sent", None)


def test_only_the_shops_handlers_record_a_call(called, customer, finance):
    for api in (customer, finance):
        response = api.post(f"/surveys/{called.pk}/answer", {"score": 5})
        assert response.status_code in (403, 404)
    outsider = make_user("far", "agent", shop=None)
    assert outsider.post(f"/surveys/{called.pk}/answer", {"score": 5}).status_code in (403, 404)
    assert agent_missing(called)


def agent_missing(survey) -> bool:
    return state_of(survey)[:2] == ("sent", None)


def test_a_survey_sent_by_email_is_not_recorded_as_a_call(emailed, agent):
    response = agent.post(f"/surveys/{emailed.pk}/answer", {"score": 5})
    assert (response.status_code, response.json()["code"]) == (409, "not_a_phone_survey")


# --- the API's rounds and results ---------------------------------------------------------------


def test_the_api_runs_and_lists_rounds(shop, template, lead, agent):
    population(template, shop, {("return_refund", None): 4})
    ended_case(template, customer_of(shop, "CALLME"))
    response = run(lead, rate=0.4, seed=9, cooldown_days=30)
    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in ("shop", "month", "cooldown_days", "seed", "population")} == {
        "shop": "shop",
        "month": MONTH,
        "cooldown_days": 30,
        "seed": 9,
        "population": 5,
    }
    assert body["sampled"] == 2  # round(0.4 × 5)
    assert sum(body["by_channel"].values()) == 2 and body["by_status"]["sent"] == 2
    assert body["created_by"] == "lead"
    # twice: refused
    again = run(lead, rate=0.4)
    assert (again.status_code, again.json()["code"]) == (409, "survey_round_exists")
    listed = lead.get("/shops/shop/survey-rounds").json()["items"]
    assert [row["month"] for row in listed] == [MONTH]
    # an agent neither runs nor reads rounds; another shop is not found
    assert run(agent).status_code == 403
    assert agent.get("/shops/shop/survey-rounds").status_code == 403
    assert lead.get("/shops/other/survey-rounds").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"month": "2026-13"},
        {"rate": 0},
        {"rate": 2},
        {"rate": "abc"},
        {"cooldown_days": -1},
        {"cooldown_days": "30"},
        {"seed": 2**60},
    ],
)
def test_bad_round_bodies_are_refused(shop, template, lead, body):
    response = run(lead, **body)
    assert response.status_code == 422
    assert set(response.json()) >= {"code", "detail"}
    assert not Survey.objects.exists()


def test_the_results_equal_a_direct_computation(shop, template, lead, customer):
    # given two agents' cases of two kinds, surveyed at rate 1 and partly answered
    make_user("ann", "agent", shop="shop")
    make_user("bob", "agent", shop="shop")
    ann, bob = user("ann"), user("bob")
    population(
        template,
        shop,
        {
            ("return_refund", ann): 6,
            ("exchange", ann): 3,
            ("return_refund", bob): 5,
            ("repair", None): 2,
        },
    )
    assert run(lead).status_code == 201
    scores = [5, 4, 2, 1, 5, 3, 4, None, 5, 2, None, 4, 5, 1, None, 3]
    for survey, score in zip(Survey.objects.order_by("id"), scores, strict=True):
        if score is not None:
            reasons = ["slow"] if score <= 3 else []
            survey_answer_by_link(
                token=tokens.survey_token(survey.token_salt), score=score, reasons=reasons
            )
    # and the customer's own portal rating of a case that ended in October
    Rating.objects.create(
        case=ended_case(template, customer_of(shop, "C1")), score=2, created_at=NOW
    )
    # when the lead reads October's results
    response = lead.get("/shops/shop/survey-results", month=MONTH)
    assert response.status_code == 200, response.content
    results = response.json()

    # then each group's figures are those computed from the rows directly
    def direct(rows):
        answered = [r.score for r in rows if r.state == "answered"]
        happy = sum(1 for s in answered if s >= 4)
        n = len(answered)
        z = 1.959963984540054
        want = {"sent": len(rows), "answered": n, "response_rate": n / len(rows)}
        want["satisfied"] = happy
        if n == 0:
            return {**want, "mean_score": None, "csat": None, "csat_interval": None}
        mean = sum(answered) / n
        p = happy / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        want |= {
            "mean_score": mean,
            "csat": p,
            "csat_interval": [max(0, centre - half), min(1, centre + half)],
            "mean_interval": None,
        }
        if n >= 2:
            sd = math.sqrt(sum((s - mean) ** 2 for s in answered) / (n - 1))
            want["mean_interval"] = [mean - z * sd / math.sqrt(n), mean + z * sd / math.sqrt(n)]
        return want

    def same(got, want):
        for key, value in want.items():
            assert got[key] == (value if value is None else pytest.approx(value)), key

    rows = list(Survey.objects.all())
    same(results["overall"], direct(rows))
    assert results["overall"]["sent"] == 16 and results["overall"]["answered"] == 13
    for row in results["by_agent"]:
        agent_id = {"ann": ann.pk, "bob": bob.pk, None: None}[row["agent"]]
        same(row, direct([r for r in rows if r.agent_id == agent_id]))
    assert [r["agent"] for r in results["by_agent"]] == [None, "ann", "bob"]
    for row in results["by_kind"]:
        same(row, direct([r for r in rows if r.kind == row["kind"]]))
    assert {r["kind"] for r in results["by_kind"]} == {"return_refund", "exchange", "repair"}
    assert [(r["reason"], r["sent"]) for r in results["by_reason"]] == [("quality_issue", 16)]
    low = sum(1 for s in scores if s is not None and s <= 3)
    assert results["low_score_reasons"] == [{"reason": "slow", "label": "Too slow", "count": low}]
    # and the portal's rating stands apart, marked self-selected
    portal = results["portal_ratings"]
    assert (portal["self_selected"], portal["rated"], portal["csat"]) == (True, 1, 0.0)
    assert portal["csat_interval"] == pytest.approx(list(stats.wilson(0, 1)))


def test_the_results_are_the_leads(shop, template, lead, agent):
    assert agent.get("/shops/shop/survey-results").status_code == 403
    assert lead.get("/shops/shop/survey-results", month="2026-1").status_code == 422
    assert lead.get("/shops/shop/survey-results", mood="x").status_code == 422
    empty = lead.get("/shops/shop/survey-results").json()
    assert (empty["overall"]["sent"], empty["overall"]["csat"]) == (0, None)


# --- the desk's page ----------------------------------------------------------------------------


def desk_client(username: str, role: str) -> Client:
    user_create(username=username, role=role, shop_codes=["shop"], password="pw-desk-123")
    client = Client()
    assert client.login(username=username, password="pw-desk-123")
    return client


def test_the_lead_runs_a_round_and_reads_the_results_on_the_desk(shop, template, clock):
    population(template, shop, {("return_refund", None): 3})
    ended_case(template, customer_of(shop, "CALLME", phone="13900000009"), ended_at=IN_OCTOBER)
    client = desk_client("desklead", "lead")
    assert client.get("/desk/satisfaction/").status_code == 200
    response = client.post(
        "/desk/satisfaction/rounds/",
        {"shop": "shop", "month": MONTH, "rate": "1", "cooldown_days": "90", "seed": "5"},
        follow=True,
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-round="2026-10"' in page and 'id="results"' in page and 'id="to-call"' in page
    # a bad form is a message, not an error page
    again = client.post(
        "/desk/satisfaction/rounds/",
        {"shop": "shop", "month": MONTH, "rate": "1", "cooldown_days": "x"},
        follow=True,
    )
    assert again.status_code == 200 and 'class="error"' in again.content.decode()


def test_an_agent_calls_from_the_desk(shop, template, lead, settings):
    settings.AFTERSALES_SMS_KINDS = []
    ended_case(template, customer_of(shop, "CALLME", phone="13900000009"))
    assert run(lead).status_code == 201
    survey = Survey.objects.get()
    client = desk_client("deskagent", "agent")
    page = client.get("/desk/satisfaction/").content.decode()
    assert f'data-call="{survey.pk}"' in page and "13900000009" in page
    assert 'id="results"' not in page  # the results are the lead's
    response = client.post(
        f"/desk/satisfaction/calls/{survey.pk}/",
        {"shop": "shop", "score": "4", "comment": "fine"},
        follow=True,
    )
    assert response.status_code == 200
    assert state_of(survey)[:4] == ("answered", 4, [], "fine")
    assert f'data-call="{survey.pk}"' not in response.content.decode()


def test_the_desk_refuses_a_finance_member(shop):
    client = desk_client("deskfinance", "finance")
    assert client.get("/desk/satisfaction/").status_code == 403


def test_a_call_answer_in_the_service_names_its_recorder(called, agent):
    survey = survey_answer_call(actor=agent.principal, survey_id=called.pk, declined=True)
    assert (survey.state, survey.recorded_by_id, survey.answered_at, survey.resolved_at) == (
        "declined",
        user("agent").pk,
        NOW,
        NOW,
    )
    # an ended survey waits for nothing: no deadline is left for the sweep
    assert (survey.deadline_at, survey.deadline_action) == (None, "")
