"""Violation points (违规扣分) and the refund rate by fault: the steps at their edges, the
platform year's reset in Asia/Shanghai, a penalty's end by the sweep, the one appeal, a withdrawn
violation recomputing the penalties, a policy without violation points, the refund rate on a
known dataset, who may do what, and the desk's pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from aftersales.cases.models import Case
from aftersales.core.actors import SYSTEM
from aftersales.core.errors import Ineligible, InvalidInput, PermissionDenied
from aftersales.core.models import Event, Notice
from aftersales.core.sweep import sweep
from aftersales.policy.rules import policy_data_complete
from aftersales.policy.services import policy_current, policy_update
from aftersales.team.services import user_create
from aftersales.violations.models import Penalty, Violation
from aftersales.violations.services import violation_record
from tests.conftest import NOW, make_order, make_shop, make_user

UTC = dt.UTC


@pytest.fixture
def operator(db):
    return make_user("op", "platform_operator")


@pytest.fixture
def boss(shop):
    """The shop's administrator (who may appeal)."""
    return make_user("boss", "admin", shop="shop")


def set_kinds(shop, **kinds):
    """The shop's policy with some kinds' class and points changed (``kind=(class, points)``)."""
    section = policy_data_complete(policy_current(shop=shop))["violations"]
    changed = {
        **section["kinds"],
        **{
            kind: {"violation_class": klass, "points": points}
            for kind, (klass, points) in kinds.items()
        },
    }
    policy_update(actor=SYSTEM, shop=shop, changes={"violations": {**section, "kinds": changed}})


def record(api, kind, shop="shop", reason="超时未发货"):
    return api.post("/violations", {"shop": shop, "kind": kind, "reason": reason})


def recorded(api, kind, shop="shop") -> dict:
    response = record(api, kind, shop)
    assert response.status_code == 201, response.content
    return response.json()


def penalties(shop_code="shop") -> list[Penalty]:
    return list(Penalty.objects.filter(shop__code=shop_code).order_by("id"))


def standing(api, shop="shop") -> dict:
    response = api.get(f"/shops/{shop}/standing")
    assert response.status_code == 200, response.content
    return response.json()


def points(api, violation_class: str, shop="shop") -> int:
    classes = {row["violation_class"]: row for row in standing(api, shop)["classes"]}
    return classes[violation_class]["points"]


# --- recording and its calculation


def test_a_violation_carries_its_points_from_the_policy_and_its_calculation(operator, agent):
    # when the operator records a late shipment (Taobao preset: general, 3 points)
    body = recorded(operator, "late_shipment")
    # then it counts 3 general points this year, with the rule and the totals that give them
    assert body["violation_class"] == "general"
    assert body["points"] == 3
    assert body["state"] == "recorded"
    assert body["recorded_by"] == "op"
    assert body["year"] == 2026
    assert body["calculation"] == {
        "rule": "violations.kinds.late_shipment",
        "kind": "late_shipment",
        "violation_class": "general",
        "points": 3,
        "year": 2026,
        "timezone": "Asia/Shanghai",
        "total_before": 0,
        "total_after": 3,
        "policy_version": body["policy_version"],
    }
    assert "0 → 3" in body["calculation_text"]
    assert "violations.kinds.late_shipment" in body["calculation_text"]
    assert body["penalties"] == []
    assert [e["action"] for e in body["events"]] == ["record"]
    assert body["number"].startswith("WG20261124")
    # and the shop's team is told
    assert Notice.objects.filter(kind="violation_recorded").count() == 1
    assert points(agent, "general") == 3


