"""Surveys and retention items on the lifecycle kernel: each move through the gate writes one
timeline event, the sweep expires a survey at the end of its link (a link used after that moment
says expired even before the sweep), illegal moves are refused by the table, the KPIs count none
of these events, and the old rows are carried over by the migrations."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import close_old_connections, connection
from django.test import Client

from aftersales.cases.models import Case
from aftersales.complaints.models import Complaint
from aftersales.core.actors import SYSTEM
from aftersales.core.errors import ApplicationError, Conflict, InvalidInput
from aftersales.core.gate import transition
from aftersales.core.lifecycle import lifecycles
from aftersales.core.models import Event
from aftersales.core.sweep import sweep
from aftersales.crm.lifecycle import RETENTION
from aftersales.crm.models import RetentionItem, RetentionTrigger
from aftersales.crm.retention import retention_resolve, retention_sweep
from aftersales.feedback import tokens
from aftersales.feedback.lifecycle import SURVEYS
from aftersales.feedback.models import Rating, Survey
from aftersales.feedback.surveys import survey_answer_by_link, survey_answer_call
from aftersales.insights.feed import rollup_advance
from aftersales.insights.models import Fact
from tests.conftest import NOW, make_order, make_user, open_case
from tests.test_csat_data import MONTH, customer_of, ended_case


@pytest.fixture
def template(customer, order, clock):
    number = open_case(customer, order)["number"]
    assert customer.act(number, "cancel").status_code == 200
    return Case.objects.get(number=number)


@pytest.fixture
def lead(shop):
    return make_user("lead", "lead", shop="shop")


@pytest.fixture
def surveys(shop, template, lead):
    """October's round: one survey by e-mail, one to call."""
    ended_case(template, customer_of(shop, "MAIL", email="m@example.com"))
    ended_case(template, customer_of(shop, "CALL"))
    response = lead.post(
        "/shops/shop/survey-rounds", {"month": MONTH, "rate": 1, "cooldown_days": 0}
    )
    assert response.status_code == 201, response.content
    return {s.channel: s for s in Survey.objects.select_related("customer")}


def timeline(subject) -> list[tuple]:
    return list(
        Event.objects.filter(
            subject_type=ContentType.objects.get_for_model(subject), subject_id=subject.pk
        )
        .order_by("id")
        .values_list("action", "from_state", "to_state", "actor_name", "role")
    )


def token_of(survey: Survey) -> str:
    return tokens.survey_token(survey.token_salt)


def test_both_tables_are_registered_with_the_kernel():
    assert SURVEYS in lifecycles() and RETENTION in lifecycles()


# --- surveys ------------------------------------------------------------------------------------


def test_the_round_sends_each_survey_through_the_gate(surveys):
    # then each survey was opened by the lead's round, in one event, with the link's deadline
    for survey in surveys.values():
        assert timeline(survey) == [("send", "", "sent", "lead", "lead")]
        assert (survey.state, survey.deadline_action) == ("sent", "expire")
        assert survey.deadline_at == NOW + dt.timedelta(days=30)
        assert survey.resolved_at is None


def test_the_customers_answer_through_the_link_is_one_event(surveys):
    survey = surveys["email"]
    survey_answer_by_link(token=token_of(survey), score=2, reasons=["slow"], comment="太慢")
    survey.refresh_from_db()
    # the customer acts without a login, under their own name, as the customer
    assert timeline(survey)[1:] == [("answer", "sent", "answered", "Buyer MAIL", "customer")]
    assert (survey.state, survey.score, survey.resolved_at, survey.deadline_at) == (
        "answered",
        2,
        NOW,
        None,
    )
    # the comment stays off the timeline (an erasure blanks it on the survey alone)
    assert Event.objects.get(action="answer").data == {"score": 2, "reasons": ["slow"]}


