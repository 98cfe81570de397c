"""Disputes (维权 / 平台介入) and the jury (小法庭) through the API: when a buyer may open one
(at the edges of every window, on a moved clock), the case's deadline paused and resumed with
the time it had left, the decisions acting on the case through the ledger (never more than
requested), the shop's autonomy by its service score, the one appeal, the jury drawn again from
its seed, its majority and its window, the permissions, and bad input that changes nothing."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from aftersales.cases.models import Case, RefundEntry
from aftersales.core.actors import SYSTEM
from aftersales.core.errors import InvalidInput
from aftersales.core.models import Event, Notice
from aftersales.core.notices import registered_kinds
from aftersales.core.sweep import sweep
from aftersales.disputes.choices import Action, DisputeState
from aftersales.disputes.jury import POOL_PER_SEAT, redraw
from aftersales.disputes.lifecycle import DISPUTES
from aftersales.disputes.models import Decision, Dispute, Juror, JuryDraw
from aftersales.disputes.timeline import VISIBILITY
from aftersales.policy.services import policy_update
from tests.conftest import NOW, make_order, make_shop, make_user, open_case

User = get_user_model()
S = DisputeState


@pytest.fixture
def operator(db):
    return make_user("platform", "platform_operator")


@pytest.fixture
def lead(shop):
    return make_user("lead", "lead", shop="shop")


def open_dispute(api, case_number, kind="refund", dispute_class="product", **extra):
    body = {
        "case_number": case_number,
        "kind": kind,
        "dispute_class": dispute_class,
        "statement": "商品有质量问题，卖家拒绝退款",
        **extra,
    }
    return api.post("/disputes", body)


def opened(api, case_number, **extra) -> str:
    response = open_dispute(api, case_number, **extra)
    assert response.status_code == 201, response.content
    return response.json()["number"]


def act(api, number, action, body=None):
    return api.post(f"/disputes/{number}/actions/{action}", body or {})


def acted(api, number, action, body=None) -> dict:
    response = act(api, number, action, body)
    assert response.status_code == 200, response.content
    return response.json()


def rejected_case(customer, agent, order, **extra) -> str:
    number = open_case(customer, order, **extra)["number"]
    response = agent.act(number, "reject", {"reason": "商品无质量问题"})
    assert response.status_code == 200, response.content
    return number


def deciding(customer, agent, order, clock, evidence=None, **extra) -> str:
    """A dispute about a rejected case whose evidence window has closed."""
    number = opened(customer, rejected_case(customer, agent, order, **extra))
    if evidence:
        acted(customer, number, "add_evidence", {"kind": "text", "text": evidence})
    clock.shift(days=3)
    sweep()
    assert Dispute.objects.get(number=number).state == S.DECIDING
    return number


def case_events(case_number, action):
    return list(Case.objects.get(number=case_number).events.filter(action=action).order_by("id"))


# --- when a buyer may open one -------------------------------------------------------------------


def test_a_refund_dispute_opens_five_days_after_the_request_and_not_a_second_before(
    customer, order, clock
):
    case_number = open_case(customer, order)["number"]
    clock.shift(days=5, seconds=-1)
    response = open_dispute(customer, case_number)
    assert response.status_code == 422
    assert response.json()["code"] == "dispute_too_early"
    assert not Dispute.objects.exists()
    clock.shift(seconds=1)
    assert open_dispute(customer, case_number).status_code == 201


def test_a_rejection_may_be_disputed_at_once_for_seven_days(customer, agent, order, clock):
    case_number = rejected_case(customer, agent, order)
    clock.shift(days=7)
    response = open_dispute(customer, case_number)
    assert response.status_code == 422
    assert response.json()["code"] == "dispute_window_closed"
    clock.shift(seconds=-1)
    assert open_dispute(customer, case_number).status_code == 201


def test_a_case_the_seller_let_escalate_may_be_disputed_at_once(customer, agent, order, clock):
    case_number = open_case(customer, order)["number"]
    Case.objects.filter(number=case_number).update(escalated_at=NOW)
    assert open_dispute(customer, case_number).status_code == 201


def test_an_after_sale_dispute_opens_within_fifteen_days_of_the_trade(customer, order, clock):
    case_number = open_case(customer, order)["number"]
    assert customer.act(case_number, "cancel", {}).status_code == 200
    assert open_dispute(customer, case_number).json()["code"] == "case_ended"
    # the trade ended when the case closed (now): 15 days from the day after, in Shanghai
    zone = zoneinfo.ZoneInfo("Asia/Shanghai")
    end_day = NOW.astimezone(zone).date() + dt.timedelta(days=16)
    end = dt.datetime.combine(end_day, dt.time.min, tzinfo=zone).astimezone(dt.UTC)
    clock.set(end)
    response = open_dispute(customer, case_number, kind="after_sale")
    assert response.status_code == 422
    assert response.json()["code"] == "after_sale_window_closed"
    clock.set(end - dt.timedelta(seconds=1))
    response = open_dispute(customer, case_number, kind="after_sale")
    assert response.status_code == 201, response.content
    # an ended case has no deadline to pause
    assert response.json()["case_paused"] is False
    assert case_events(case_number, "dispute_pause") == []


def test_one_dispute_at_a_time_and_only_the_cases_customer(customer, agent, order, clock):
    case_number = rejected_case(customer, agent, order)
    make_order(external_id="O9", customer="C9")
    stranger = make_user("stranger", "customer", shop="shop", customer="C9")
    assert open_dispute(stranger, case_number).json()["code"] == "case_not_found"
    assert open_dispute(agent, case_number).status_code == 403
    opened(customer, case_number)
    assert open_dispute(customer, case_number).json()["code"] == "dispute_under_way"


# --- the case's deadline is paused, on the record ------------------------------------------------


def test_the_cases_deadline_is_paused_and_resumed_with_the_time_it_had_left(
    customer, agent, lead, operator, order, clock
):
    case_number = rejected_case(customer, agent, order)
    deadline = Case.objects.get(number=case_number).deadline_at
    assert deadline == NOW + dt.timedelta(days=7)
    clock.shift(days=2)
    number = opened(customer, case_number)
    case = Case.objects.get(number=case_number)
    assert (case.deadline_at, case.deadline_action) == (None, "")
    [pause] = case_events(case_number, "dispute_pause")
    assert pause.data["remaining_seconds"] == 5 * 86400
    assert pause.data["dispute"] == number
    # long past the old deadline, the sweep does not close the paused case
    clock.shift(days=10)
    sweep()
    assert Case.objects.get(number=case_number).state == "rejected"
    # and nobody moves the case while the platform has it
    assert customer.act(case_number, "cancel", {}).json()["code"] == "case_under_dispute"
    acted(operator, number, "decide", {"outcome": "reject", "reason": "证据不足"})
    acted(lead, number, "accept")
    case = Case.objects.get(number=case_number)
    assert case.deadline_at == NOW + dt.timedelta(days=12) + dt.timedelta(days=5)
    assert case.deadline_action == "auto_close"
    [resume] = case_events(case_number, "dispute_resume")
    assert resume.data["remaining_seconds"] == 5 * 86400
    # the customer reads both on the case's timeline
    shown = {e["action"] for e in customer.get(f"/cases/{case_number}").json()["events"]}
    assert {"dispute_pause", "dispute_resume"} <= shown
    # the deadline acts once its remaining time has run
    clock.shift(days=5, seconds=-1)
    sweep()
    assert Case.objects.get(number=case_number).state == "rejected"
    clock.shift(seconds=1)
    sweep()
    assert Case.objects.get(number=case_number).state == "closed"


def test_withdrawing_resumes_the_cases_deadline(customer, agent, order, clock):
    case_number = rejected_case(customer, agent, order)
    clock.shift(hours=30)
    number = opened(customer, case_number)
    clock.shift(days=1)
    acted(customer, number, "withdraw", {"reason": "已和卖家协商"})
    case = Case.objects.get(number=case_number)
    assert case.deadline_at == clock.now + dt.timedelta(days=7, hours=-30)
    assert Dispute.objects.get(number=number).state == S.WITHDRAWN


# --- decisions act on the case through the ledger ------------------------------------------------


def test_a_refund_in_full_is_paid_through_the_ledger_when_final(
    customer, agent, lead, operator, order, clock
):
    number = deciding(customer, agent, order, clock)
    dispute = Dispute.objects.get(number=number)
    body = acted(operator, number, "decide", {"outcome": "refund_full", "reason": "卖家未举证"})
    assert body["state"] == S.DECIDED
    assert body["decision"]["amount"] == "90.00"
    assert body["decision"]["calculation"]["refundable"] == "90.00"
    assert body["decision"]["explanation"]
    # nothing is paid while the shop may still appeal
    assert not RefundEntry.objects.filter(case=dispute.case).exists()
    body = acted(lead, number, "accept")
    assert body["state"] == S.FINAL
    case = Case.objects.get(pk=dispute.case_id)
    assert case.state == "refunded"
    assert case.refunded_amount == Decimal("90.00")
    assert sum(e.amount for e in RefundEntry.objects.filter(case=case)) == Decimal("90.00")
    assert case.lines.get().order_line.refunded_amount == Decimal("90.00")


def test_a_refund_in_part_pays_the_amount_and_no_more(customer, agent, operator, order, clock):
    number = deciding(customer, agent, order, clock)
    # in part is less than what is still requested; in full is exactly that
    for body, code in (
        ({"outcome": "refund_part", "amount": "90.00"}, "invalid_amount"),
        ({"outcome": "refund_part", "amount": "95"}, "invalid_amount"),
        ({"outcome": "refund_part"}, "amount_required"),
        ({"outcome": "refund_full", "amount": "100"}, "invalid_amount"),
        ({"outcome": "reject", "amount": "10"}, "invalid_amount"),
    ):
        response = act(operator, number, "decide", {**body, "reason": "部分责任"})
        assert response.status_code == 422, body
        assert response.json()["code"] == code, body
    assert not Decision.objects.exists()
    assert Dispute.objects.get(number=number).state == S.DECIDING
    acted(operator, number, "decide", {"outcome": "refund_part", "amount": "40", "reason": "部分"})
    clock.shift(days=7)  # the appeal window runs out: final
    sweep()
    dispute = Dispute.objects.get(number=number)
    assert dispute.state == S.FINAL
    assert dispute.case.refunded_amount == Decimal("40.00")
    assert dispute.case.state == "refunded"
    assert dispute.decision.executed_at == clock.now


def test_a_decision_proposes_the_violation_points_of_the_policy(
    customer, agent, lead, operator, order, clock
):
    number = deciding(customer, agent, order, clock)
    response = act(
        operator,
        number,
        "decide",
        {"outcome": "reject", "reason": "无质量问题", "violation_kind": "no_such_kind"},
    )
    assert response.json()["code"] == "unknown_violation_kind"
    body = acted(
        operator,
        number,
        "decide",
        {"outcome": "refund_full", "reason": "拒绝合理退款", "violation_kind": "refund_refused"},
    )
    assert body["decision"]["violation_points"] == 2
    assert body["decision"]["calculation"]["violation"]["rule"] == (
        "violations.kinds.refund_refused.points"
    )
    # no points on the shop while the decision may still be appealed
    from aftersales.violations.models import Violation

    assert not Violation.objects.exists()
    # when the shop accepts it, the decision is in force: the points are recorded on the shop,
    # naming the dispute, with their calculation
    acted(lead, number, "accept")
    violation = Violation.objects.get()
    dispute = Dispute.objects.get(number=number)
    assert (violation.kind, violation.points, violation.source_type, violation.source_id) == (
        "refund_refused",
        2,
        "dispute",
        dispute.id,
    )
    final = dispute.events.order_by("-id").first()
    assert final.data["violation"] == violation.number


def test_a_shop_whose_rules_keep_no_points_gets_none_proposed(
    customer, agent, operator, order, clock, admin
):
    # given a shop on the generic rules (no violation points)
    assert admin.put("/shops/shop/policy", {"preset": "generic"}).status_code == 200
    number = deciding(customer, agent, order, clock)
    response = act(
        operator,
        number,
        "decide",
        {"outcome": "reject", "reason": "无质量问题", "violation_kind": "refund_refused"},
    )
    assert (response.status_code, response.json()["code"]) == (422, "violations_disabled")
    assert Dispute.objects.get(number=number).state == S.DECIDING


# --- autonomy by the shop's service score ------------------------------------------------------


def set_score(operator, score):
    response = operator.put("/shops/shop/service-score", {"score": score, "reason": "体验分"})
    assert response.status_code == 200, response.content


def test_a_shop_at_480_is_not_overruled_on_refund_only_after_receipt(
    customer, agent, operator, order, clock
):
    number = deciding(customer, agent, order, clock, kind="refund_only")
    set_score(operator, "4.80")
    response = act(operator, number, "decide", {"outcome": "refund_full", "reason": "退款"})
    assert response.status_code == 422
    assert response.json()["code"] == "shop_autonomy"
    assert act(operator, number, "send_to_jury").json()["code"] == "shop_autonomy"
    # a rejection is always the platform's to give
    assert (
        act(operator, number, "decide", {"outcome": "reject", "reason": "驳回"}).status_code == 200
    )


def test_below_480_the_platform_decides_once_both_sides_were_heard(
    customer, agent, operator, order, clock
):
    case_number = rejected_case(customer, agent, order, kind="refund_only")
    number = opened(customer, case_number)
    set_score(operator, "4.79")
    acted(customer, number, "add_evidence", {"kind": "text", "text": "照片显示破损"})
    clock.shift(days=3)
    sweep()
    response = act(operator, number, "decide", {"outcome": "refund_full", "reason": "退款"})
    assert response.json()["code"] == "both_sides_first"
    set_score(operator, "4.59")
    assert (
        act(operator, number, "decide", {"outcome": "refund_full", "reason": "退款"}).status_code
        == 200
    )


def test_in_the_negotiate_band_the_shops_evidence_opens_the_decision(
    customer, agent, operator, order, clock
):
    case_number = rejected_case(customer, agent, order, kind="refund_only")
    number = opened(customer, case_number)
    set_score(operator, "4.60")
    acted(customer, number, "add_evidence", {"kind": "text", "text": "破损"})
    acted(agent, number, "add_evidence", {"kind": "text", "text": "发货前已检查"})
    clock.shift(days=3)
    sweep()
    assert (
        act(operator, number, "decide", {"outcome": "refund_full", "reason": "退款"}).status_code
        == 200
    )


def test_a_return_is_not_refund_only_and_the_score_does_not_matter(
    customer, agent, operator, order, clock
):
    number = deciding(customer, agent, order, clock)
    set_score(operator, "5.00")
    assert (
        act(operator, number, "decide", {"outcome": "refund_full", "reason": "退款"}).status_code
        == 200
    )


def test_the_evidence_window_and_the_decisions_due_time_act_to_the_second(
    customer, agent, operator, order, clock
):
    number = opened(customer, rejected_case(customer, agent, order))
    clock.shift(days=3, seconds=-1)
    sweep()
    assert Dispute.objects.get(number=number).state == S.EVIDENCE
    clock.shift(seconds=1)
    sweep()
    dispute = Dispute.objects.get(number=number)
    assert dispute.state == S.DECIDING
    assert dispute.deadline_at == clock.now + dt.timedelta(days=4)
    clock.shift(days=4, seconds=-1)
    sweep()
    assert Dispute.objects.get(number=number).escalated_at is None
    clock.shift(seconds=1)
    sweep()
    dispute = Dispute.objects.get(number=number)
    assert dispute.escalated_at == clock.now
    assert dispute.state == S.DECIDING
    # the overdue mark is the platform's own: the buyer does not read it
    seen = {e["action"] for e in customer.get(f"/disputes/{number}").json()["events"]}
    assert "escalate" not in seen and "close_evidence" in seen
    assert "escalate" in {e["action"] for e in operator.get(f"/disputes/{number}").json()["events"]}


# --- evidence ----------------------------------------------------------------------------------


def test_evidence_references_only_what_the_case_holds(customer, agent, order, clock):
    case_number = rejected_case(customer, agent, order)
    number = opened(customer, case_number)
    for body, code in (
        ({"kind": "text"}, "text_required"),
        ({"kind": "photo", "reference_id": 999}, "evidence_not_found"),
        ({"kind": "message", "reference_id": 999}, "evidence_not_found"),
        ({"kind": "tracking", "text": "SF000"}, "unknown_tracking_number"),
        ({"kind": "letter", "text": "x"}, "invalid_kind"),
    ):
        response = act(customer, number, "add_evidence", body)
        assert response.status_code in (400, 404, 422), body
        assert response.json()["code"] == code, body
    assert (
        act(customer, number, "add_evidence", {"kind": "contact", "reference_id": 1}).json()["code"]
        == "contact_log_is_the_shops"
    )
    body = acted(agent, number, "add_evidence", {"kind": "text", "text": "我方已发正品"})
    assert [e["side"] for e in body["evidence"]] == ["shop"]
    # the evidence window closes on time
    clock.shift(days=3)
    sweep()
    assert (
        act(customer, number, "add_evidence", {"kind": "text", "text": "迟到"}).status_code == 409
    )


# --- the appeal --------------------------------------------------------------------------------


def test_the_shop_appeals_once_and_the_review_changes_the_decision(
    customer, agent, lead, operator, order, clock
):
    number = deciding(customer, agent, order, clock)
    acted(operator, number, "decide", {"outcome": "refund_full", "reason": "卖家未举证"})
    assert act(agent, number, "appeal", {"reason": "x"}).status_code == 403
    assert act(lead, number, "appeal", {}).json()["code"] == "reason_required"
    body = acted(lead, number, "appeal", {"reason": "我方有发货视频"})
    assert body["state"] == S.APPEALED
    assert act(lead, number, "appeal", {"reason": "again"}).status_code == 409
    response = act(operator, number, "review", {"result": "changed", "reason": "复核"})
    assert response.json()["code"] == "outcome_required"
    body = acted(
        operator,
        number,
        "review",
        {"result": "changed", "outcome": "refund_part", "amount": "30", "reason": "双方均有责任"},
    )
    assert body["state"] == S.FINAL
    assert body["decision"]["review_result"] == "changed"
    assert [d["outcome"] for d in body["decisions"]] == ["refund_full", "refund_part"]
    assert Dispute.objects.get(number=number).case.refunded_amount == Decimal("30.00")
    assert act(lead, number, "appeal", {"reason": "again"}).status_code == 409


def test_an_upheld_decision_is_carried_out(customer, agent, lead, operator, order, clock):
    number = deciding(customer, agent, order, clock)
    acted(operator, number, "decide", {"outcome": "reject", "reason": "证据不足"})
    acted(lead, number, "appeal", {"reason": "申诉"})
    body = acted(operator, number, "review", {"result": "upheld", "reason": "维持"})
    assert body["decision"]["outcome"] == "reject"
    assert Dispute.objects.get(number=number).decision.executed_at is not None


def test_the_appeal_window_ends_to_the_second(customer, agent, lead, operator, order, clock):
    number = deciding(customer, agent, order, clock)
    acted(operator, number, "decide", {"outcome": "reject", "reason": "证据不足"})
    clock.shift(days=7)
    response = act(lead, number, "appeal", {"reason": "迟到的申诉"})
    assert response.json()["code"] == "appeal_window_closed"
    assert Dispute.objects.get(number=number).appeals == 0
    clock.shift(seconds=-1)
    assert act(lead, number, "appeal", {"reason": "及时的申诉"}).status_code == 200


# --- the jury ----------------------------------------------------------------------------------


@pytest.fixture
def jurors(shop, clock):
    """Five users who may sit (another shop's customers, old accounts, a signed order each) and
    three who may not (a new account, one without a signed order, a customer of the shop)."""
    policy_update(
        actor=SYSTEM,
        shop=shop,
        changes={"jury": {"size": 3, "majority": 2, "vote_window": "PT24H"}},
    )
    make_shop("other")
    apis = {}
    for name, signed in (
        ("j1", 1),
        ("j2", 1),
        ("j3", 1),
        ("j4", 1),
        ("j5", 1),
        ("new", 1),
        ("nil", 0),
    ):
        make_order(shop="other", external_id=f"X{name}", customer=name.upper(), signed=bool(signed))
        apis[name] = make_user(name, "customer", shop="other", customer=name.upper())
    make_order(external_id="OT", customer="T1")
    apis["tied"] = make_user("tied", "customer", shop="shop", customer="T1")
    User.objects.exclude(username="new").update(date_joined=NOW - dt.timedelta(days=100))
    return apis


def drawn(number) -> tuple[JuryDraw, list[str]]:
    draw = JuryDraw.objects.get(dispute__number=number)
    names = list(
        Juror.objects.filter(draw=draw)
        .order_by("position")
        .values_list("user__username", flat=True)
    )
    return draw, names


def test_the_jury_is_drawn_from_the_eligible_and_again_from_its_seed(
    customer, agent, operator, order, clock, jurors
):
    number = deciding(customer, agent, order, clock)
    assert act(customer, number, "send_to_jury").status_code == 403
    body = acted(operator, number, "send_to_jury")
    assert body["state"] == S.JURY
    draw, names = drawn(number)
    eligible = list(
        User.objects.filter(username__in=["j1", "j2", "j3", "j4", "j5"])
        .order_by("id")
        .values_list("id", flat=True)
    )
    assert draw.pool == eligible
    assert len(names) == 3
    ids = list(
        Juror.objects.filter(draw=draw).order_by("position").values_list("user_id", flat=True)
    )
    assert redraw(draw.pool, draw.seed, draw.size) == ids
    # the seed is on the dispute's record (for the staff and the platform, not the buyer)
    [sent] = Dispute.objects.get(number=number).events.filter(action="send_to_jury")
    assert sent.data["seed"] == draw.seed
    shown = [
        e
        for e in customer.get(f"/disputes/{number}").json()["events"]
        if e["action"] == "send_to_jury"
    ]
    assert "seed" not in shown[0]["data"]


def test_a_large_crowd_gives_a_bounded_pool_read_from_the_seed(
    customer, agent, operator, order, clock, jurors
):
    # given many more eligible users than a jury of 3 needs (its pool holds 10 per seat)
    for index in range(40):
        make_order(shop="other", external_id=f"Y{index}", customer=f"Y{index}", signed=True)
        make_user(f"crowd{index}", "customer", shop="other", customer=f"Y{index}")
    User.objects.update(date_joined=NOW - dt.timedelta(days=100))
    eligible = set(
        User.objects.filter(username__regex=r"^(j[1-5]|crowd\d+|new)$").values_list("id", flat=True)
    )
    number = deciding(customer, agent, order, clock)
    # when the platform sends the dispute to the jury
    acted(operator, number, "send_to_jury")
    # then the pool is 30 eligible users in id order, stored with the seed that drew the jury
    draw, _names = drawn(number)
    assert len(draw.pool) == POOL_PER_SEAT * 3 == 30
    assert draw.pool == sorted(draw.pool) and set(draw.pool) <= eligible
    jurors_drawn = list(draw.jurors.order_by("position").values_list("user_id", flat=True))
    assert redraw(draw.pool, draw.seed, draw.size) == jurors_drawn


def test_the_first_side_to_the_majority_decides(
    customer, agent, lead, operator, order, clock, jurors
):
    number = deciding(
        customer, agent, order, clock, evidence="我是顾客C1，电话 13800000000，shop 旗舰店骗人"
    )
    acted(operator, number, "send_to_jury")
    _draw, names = drawn(number)
    outsider = next(n for n in ("j1", "j2", "j3", "j4", "j5") if n not in names)
    assert (
        jurors[outsider].post(f"/jury/disputes/{number}/vote", {"side": "buyer"}).status_code == 404
    )
    # the juror reads the file without names or phone numbers
    file = jurors[names[0]].get(f"/jury/disputes/{number}").json()
    assert [item["side"] for item in file["evidence"]] == ["buyer"]
    assert "13800000000" not in str(file) and "顾客C1" not in str(file)
    assert "shop 旗舰店" not in str(file)
    assert (
        jurors[names[0]].post(f"/jury/disputes/{number}/vote", {"side": "maybe"}).status_code == 422
    )
    assert (
        jurors[names[0]].post(f"/jury/disputes/{number}/vote", {"side": "buyer"}).status_code == 200
    )
    response = jurors[names[0]].post(f"/jury/disputes/{number}/vote", {"side": "shop"})
    assert response.json()["code"] == "already_voted"
    assert Dispute.objects.get(number=number).state == S.JURY
    assert (
        jurors[names[1]].post(f"/jury/disputes/{number}/vote", {"side": "buyer"}).status_code == 200
    )
    dispute = Dispute.objects.get(number=number)
    assert dispute.state == S.DECIDED
    assert dispute.decision.by_jury and dispute.decision.outcome == "refund_full"
    assert dispute.decision.calculation["votes"] == {"buyer": 2, "shop": 0}
    assert (
        jurors[names[2]].post(f"/jury/disputes/{number}/vote", {"side": "shop"}).json()["code"]
        == "vote_closed"
    )
    acted(lead, number, "accept")
    assert Dispute.objects.get(number=number).case.refunded_amount == Decimal("90.00")


def test_too_few_votes_by_the_due_time_send_it_back_to_the_platform(
    customer, agent, operator, order, clock, jurors
):
    number = deciding(customer, agent, order, clock)
    acted(operator, number, "send_to_jury")
    _draw, names = drawn(number)
    assert (
        jurors[names[0]].post(f"/jury/disputes/{number}/vote", {"side": "shop"}).status_code == 200
    )
    clock.shift(hours=24, seconds=-1)
    sweep()
    assert Dispute.objects.get(number=number).state == S.JURY
    clock.shift(seconds=1)
    assert (
        jurors[names[1]].post(f"/jury/disputes/{number}/vote", {"side": "shop"}).json()["code"]
        == "vote_closed"
    )
    sweep()
    assert Dispute.objects.get(number=number).state == S.DECIDING
    assert (
        act(operator, number, "decide", {"outcome": "reject", "reason": "平台裁决"}).status_code
        == 200
    )


def test_with_short_vote_plurality_the_side_ahead_wins_when_the_vote_runs_out(
    customer, agent, operator, order, clock, jurors
):
    # given a policy where a vote short of a majority goes to the side with more votes
    policy_update(actor=SYSTEM, shop=order.shop, changes={"jury": {"short_vote": "plurality"}})
    number = deciding(customer, agent, order, clock)
    acted(operator, number, "send_to_jury")
    _draw, names = drawn(number)
    jurors[names[0]].post(f"/jury/disputes/{number}/vote", {"side": "shop"})
    # when the vote's window ends with one vote for the shop (short of the majority of 2)
    clock.shift(hours=24, seconds=-1)
    sweep()
    assert Dispute.objects.get(number=number).state == S.JURY
    clock.shift(seconds=1)
    sweep()
    # then the shop's side wins, by the jury, as the system
    dispute = Dispute.objects.get(number=number)
    assert dispute.state == S.DECIDED
    assert (dispute.decision.outcome, dispute.decision.by_jury) == ("reject", True)
    assert dispute.decision.calculation["votes"] == {"buyer": 0, "shop": 1}
    [expired] = dispute.events.filter(action="jury_expire")
    assert (expired.actor_name, expired.data["short_vote"], expired.data["side"]) == (
        "system",
        "plurality",
        "shop",
    )


def test_with_short_vote_plurality_a_tie_still_goes_to_the_platform(
    customer, agent, operator, order, clock, jurors
):
    # given the plurality rule and a vote tied one to one when the window ends
    policy_update(actor=SYSTEM, shop=order.shop, changes={"jury": {"size": 5, "majority": 3}})
    policy_update(actor=SYSTEM, shop=order.shop, changes={"jury": {"short_vote": "plurality"}})
    number = deciding(customer, agent, order, clock)
    acted(operator, number, "send_to_jury")
    _draw, names = drawn(number)
    jurors[names[0]].post(f"/jury/disputes/{number}/vote", {"side": "shop"})
    jurors[names[1]].post(f"/jury/disputes/{number}/vote", {"side": "buyer"})
    # when it runs out
    clock.shift(hours=24)
    sweep()
    # then the platform decides, as without the rule
    dispute = Dispute.objects.get(number=number)
    assert (dispute.state, dispute.decision) == (S.DECIDING, None)


def test_the_jury_policy_refuses_an_unknown_short_vote_rule(shop):
    with pytest.raises(InvalidInput) as refused:
        policy_update(actor=SYSTEM, shop=shop, changes={"jury": {"short_vote": "coin"}})
    assert (refused.value.code, refused.value.extra["field"]) == (
        "invalid_policy",
        "jury.short_vote",
    )


def test_a_juror_votes_on_the_page_and_the_buyer_may_withdraw_meanwhile(
    customer, agent, operator, order, clock, jurors
):
    number = deciding(customer, agent, order, clock)
    acted(operator, number, "send_to_jury")
    _draw, names = drawn(number)
    user = User.objects.get(username=names[0])
    user.set_password("pw-juror-123")
    user.save()
    client = Client()
    assert client.login(username=names[0], password="pw-juror-123")
    page = client.get(f"/disputes/jury/{number}/")
    assert page.status_code == 200 and 'value="buyer"' in page.content.decode()
    assert client.post(f"/disputes/jury/{number}/", {"side": "nobody"}).status_code == 422
    assert client.post(f"/disputes/jury/{number}/", {"side": "shop"}).status_code == 302
    assert Juror.objects.get(user=user).vote == "shop"
    assert "data-voted" in client.get(f"/disputes/jury/{number}/").content.decode()
    # the buyer withdraws: the round ends, nobody votes any more
    acted(customer, number, "withdraw")
    response = jurors[names[1]].post(f"/jury/disputes/{number}/vote", {"side": "buyer"})
    assert response.json()["code"] == "vote_closed"


def test_a_jury_needs_enough_eligible_users(customer, agent, operator, order, clock, jurors):
    policy_update(actor=SYSTEM, shop=order.shop, changes={"jury": {"size": 7, "majority": 4}})
    case_number = rejected_case(customer, agent, order)
    number = opened(customer, case_number)
    clock.shift(days=3)
    sweep()
    response = act(operator, number, "send_to_jury")
    assert response.json()["code"] == "jury_too_small"
    assert not JuryDraw.objects.exists()


# --- who may do what, and bad input ------------------------------------------------------------


def test_only_the_platform_decides_and_reads_across_shops(
    customer, agent, lead, operator, order, clock
):
    number = deciding(customer, agent, order, clock)
    body = {"outcome": "reject", "reason": "x"}
    for api in (customer, agent, lead):
        assert act(api, number, "decide", body).status_code == 403
    make_shop("other")
    other_shop_agent = make_user("agent-b", "agent", shop="other")
    assert other_shop_agent.get(f"/disputes/{number}").status_code == 404
    assert operator.get(f"/disputes/{number}").status_code == 200
    assert [row["number"] for row in operator.get("/disputes").json()["items"]] == [number]
    assert agent.put("/shops/shop/service-score", {"score": "1", "reason": "x"}).status_code == 403


def test_bad_input_changes_nothing(customer, agent, operator, order, clock):
    number = deciding(customer, agent, order, clock)
    events = Event.objects.count()
    for body in (
        {"outcome": "maybe", "reason": "x"},
        {"outcome": "reject"},
        {"outcome": "reject", "reason": "   "},
        {"outcome": "refund_part", "amount": "-5", "reason": "x"},
        {"outcome": "refund_part", "amount": "1.234", "reason": "x"},
        "not json",
    ):
        response = act(operator, number, "decide", body)
        assert 400 <= response.status_code < 500, body
        assert "code" in response.json()
    assert Event.objects.count() == events
    assert Dispute.objects.get(number=number).state == S.DECIDING
    response = open_dispute(customer, "NOPE")
    assert response.json()["code"] == "case_not_found"
    too_high = {"score": "5.01", "reason": "x"}
    assert operator.put("/shops/shop/service-score", too_high).status_code == 422


def test_the_desk_and_the_portal_show_the_dispute(customer, agent, operator, order, clock):
    case_number = rejected_case(customer, agent, order)
    number = opened(customer, case_number)
    user = User.objects.get(username="platform")
    user.set_password("pw-platform-1")
    user.save()
    client = Client()
    assert client.login(username="platform", password="pw-platform-1")
    page = client.get("/desk/disputes/")
    assert page.status_code == 200 and number in page.content.decode()
    page = client.get(f"/desk/disputes/{number}/")
    assert page.status_code == 200 and "countdown" in page.content.decode()


def test_the_buyer_opens_a_dispute_from_the_portal(customer, agent, order, clock):
    case_number = rejected_case(customer, agent, order)
    user = User.objects.get(username="buyer")
    user.set_password("pw-buyer-123")
    user.save()
    client = Client()
    assert client.login(username="buyer", password="pw-buyer-123")
    # the case's page leads to the form
    assert f"/disputes/open/{case_number}/" in client.get(f"/cases/{case_number}/").content.decode()
    page = client.get(f"/disputes/open/{case_number}/")
    assert page.status_code == 200
    refused = client.post(f"/disputes/open/{case_number}/", {"kind": "refund"})
    assert refused.status_code == 422
    assert not Dispute.objects.exists()
    response = client.post(
        f"/disputes/open/{case_number}/",
        {"kind": "refund", "dispute_class": "logistics", "statement": "快递破损"},
    )
    assert response.status_code == 302
    number = Dispute.objects.get().number
    page = client.get(f"/disputes/{number}/")
    assert page.status_code == 200 and number in page.content.decode()


# --- every action complete ---------------------------------------------------------------------


def test_every_action_has_a_label_a_visibility_and_registered_notices():
    kinds = registered_kinds()
    for action in DISPUTES.actions:
        assert str(Action(action).label)
        assert action in VISIBILITY
    for code in ("dispute_opened", "dispute_decided", "dispute_final", "dispute_escalated"):
        assert code in kinds


# --- e-mails --------------------------------------------------------------------------------------


def test_the_customer_receives_the_platforms_decision_by_e_mail(
    customer, agent, operator, order, clock
):
    from django.core import mail

    from aftersales.catalog.models import Customer
    from aftersales.notify.models import Delivery
    from aftersales.notify.services import notifications_deliver

    # given a buyer with an address who reads English, and a dispute waiting for the platform
    Customer.objects.filter(external_id="C1").update(email="buyer@example.com", language="en")
    number = deciding(customer, agent, order, clock)
    Notice.objects.update(delivered_at=NOW)
    Delivery.objects.update(status="delivered", delivered_at=NOW)
    mail.outbox.clear()
    # when the platform decides and the notices go out
    acted(operator, number, "decide", {"outcome": "reject", "reason": "No quality problem found"})
    notifications_deliver()
    # then the buyer's e-mail tells the decision and its reason, with a link to the dispute; the
    # shop's notice is on its bell, not in anyone's mailbox
    [message] = mail.outbox
    assert message.to == ["buyer@example.com"]
    assert message.subject == f"Dispute {number}: the platform's decision"
    assert "Decision: Reject the claim" in message.body
    assert "Reason: No quality problem found" in message.body
    assert f"/disputes/{number}/" in message.body
    assert Notice.objects.filter(kind="dispute_decided_shop", delivered_at__isnull=False).exists()