def test_general_points_start_a_penalty_at_12_not_at_11(shop, operator, agent):
    # given kinds worth 3 and 1 general points
    set_kinds(shop, refund_refused=("general", 1))
    for kind in ("late_shipment", "late_shipment", "late_shipment", "refund_refused"):
        recorded(operator, kind)
    # when the total is 10, then 11: no penalty
    recorded(operator, "refund_refused")
    assert points(agent, "general") == 11
    assert penalties() == []
    # when one more point makes 12
    body = recorded(operator, "refund_refused")
    # then the general step at 12 starts: 12 days of its measures, from now
    [penalty] = penalties()
    assert body["penalties"] == [penalty.number]
    assert penalty.state == "active"
    assert penalty.step_points == 12
    assert penalty.days == 12
    assert penalty.measures == ["shop_hidden", "listing_restricted", "public_warning"]
    assert penalty.starts_at == NOW
    assert penalty.ends_at == NOW + dt.timedelta(days=12)
    assert penalty.deadline_at == penalty.ends_at
    assert penalty.deadline_action == "end"
    assert penalty.calculation["total_before"] == 11
    assert penalty.calculation["total_after"] == 12
    assert penalty.calculation["rule"] == "violations.general[0]"
    assert penalty.calculation["violation"] == body["number"]


def test_serious_steps_at_24_and_48_the_last_permanent(shop, operator, agent):
    set_kinds(
        shop,
        counterfeit=("serious", 12),
        late_shipment=("serious", 11),
        harassment=("serious", 1),
    )
    recorded(operator, "counterfeit")  # 12: 7 days
    recorded(operator, "late_shipment")  # 23
    assert [p.step_points for p in penalties()] == [12]
    recorded(operator, "harassment")  # 24: 14 days
    assert [(p.step_points, p.days) for p in penalties()] == [(12, 7), (24, 14)]
    recorded(operator, "counterfeit")  # 36: 21 days
    recorded(operator, "late_shipment")  # 47
    assert [p.step_points for p in penalties()] == [12, 24, 36]
    assert points(agent, "serious") == 47
    recorded(operator, "harassment")  # 48: the permanent ban
    ban = penalties()[-1]
    assert (ban.step_points, ban.days, ban.ends_at) == (48, None, None)
    assert ban.state == "permanent"
    assert ban.measures == ["banned"]
    assert ban.deadline_at is None
    assert "permanently" in agent.get(f"/penalties/{ban.number}").json()["calculation_text"]


def test_one_violation_crossing_two_steps_starts_the_highest(shop, operator):
    set_kinds(shop, counterfeit=("serious", 25))
    recorded(operator, "counterfeit")
    [penalty] = penalties()
    assert penalty.step_points == 24
    assert penalty.calculation["steps_crossed"] == [12, 24]


# --- the platform's year


def test_the_points_restart_at_midnight_on_1_january_in_shanghai(shop, operator, agent, clock):
    # 23:59:59 on 31 Dec in Shanghai still counts in 2026
    clock.set(dt.datetime(2026, 12, 31, 15, 59, 59, tzinfo=UTC))
    late = recorded(operator, "counterfeit")
    assert late["year"] == 2026
    assert late["calculation"]["total_before"] == 0
    assert standing(agent)["year"] == 2026
    assert points(agent, "serious") == 12
    # 00:00:00 on 1 Jan in Shanghai is the new year: the total starts from 0 again
    clock.set(dt.datetime(2026, 12, 31, 16, 0, 0, tzinfo=UTC))
    assert standing(agent)["year"] == 2027
    assert points(agent, "serious") == 0
    early = recorded(operator, "counterfeit")
    assert early["year"] == 2027
    assert early["calculation"]["total_before"] == 0
    assert early["calculation"]["total_after"] == 12
    assert points(agent, "serious") == 12
    # each year reached its own step at 12
    assert [(p.year, p.step_points) for p in penalties()] == [(2026, 12), (2027, 12)]
    assert standing(agent)["resets_at"].startswith("2027-12-31T16:00:00")


# --- a penalty's end