def test_a_decline_through_the_link_and_on_the_phone_are_one_event_each(surveys, agent):
    survey_answer_by_link(token=token_of(surveys["email"]), declined=True)
    survey_answer_call(actor=agent.principal, survey_id=surveys["phone"].pk, declined=True)
    assert timeline(surveys["email"])[1:] == [
        ("decline", "sent", "declined", "Buyer MAIL", "customer")
    ]
    assert timeline(surveys["phone"])[1:] == [("decline", "sent", "declined", "agent", "agent")]


def test_the_answers_of_a_call_are_one_event(surveys, agent):
    survey_answer_call(actor=agent.principal, survey_id=surveys["phone"].pk, score=5)
    assert timeline(surveys["phone"])[1:] == [("record_call", "sent", "answered", "agent", "agent")]


def test_the_sweep_expires_a_survey_at_the_end_of_its_link(surveys, clock):
    survey = surveys["email"]
    # not a moment early
    clock.shift(days=30, seconds=-1)
    assert sweep().acted == 0
    clock.shift(seconds=1)
    # before the sweep, the link says expired and changes nothing
    with pytest.raises(Conflict) as refused:
        survey_answer_by_link(token=token_of(survey), score=5)
    assert refused.value.code == "survey_expired"
    assert Survey.objects.get(pk=survey.pk).state == "sent"
    assert Client().get(f"/survey/{token_of(survey)}").status_code == 410
    # the sweep expires both surveys, each with one event by the system
    assert sweep().acted == 2
    survey.refresh_from_db()
    assert (survey.state, survey.resolved_at, survey.deadline_at, survey.deadline_action) == (
        "expired",
        NOW + dt.timedelta(days=30),
        None,
        "",
    )
    assert timeline(survey)[1:] == [("expire", "sent", "expired", "system", "system")]
    # and after it, the refusal is the same
    with pytest.raises(Conflict) as refused:
        survey_answer_by_link(token=token_of(survey), score=5)
    assert refused.value.code == "survey_expired"
    assert sweep().acted == 0


def test_a_call_after_the_links_end_is_refused_as_expired(surveys, agent, clock):
    clock.shift(days=31)
    response = agent.post(f"/surveys/{surveys['phone'].pk}/answer", {"score": 4})
    assert (response.status_code, response.json()["code"]) == (409, "survey_expired")
    sweep()
    response = agent.post(f"/surveys/{surveys['phone'].pk}/answer", {"score": 4})
    assert (response.status_code, response.json()["code"]) == (409, "survey_expired")


def test_an_ended_survey_refuses_every_move(surveys, agent):
    survey = surveys["phone"]
    survey_answer_call(actor=agent.principal, survey_id=survey.pk, score=4)
    # the table's own refusal
    with pytest.raises(Conflict) as refused:
        transition(SURVEYS, subject_id=survey.pk, action="decline", actor=agent.principal)
    assert (refused.value.code, refused.value.extra["state"]) == ("action_not_allowed", "answered")
    # the services' words, as before
    response = agent.post(f"/surveys/{survey.pk}/answer", {"declined": True})
    assert (response.status_code, response.json()["code"]) == (409, "survey_answered")
    with pytest.raises(Conflict) as refused:
        survey_answer_by_link(token=token_of(survey), score=5)
    assert refused.value.code == "survey_answered"
    assert len(timeline(survey)) == 2


def test_the_moves_are_the_tables_roles(surveys, agent, customer):
    # staff do not answer through the customer's link action, nor the system
    for actor in (agent.principal, SYSTEM):
        with pytest.raises(ApplicationError) as refused:
            transition(
                SURVEYS,
                subject_id=surveys["email"].pk,
                action="answer",
                actor=actor,
                data={"score": 5},
            )
        assert refused.value.code == "action_forbidden"
    # only the sweep expires
    with pytest.raises(ApplicationError) as refused:
        transition(SURVEYS, subject_id=surveys["email"].pk, action="expire", actor=agent.principal)
    assert refused.value.code == "action_forbidden"
    assert Survey.objects.get(pk=surveys["email"].pk).state == "sent"


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        ({}, "invalid_score"),
        ({"score": 0}, "invalid_score"),
        ({"score": True}, "invalid_score"),
        ({"score": 3, "reasons": ["rude"]}, "invalid_reason"),
        ({"score": 3, "comment": "x" * 2001}, "comment_too_long"),
    ],
)
def test_bad_answers_keep_their_codes_and_words(surveys, answer, code):
    with pytest.raises(InvalidInput) as refused:
        survey_answer_by_link(token=token_of(surveys["email"]), **answer)
    assert refused.value.code == code
    assert "Input should" not in str(refused.value.detail)
    assert timeline(surveys["email"]) == [("send", "", "sent", "lead", "lead")]


