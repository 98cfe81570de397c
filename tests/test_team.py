"""What the team keeps beside any subject of a lifecycle: internal notes, the contact log and
assignment, written through ``team.workbench`` and read back by content type."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType

from aftersales.cases.models import Case
from aftersales.core.errors import InvalidInput, NotFound, PermissionDenied
from aftersales.core.models import Event
from aftersales.team.models import ContactLog, Note
from aftersales.team.selectors import contacts_for, notes_for
from aftersales.team.services import user_create
from aftersales.team.workbench import assign, contact_log_add, note_add
from tests.conftest import NOW, make_order, make_shop, make_user, open_case


@pytest.fixture
def case(customer, order, clock):
    return Case.objects.get(number=open_case(customer, order)["number"])


def test_a_note_attaches_to_its_subject_by_content_type(agent, case):
    # given a case
    # when an agent writes a note on it
    note = note_add(actor=agent.principal, subject_type="case", subject_id=case.id, text=" 已电话 ")
    # then the note points at the case through its content type, in the case's shop
    found = Note.objects.get(
        subject_type=ContentType.objects.get_for_model(Case), subject_id=case.id
    )
    assert found == note
    assert found.subject == case
    assert (found.shop_id, found.text, found.author_name, found.created_at) == (
        case.shop_id,
        "已电话",
        "agent",
        NOW,
    )
    assert list(notes_for(case)) == [note]


def test_a_contact_attaches_to_its_subject_and_sets_its_follow_up(agent, case):
    # given a case
    # when an agent logs a call with a date to follow up
    entry = contact_log_add(
        actor=agent.principal,
        subject_type="case",
        subject_id=case.id,
        channel="call",
        summary="顾客同意退货",
        follow_up_on=dt.date(2026, 11, 26),
    )
    # then the entry points at the case by content type
    found = ContactLog.objects.get(
        subject_type=ContentType.objects.get_for_model(Case), subject_id=case.id
    )
    assert found == entry
    assert found.subject == case
    assert (found.shop_id, found.channel, found.summary, found.by_name) == (
        case.shop_id,
        "call",
        "顾客同意退货",
        "agent",
    )
    assert list(contacts_for(case)) == [entry]
    # and the case takes the follow-up date, and its timeline the contact
    case.refresh_from_db()
    assert case.follow_up_on == dt.date(2026, 11, 26)
    event = case.events.get(action="contact")
    assert event.data == {
        "channel": "call",
        "summary": "顾客同意退货",
        "follow_up_on": "2026-11-26",
    }
    assert (event.from_state, event.to_state, event.actor_name) == (
        "awaiting_seller",
        "awaiting_seller",
        "agent",
    )


def test_notes_of_one_subject_are_not_anothers(agent, customer, case):
    # given two cases, a note on each
    other = Case.objects.get(number=open_case(customer, make_order(external_id="O2"))["number"])
    first = note_add(actor=agent.principal, subject_type="case", subject_id=case.id, text="一")
    second = note_add(actor=agent.principal, subject_type="case", subject_id=other.id, text="二")
    # when each case's notes are read
    # then each has its own
    assert list(notes_for(case)) == [first]
    assert list(notes_for(other)) == [second]


def test_a_customer_may_not_write_a_note_or_a_contact(customer, case):
    with pytest.raises(PermissionDenied) as refused:
        note_add(actor=customer.principal, subject_type="case", subject_id=case.id, text="x")
    assert refused.value.code == "forbidden"
    with pytest.raises(PermissionDenied):
        contact_log_add(
            actor=customer.principal,
            subject_type="case",
            subject_id=case.id,
            channel="call",
            summary="x",
        )
    assert Note.objects.count() == 0
    assert ContactLog.objects.count() == 0


def test_staff_of_another_shop_find_no_such_subject(case):
    # given an agent of another shop
    make_shop("other")
    stranger = make_user("stranger", "agent", shop="other")
    # when they write on the case
    with pytest.raises(NotFound) as refused:
        note_add(actor=stranger.principal, subject_type="case", subject_id=case.id, text="x")
    # then it does not exist for them, and nothing is written
    assert refused.value.code == "case_not_found"
    assert Note.objects.count() == 0


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"channel": "fax"}, "invalid_channel"),
        ({"summary": "   "}, "summary_required"),
        ({"summary": "长" * 5001}, "invalid_input"),
    ],
)
def test_a_contact_is_refused_in_words_and_nothing_changes(agent, case, changes, code):
    follow_up = dt.date(2026, 11, 26)
    body = {"channel": "call", "summary": "已联系", "follow_up_on": follow_up, **changes}
    with pytest.raises(InvalidInput) as refused:
        contact_log_add(actor=agent.principal, subject_type="case", subject_id=case.id, **body)
    assert refused.value.code == code
    case.refresh_from_db()
    assert case.follow_up_on is None
    assert ContactLog.objects.count() == 0
    assert not case.events.filter(action="contact").exists()


# --- assignment ---------------------------------------------------------------------------------


def test_cases_are_given_to_a_colleague_of_their_shop_with_one_event_each(agent, customer, case):
    # given two cases and a colleague
    other = Case.objects.get(number=open_case(customer, make_order(external_id="O2"))["number"])
    user_create(username="colleague", role="agent", shop_codes=["shop"])
    # when the agent gives both to the colleague
    count = assign(
        actor=agent.principal,
        subject_type="case",
        subject_ids=[other.id, case.id],
        username="colleague",
    )
    # then both are the colleague's, each with its event
    assert count == 2
    assert set(
        Case.objects.filter(assignee__username="colleague").values_list("id", flat=True)
    ) == {case.id, other.id}
    events = Event.objects.filter(action="assign").order_by("id")
    assert [(e.subject_id, e.data, e.actor_name) for e in events] == [
        (case.id, {"assignee": "colleague"}, "agent"),
        (other.id, {"assignee": "colleague"}, "agent"),
    ]
    # and giving them to nobody takes them back
    assert (
        assign(actor=agent.principal, subject_type="case", subject_ids=[case.id], username=None)
        == 1
    )
    case.refresh_from_db()
    assert case.assignee is None
    assert Event.objects.filter(action="assign").last().data == {"assignee": ""}


def test_the_refusal_is_one_whoever_is_named(agent, case):
    # given a colleague of another shop, a customer user and a name nobody has
    make_shop("other")
    user_create(username="elsewhere", role="agent", shop_codes=["other"])
    make_user("shopper", "customer", shop="shop", customer="C1")
    answers = set()
    for name in ("elsewhere", "shopper", "nobody-at-all"):
        # when the case is given to each
        with pytest.raises(InvalidInput) as refused:
            assign(actor=agent.principal, subject_type="case", subject_ids=[case.id], username=name)
        # then the refusal is the same, with the name it was given
        assert refused.value.code == "unknown_assignee"
        answers.add(str(refused.value.detail).replace(name, "NAME"))
    assert len(answers) == 1
    case.refresh_from_db()
    assert case.assignee is None
    assert not Event.objects.filter(action="assign").exists()


def test_cases_of_another_shop_are_left_out_and_an_installation_admin_may_take_any(admin, case):
    # given an agent of another shop
    make_shop("other")
    stranger = make_user("stranger", "agent", shop="other")
    # when they give this shop's case to themselves, it is not theirs to give
    assert (
        assign(
            actor=stranger.principal, subject_type="case", subject_ids=[case.id], username="root"
        )
        == 0
    )
    case.refresh_from_db()
    assert case.assignee is None
    # and an installation admin (tied to no shop) may take it
    assert (
        assign(actor=admin.principal, subject_type="case", subject_ids=[case.id], username="root")
        == 1
    )
    case.refresh_from_db()
    assert case.assignee.username == "root"


def test_only_staff_assign(customer, case):
    with pytest.raises(PermissionDenied):
        assign(actor=customer.principal, subject_type="case", subject_ids=[case.id], username=None)