def test_the_sweep_ends_a_penalty_at_its_end_and_not_before(operator, agent, clock):
    recorded(operator, "counterfeit")  # serious 12: 7 days
    [penalty] = penalties()
    assert standing(agent)["penalties_in_force"][0]["number"] == penalty.number
    # a second before its end it stays
    clock.set(penalty.ends_at - dt.timedelta(seconds=1))
    sweep()
    penalty.refresh_from_db()
    assert penalty.state == "active"
    # at its end the sweep ends it, as the system, and tells the shop
    clock.set(penalty.ends_at)
    assert sweep().acted == 1
    penalty.refresh_from_db()
    assert penalty.state == "ended"
    assert penalty.resolved_at == penalty.ends_at
    assert penalty.deadline_at is None
    body = agent.get(f"/penalties/{penalty.number}").json()
    assert [(e["action"], e["actor"]) for e in body["events"]] == [
        ("start", "system"),
        ("end", "system"),
    ]
    assert body["in_force"] is False
    assert Notice.objects.filter(kind="penalty_ended", subject_id=penalty.pk).count() == 1
    assert standing(agent)["penalties_in_force"] == []


# --- the one appeal


def test_a_violation_may_be_appealed_once(operator, boss):
    number = recorded(operator, "late_shipment")["number"]
    appealed = boss.post(f"/violations/{number}/actions/appeal", {"text": "物流延误，有凭证"})
    assert appealed.status_code == 200, appealed.content
    assert appealed.json()["state"] == "appealed"
    assert appealed.json()["appeal"]["text"] == "物流延误，有凭证"
    # the operator upholds it with a reason: it counts again
    upheld = operator.post(f"/violations/{number}/actions/uphold", {"reason": "凭证不足"})
    assert upheld.status_code == 200, upheld.content
    assert upheld.json()["state"] == "recorded"
    assert upheld.json()["appeal"]["decision"] == "upheld"
    assert upheld.json()["appeal"]["reason"] == "凭证不足"
    # a second appeal is refused and changes nothing
    again = boss.post(f"/violations/{number}/actions/appeal", {"text": "再申诉"})
    assert again.status_code == 409
    assert again.json()["code"] == "already_appealed"
    assert Violation.objects.get(number=number).appeal_text == "物流延误，有凭证"
    assert "appeal" not in boss.get(f"/violations/{number}").json()["available_actions"]


def test_the_appeal_window_closes_on_a_moved_clock(operator, boss, clock, shop):
    # given a policy giving the shop two days to appeal, and a violation and its penalty
    policy_update(actor=SYSTEM, shop=shop, changes={"violations": {"appeal_window": "P2D"}})
    number = recorded(operator, "counterfeit")["number"]
    [penalty] = penalties()
    # a second before the window ends the appeal is offered
    clock.shift(days=2, seconds=-1)
    assert "appeal" in boss.get(f"/violations/{number}").json()["available_actions"]
    # when the window has ended
    clock.shift(seconds=1)
    # then neither may be appealed any more, and nothing changes
    for path in (f"/violations/{number}", f"/penalties/{penalty.number}"):
        assert "appeal" not in boss.get(path).json()["available_actions"]
        refused = boss.post(f"{path}/actions/appeal", {"text": "迟到的申诉"})
        assert (refused.status_code, refused.json()["code"]) == (422, "appeal_window_closed")
        assert "2026-11-26 10:00" in refused.json()["detail"]  # the end, in the shop's time
    assert Violation.objects.get(number=number).appealed_at is None
    assert Penalty.objects.get(pk=penalty.pk).state == "active"


def test_the_default_appeal_window_is_seven_days(operator, boss, clock):
    number = recorded(operator, "late_shipment")["number"]
    clock.shift(days=7)
    refused = boss.post(f"/violations/{number}/actions/appeal", {"text": "x"})
    assert refused.json()["code"] == "appeal_window_closed"


def test_the_policy_refuses_a_missing_appeal_window_and_disordered_weights(shop):
    section = policy_data_complete(policy_current(shop=shop))["violations"]
    for changes, field in (
        ({"appeal_window": "P0D"}, "violations.appeal_window"),
        (
            {"refund_weights": {"seller_intervened": "1.00", "seller": "2.00", "other": "0.50"}},
            "violations.refund_weights",
        ),
        (
            {"refund_weights": {"seller_intervened": "3.00", "seller": "1.00", "other": "-1"}},
            "violations.refund_weights.other",
        ),
    ):
        with pytest.raises(InvalidInput) as refused:
            policy_update(actor=SYSTEM, shop=shop, changes={"violations": {**section, **changes}})
        assert refused.value.extra["field"] == field