def test_the_kpis_count_no_survey_or_retention_event(surveys, agent):
    # given events of surveys and of a retention item only (the template case's are consumed)
    while rollup_advance().consumed:
        pass
    facts = Fact.objects.count()
    survey_answer_call(actor=agent.principal, survey_id=surveys["phone"].pk, score=1)
    Rating.objects.create(case=Survey.objects.get(channel="email").case, score=1, created_at=NOW)
    assert retention_sweep(now=NOW + dt.timedelta(minutes=1)) >= 1
    # when the feed reads them
    while rollup_advance().consumed:
        pass
    # then no fact comes of them
    assert Fact.objects.count() == facts


# --- retention items ----------------------------------------------------------------------------


@pytest.fixture
def case(customer):
    return Case.objects.get(number=open_case(customer, make_order(external_id="O2"))["number"])


def test_each_move_of_a_retention_item_is_one_event(case, customer, agent):
    # queued by the feed, the system's
    Rating.objects.create(case=case, score=1, created_at=NOW)
    retention_sweep(now=NOW + dt.timedelta(minutes=1))
    item = RetentionItem.objects.get()
    # another experience joins the open item: one event, the state unchanged
    filed = customer.post(
        "/complaints", {"order_id": case.order_id, "type": "attitude", "description": "x"}
    )
    assert filed.status_code == 201
    retention_sweep(now=NOW + dt.timedelta(minutes=2))
    # the agent contacts the customer
    retention_resolve(actor=agent.principal, item_id=item.pk, outcome="contacted", note="送券")
    item.refresh_from_db()
    assert timeline(item) == [
        ("queue", "", "open", "system", "system"),
        ("add_trigger", "open", "open", "system", "system"),
        ("contact", "open", "contacted", "agent", "agent"),
    ]
    assert [e.data for e in Event.objects.filter(action__in=["queue", "add_trigger"])] == [
        {"reason": "low_score", "key": f"rating:{case.pk}"},
        {"reason": "complaint", "key": f"complaint:{Complaint.objects.get().pk}"},
    ]
    assert (item.state, item.reasons, item.gesture, item.resolved_at) == (
        "contacted",
        ["low_score", "complaint"],
        "lead_call",
        NOW,
    )
    assert RetentionTrigger.objects.filter(item=item).count() == 2


def test_a_dismissal_says_why_and_a_handled_item_refuses_more(case, agent):
    Rating.objects.create(case=case, score=1, created_at=NOW)
    retention_sweep(now=NOW + dt.timedelta(minutes=1))
    item = RetentionItem.objects.get()
    for note, code in (("  ", "note_required"), ("x" * 2001, "note_too_long")):
        with pytest.raises(InvalidInput) as refused:
            retention_resolve(
                actor=agent.principal, item_id=item.pk, outcome="dismissed", note=note
            )
        assert refused.value.code == code
    retention_resolve(actor=agent.principal, item_id=item.pk, outcome="dismissed", note="已满意")
    assert timeline(item)[1:] == [("dismiss", "open", "dismissed", "agent", "agent")]
    with pytest.raises(Conflict) as refused:
        transition(RETENTION, subject_id=item.pk, action="contact", actor=agent.principal)
    assert refused.value.code == "action_not_allowed"
    with pytest.raises(Conflict) as refused:
        retention_resolve(actor=agent.principal, item_id=item.pk, outcome="contacted")
    assert refused.value.code == "retention_item_handled"
    # only the feed queues and adds experiences
    with pytest.raises(ApplicationError) as refused:
        transition(
            RETENTION,
            subject_id=item.pk,
            action="add_trigger",
            actor=agent.principal,
            data={"reason": "complaint", "key": "x", "at": NOW},
        )
    assert refused.value.code == "action_forbidden"


