"""The customer's rating of an ended case (``feedback.services.rating_add``), and the portal's
rating form that calls it."""

from __future__ import annotations

import pytest
from django.test import Client

from aftersales.cases.models import Case
from aftersales.core.errors import Conflict, InvalidInput, PermissionDenied
from aftersales.core.models import Notice
from aftersales.feedback.models import Rating
from aftersales.feedback.services import rating_add
from tests.conftest import NOW, make_order, make_user, open_case


@pytest.fixture
def ended(customer, order, clock):
    """A case the customer cancelled: it is closed."""
    number = open_case(customer, order)["number"]
    assert customer.act(number, "cancel").status_code == 200
    return Case.objects.get(number=number)


def test_the_customer_rates_an_ended_case(customer, ended):
    # given a closed case
    # when its customer rates it
    rating = rating_add(
        actor=customer.principal,
        case_id=ended.id,
        score=4,
        reasons=["fast", "friendly", "fast"],
        comment=" 很好 ",
    )
    # then the rating is the case's, with its reasons once each
    assert Rating.objects.get(case=ended) == rating
    assert (rating.score, rating.reasons, rating.comment, rating.created_at) == (
        4,
        ["fast", "friendly"],
        "很好",
        NOW,
    )
    # and the timeline and the team lead hear of it
    event = ended.events.get(action="rate")
    assert (event.data, event.from_state, event.to_state, event.actor_name) == (
        {"score": 4, "reasons": ["fast", "friendly"]},
        "closed",
        "closed",
        "buyer",
    )
    notice = Notice.objects.get(kind="case_rated")
    assert (notice.subject_id, notice.audience, notice.payload) == (
        ended.id,
        "lead",
        {"number": ended.number, "state": "closed", "score": 4},
    )


def test_a_case_is_rated_once(customer, ended):
    rating_add(actor=customer.principal, case_id=ended.id, score=5, reasons=[])
    with pytest.raises(Conflict) as refused:
        rating_add(actor=customer.principal, case_id=ended.id, score=1, reasons=[])
    assert refused.value.code == "already_rated"
    assert Rating.objects.get().score == 5


def test_an_open_case_is_not_rated(customer, order, clock):
    number = open_case(customer, order)["number"]
    case_id = Case.objects.get(number=number).id
    with pytest.raises(Conflict) as refused:
        rating_add(actor=customer.principal, case_id=case_id, score=5, reasons=[])
    assert refused.value.code == "case_not_ended"
    assert not Rating.objects.exists()


@pytest.mark.parametrize(
    ("score", "reasons", "comment", "code"),
    [
        (0, [], "", "invalid_score"),
        (6, [], "", "invalid_score"),
        (5, ["cheap"], "", "invalid_reason"),
        (5, [], "长" * 2001, "invalid_input"),
    ],
)
def test_a_rating_is_refused_in_words(customer, ended, score, reasons, comment, code):
    with pytest.raises(InvalidInput) as refused:
        rating_add(
            actor=customer.principal,
            case_id=ended.id,
            score=score,
            reasons=reasons,
            comment=comment,
        )
    assert refused.value.code == code
    assert not Rating.objects.exists()
    assert not ended.events.filter(action="rate").exists()


def test_only_the_cases_customer_rates_it(agent, ended):
    other = make_user("other-buyer", "customer", shop="shop", customer="C2")
    make_order(external_id="O2", customer="C2")
    for stranger in (agent, other):
        with pytest.raises(PermissionDenied) as refused:
            rating_add(actor=stranger.principal, case_id=ended.id, score=5, reasons=[])
        assert refused.value.code == "forbidden"
    assert not Rating.objects.exists()


def test_the_portal_rating_form_rates_the_case(order, ended):
    # given the customer on their case's page in the portal
    client = Client()
    client.post("/", {"order": order.external_id, "phone": "13800000000"})
    assert 'id="rate"' in client.get(f"/cases/{ended.number}/").content.decode()
    # when they send four stars
    response = client.post(
        f"/cases/{ended.number}/rate/", {"score": "4", "reasons": ["fair"], "comment": "好"}
    )
    # then the case is rated and the page thanks them instead of asking again
    assert response.status_code == 302
    assert Rating.objects.get(case=ended).reasons == ["fair"]
    page = client.get(f"/cases/{ended.number}/").content.decode()
    assert 'id="rate"' not in page
    assert "4/5" in page