def test_a_penalty_may_be_appealed_once(operator, boss, clock):
    recorded(operator, "counterfeit")
    [penalty] = penalties()
    path = f"/penalties/{penalty.number}/actions"
    assert boss.post(f"{path}/appeal", {"text": "非假货"}).json()["state"] == "appealed"
    # while appealed it does not end on its own, and it cannot be appealed again
    assert Penalty.objects.get(pk=penalty.pk).deadline_at is None
    assert boss.post(f"{path}/appeal", {"text": "x"}).json()["code"] == "action_not_allowed"
    # upheld after its end time passed: back in force, and the next sweep ends it
    clock.set(penalty.ends_at + dt.timedelta(hours=1))
    upheld = operator.post(f"{path}/uphold", {"reason": "鉴定报告确认"})
    assert upheld.json()["state"] == "active"
    assert upheld.json()["in_force"] is False
    again = boss.post(f"{path}/appeal", {"text": "x"})
    assert (again.status_code, again.json()["code"]) == (409, "already_appealed")
    sweep()
    assert Penalty.objects.get(pk=penalty.pk).state == "ended"


def test_a_withdrawn_penalty_ends_now_and_keeps_the_points(operator, boss, agent):
    recorded(operator, "counterfeit")
    [penalty] = penalties()
    boss.post(f"/penalties/{penalty.number}/actions/appeal", {"text": "x"})
    withdrawn = operator.post(f"/penalties/{penalty.number}/actions/withdraw", {"reason": "误判"})
    assert withdrawn.json()["state"] == "withdrawn"
    assert withdrawn.json()["in_force"] is False
    assert points(agent, "serious") == 12
    assert standing(agent)["penalties_in_force"] == []


def test_a_withdrawn_violation_removes_its_points_and_lifts_what_no_longer_holds(
    operator, boss, agent
):
    first = recorded(operator, "counterfeit")["number"]  # 12: penalty at 12
    second = recorded(operator, "counterfeit")["number"]  # 24: penalty at 24
    at_12, at_24 = penalties()
    # when the second is appealed and withdrawn
    boss.post(f"/violations/{second}/actions/appeal", {"text": "重复处罚"})
    done = operator.post(f"/violations/{second}/actions/withdraw", {"reason": "同一事实重复记录"})
    assert done.status_code == 200, done.content
    # then its points no longer count, the step at 24 is lifted, the one at 12 holds
    assert done.json()["state"] == "withdrawn"
    assert points(agent, "serious") == 12
    at_12.refresh_from_db()
    at_24.refresh_from_db()
    assert (at_12.state, at_24.state) == ("active", "lifted")
    withdraw = next(e for e in done.json()["events"] if e["action"] == "withdraw")
    assert withdraw["data"]["penalties_lifted"] == [at_24.number]
    assert withdraw["data"]["total_after"] == 12
    # and the same for the first: nothing is left
    boss.post(f"/violations/{first}/actions/appeal", {"text": "x"})
    operator.post(f"/violations/{first}/actions/withdraw", {"reason": "y"})
    at_12.refresh_from_db()
    assert at_12.state == "lifted"
    assert points(agent, "serious") == 0
    # a new violation climbs from 0 again
    again = recorded(operator, "counterfeit")
    assert again["calculation"]["total_before"] == 0
    assert penalties()[-1].state == "active"


# --- a policy without violation points


def test_a_generic_shop_refuses_violations_with_a_clear_code(operator, db, clock):
    make_shop("own", preset="generic")
    response = record(operator, "counterfeit", shop="own")
    assert response.status_code == 422
    assert response.json()["code"] == "violations_disabled"
    assert Violation.objects.count() == 0
    assert Event.objects.filter(action="record").count() == 0