# --- the upgrade --------------------------------------------------------------------------------


def test_the_upgrade_carries_the_rows_over(transactional_db, customer, order, clock):
    from django.db.migrations.executor import MigrationExecutor

    # given surveys and retention items as they were kept before the kernel
    cases = [Case.objects.get(number=open_case(customer, order)["number"])] + [
        Case.objects.get(number=open_case(customer, make_order(external_id=f"U{n}"))["number"])
        for n in range(3)
    ]
    case = cases[0]
    before = [("feedback", "0002_satisfaction_surveys"), ("crm", "0002_care_campaigns")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    old_round = old.get_model("feedback", "SurveyRound").objects.create(
        shop_id=case.shop_id,
        month="2026-10",
        sample_rate=1,
        cooldown_days=0,
        seed=1,
        created_at=NOW,
    )
    expires = NOW + dt.timedelta(days=30)
    answered = NOW + dt.timedelta(days=2)
    old_survey = old.get_model("feedback", "Survey")
    states = (("sent", None), ("answered", answered), ("declined", answered), ("expired", None))
    for each, (status, answered_at) in zip(cases, states, strict=True):
        old_survey.objects.create(
            round=old_round,
            shop_id=each.shop_id,
            case_id=each.pk,
            customer_id=each.customer_id,
            kind=each.kind,
            channel="email",
            token_salt=status,
            token_hash=status,
            status=status,
            score=4 if status == "answered" else None,
            created_at=NOW,
            expires_at=expires,
            answered_at=answered_at,
        )
    old_item = old.get_model("crm", "RetentionItem")
    for state, handled_at in (("open", None), ("contacted", answered)):
        old_item.objects.create(
            shop_id=case.shop_id,
            customer_id=case.customer_id,
            reasons=["low_score"],
            gesture="coupon",
            state=state,
            created_at=NOW,
            handled_at=handled_at,
        )
    # when the upgrade runs
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    # then each survey keeps its state; a sent one waits for the sweep until its old expiry
    rows = Survey.objects.order_by("token_salt").values_list(
        "token_salt", "state", "deadline_at", "deadline_action", "resolved_at"
    )
    assert list(rows) == [
        ("answered", "answered", None, "", answered),
        ("declined", "declined", None, "", answered),
        ("expired", "expired", None, "", expires),
        ("sent", "sent", expires, "expire", None),
    ]
    items = RetentionItem.objects.order_by("id").values_list("state", "resolved_at")
    assert list(items) == [("open", None), ("contacted", answered)]
    # and the sweep expires the sent one at its time
    clock.set(expires)
    sweep()
    assert Survey.objects.get(token_salt="sent").state == "expired"
    assert timeline(Survey.objects.get(token_salt="sent")) == [
        ("expire", "sent", "expired", "system", "system")
    ]


# --- a race on PostgreSQL -----------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_customer_answers_once_however_many_tabs_submit(shop, template, lead):
    ended_case(template, customer_of(shop, "MAIL", email="m@example.com"))
    assert (
        lead.post(
            "/shops/shop/survey-rounds", {"month": MONTH, "rate": 1, "cooldown_days": 0}
        ).status_code
        == 201
    )
    survey = Survey.objects.get()
    count = 8
    barrier = threading.Barrier(count)
    codes: list[str] = []
    lock = threading.Lock()

    def answer(score: int) -> None:
        try:
            barrier.wait()
            survey_answer_by_link(token=token_of(survey), score=score)
            outcome = "ok"
        except ApplicationError as error:
            outcome = error.code
        finally:
            connection.close()
        with lock:
            codes.append(outcome)

    threads = [threading.Thread(target=answer, args=(1 + i % 5,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    close_old_connections()
    assert sorted(codes) == ["ok"] + ["survey_answered"] * (count - 1)
    assert Event.objects.filter(action="answer").count() == 1
