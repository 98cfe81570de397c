"""Shipping insurance (运费险): the premium's formula at its band edges, the look-back's edge, the
claim's cap and once-per-case rule, never forced on a shop, each abuse signal, and who may do
what."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from aftersales.core.actors import SYSTEM
from aftersales.core.errors import InvalidInput
from aftersales.core.models import Notice
from aftersales.core.permissions import MATRIX, roles_for
from aftersales.core.sweep import sweep
from aftersales.insurance.lifecycle import COVERS, FLAGS
from aftersales.insurance.models import AbuseFlag, Claim, Cover
from aftersales.insurance.pricing import premium_for
from aftersales.insurance.signals import address_key
from aftersales.policy.rules import preset_policy
from aftersales.policy.services import policy_update
from aftersales.team.services import user_create
from tests.conftest import NOW, make_order, make_shop, make_user, open_case

RULES = preset_policy("taobao")["insurance"]


def offer(shop, **changes):
    policy_update(actor=SYSTEM, shop=shop, changes={"insurance": {"offered": True, **changes}})


@pytest.fixture
def operator(db):
    return make_user("operator", "platform_operator")


@pytest.fixture
def offered(shop):
    offer(shop)
    return shop


def quote(api, order):
    return api.post(f"/insurance/orders/{order.id}/quote")


def insured(api, order):
    assert quote(api, order).status_code == 201
    response = api.post(f"/insurance/orders/{order.id}/insure")
    assert response.status_code == 200, response.content
    return response.json()


def shipped_return(customer, agent, order) -> str:
    """A return case of ``order`` whose goods are on their way back."""
    number = open_case(customer, order)["number"]
    assert agent.act(number, "approve").status_code == 200
    shipped = customer.act(number, "ship_return", {"carrier": "顺丰", "tracking_number": "SF1"})
    assert shipped.status_code == 200, shipped.content
    return number


def return_opened_at(customer, clock, moment, external_id):
    """A return case of the customer opened at ``moment`` (on a new order of theirs)."""
    clock.set(moment)
    order = make_order(external_id=external_id, paid_at=moment - dt.timedelta(days=4))
    open_case(customer, order)
    clock.set(NOW)


# --- the formula --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "factor", "premium"),
    [
        ("4.59", "1.50", "8.25"),
        ("4.60", "1.20", "6.60"),
        ("4.79", "1.20", "6.60"),
        ("4.80", "1.00", "5.50"),
        ("5.00", "1.00", "5.50"),
        ("0.00", "1.50", "8.25"),
    ],
)
def test_the_score_band_is_the_highest_at_or_below_the_score(score, factor, premium):
    # when a buyer with no returns is quoted at a shop with this score
    quoted = premium_for(rules=RULES, score=Decimal(score), returns=0, now=NOW)
    # then the factor is the band's and the premium base × factors, to the cent
    assert quoted.score_factor == Decimal(factor)
    assert quoted.returns_factor == Decimal("1.00")
    assert quoted.premium == Decimal(premium)


@pytest.mark.parametrize(
    ("returns", "factor", "premium"),
    [
        (0, "1.00", "5.50"),
        (2, "1.00", "5.50"),
        (3, "1.50", "8.25"),
        (5, "1.50", "8.25"),
        (6, "2.00", "11.00"),
        (40, "2.00", "11.00"),
    ],
)
def test_the_returns_band_is_the_highest_at_or_below_the_count(returns, factor, premium):
    quoted = premium_for(rules=RULES, score=Decimal("5.00"), returns=returns, now=NOW)
    assert quoted.returns_factor == Decimal(factor)
    assert quoted.premium == Decimal(premium)


def test_the_premium_is_rounded_half_up_to_the_cent():
    # given a base whose product has a third decimal of 5
    rules = {**RULES, "base_premium": "5.25"}
    # when 5.25 × 1.50 × 1.50 = 11.8125
    assert premium_for(rules=rules, score=Decimal("4.00"), returns=3, now=NOW).premium == Decimal(
        "11.81"
    )
    rules = {**RULES, "base_premium": "5.55"}
    # 5.55 × 1.50 = 8.325 → 8.33 (half up, not to even)
    assert premium_for(rules=rules, score=Decimal("4.00"), returns=0, now=NOW).premium == Decimal(
        "8.33"
    )


def test_a_quote_stores_its_inputs(offered, customer, operator, clock):
    # given a shop scored 4.60 and a buyer with three returns in the look-back
    set_score = operator.put("/shops/shop/service-score", {"score": "4.60", "reason": "评分下降"})
    assert set_score.json()["score"] == "4.60"
    for day in (1, 30, 60):
        return_opened_at(customer, clock, NOW - dt.timedelta(days=day), f"R{day}")
    order = make_order(external_id="NEW")
    # when the buyer asks for a quote
    response = quote(customer, order)
    # then the premium is 5.50 × 1.20 × 1.50 and every input is stored with it
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["premium"] == "9.90"
    assert body["state"] == "quoted"
    assert body["quote"]["service_score"] == "4.60"
    assert body["quote"]["score_factor"] == "1.20"
    assert body["quote"]["returns_counted"] == 3
    assert body["quote"]["returns_factor"] == "1.50"
    assert body["quote"]["formula_version"] == 1
    assert body["quote"]["detail"]["calculation"] == "5.50 × 1.20 × 1.50 = 9.90"
    assert body["quote"]["detail"]["lookback_days"] == 90
    cover = Cover.objects.get(order=order)
    assert (cover.premium, cover.returns_counted, cover.service_score) == (
        Decimal("9.90"),
        3,
        Decimal("4.60"),
    )
    assert [e["action"] for e in body["events"]] == ["quote"]


def test_the_lookback_counts_a_return_a_second_inside_and_not_one_at_the_edge(
    offered, customer, clock
):
    # given two returns 90 days before the quote: one exactly at the edge, one a second later,
    # and two more well inside
    edge = NOW - dt.timedelta(days=90)
    return_opened_at(customer, clock, edge, "EDGE")
    return_opened_at(customer, clock, edge + dt.timedelta(seconds=1), "INSIDE")
    return_opened_at(customer, clock, NOW - dt.timedelta(days=10), "R10")
    order = make_order(external_id="NEW")
    # when quoted now: 2 returns (the one at the edge is out), so the factor is still 1.00
    body = quote(customer, order).json()
    assert body["quote"]["returns_counted"] == 2
    assert body["premium"] == "5.50"
    # and with one more return, re-quoted: 3 counted, the next band
    return_opened_at(customer, clock, NOW - dt.timedelta(days=1), "R1")
    again = quote(customer, order)
    assert again.status_code == 200
    assert again.json()["quote"]["returns_counted"] == 3
    assert again.json()["premium"] == "8.25"
    assert [e["action"] for e in again.json()["events"]] == ["quote", "requote"]


def test_returns_are_return_and_exchange_cases_not_refunds_only(offered, customer):
    # given a refund-only case (nothing goes back), an exchange and a return of the buyer
    unshipped = make_order(external_id="UNSHIPPED", shipped=False)
    open_case(customer, unshipped, kind="refund_only", reason="not_shipped")
    open_case(customer, make_order(external_id="EXCHANGE"), kind="exchange", reason="wrong_size")
    open_case(customer, make_order(external_id="RETURN"))
    # when a new order is quoted, the exchange and the return count
    body = quote(customer, make_order(external_id="NEW")).json()
    assert body["quote"]["returns_counted"] == 2


def test_another_shops_returns_do_not_count(offered, customer, clock):
    # given the same buyer id returning goods in another shop
    make_shop("other-shop")
    root = make_user("root", "admin")
    for index in range(3):
        open_case(root, make_order(shop="other-shop", external_id=f"ELSEWHERE{index}"))
    # then this shop's quote counts none of them
    body = quote(customer, make_order(external_id="NEW")).json()
    assert body["quote"]["returns_counted"] == 0


def test_an_unset_score_is_full_and_a_score_is_bounded(offered, operator, customer, order):
    assert operator.get("/shops/shop/service-score").json()["score"] == "5.00"
    refused = operator.put("/shops/shop/service-score", {"score": "5.01", "reason": "x"})
    assert refused.status_code == 422
    assert operator.get("/shops/shop/service-score").json()["score"] == "5.00"


# --- never forced --------------------------------------------------------------------------------


def test_a_shop_that_has_not_chosen_it_never_insures_an_order(shop, customer, agent, order):
    # given a shop on its preset (insurance is off until the shop offers it)
    # when the buyer or the shop's agent asks for a quote
    for api in (customer, agent):
        response = quote(api, order)
        # then it is refused with a clear code, and no cover exists
        assert response.status_code == 422
        assert response.json()["code"] == "insurance_not_offered"
    assert not Cover.objects.exists()
    assert customer.get(f"/insurance/orders/{order.id}").json()["code"] == "cover_not_found"


def test_a_shop_that_stops_offering_it_insures_no_more(offered, customer, order):
    # given a quote while offered
    assert quote(customer, order).status_code == 201
    # when the shop stops offering it, the quote cannot be insured
    policy_update(actor=SYSTEM, shop=offered, changes={"insurance": {"offered": False}})
    response = customer.post(f"/insurance/orders/{order.id}/insure")
    assert response.status_code == 422
    assert response.json()["code"] == "insurance_not_offered"
    assert Cover.objects.get().state == "quoted"


def test_insuring_notifies_the_buyer_and_an_insured_order_is_not_requoted(offered, customer, order):
    body = insured(customer, order)
    assert body["state"] == "insured"
    assert body["insured_at"] is not None
    assert [e["action"] for e in body["events"]] == ["quote", "insure"]
    again = quote(customer, order)
    assert again.status_code == 409
    assert again.json()["code"] == "already_insured"
    kinds = Notice.objects.filter(kind__startswith="insurance").values_list("kind", flat=True)
    assert list(kinds) == ["insurance_insured"]


# --- claims --------------------------------------------------------------------------------------


def test_a_claim_pays_the_postage_up_to_the_cap_once_per_case(offered, customer, agent, clock):
    # given an insured order with two units and two shipped returns
    order = make_order(
        external_id="TWO", lines=[("L1", "SKU-1", 2, Decimal("100.00"), Decimal("200.00"))]
    )
    insured(customer, order)
    first = shipped_return(customer, agent, order)
    second = shipped_return(customer, agent, order)
    # when the buyer claims 12.00 on the first: paid in full
    response = customer.post(
        f"/insurance/orders/{order.id}/claims",
        {"case_number": first, "postage": "12.00", "sender_address": "北京市 朝阳区 1 号"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["claims"][0]["payout"] == "12.00"
    # and 30.00 on the second: the cap (25.00 on Taobao's preset)
    response = customer.post(
        f"/insurance/orders/{order.id}/claims",
        {"case_number": second, "postage": "30.00", "sender_address": "北京市 朝阳区 1 号"},
    )
    claims = response.json()["claims"]
    assert [(c["stated_postage"], c["payout_cap"], c["payout"]) for c in claims] == [
        ("12.00", "25.00", "12.00"),
        ("30.00", "25.00", "25.00"),
    ]
    assert response.json()["events"][-1]["data"]["calculation"] == "min(30.00, 25.00) = 25.00"
    # then a second claim on a case is refused and pays nothing more
    again = customer.post(
        f"/insurance/orders/{order.id}/claims",
        {"case_number": first, "postage": "5.00", "sender_address": "北京"},
    )
    assert again.status_code == 409
    assert again.json()["code"] == "already_claimed"
    assert Claim.objects.count() == 2


def test_the_cap_is_at_the_edge(offered, customer, agent):
    order = make_order(external_id="CAP")
    insured(customer, order)
    number = shipped_return(customer, agent, order)
    response = customer.post(
        f"/insurance/orders/{order.id}/claims",
        {"case_number": number, "postage": "25.00", "sender_address": "上海"},
    )
    assert response.json()["claims"][0]["payout"] == "25.00"


def test_a_claim_waits_for_the_return_to_ship(offered, customer, agent, order):
    insured(customer, order)
    number = open_case(customer, order)["number"]
    response = customer.post(
        f"/insurance/orders/{order.id}/claims",
        {"case_number": number, "postage": "8.00", "sender_address": "上海"},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "return_not_shipped"
    assert not Claim.objects.exists()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"case_number": "NOPE", "postage": "8.00", "sender_address": "上海"}, "case_not_found"),
        ({"case_number": "X", "postage": "0", "sender_address": "上海"}, "validation_error"),
        ({"case_number": "X", "postage": "1000.01", "sender_address": "上海"}, "validation_error"),
        ({"case_number": "X", "postage": "8.00", "sender_address": ""}, "validation_error"),
    ],
)
def test_bad_claims_are_refused_clearly(offered, customer, order, body, code):
    insured(customer, order)
    response = customer.post(f"/insurance/orders/{order.id}/claims", body)
    assert 400 <= response.status_code < 500
    assert response.json()["code"] == code
    assert not Claim.objects.exists()


def test_an_uninsured_order_takes_no_claim(offered, customer, agent, order):
    number = shipped_return(customer, agent, order)
    assert quote(customer, order).status_code == 201
    response = customer.post(
        f"/insurance/orders/{order.id}/claims",
        {"case_number": number, "postage": "8.00", "sender_address": "上海"},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "action_not_allowed"


# --- abuse signals -------------------------------------------------------------------------------


def test_many_returns_flag_the_buyer(shop, customer, operator, clock):
    offer(shop, abuse_returns=3)
    for day in (1, 2):
        return_opened_at(customer, clock, NOW - dt.timedelta(days=day), f"R{day}")
    assert operator.post("/insurance/flags/scan").json() == {"flags": 0}
    return_opened_at(customer, clock, NOW - dt.timedelta(days=3), "R3")
    # when the worker's step computes the signals: three returns reach the threshold
    assert operator.post("/insurance/flags/scan").json() == {"flags": 1}
    flags = operator.get("/insurance/flags").json()["items"]
    assert len(flags) == 1
    assert flags[0]["customer"]["external_id"] == "C1"
    assert flags[0]["reasons"][0]["signal"] == "many_returns"
    assert flags[0]["reasons"][0]["calculation"] == "3 returns in 90 days ≥ 3"
    # and a second scan on the same signals raises nothing new
    assert operator.post("/insurance/flags/scan").json() == {"flags": 0}


def test_a_payout_above_the_real_postage_flags_the_buyer(offered, customer, agent, operator):
    order = make_order(external_id="PAY")
    insured(customer, order)
    number = shipped_return(customer, agent, order)
    customer.post(
        f"/insurance/orders/{order.id}/claims",
        {"case_number": number, "postage": "13.00", "sender_address": "上海"},
    )
    assert not AbuseFlag.objects.exists()
    # when the shop records the carrier's 8.00: 13.00 > 1.50 × 8.00 = 12.00
    response = agent.put(
        f"/insurance/orders/{order.id}/claims/{number}/postage", {"actual_postage": "8.00"}
    )
    assert response.status_code == 200, response.content
    flag = AbuseFlag.objects.get()
    assert flag.reasons[0]["signal"] == "payout_above_postage"
    assert flag.reasons[0]["calculation"] == f"{number}: 13.00 > 1.50 × 8.00"
    # the real postage is the shop's check: the buyer does not see it
    seen = customer.get(f"/insurance/orders/{order.id}").json()
    assert seen["claims"][0]["actual_postage"] is None
    assert "record_postage" not in [e["action"] for e in seen["events"]]


def test_a_payout_at_the_ratio_is_no_signal(offered, customer, agent):
    order = make_order(external_id="PAY")
    insured(customer, order)
    number = shipped_return(customer, agent, order)
    customer.post(
        f"/insurance/orders/{order.id}/claims",
        {"case_number": number, "postage": "12.00", "sender_address": "上海"},
    )
    agent.put(f"/insurance/orders/{order.id}/claims/{number}/postage", {"actual_postage": "8.00"})
    assert not AbuseFlag.objects.exists()


def test_many_accounts_at_one_address_flag_the_buyer(offered, agent, clock):
    # given three buyers who claim from one address, written three ways
    addresses = ["杭州市 西湖区，文三路 1 号", "杭州市西湖区文三路1号", "杭州市西湖区 文三路１号 "]
    for index, address in enumerate(addresses, start=1):
        order = make_order(external_id=f"A{index}", customer=f"B{index}")
        buyer = make_user(f"b{index}", "customer", shop="shop", customer=f"B{index}")
        insured(buyer, order)
        number = shipped_return(buyer, agent, order)
        response = buyer.post(
            f"/insurance/orders/{order.id}/claims",
            {"case_number": number, "postage": "8.00", "sender_address": address},
        )
        assert response.status_code == 200, response.content
    # then the third claim flags its buyer: three accounts at one address
    flag = AbuseFlag.objects.get()
    assert flag.customer.external_id == "B3"
    assert flag.reasons[0]["signal"] == "shared_address"
    assert flag.reasons[0]["value"] == 3
    assert len({address_key(a) for a in addresses}) == 1


def test_an_operator_reviews_a_flag_with_a_reason(shop, customer, operator, clock):
    offer(shop, abuse_returns=1)
    return_opened_at(customer, clock, NOW - dt.timedelta(days=1), "R1")
    operator.post("/insurance/flags/scan")
    flag_id = AbuseFlag.objects.get().pk
    # a review without a reason is refused
    refused = operator.post(f"/insurance/flags/{flag_id}/clear", {"reason": ""})
    assert refused.status_code == 422
    assert AbuseFlag.objects.get().state == "open"
    # when cleared with a reason
    cleared = operator.post(f"/insurance/flags/{flag_id}/clear", {"reason": "事出有因"})
    assert cleared.status_code == 200, cleared.content
    body = cleared.json()
    assert (body["state"], body["review_reason"], body["reviewed_by"]) == (
        "cleared",
        "事出有因",
        "operator",
    )
    assert [e["action"] for e in body["events"]] == ["raise", "clear"]
    # then it cannot be reviewed again, and the same signals raise no new flag
    again = operator.post(f"/insurance/flags/{flag_id}/confirm", {"reason": "x"})
    assert again.status_code == 409
    assert operator.post("/insurance/flags/scan").json() == {"flags": 0}
    # but new evidence does
    return_opened_at(customer, clock, NOW - dt.timedelta(days=2), "R2")
    assert operator.post("/insurance/flags/scan").json() == {"flags": 1}
    newest = AbuseFlag.objects.order_by("-id").first()
    confirmed = operator.post(f"/insurance/flags/{newest.pk}/confirm", {"reason": "骗保"})
    assert confirmed.json()["state"] == "confirmed"


# --- the due times (insurance.quote_valid, insurance.review_due) ---------------------------------


def test_a_quote_not_insured_in_time_lapses_and_may_be_quoted_anew(offered, customer, order, clock):
    # given a quote valid 24 hours (the preset)
    assert quote(customer, order).status_code == 201
    cover = Cover.objects.get(order=order)
    assert cover.deadline_at == NOW + dt.timedelta(hours=24)
    # a second before the end it stands; a new quote meanwhile is valid anew
    clock.shift(hours=12)
    assert quote(customer, order).status_code == 200
    assert Cover.objects.get(order=order).deadline_at == clock.now + dt.timedelta(hours=24)
    clock.shift(hours=24, seconds=-1)
    sweep()
    assert Cover.objects.get(order=order).state == "quoted"
    # when its validity ends, the sweep lapses it as the system
    clock.shift(seconds=1)
    assert sweep().acted == 1
    body = customer.get(f"/insurance/orders/{order.id}").json()
    assert body["state"] == "lapsed"
    assert [(e["action"], e["actor"]) for e in body["events"]][-1] == ("lapse", "system")
    # then it cannot be insured as it stands, only quoted again
    refused = customer.post(f"/insurance/orders/{order.id}/insure")
    assert (refused.status_code, refused.json()["code"]) == (409, "action_not_allowed")
    assert quote(customer, order).json()["state"] == "quoted"
    assert customer.post(f"/insurance/orders/{order.id}/insure").json()["state"] == "insured"
    assert Cover.objects.get(order=order).deadline_at is None


def test_an_unreviewed_flag_goes_to_the_lead_at_its_due_time(shop, customer, operator, clock):
    # given a flag raised now, with 3 days to review it (the preset)
    offer(shop, abuse_returns=1)
    return_opened_at(customer, clock, NOW - dt.timedelta(days=1), "R1")
    operator.post("/insurance/flags/scan")
    flag = AbuseFlag.objects.get()
    assert flag.deadline_at == NOW + dt.timedelta(days=3)
    clock.shift(days=3, seconds=-1)
    sweep()
    assert not Notice.objects.filter(kind="insurance_flag_overdue").exists()
    # when nobody reviewed it by then
    clock.shift(seconds=1)
    sweep()
    # then the shop's lead is told, the flag stays open for its review, and it is marked overdue
    flag.refresh_from_db()
    assert (flag.state, flag.escalated_at) == ("open", clock.now)
    notice = Notice.objects.get(kind="insurance_flag_overdue")
    assert (notice.audience, notice.subject_id) == ("lead", flag.pk)
    body = operator.get(f"/insurance/flags/{flag.pk}").json()
    assert [(e["action"], e["actor"]) for e in body["events"]] == [
        ("raise", "system"),
        ("escalate", "system"),
    ]
    sweep()
    assert Notice.objects.filter(kind="insurance_flag_overdue").count() == 1
    cleared = operator.post(f"/insurance/flags/{flag.pk}/clear", {"reason": "核实无误"})
    assert cleared.json()["state"] == "cleared"


def test_the_insurance_due_times_are_policy_durations(shop):
    for key in ("quote_valid", "review_due"):
        with pytest.raises(InvalidInput) as refused:
            offer(shop, **{key: "P100D"})
        assert refused.value.extra["field"] == f"insurance.{key}"


# --- who may do what -----------------------------------------------------------------------------


@pytest.mark.parametrize("lifecycle", [COVERS, FLAGS], ids=["cover", "flag"])
def test_the_tables_take_their_roles_from_the_matrix(lifecycle):
    person = [m for m in lifecycle.moves if m.roles != frozenset({"system"})]
    assert {m.action: m.roles for m in person} == {
        m.action: roles_for(f"{lifecycle.subject_type}.{m.action}") for m in person
    }
    assert all(f"{lifecycle.subject_type}.{m.action}" in MATRIX for m in person)


def test_only_the_platform_reviews_flags_and_sets_scores(shop, customer, agent, operator, clock):
    offer(shop, abuse_returns=1)
    return_opened_at(customer, clock, NOW - dt.timedelta(days=1), "R1")
    shop_admin = make_user("boss", "admin", shop="shop")
    for api in (customer, agent, shop_admin):
        assert api.post("/insurance/flags/scan").status_code == 403
        assert api.get("/insurance/flags").status_code == 403
        refused = api.put("/shops/shop/service-score", {"score": "1", "reason": "x"})
        assert refused.status_code in (403, 404)
    operator.post("/insurance/flags/scan")
    flag_id = AbuseFlag.objects.get().pk
    for api in (customer, agent, shop_admin):
        response = api.post(f"/insurance/flags/{flag_id}/clear", {"reason": "自己人"})
        assert response.status_code in (403, 404), response.content
    assert AbuseFlag.objects.get().state == "open"
    root = make_user("root", "admin")
    assert root.post(f"/insurance/flags/{flag_id}/clear", {"reason": "ok"}).status_code == 200


def test_another_buyer_or_shop_sees_no_cover(offered, customer, agent, order):
    insured(customer, order)
    make_order(external_id="O2", customer="C2")
    other_buyer = make_user("other", "customer", shop="shop", customer="C2")
    assert other_buyer.get(f"/insurance/orders/{order.id}").status_code == 404
    assert other_buyer.post(f"/insurance/orders/{order.id}/insure").status_code == 404
    make_shop("other-shop")
    outsider = make_user("outsider", "agent", shop="other-shop")
    assert outsider.get(f"/insurance/orders/{order.id}").status_code == 404
    assert outsider.post(f"/insurance/orders/{order.id}/quote").status_code == 404


def test_finance_reads_but_does_not_quote(offered, finance, order):
    response = quote(finance, order)
    assert response.status_code == 403
    assert not Cover.objects.exists()


def test_logistics_records_postage_but_the_buyer_does_not(offered, customer, agent, order):
    insured(customer, order)
    number = shipped_return(customer, agent, order)
    customer.post(
        f"/insurance/orders/{order.id}/claims",
        {"case_number": number, "postage": "8.00", "sender_address": "上海"},
    )
    refused = customer.put(
        f"/insurance/orders/{order.id}/claims/{number}/postage", {"actual_postage": "1.00"}
    )
    assert refused.status_code == 403
    logistics = make_user("wh", "logistics", shop="shop")
    done = logistics.put(
        f"/insurance/orders/{order.id}/claims/{number}/postage", {"actual_postage": "8.00"}
    )
    assert done.status_code == 200
    assert done.json()["claims"][0]["actual_postage"] == "8.00"


# --- the desk ------------------------------------------------------------------------------------


def test_the_desk_lists_flags_for_operators(shop, customer, operator, desk, clock, client):
    offer(shop, abuse_returns=1)
    return_opened_at(customer, clock, NOW - dt.timedelta(days=1), "R1")
    operator.post("/insurance/flags/scan")
    flag = AbuseFlag.objects.get()
    # an agent is refused the list
    assert desk.get("/desk/insurance/flags/").status_code == 403
    # an operator sees it, and clears it from its page
    user_create(username="op-desk", role="platform_operator", password="pw-op-12345")
    assert client.login(username="op-desk", password="pw-op-12345")
    page = client.get("/desk/insurance/flags/")
    assert page.status_code == 200
    assert "1 returns in 90 days ≥ 1" in page.content.decode()
    detail = client.get(f"/desk/insurance/flags/{flag.pk}/")
    assert detail.status_code == 200
    done = client.post(f"/desk/insurance/flags/{flag.pk}/clear/", {"reason": "核实无误"})
    assert done.status_code == 302
    flag.refresh_from_db()
    assert (flag.state, flag.review_reason) == ("cleared", "核实无误")


def test_the_desk_shows_an_orders_insurance(offered, customer, order, desk):
    insured(customer, order)
    page = desk.get(f"/desk/insurance/orders/{order.id}/")
    assert page.status_code == 200
    assert "5.50 × 1.00 × 1.00 = 5.50" in page.content.decode()