# --- the service for the other parts


def test_violation_record_for_another_part_as_the_system(shop):
    violation = violation_record(
        shop=shop,
        kind="counterfeit",
        reason="鉴定中心判定为假货",
        source_type="inspection",
        source_id=7,
        actor=SYSTEM,
    )
    assert (violation.source_type, violation.source_id) == ("inspection", 7)
    assert violation.recorded_by_name == "system"
    assert violation.number.startswith("WG")
    assert [p.step_points for p in violation.penalties.all()] == [12]


def test_violation_record_refuses_staff_and_a_disabled_policy(shop, agent, db):
    with pytest.raises(PermissionDenied):
        violation_record(shop=shop, kind="counterfeit", reason="x", actor=agent.principal)
    own = make_shop("own", preset="generic")
    with pytest.raises(Ineligible):
        violation_record(shop=own, kind="counterfeit", reason="x", actor=SYSTEM)
    assert Violation.objects.count() == 0


def test_bad_input_is_refused_in_words(operator, boss, shop):
    unknown = operator.post("/violations", {"shop": "shop", "kind": "nope", "reason": "x"})
    assert unknown.status_code == 422
    blank = operator.post("/violations", {"shop": "shop", "kind": "counterfeit", "reason": " "})
    assert blank.status_code == 422
    no_shop = record(operator, "counterfeit", shop="nowhere")
    assert (no_shop.status_code, no_shop.json()["code"]) == (404, "shop_not_found")
    number = recorded(operator, "counterfeit")["number"]
    assert (
        operator.post(f"/violations/{number}/actions/uphold", {"reason": "x"}).json()["code"]
        == "action_not_allowed"
    )
    assert Violation.objects.count() == 1
    # the clock's own moves and unknown words are refused, an empty appeal names its field
    penalty = penalties()[0].number
    lift = operator.post(f"/penalties/{penalty}/actions/lift", {"violation": number, "total": 0})
    assert (lift.status_code, lift.json()["code"]) == (403, "action_forbidden")
    assert operator.post(f"/violations/{number}/actions/nope", {}).status_code == 404
    assert operator.get("/violations", year="abc").status_code == 422
    empty = boss.post(f"/violations/{number}/actions/appeal", {})
    assert (empty.status_code, empty.json()["code"]) == (422, "text_required")
    assert Penalty.objects.get(number=penalty).state == "active"


# --- who may do what


def test_only_operators_record_and_decide_shop_admins_appeal_staff_read(
    shop, operator, boss, agent, customer
):
    # recording: the operator only
    assert record(agent, "counterfeit").status_code == 403
    assert record(boss, "counterfeit").status_code == 403
    assert record(customer, "counterfeit").status_code == 403
    number = recorded(operator, "late_shipment")["number"]
    # appealing: the shop's administrator only
    assert agent.post(f"/violations/{number}/actions/appeal", {"text": "x"}).status_code == 403
    assert operator.post(f"/violations/{number}/actions/appeal", {"text": "x"}).status_code == 403
    assert boss.post(f"/violations/{number}/actions/appeal", {"text": "x"}).status_code == 200
    # deciding: the operator only
    assert boss.post(f"/violations/{number}/actions/uphold", {"reason": "x"}).status_code == 403
    assert agent.post(f"/violations/{number}/actions/withdraw", {"reason": "x"}).status_code == 403
    # reading: the shop's staff and the operator; not a customer; not another shop's staff
    assert agent.get(f"/violations/{number}").status_code == 200
    assert agent.get("/violations").json()["items"][0]["number"] == number
    assert agent.get("/shops/shop/refund-rate").status_code == 200
    assert customer.get(f"/violations/{number}").status_code == 403
    assert customer.get("/shops/shop/standing").status_code == 403
    make_shop("other")
    stranger = make_user("stranger", "agent", shop="other")
    assert stranger.get(f"/violations/{number}").status_code == 404
    assert stranger.get("/shops/shop/standing").status_code == 404
    assert stranger.get("/violations").json()["items"] == []


