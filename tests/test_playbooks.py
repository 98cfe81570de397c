"""Playbooks (SOPs): which playbook is a case's checklist, the starter set, the gate waiting on
required steps (never for the clock), ticks on the timeline, the API's refusals and scope, and
the completion report."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import translation

from aftersales.cases.models import Case
from aftersales.catalog.models import Product
from aftersales.core.models import Event
from aftersales.core.sweep import sweep
from aftersales.playbooks.data.starter import STARTER, TEMPLATES
from aftersales.playbooks.definitions import PlaybookIn, playbook_check
from aftersales.playbooks.models import Playbook, StepDone
from aftersales.playbooks.selectors import playbook_match
from aftersales.playbooks.services import playbooks_seed
from aftersales.team.models import ReplyTemplate
from aftersales.team.services import user_create
from tests.conftest import make_order, make_shop, make_user, open_case

# --- matching: the most specific playbook wins ---------------------------------------------------

PLAYBOOKS = [
    # key, kind, reason, category
    ("any", "", "", ""),
    ("returns", "return_refund", "", ""),
    ("quality", "", "quality_issue", ""),
    ("shoes", "", "", "shoes"),
    ("shoe_returns", "return_refund", "", "shoes"),
    ("quality_returns", "return_refund", "quality_issue", ""),
    ("quality_shoe_exchange", "exchange", "quality_issue", "shoes"),
]


@pytest.mark.parametrize(
    ("kind", "reason", "categories", "expected"),
    [
        ("refund_only", "missing_item", set(), "any"),
        ("return_refund", "changed_mind", set(), "returns"),
        ("repair", "quality_issue", set(), "quality"),
        ("repair", "changed_mind", {"shoes"}, "shoes"),
        ("return_refund", "changed_mind", {"shoes", "bags"}, "shoe_returns"),
        ("return_refund", "quality_issue", set(), "quality_returns"),
        # two fields each: a reason beats a category
        ("return_refund", "quality_issue", {"shoes"}, "quality_returns"),
        ("exchange", "quality_issue", {"shoes"}, "quality_shoe_exchange"),
        # one field each: a reason beats a kind, a kind a category
        ("exchange", "quality_issue", {"bags"}, "quality"),
        ("return_refund", "wrong_size", {"shoes"}, "shoe_returns"),
    ],
)
def test_the_most_specific_playbook_matches(kind, reason, categories, expected):
    playbooks = [Playbook(key=key, kind=k, reason=r, category=c) for key, k, r, c in PLAYBOOKS]
    found = playbook_match(playbooks, kind=kind, reason=reason, categories=categories)
    assert found.key == expected


def test_no_playbook_matches_when_none_fits():
    playbooks = [Playbook(key="returns", kind="return_refund")]
    assert playbook_match(playbooks, kind="repair", reason="x", categories=set()) is None


# --- the starter set -----------------------------------------------------------------------------


def _starter_body(definition: dict) -> PlaybookIn:
    return PlaybookIn.model_validate(
        {
            **definition,
            "title": {"en": definition["title"]},
            "steps": [
                {**step, "title": {"en": step["title"]}, "detail": {"en": step.get("detail", "")}}
                for step in definition["steps"]
            ],
        }
    )


@pytest.mark.parametrize("definition", STARTER, ids=[d["key"] for d in STARTER])
def test_the_starter_playbooks_are_valid_and_name_their_sources(db, definition):
    playbook_check(_starter_body(definition), shop_id=None)
    assert 4 <= len(definition["steps"]) <= 7
    assert definition["sources"]
    assert all("shared" not in source and "/" not in source for source in definition["sources"])


def test_a_new_shop_gets_the_starter_set_and_its_reply_templates(shop):
    copies = Playbook.objects.filter(shop=shop)
    assert sorted(copies.values_list("key", flat=True)) == sorted(d["key"] for d in STARTER)
    assert not copies.filter(enforced=True).exists()
    assert Playbook.objects.filter(shop=None).count() == len(STARTER)
    for languages in TEMPLATES.values():
        for language, (title, _body) in languages.items():
            assert ReplyTemplate.objects.filter(shop=shop, language=language, title=title).exists()
    # copied once only
    assert playbooks_seed(shop=shop) == 0
    assert copies.count() == len(STARTER)


def test_a_shop_from_before_gets_the_starter_set_on_first_use(shop, agent, customer, order):
    Playbook.objects.filter(shop=shop).delete()
    number = open_case(customer, order)["number"]
    answer = agent.get(f"/cases/{number}/playbook").json()
    assert answer["playbook"]["key"] == "quality_issue"
    assert Playbook.objects.filter(shop=shop).count() == len(STARTER)


def test_the_starter_set_can_be_enforced_from_the_start(db, settings, clock):
    settings.PLAYBOOKS_STARTER_ENFORCED = True
    shop = make_shop("strict")
    assert set(Playbook.objects.filter(shop=shop).values_list("enforced", flat=True)) == {True}


def test_the_checklist_reads_the_starter_words(shop, agent, customer, order):
    number = open_case(customer, order)["number"]
    with translation.override("en"):
        english = agent.get(f"/cases/{number}/playbook").json()
    assert english["playbook"]["title"] == "Quality problem: photos first"
    assert english["steps"][0]["title"] == "Ask the customer for photos of the fault"
    assert english["steps"][0]["required_before"] == [{"action": "approve", "label": "Approve"}]
    assert english["gates"] == [
        {"action": "approve", "label": "Approve", "pending": ["photos", "fault_seen"]},
        {"action": "inspect", "label": "Inspect", "pending": ["fault_on_receipt"]},
        {"action": "diagnose", "label": "Record the diagnosis", "pending": ["fault_on_receipt"]},
    ]
    assert [s["key"] for s in english["steps"]] == [
        "photos",
        "fault_seen",
        "offer_choice",
        "approve",
        "send_reply",
        "fault_on_receipt",
    ]
    assert english["complete"] is False


# --- the gate waits on the required steps --------------------------------------------------------


def enforce(shop, key="quality_issue"):
    Playbook.objects.filter(shop=shop, key=key).update(enforced=True)


def tick(api, number, key, done=True, note=""):
    return api.post(f"/cases/{number}/playbook/steps/{key}", {"done": done, "note": note})


def test_the_gate_refuses_an_action_until_its_steps_are_done(shop, agent, customer, order):
    # given an enforced quality playbook and a quality case
    enforce(shop)
    number = open_case(customer, order)["number"]
    events = Event.objects.count()
    # when the agent approves before the photos
    refused = agent.act(number, "approve")
    # then the gate names the steps in words and nothing changes
    assert refused.status_code == 409
    assert refused.json() == {
        "code": "playbook_steps_pending",
        "detail": "Before “Approve”, finish these steps of the playbook: Ask the customer for "
        "photos of the fault; Look at the photos: a fault, a misunderstanding, or wrong use?",
        "steps": ["photos", "fault_seen"],
    }
    assert Case.objects.get(number=number).state == "awaiting_seller"
    assert Event.objects.count() == events
    # when one step is done, the other still holds the action
    assert tick(agent, number, "photos", note="照片已收到").status_code == 200
    assert agent.act(number, "approve").json()["steps"] == ["fault_seen"]
    # and when both are, it goes through
    assert tick(agent, number, "fault_seen").status_code == 200
    assert agent.act(number, "approve").status_code == 200
    assert Case.objects.get(number=number).state == "awaiting_return"


def test_actions_no_step_requires_are_never_held(shop, agent, customer, order):
    enforce(shop)
    number = open_case(customer, order)["number"]
    assert agent.act(number, "reject", {"reason": "请补充照片"}).status_code == 200


def test_an_unenforced_playbook_only_advises(shop, agent, customer, order):
    number = open_case(customer, order)["number"]
    assert agent.act(number, "approve").status_code == 200


def test_a_less_specific_enforced_playbook_does_not_hold_a_case_it_is_not_the_checklist_of(
    shop, agent, customer, order
):
    # the return playbook holds inspection, but a quality return follows the quality playbook
    enforce(shop, "damaged_on_receipt")
    number = open_case(customer, order)["number"]
    assert agent.get(f"/cases/{number}/playbook").json()["playbook"]["key"] == "quality_issue"
    assert agent.act(number, "approve").status_code == 200


def test_automatic_moves_are_never_held_by_a_checklist(shop, customer, order, clock):
    # given an enforced playbook whose steps are not done
    enforce(shop)
    number = open_case(customer, order)["number"]
    # when the seller's time runs out
    clock.shift(days=5)
    result = sweep()
    # then the platform's auto-approval happens anyway
    assert result.acted == 1
    case = Case.objects.get(number=number)
    assert case.state == "awaiting_return"
    assert case.events.filter(action="auto_approve").exists()


# --- ticks on the timeline -----------------------------------------------------------------------


def test_ticks_and_unticks_are_events_on_the_timeline(shop, agent, customer, order):
    number = open_case(customer, order)["number"]
    answer = tick(agent, number, "photos", note="三张照片").json()
    photos = answer["steps"][0]
    assert (photos["done"], photos["done_by"], photos["note"]) == (True, "agent", "三张照片")
    assert tick(agent, number, "photos").status_code == 200  # again: nothing new
    undone = tick(agent, number, "photos", done=False, note="照片看不清").json()
    assert undone["steps"][0]["done"] is False
    case = Case.objects.get(number=number)
    events = list(case.events.filter(action__startswith="playbook_").order_by("id"))
    assert [(e.action, e.actor_name, e.data) for e in events] == [
        (
            "playbook_step_done",
            "agent",
            {
                "step": "photos",
                "playbook": "quality_issue",
                "text": "Step done: Ask the customer for photos of the fault",
                "note": "三张照片",
            },
        ),
        (
            "playbook_step_undone",
            "agent",
            {
                "step": "photos",
                "playbook": "quality_issue",
                "text": "Step reopened: Ask the customer for photos of the fault",
                "note": "照片看不清",
            },
        ),
    ]
    assert not StepDone.objects.exists()
    # the customer never sees the team's checklist
    timeline = customer.get(f"/cases/{number}").json()["events"]
    assert not [entry for entry in timeline if entry["action"].startswith("playbook_")]
    staff_timeline = agent.get(f"/cases/{number}").json()["events"]
    assert [e["action"] for e in staff_timeline if e["action"].startswith("playbook_")] == [
        "playbook_step_done",
        "playbook_step_undone",
    ]


def test_a_tick_records_the_playbook_version(shop, agent, customer, order):
    number = open_case(customer, order)["number"]
    tick(agent, number, "photos")
    done = StepDone.objects.get()
    assert (done.playbook_key, done.playbook_version, done.shop_id) == ("quality_issue", 1, shop.id)


# --- the API's refusals and scope ----------------------------------------------------------------


def playbook_body(**changes) -> dict:
    body = {
        "key": "shoes_quality",
        "title": {"zh-hans": "鞋类质量问题", "en": "Shoes: quality problem"},
        "kind": "",
        "reason": "quality_issue",
        "category": "shoes",
        "sources": ["本店质检规范"],
        "enforced": True,
        "steps": [
            {
                "key": "sole_photo",
                "type": "evidence",
                "title": {"zh-hans": "请顾客拍鞋底照片", "en": "Ask for a photo of the sole"},
                "required_before": ["approve"],
            },
            {
                "key": "reply",
                "type": "template",
                "title": {"zh-hans": "发送质量问题话术"},
                "template": "质量问题处理",
            },
            {"key": "approve", "type": "action", "title": {"en": "Approve"}, "action": "approve"},
        ],
    }
    return {**body, **changes}


@pytest.fixture
def lead(shop):
    return make_user("lead", "admin", shop="shop")


def test_a_lead_writes_and_replaces_a_playbook(shop, lead, agent, customer, order):
    # given shoes in the shop
    Product.objects.filter(shop=shop).update(category="shoes")
    # when the lead writes a playbook for them
    written = lead.put("/shops/shop/playbooks", playbook_body())
    assert written.status_code == 200, written.content
    assert written.json()["version"] == 1
    assert written.json()["steps"][0]["title"] == {
        "zh-hans": "请顾客拍鞋底照片",
        "en": "Ask for a photo of the sole",
    }
    # then a quality case of shoes follows it, in the reader's language where written
    number = open_case(customer, order)["number"]
    checklist = agent.get(f"/cases/{number}/playbook").json()
    assert checklist["playbook"]["key"] == "shoes_quality"
    assert checklist["playbook"]["sources"] == ["本店质检规范"]
    assert [s["title"] for s in checklist["steps"]] == [
        "Ask for a photo of the sole",
        "发送质量问题话术",
        "Approve",
    ]
    assert agent.act(number, "approve").json()["steps"] == ["sole_photo"]
    # when it is replaced, the version goes up and the steps are the new ones
    replaced = lead.put(
        "/shops/shop/playbooks",
        playbook_body(
            enforced=False,
            steps=[
                {
                    "key": "approve",
                    "type": "action",
                    "title": {"en": "Approve"},
                    "action": "approve",
                }
            ],
        ),
    )
    assert (replaced.json()["version"], len(replaced.json()["steps"])) == (2, 1)
    listed = lead.get("/shops/shop/playbooks").json()["items"]
    assert len(listed) == len(STARTER) + 1
    assert agent.act(number, "approve").status_code == 200


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"kind": "swap"}, "invalid_kind", "kind"),
        ({"reason": "bored"}, "invalid_reason", "reason"),
        (
            {"steps": [{"key": "a", "type": "action", "title": {"en": "x"}, "action": "fly"}]},
            "unknown_action",
            "steps.0.action",
        ),
        (
            {
                "steps": [
                    {
                        "key": "a",
                        "type": "check",
                        "title": {"en": "x"},
                        "required_before": ["auto_approve"],
                    }
                ]
            },
            "unknown_action",
            "steps.0.required_before",
        ),
        (
            {"steps": [{"key": "a", "type": "template", "title": {"en": "x"}, "template": "nope"}]},
            "unknown_template",
            "steps.0.template",
        ),
        (
            {"steps": [{"key": "a", "type": "action", "title": {"en": "x"}}]},
            "action_required",
            "steps.0.action",
        ),
        (
            {
                "steps": [
                    {"key": "a", "type": "check", "title": {"en": "x"}},
                    {"key": "a", "type": "check", "title": {"en": "y"}},
                ]
            },
            "duplicate_step",
            "steps.1.key",
        ),
    ],
)
def test_a_playbook_naming_what_does_not_exist_is_refused(lead, shop, changes, code, field):
    answer = lead.put("/shops/shop/playbooks", playbook_body(**changes))
    assert answer.status_code == 422
    assert (answer.json()["code"], answer.json()["field"]) == (code, field)
    assert not Playbook.objects.filter(key="shoes_quality").exists()


@pytest.mark.parametrize(
    "body",
    [
        {
            "key": "Bad Key",
            "title": {"en": "x"},
            "steps": [{"key": "a", "type": "check", "title": {"en": "x"}}],
        },
        {"key": "k", "title": {}, "steps": [{"key": "a", "type": "check", "title": {"en": "x"}}]},
        {
            "key": "k",
            "title": {"fr": "x"},
            "steps": [{"key": "a", "type": "check", "title": {"en": "x"}}],
        },
        {"key": "k", "title": {"en": "x"}, "steps": []},
        {
            "key": "k",
            "title": {"en": "x"},
            "steps": [{"key": "a", "type": "poke", "title": {"en": "x"}}],
        },
        "[]",
    ],
)
def test_a_malformed_playbook_is_refused_in_words(lead, shop, body):
    answer = lead.put("/shops/shop/playbooks", body)
    assert answer.status_code == 422
    assert set(answer.json()) >= {"code", "detail"}


def test_only_admins_write_or_list_playbooks(shop, agent, finance, customer, lead):
    for api in (agent, finance, customer):
        assert api.put("/shops/shop/playbooks", playbook_body()).status_code == 403
        assert api.get("/shops/shop/playbooks").status_code == 403
    assert not Playbook.objects.filter(key="shoes_quality").exists()


def test_another_shops_playbooks_and_checklists_are_out_of_reach(shop, agent, lead, clock):
    make_shop("other")
    outsider = make_user("outsider", "agent", shop="other")
    stranger_lead = make_user("otherlead", "admin", shop="other")
    buyer = make_user("otherbuyer", "customer", shop="other", customer="X1")
    number = open_case(buyer, make_order(shop="other", external_id="X", customer="X1"))["number"]
    for api in (agent, lead):
        assert api.get(f"/cases/{number}/playbook").status_code == 404
        assert tick(api, number, "photos").status_code == 404
        assert api.get("/playbooks/report", shop="other").status_code == 404
    assert lead.get("/shops/other/playbooks").status_code == 404
    assert lead.put("/shops/other/playbooks", playbook_body()).status_code == 404
    assert stranger_lead.get("/shops/shop/playbooks").status_code == 404
    assert buyer.get(f"/cases/{number}/playbook").status_code == 403
    assert tick(buyer, number, "photos").status_code == 403
    assert tick(outsider, number, "nope").json()["code"] == "step_not_found"
    assert not StepDone.objects.exists()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"note": "x"}, "validation_error"),
        ({"done": "yes"}, "validation_error"),
        ({"done": True, "note": "x" * 1001}, "validation_error"),
    ],
)
def test_a_bad_tick_is_refused_and_changes_nothing(shop, agent, customer, order, body, code):
    number = open_case(customer, order)["number"]
    answer = agent.post(f"/cases/{number}/playbook/steps/photos", body)
    assert (answer.status_code, answer.json()["code"]) == (422, code)
    assert not StepDone.objects.exists()


# --- the report ----------------------------------------------------------------------------------


def test_the_report_counts_cases_and_steps_exactly(shop, agent, customer, clock):
    # given three quality cases and a size exchange this week, and a quality case long ago
    clock.shift(days=-40)
    old = open_case(customer, make_order(external_id="OLD"))["number"]
    tick(agent, old, "photos")
    clock.shift(days=40)
    numbers = [open_case(customer, make_order(external_id=f"Q{i}"))["number"] for i in range(3)]
    exchange = open_case(
        customer, make_order(external_id="E1"), kind="exchange", reason="wrong_size"
    )["number"]
    for key in (
        "photos",
        "fault_seen",
        "offer_choice",
        "approve",
        "send_reply",
        "fault_on_receipt",
    ):
        tick(agent, numbers[0], key)
    tick(agent, numbers[1], "photos")
    tick(agent, exchange, "within_7_days")
    # when the lead reads the report for the last seven days
    answer = agent.get(
        "/playbooks/report", shop="shop", **{"from": "2026-11-18", "to": "2026-11-24"}
    )
    # then
    assert answer.status_code == 200, answer.content
    report = answer.json()
    assert (report["start"], report["end"]) == ("2026-11-18", "2026-11-24")
    rows = {row["key"]: row for row in report["playbooks"]}
    quality = rows["quality_issue"]
    assert (quality["cases"], quality["completed_cases"], quality["completion"]) == (3, 1, 33.3)
    assert [(s["key"], s["done"], s["share"]) for s in quality["steps"]] == [
        ("photos", 2, 66.7),
        ("fault_seen", 1, 33.3),
        ("offer_choice", 1, 33.3),
        ("approve", 1, 33.3),
        ("send_reply", 1, 33.3),
        ("fault_on_receipt", 1, 33.3),
    ]
    size = rows["size_exchange"]
    assert (size["cases"], size["completed_cases"], size["steps"][0]["done"]) == (1, 0, 1)
    assert (rows["out_of_stock"]["cases"], rows["out_of_stock"]["completion"]) == (0, 0.0)


def test_the_report_defaults_to_the_last_30_days(shop, agent):
    report = agent.get("/playbooks/report", shop="shop").json()
    assert (report["start"], report["end"]) == ("2026-10-26", "2026-11-24")


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ({"from": "2026-11-24", "to": "2026-11-01"}, 422, "invalid_period"),
        ({"from": "2024-01-01", "to": "2026-11-01"}, 422, "invalid_period"),
        ({"from": "soon"}, 422, "validation_error"),
        ({"state": "x"}, 422, "unknown_parameter"),
        ({"shop": "nowhere"}, 404, "shop_not_found"),
    ],
)
def test_the_report_refuses_bad_periods_in_words(shop, agent, query, status, code):
    answer = agent.get("/playbooks/report", **{"shop": "shop", **query})
    assert (answer.status_code, answer.json()["code"]) == (status, code)


def test_customers_get_no_report(customer):
    assert customer.get("/playbooks/report", shop="shop").status_code == 403


# --- the desk's checklist ------------------------------------------------------------------------


@pytest.fixture
def desk(shop):
    user_create(username="desk-agent", role="agent", shop_codes=["shop"], password="pw-agent-123")
    client = Client()
    assert client.login(username="desk-agent", password="pw-agent-123")
    return client


def test_the_case_page_shows_the_checklist_and_what_waits_on_it(desk, shop, customer, order):
    enforce(shop)
    number = open_case(customer, order)["number"]
    html = desk.get(f"/desk/cases/{number}/").content.decode()
    assert 'id="playbook"' in html
    assert "Quality problem: photos first" in html
    gate = re.search(r'data-gate="approve">(.*?)</p>', html).group(1)
    assert gate == (
        "“Approve” waits on: Ask the customer for photos of the fault; Look at the photos: a "
        "fault, a misunderstanding, or wrong use?"
    )
    # the reply step cannot be filled before the case has a return address
    assert "Quality issue (needs the return address" in html


def test_the_desk_ticks_a_step_and_the_gate_opens(desk, shop, customer, order):
    enforce(shop)
    number = open_case(customer, order)["number"]
    for key in ("photos", "fault_seen"):
        answer = desk.post(
            f"/desk/cases/{number}/playbook/{key}/",
            {"done": "1", "note": "已核实"},
            HTTP_HX_REQUEST="true",
        )
        assert answer.status_code == 200
    html = answer.content.decode()
    assert 'id="case"' in html and 'data-gate="approve"' not in html
    assert "Done by desk-agent · 2026-11-24 10:00 · 已核实" in html
    assert (
        desk.post(f"/desk/cases/{number}/act/approve/", HTTP_HX_REQUEST="true").status_code == 200
    )
    page = desk.get(f"/desk/cases/{number}/").content.decode()
    fill = re.search(r'data-fill="send_reply" hx-get="([^"]+)"', page).group(1)
    filled = desk.get(fill.replace("&amp;", "&")).content.decode()
    assert "Dear 顾客C1, we are sorry about the quality issue." in filled
    assert 'name="template_id"' in filled


def test_the_desk_shows_a_refused_tick_in_place(desk, shop, customer, order):
    number = open_case(customer, order)["number"]
    answer = desk.post(
        f"/desk/cases/{number}/playbook/nope/", {"done": "1"}, HTTP_HX_REQUEST="true"
    )
    assert answer.status_code == 422
    assert 'data-error-for="playbook"' in answer.content.decode()


def test_a_case_without_a_playbook_shows_no_checklist(desk, shop, customer, order):
    Playbook.objects.filter(shop=shop).exclude(key="out_of_stock").delete()
    number = open_case(customer, order)["number"]
    assert 'id="playbook"' not in desk.get(f"/desk/cases/{number}/").content.decode()
    assert customer.get(f"/cases/{number}").status_code == 200


def test_a_customers_move_never_waits_on_the_teams_checklist(shop, lead, customer, order):
    # given an enforced playbook that asks the team to call before a cancellation
    hold = playbook_body(
        key="call_before_cancel",
        category="",
        steps=[
            {
                "key": "call",
                "type": "question",
                "title": {"en": "Call the buyer"},
                "required_before": ["cancel"],
            }
        ],
    )
    assert lead.put("/shops/shop/playbooks", hold).status_code == 200
    number = open_case(customer, order)["number"]
    assert lead.get(f"/cases/{number}/playbook").json()["playbook"]["key"] == "call_before_cancel"
    # when the customer cancels, nothing holds them
    assert customer.act(number, "cancel").status_code == 200
    assert Case.objects.get(number=number).state == "closed"
