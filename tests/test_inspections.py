"""The platform's inspection center (鉴定中心, 假一赔十) through the API: every (state × action) of
its table, each due time on a moved clock (to the second), the counterfeit verdict as the case's
proof with the shop's violation and the ten-fold compensation granted once, the genuine verdict
sending the claim back with the authentication fee charged per preset, the case's deadline paused
and resumed, who may do what, bad input that changes nothing, and the pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from aftersales.cases.compensation import counterfeit_proven
from aftersales.cases.models import Case, Compensation
from aftersales.catalog.models import Shop
from aftersales.core.actors import SYSTEM
from aftersales.core.models import Event, Notice
from aftersales.core.notices import registered_kinds
from aftersales.core.sweep import sweep
from aftersales.inspections.choices import Action, InspectionState
from aftersales.inspections.lifecycle import INSPECTIONS, PERSON_ACTIONS
from aftersales.inspections.models import Inspection
from aftersales.inspections.timeline import VISIBILITY
from aftersales.policy.services import policy_update
from aftersales.violations.models import Violation
from tests.conftest import make_order, make_shop, make_user, open_case

User = get_user_model()
S = InspectionState

SHIP = {"carrier": "SF", "tracking_number": "SF9001"}
REPORT = "鞋标、走线与正品不符"


@pytest.fixture
def operator(db):
    return make_user("platform", "platform_operator")


def send_for_inspection(operator, case_number, **extra):
    body = {"case_number": case_number, "reason": "买家称是假货", **extra}
    return operator.post("/inspections", body)


def sent_for_inspection(operator, case_number, **extra) -> dict:
    response = send_for_inspection(operator, case_number, **extra)
    assert response.status_code == 201, response.content
    return response.json()


def act(api, number, action, body=None):
    return api.post(f"/inspections/{number}/actions/{action}", body or {})


def acted(api, number, action, body=None) -> dict:
    response = act(api, number, action, body)
    assert response.status_code == 200, response.content
    return response.json()


def counterfeit_claim(customer, order) -> str:
    return open_case(customer, order, reason="counterfeit")["number"]


def at_the_center(customer, operator, case_number) -> dict:
    """An inspection of the case whose goods the center received."""
    opened = sent_for_inspection(operator, case_number)
    acted(customer, opened["number"], "ship", SHIP)
    return acted(operator, opened["number"], "receive", {"label": opened["label"]})


def marketplace_buyer(preset: str, **policy_changes):
    """A shop on ``preset`` with its own buyer and a signed order (two units at 100.00)."""
    make_shop(preset, preset=preset, **policy_changes)
    order = make_order(shop=preset, external_id=f"O-{preset}", customer=f"C-{preset}")
    buyer = make_user(f"buyer-{preset}", "customer", shop=preset, customer=f"C-{preset}")
    return buyer, order


# --- every (state × action) of the table --------------------------------------------------------


def inspection_in(state, customer, operator, order, clock) -> dict:
    opened = sent_for_inspection(operator, counterfeit_claim(customer, order))
    number = opened["number"]
    if state == S.CANCELLED:
        return acted(operator, number, "cancel", {"reason": "买家撤回"})
    if state == S.LAPSED:
        clock.shift(days=7)
        sweep()
        return operator.get(f"/inspections/{number}").json()
    if state == S.REQUESTED:
        return opened
    acted(customer, number, "ship", SHIP)
    if state == S.SENT:
        return operator.get(f"/inspections/{number}").json()
    acted(operator, number, "receive", {"label": opened["label"]})
    if state == S.RECEIVED:
        return operator.get(f"/inspections/{number}").json()
    return acted(operator, number, "verdict", {"verdict": "genuine", "report": REPORT})


def taking(action, inspection, customer, operator):
    actor = customer if action == Action.SHIP else operator
    body = {
        Action.SHIP: SHIP,
        Action.RECEIVE: {"label": inspection["label"]},
        Action.VERDICT: {"verdict": "inconclusive", "report": REPORT},
        Action.CANCEL: {"reason": "x"},
    }[action]
    return act(actor, inspection["number"], action, body)


@pytest.mark.parametrize("action", sorted(PERSON_ACTIONS))
@pytest.mark.parametrize("state", list(S))
def test_every_state_and_action_through_the_api(state, action, customer, operator, order, clock):
    # given an inspection in ``state``
    inspection = inspection_in(state, customer, operator, order, clock)
    assert inspection["state"] == state
    events = Event.objects.count()

    # when the action's person takes it
    response = taking(action, inspection, customer, operator)

    # then the table decides: its next state, or 409 and nothing written
    move = INSPECTIONS.index.get((state, action))
    if move is None:
        assert response.status_code == 409, response.content
        assert response.json()["code"] == "action_not_allowed"
        assert Event.objects.count() == events
        assert Inspection.objects.get(number=inspection["number"]).state == state
    else:
        assert response.status_code == 200, response.content
        assert response.json()["state"] == move.target


# --- the due times ------------------------------------------------------------------------------


def test_goods_not_sent_within_the_return_shipment_time_lapse_the_request(
    customer, operator, order, clock
):
    # given an inspection requested now (the taobao preset: buyer_return_shipment P7D)
    opened = sent_for_inspection(operator, counterfeit_claim(customer, order))
    number = opened["number"]

    # when the clock stands a second before the end, then at it
    clock.shift(days=7, seconds=-1)
    assert sweep().acted == 0
    assert Inspection.objects.get(number=number).state == S.REQUESTED
    clock.shift(seconds=1)
    sweep()

    # then the request lapsed, both sides are told, and the goods may no longer be sent
    lapsed = Inspection.objects.get(number=number)
    assert (lapsed.state, lapsed.resolved_at) == (S.LAPSED, clock.now)
    kinds = set(Notice.objects.filter(inspection=lapsed).values_list("kind", flat=True))
    assert {"inspection_lapsed", "inspection_lapsed_shop"} <= kinds
    assert act(customer, number, "ship", SHIP).json()["code"] == "action_not_allowed"


def test_goods_not_received_in_time_remind_the_platform(customer, operator, order, clock):
    # given goods sent to the center (the taobao preset: seller_receipt P10D)
    opened = sent_for_inspection(operator, counterfeit_claim(customer, order))
    acted(customer, opened["number"], "ship", SHIP)

    # when ten days pass, to the second
    clock.shift(days=10, seconds=-1)
    assert sweep().acted == 0
    clock.shift(seconds=1)
    sweep()

    # then the inspection stays on the way, marked overdue, and its operator is told
    inspection = Inspection.objects.get(number=opened["number"])
    assert (inspection.state, inspection.escalated_at) == (S.SENT, clock.now)
    assert inspection.deadline_action == ""
    operator_id = User.objects.get(username="platform").pk
    assert Notice.objects.filter(
        inspection=inspection, kind="inspection_overdue", recipient_id=operator_id
    ).exists()
    # and the center may still confirm the receipt
    acted(operator, opened["number"], "receive", {"label": opened["label"]})


def test_a_verdict_overdue_after_verdict_due_reminds_the_platform(customer, operator, order, clock):
    # given goods received at the center now (inspection.verdict_due P7D)
    received = at_the_center(customer, operator, counterfeit_claim(customer, order))
    assert dt.datetime.fromisoformat(received["deadline_at"]) == clock.now + dt.timedelta(days=7)

    # when seven days pass, to the second
    clock.shift(days=7, seconds=-1)
    assert sweep().acted == 0
    clock.shift(seconds=1)
    assert sweep().acted == 1

    # then it is marked overdue (staff only), once, and still awaits its verdict
    inspection = Inspection.objects.get(number=received["number"])
    assert (inspection.state, inspection.escalated_at) == (S.RECEIVED, clock.now)
    clock.shift(days=7)
    assert sweep().acted == 0
    actions = [
        e["action"] for e in customer.get(f"/inspections/{received['number']}").json()["events"]
    ]
    assert "escalate" not in actions
    assert Event.objects.filter(inspection=inspection, action="escalate").count() == 1
    acted(operator, received["number"], "verdict", {"verdict": "genuine", "report": REPORT})


# --- the verdicts -------------------------------------------------------------------------------


def test_counterfeit_is_the_proof_records_the_violation_and_grants_ten_fold_once(operator, clock):
    # given a counterfeit claim on a Pinduoduo shop whose goods reached the center
    buyer, order = marketplace_buyer("pinduoduo")
    case_number = counterfeit_claim(buyer, order)
    received = at_the_center(buyer, operator, case_number)
    number = received["number"]

    # when the center finds them counterfeit
    body = {"verdict": "counterfeit", "report": REPORT}
    decided = acted(operator, number, "verdict", body)

    # then the case holds the proof, on its timeline
    case = Case.objects.get(number=case_number)
    assert case.authenticity_verdict == "counterfeit" and counterfeit_proven(case)
    recorded = case.events.get(action="center_verdict")
    assert (recorded.data["inspection"], recorded.data["authenticity"]) == (number, "counterfeit")
    # the shop has a counterfeit violation (12 points, serious), caused by the inspection
    violation = Violation.objects.get(shop=case.shop)
    assert (violation.kind, violation.points) == ("counterfeit", 12)
    assert (violation.source_type, violation.source_id) == (
        "inspection",
        Inspection.objects.get(number=number).pk,
    )
    # and ten times the price (100.00) was granted by the system, as a coupon
    granted = Compensation.objects.get(case=case)
    assert (granted.reason, granted.kind, granted.amount) == (
        "counterfeit",
        "coupon",
        Decimal("1000.00"),
    )
    assert decided["compensation_code"] == granted.code
    assert decided["violation_number"] == violation.number
    assert (decided["fee_payer"], decided["fee"]) == ("seller", "0.00")
    # a repeated request changes nothing: one verdict, one grant, one violation
    again = act(operator, number, "verdict", body)
    assert (again.status_code, again.json()["code"]) == (409, "action_not_allowed")
    assert Compensation.objects.filter(case=case).count() == 1
    assert Violation.objects.filter(shop=case.shop).count() == 1
    # the buyer and the shop are told
    kinds = set(Notice.objects.filter(inspection__number=number).values_list("kind", flat=True))
    assert {"inspection_decided", "inspection_decided_shop"} <= kinds


def test_a_case_compensated_already_keeps_its_one_grant(operator, clock):
    # given a counterfeit claim the shop's own inspection proved and compensated
    buyer, order = marketplace_buyer("pinduoduo")
    case_number = counterfeit_claim(buyer, order)
    case = Case.objects.get(number=case_number)
    Case.objects.filter(pk=case.pk).update(authenticity_verdict="counterfeit")
    lead = make_user("pdd-lead", "lead", shop="pinduoduo")
    first = lead.post(
        f"/cases/{case_number}/compensations",
        {"reason": "counterfeit", "kind": "store_credit"},
    )
    assert first.status_code in (200, 201), first.content
    received = at_the_center(buyer, operator, case_number)

    # when the center finds the goods counterfeit too
    decided = acted(
        operator, received["number"], "verdict", {"verdict": "counterfeit", "report": REPORT}
    )

    # then the grant is the one already given
    assert Compensation.objects.filter(case=case).count() == 1
    assert decided["compensation_code"] == Compensation.objects.get(case=case).code


def test_a_shop_without_violation_points_gets_none_and_a_claim_of_another_reason_no_ten_fold(
    customer, operator, order, clock
):
    # given the generic preset (no violation points) and a case that is no counterfeit claim
    policy_update(
        actor=SYSTEM, shop=Shop.objects.get(code="shop"), preset_name="generic", changes={}
    )
    case_number = open_case(customer, order, reason="quality_issue")["number"]
    received = at_the_center(customer, operator, case_number)

    # when the center finds the goods counterfeit
    decided = acted(
        operator, received["number"], "verdict", {"verdict": "counterfeit", "report": REPORT}
    )

    # then the proof is recorded, but no points and no ten-fold compensation
    assert Case.objects.get(number=case_number).authenticity_verdict == "counterfeit"
    assert not Violation.objects.exists()
    assert not Compensation.objects.exists()
    assert (decided["violation_number"], decided["compensation_code"]) == ("", "")


@pytest.mark.parametrize(
    ("preset", "payer_rule", "payer"),
    [
        ("generic", None, "buyer"),
        ("pinduoduo", None, "buyer"),
        ("pinduoduo", "seller", "seller"),
        ("generic", "platform", "platform"),
    ],
)
def test_genuine_sends_the_claim_back_and_charges_the_fee_per_policy(
    preset, payer_rule, payer, operator, clock
):
    # given an authentication fee of 50.00 and the preset's payer (or another one set)
    rule = {"authentication_fee": "50.00"}
    if payer_rule:
        rule["fee_payer_if_genuine"] = payer_rule
    buyer, order = marketplace_buyer(preset, inspection=rule)
    case_number = counterfeit_claim(buyer, order)
    received = at_the_center(buyer, operator, case_number)

    # when the center finds the goods genuine
    decided = acted(
        operator, received["number"], "verdict", {"verdict": "genuine", "report": "正品"}
    )

    # then the fee is owed by the policy's payer, shown to both sides in words
    assert (decided["fee"], decided["fee_payer"]) == ("50.00", payer)
    shown = buyer.get(f"/inspections/{received['number']}").json()
    assert shown["verdict"] == "genuine"
    assert any("50.00" in line for line in shown["explanation"])
    # the claim has no proof, nobody is compensated or penalised, and nothing is refunded
    case = Case.objects.get(number=case_number)
    assert case.authenticity_verdict == "genuine" and not counterfeit_proven(case)
    assert case.refunded_amount == Decimal("0.00")
    assert not Compensation.objects.exists() and not Violation.objects.exists()
    assert case.events.get(action="center_verdict").data["fee_payer"] == payer
    # and the shop may now reject the counterfeit claim: the case goes on
    lead = make_user(f"{preset}-agent", "agent", shop=preset)
    assert lead.act(case_number, "reject", {"reason": "鉴定为正品"}).status_code == 200


def test_inconclusive_proves_nothing_and_the_platform_pays(customer, operator, order, clock):
    policy_update(
        actor=SYSTEM,
        shop=Shop.objects.get(code="shop"),
        changes={"inspection": {"authentication_fee": "30.00"}},
    )
    received = at_the_center(customer, operator, counterfeit_claim(customer, order))
    decided = acted(
        operator, received["number"], "verdict", {"verdict": "inconclusive", "report": "无法判断"}
    )
    assert (decided["fee"], decided["fee_payer"]) == ("30.00", "platform")
    case = Case.objects.get(number=received["case_number"])
    assert case.authenticity_verdict == "inconclusive" and not counterfeit_proven(case)


# --- the case's deadline ------------------------------------------------------------------------


def test_the_cases_deadline_is_paused_while_the_goods_are_away(customer, operator, order, clock):
    # given a counterfeit claim the shop must answer within 5 days (taobao, shipped order)
    case_number = counterfeit_claim(customer, order)
    due = Case.objects.get(number=case_number).deadline_at
    clock.shift(days=1)

    # when the goods go to the center for three days
    opened = sent_for_inspection(operator, case_number)
    paused = Case.objects.get(number=case_number)
    assert (paused.deadline_at, paused.deadline_action) == (None, "")
    acted(customer, opened["number"], "ship", SHIP)
    clock.shift(days=3)
    assert Case.objects.get(number=case_number).state == "awaiting_seller"
    acted(operator, opened["number"], "receive", {"label": opened["label"]})
    acted(operator, opened["number"], "verdict", {"verdict": "genuine", "report": REPORT})

    # then the deadline runs again with the four days it had left
    resumed = Case.objects.get(number=case_number)
    assert resumed.deadline_at == due + dt.timedelta(days=3)
    assert resumed.deadline_action == "auto_approve"
    actions = list(resumed.events.order_by("id").values_list("action", flat=True))
    assert actions[-3:] == ["inspection_pause", "center_verdict", "inspection_resume"]


def test_a_cancelled_inspection_restarts_the_deadline(customer, operator, order, clock):
    case_number = counterfeit_claim(customer, order)
    due = Case.objects.get(number=case_number).deadline_at
    opened = sent_for_inspection(operator, case_number)
    clock.shift(hours=5)
    acted(operator, opened["number"], "cancel", {"reason": "买家撤回"})
    assert Case.objects.get(number=case_number).deadline_at == due + dt.timedelta(hours=5)


def test_the_shops_own_inspection_leaves_authenticity_to_the_center(
    customer, agent, operator, order, clock
):
    # given a counterfeit claim whose returned goods the shop is inspecting
    case_number = counterfeit_claim(customer, order)
    for api, action, body in [
        (agent, "approve", {}),
        (customer, "ship_return", {"carrier": "SF", "tracking_number": "SF1"}),
        (agent, "receive", {}),
    ]:
        assert api.act(case_number, action, body).status_code == 200
    # when the platform has the goods authenticated and finds them counterfeit
    received = at_the_center(customer, operator, case_number)
    at_center = agent.act(case_number, "inspect", {"result": "pass", "authenticity": "genuine"})
    assert (at_center.status_code, at_center.json()["code"]) == (
        409,
        "authenticity_at_the_center",
    )
    acted(operator, received["number"], "verdict", {"verdict": "counterfeit", "report": REPORT})

    # then the shop's inspection may not change the verdict, but may grade the goods
    refused = agent.act(case_number, "inspect", {"result": "pass", "authenticity": "genuine"})
    assert (refused.status_code, refused.json()["code"]) == (409, "authenticity_at_the_center")
    assert Case.objects.get(number=case_number).authenticity_verdict == "counterfeit"
    assert agent.act(case_number, "inspect", {"result": "pass"}).status_code == 200


# --- who may do what, and bad input -------------------------------------------------------------


def test_only_the_platform_records_the_verdict_and_other_shops_see_nothing(
    customer, agent, operator, order, clock
):
    # given goods at the center
    received = at_the_center(customer, operator, counterfeit_claim(customer, order))
    number = received["number"]
    body = {"verdict": "counterfeit", "report": REPORT}

    # then neither the shop's staff nor the buyer may record the verdict or open one
    lead = make_user("lead", "lead", shop="shop")
    for api in (customer, agent, lead):
        assert act(api, number, "verdict", body).status_code == 403
        assert send_for_inspection(api, received["case_number"]).status_code == 403
    assert Inspection.objects.get(number=number).verdict == ""
    # the shop and the buyer read it; another shop and another buyer do not
    assert agent.get(f"/inspections/{number}").status_code == 200
    assert customer.get(f"/inspections/{number}").status_code == 200
    make_shop("other")
    assert (
        make_user("agent-b", "agent", shop="other").get(f"/inspections/{number}").status_code == 404
    )
    make_order(external_id="O2", customer="C2")
    neighbour = make_user("buyer-2", "customer", shop="shop", customer="C2")
    assert neighbour.get(f"/inspections/{number}").status_code == 404
    assert neighbour.get("/inspections").json()["items"] == []
    listed = operator.get("/inspections", shop="shop", state="received").json()["items"]
    assert [row["number"] for row in listed] == [number]


def test_only_who_holds_the_goods_records_their_shipment(customer, agent, operator, order, clock):
    case_number = counterfeit_claim(customer, order)
    by_shop = sent_for_inspection(operator, case_number, sender="shop")["number"]
    assert customer.get(f"/inspections/{by_shop}").json()["available_actions"] == []
    assert agent.get(f"/inspections/{by_shop}").json()["available_actions"] == ["ship"]
    refused = act(customer, by_shop, "ship", SHIP)
    assert (refused.status_code, refused.json()["code"]) == (403, "not_the_sender")
    assert acted(agent, by_shop, "ship", SHIP)["state"] == S.SENT


def test_bad_input_changes_nothing(customer, operator, order, clock):
    case_number = counterfeit_claim(customer, order)
    # (the opening's body is checked by the API's schema: its refusals are validation errors)
    for body, code in (
        ({"case_number": "NOPE", "reason": "x"}, "case_not_found"),
        ({"case_number": case_number}, "validation_error"),
        ({"case_number": case_number, "reason": "x", "sender": "courier"}, "validation_error"),
        ({"case_number": case_number, "reason": "x", "dispute_number": "WQ1"}, "dispute_not_found"),
        ("not json", None),
    ):
        response = operator.post("/inspections", body)
        assert 400 <= response.status_code < 500, body
        assert code is None or response.json()["code"] == code, body
    assert not Inspection.objects.exists()
    opened = sent_for_inspection(operator, case_number)
    number = opened["number"]
    assert send_for_inspection(operator, case_number).json()["code"] == "inspection_under_way"
    acted(customer, number, "ship", SHIP)
    events = Event.objects.count()
    for action, body, code in (
        ("receive", {"label": "JD-WRONG"}, "label_mismatch"),
        ("receive", {}, "label_required"),
        ("receive", "not json", None),
    ):
        response = act(operator, number, action, body)
        assert 400 <= response.status_code < 500, body
        assert code is None or response.json()["code"] == code
    acted(operator, number, "receive", {"label": opened["label"].lower()})
    events = Event.objects.count()
    for body, code in (
        ({"verdict": "fake", "report": "x"}, "invalid_verdict"),
        ({"verdict": "counterfeit"}, "report_required"),
        ({"verdict": "counterfeit", "report": "   "}, "report_required"),
        (
            {"verdict": "counterfeit", "report": "x", "compensation_kind": "cash"},
            "invalid_compensation_kind",
        ),
    ):
        response = act(operator, number, "verdict", body)
        assert response.status_code == 422 and response.json()["code"] == code, body
    assert Event.objects.count() == events
    assert Inspection.objects.get(number=number).state == S.RECEIVED
    assert Case.objects.get(number=case_number).authenticity_verdict == ""


def test_an_order_never_shipped_has_no_goods_to_inspect(customer, operator, clock, db):
    order = make_order(external_id="U1", shipped=False)
    case_number = open_case(customer, order, kind="refund_only", reason="not_shipped")["number"]
    response = send_for_inspection(operator, case_number)
    assert (response.status_code, response.json()["code"]) == (422, "goods_not_delivered")


# --- the pages ----------------------------------------------------------------------------------


def signed_in(username: str) -> Client:
    user = User.objects.get(username=username)
    user.set_password("pw-page-1234")
    user.save()
    client = Client()
    assert client.login(username=username, password="pw-page-1234")
    return client


def test_the_desk_and_the_portal_show_the_inspection_and_its_verdict(
    customer, agent, operator, order, clock
):
    case_number = counterfeit_claim(customer, order)
    opened = sent_for_inspection(operator, case_number)
    number = opened["number"]
    desk = signed_in("platform")
    page = desk.get("/desk/inspections/")
    assert page.status_code == 200 and number in page.content.decode()
    page = desk.get(f"/desk/inspections/{number}/").content.decode()
    assert opened["label"] in page and "countdown" in page
    # the buyer records the shipment on the portal's form
    portal = signed_in("buyer")
    refused = portal.post(f"/inspections/{number}/act/ship/", {"carrier": "SF"})
    assert refused.status_code == 422
    assert portal.post(f"/inspections/{number}/act/ship/", SHIP).status_code == 302
    # the center receives and decides on the desk's forms
    assert (
        desk.post(
            f"/desk/inspections/{number}/act/receive/", {"label": opened["label"]}
        ).status_code
        == 302
    )
    done = desk.post(
        f"/desk/inspections/{number}/act/verdict/", {"verdict": "genuine", "report": "正品无误"}
    )
    assert done.status_code == 302
    # the buyer's case page and the inspection's page say the verdict in words
    with_words = portal.get(f"/cases/{case_number}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    text = with_words.content.decode()
    assert number in text and 'data-verdict="genuine"' in text
    page = portal.get(f"/inspections/{number}/").content.decode()
    assert "正品无误" in page and "Genuine" in page
    # and the shop's desk shows it on the case
    shop_desk = signed_in("agent")
    assert number in shop_desk.get(f"/desk/cases/{case_number}/").content.decode()


def test_every_action_has_a_label_a_visibility_and_registered_notices():
    kinds = registered_kinds()
    for action in INSPECTIONS.actions:
        assert str(Action(action).label)
        assert action in VISIBILITY
    for code in (
        "inspection_requested",
        "inspection_decided",
        "inspection_decided_shop",
        "inspection_overdue",
    ):
        assert code in kinds