# --- the refund rate by fault


def refunded(order, number, fault, resolved_at, *, signals=(), escalated=False, state="refunded"):
    return Case.objects.create(
        number=number,
        shop=order.shop,
        order=order,
        customer=order.customer,
        policy=policy_current(shop=order.shop),
        kind="return_refund",
        reason="quality_issue",
        fault=fault,
        return_shipping_payer="seller",
        state=state,
        resolved_at=resolved_at,
        dispute_signals=list(signals),
        escalated_at=resolved_at if escalated else None,
    )


def test_the_refund_rate_by_fault_on_a_known_dataset(shop, agent):
    # the last 30 days in Shanghai: 26 Oct 00:00 to 24 Nov 24:00
    first_moment = dt.datetime(2026, 10, 25, 16, 0, tzinfo=UTC)
    orders = [
        make_order(external_id=f"R{i}", paid_at=NOW - dt.timedelta(days=i, hours=1), shipped=False)
        for i in range(9)
    ]
    orders.append(make_order(external_id="EDGE", paid_at=first_moment, shipped=False))
    make_order(external_id="BEFORE", paid_at=first_moment - dt.timedelta(seconds=1), shipped=False)
    day = NOW - dt.timedelta(days=1)
    refunded(orders[0], "A1", "seller", day, signals=["wrong_item"])  # intervened
    refunded(orders[1], "A2", "seller", day, escalated=True)  # intervened
    refunded(orders[2], "A3", "seller", day)
    refunded(orders[3], "A4", "seller", first_moment)
    refunded(orders[4], "A5", "buyer", day)
    refunded(orders[5], "A6", "carrier", day, signals=["empty_box"])  # intervened, not seller
    refunded(orders[6], "A7", "seller", first_moment - dt.timedelta(seconds=1))  # before
    refunded(orders[7], "A8", "seller", day, state="closed")  # not a refund
    body = agent.get("/shops/shop/refund-rate").json()
    assert (body["start"], body["end"], body["days"]) == ("2026-10-26", "2026-11-24", 30)
    assert body["paid_orders"] == 10
    assert body["refunds"] == 6
    assert Decimal(body["rate"]) == Decimal("60.00")
    assert body["intervened"] == 3
    assert Decimal(body["intervened_rate"]) == Decimal("30.00")
    by_fault = {row["fault"]: row for row in body["by_fault"]}
    assert (by_fault["seller"]["refunds"], by_fault["seller"]["negotiated"]) == (4, 2)
    assert by_fault["seller"]["intervened"] == 2
    assert Decimal(by_fault["seller"]["rate"]) == Decimal("40.00")
    assert (by_fault["buyer"]["refunds"], by_fault["carrier"]["intervened"]) == (1, 1)
    # 2 × 3 (seller, intervened) + 2 × 1 (seller) + 2 × 0.5 (others) = 9 on 10 paid orders
    assert Decimal(body["weighted_refunds"]) == Decimal("9.00")
    assert Decimal(body["ranking_rate"]) == Decimal("90.00")
    assert body["weights"] == {"seller_intervened": "3.00", "seller": "1.00", "other": "0.50"}
    # the weights are the policy's: 2 × 5 + 2 × 2 + 2 × 0 = 14 on 10 paid orders
    weights = {"seller_intervened": "5.00", "seller": "2.00", "other": "0.00"}
    policy_update(actor=SYSTEM, shop=shop, changes={"violations": {"refund_weights": weights}})
    weighted = agent.get("/shops/shop/refund-rate").json()
    assert (weighted["weighted_refunds"], weighted["ranking_rate"]) == ("14.00", "140.00")
    assert weighted["rate"] == body["rate"]
    # a shorter period, and one without paid orders
    week = agent.get("/shops/shop/refund-rate", days=1).json()
    assert (week["start"], week["paid_orders"]) == ("2026-11-24", 1)
    empty = agent.get("/shops/shop/refund-rate", end="2025-01-31").json()
    assert (empty["paid_orders"], empty["rate"], empty["ranking_rate"]) == (0, None, None)
    assert agent.get("/shops/shop/refund-rate", days=0).status_code == 422
    assert agent.get("/shops/shop/refund-rate", days=400).status_code == 422
    assert agent.get("/shops/shop/refund-rate", end="0001-01-01").status_code == 422


# --- the desk


def signed_in(username, role, shop=None) -> Client:
    user_create(
        username=username, role=role, shop_codes=[shop] if shop else [], password="pw-123-abc"
    )
    client = Client()
    assert client.login(username=username, password="pw-123-abc")
    return client


def test_the_desk_shows_the_standing_and_a_banner_while_a_penalty_is_in_force(
    shop, operator, desk, clock
):
    page = desk.get("/desk/standing/")
    assert page.status_code == 200
    assert b"data-penalty=" not in page.content
    recorded(operator, "counterfeit")
    [penalty] = penalties()
    page = desk.get("/desk/standing/").content.decode()
    assert f'data-penalty="{penalty.number}"' in page
    assert "<td data-points>12</td>" in page
    assert "2026-12-01 10:00" in page  # the end, in the shop's time zone
    assert "violations.serious[0]" in page  # the calculation
    # the banner is on every desk page while it is in force, and gone after its end
    assert f'data-penalty="{penalty.number}"' in desk.get("/desk/complaints/").content.decode()
    clock.set(penalty.ends_at)
    sweep()
    assert b'role="alert" data-penalty' not in desk.get("/desk/complaints/").content


def test_the_operator_records_and_decides_on_the_desk_and_the_admin_appeals(shop, clock):
    operator_desk = signed_in("op-desk", "platform_operator")
    admin_desk = signed_in("boss-desk", "admin", shop="shop")
    assert operator_desk.get("/desk/violations/").status_code == 200
    assert admin_desk.get("/desk/violations/").status_code == 403
    # the operator records
    done = operator_desk.post(
        "/desk/violations/record/", {"shop": "shop", "kind": "late_shipment", "reason": "超时"}
    )
    assert done.status_code == 302
    violation = Violation.objects.get()
    # a shop administrator appeals from the standing page
    assert b'data-action="appeal"' in admin_desk.get("/desk/standing/").content
    admin_desk.post(
        f"/desk/violations/{violation.number}/act/appeal/",
        {"text": "快递揽收延误", "next": "/desk/standing/"},
    )
    violation.refresh_from_db()
    assert violation.state == "appealed"
    # the operator sees it among the appeals and withdraws it with a reason
    assert (
        f'data-appealed="{violation.number}"'
        in operator_desk.get("/desk/violations/").content.decode()
    )
    operator_desk.post(f"/desk/violations/{violation.number}/act/withdraw/", {"reason": "属实"})
    violation.refresh_from_db()
    assert (violation.state, violation.decision_reason) == ("withdrawn", "属实")
    # a refused form changes nothing and says why
    refused = operator_desk.post(
        "/desk/violations/record/",
        {"shop": "shop", "kind": "late_shipment", "reason": ""},
        follow=True,
    )
    assert refused.status_code == 200
    assert Violation.objects.count() == 1


def test_the_api_document_declares_the_bodies(db):
    document = Client().get("/api/v1/openapi.json").json()
    operations = {op["operationId"] for path in document["paths"].values() for op in path.values()}
    assert {
        "record_violation",
        "list_violations",
        "get_violation",
        "appeal_violation",
        "uphold_violation",
        "withdraw_violation",
        "list_penalties",
        "get_penalty",
        "appeal_penalty",
        "uphold_penalty",
        "withdraw_penalty",
        "get_standing",
        "get_refund_rate",
    } <= operations
    record_in = document["components"]["schemas"]["RecordIn"]
    kind = record_in["properties"]["kind"]
    assert "$ref" in kind or "enum" in kind or "allOf" in kind
    assert record_in["properties"]["reason"]["maxLength"] == 2000
