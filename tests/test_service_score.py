"""The shop's one service score (violations.ServiceScore): set by the platform with a reason and
recorded, read by the disputes' autonomy and the shipping insurance's premium, shown on the
standing page, and carried over from the two scores it replaced."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from aftersales.disputes.rules import autonomy, shop_score
from aftersales.insurance.pricing import service_score as premium_score
from aftersales.policy.services import policy_current
from aftersales.team.services import user_create
from aftersales.violations.models import ServiceScore, ServiceScoreChange
from tests.conftest import NOW, make_user


@pytest.fixture
def operator(db):
    return make_user("op", "platform_operator")


def test_setting_the_score_records_who_when_from_what_to_what_and_why(shop, operator, agent):
    # given a shop never scored
    assert agent.get("/shops/shop/service-score").json() == {
        "shop": "shop",
        "score": "5.00",
        "changes": [],
    }
    # when the platform sets it twice, with its reasons
    first = operator.put("/shops/shop/service-score", {"score": "4.70", "reason": "物流评分下降"})
    assert first.status_code == 200, first.content
    operator.put("/shops/shop/service-score", {"score": "4.85", "reason": "  整改后回升 "})
    # then the shop's staff read the score and each change, newest first
    body = agent.get("/shops/shop/service-score").json()
    assert body["score"] == "4.85"
    assert [
        (c["from_score"], c["to_score"], c["reason"], c["changed_by"], c["origin"])
        for c in body["changes"]
    ] == [
        ("4.70", "4.85", "整改后回升", "op", "set"),
        ("5.00", "4.70", "物流评分下降", "op", "set"),
    ]
    assert body["changes"][0]["changed_at"].startswith("2026-11-24T02:00:00")
    # and the standing carries the same
    standing = agent.get("/shops/shop/standing").json()
    assert standing["service_score"] == "4.85"
    assert standing["service_score_changes"][0]["reason"] == "整改后回升"


def test_both_marketplace_rules_read_the_one_score(shop, operator):
    # given the platform sets the score once
    operator.put("/shops/shop/service-score", {"score": "4.60", "reason": "纠纷率上升"})
    # then the disputes' autonomy and the insurance's premium read the same score
    assert shop_score(shop.pk) == premium_score(shop) == Decimal("4.60")
    assert autonomy(policy_current(shop=shop), shop_score(shop.pk)) == "negotiate"


def test_a_score_without_a_reason_or_out_of_bounds_changes_nothing(shop, operator):
    for body, field in (
        ({"score": "4.00", "reason": "   "}, "reason"),
        ({"score": "4.00"}, "reason"),
        ({"score": "5.01", "reason": "x"}, "score"),
        ({"score": "-1", "reason": "x"}, "score"),
        ({"score": "4.123", "reason": "x"}, "score"),
    ):
        response = operator.put("/shops/shop/service-score", body)
        assert response.status_code == 422, body
        assert response.json()["code"] == "validation_error"
        assert response.json()["errors"][0]["field"] == field
    assert not ServiceScore.objects.exists()
    assert not ServiceScoreChange.objects.exists()


def test_only_the_platform_sets_the_score(shop, agent):
    shop_admin = make_user("boss", "admin", shop="shop")
    root = make_user("root", "admin")
    customer = make_user("buyer", "customer", shop="shop", customer="C9")
    for api in (agent, shop_admin):
        refused = api.put("/shops/shop/service-score", {"score": "5.00", "reason": "x"})
        assert refused.status_code == 403
    assert customer.get("/shops/shop/service-score").status_code == 403
    # the installation administrator may, like the platform's operator
    done = root.put("/shops/shop/service-score", {"score": "4.90", "reason": "平台同步"})
    assert done.status_code == 200
    assert ServiceScoreChange.objects.get().changed_by_name == "root"


def test_the_standing_page_shows_the_score_and_the_platform_sets_it_there(shop, operator):
    user_create(username="op-desk", role="platform_operator", password="pw-123-abc")
    platform = Client()
    assert platform.login(username="op-desk", password="pw-123-abc")
    user_create(username="desk-a", role="agent", shop_codes=["shop"], password="pw-123-abc")
    staff = Client()
    assert staff.login(username="desk-a", password="pw-123-abc")
    # when the platform sets the score on the page
    done = platform.post(
        "/desk/standing/score/", {"shop": "shop", "score": "4.75", "reason": "差评"}
    )
    assert done.status_code == 302
    # then the shop's staff read it, why it moved and when (in the shop's time), with no form
    page = staff.get("/desk/standing/").content.decode()
    assert 'data-score="4.75"' in page
    assert "5.00 → 4.75" in page and "差评" in page
    assert "2026-11-24 10:00" in page
    assert 'name="reason"' not in page.split('id="standing"')[0]
    # a refused form says why and changes nothing
    platform.post("/desk/standing/score/", {"shop": "shop", "score": "7", "reason": "x"})
    assert ServiceScore.objects.get().score == Decimal("4.75")


def test_the_upgrade_carries_both_old_scores_over_the_lower_one_winning(transactional_db):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    # given the two scores of before: the insurance's and the disputes'
    before = [
        ("insurance", "0001_shipping_insurance"),
        ("disputes", "0001_disputes"),
        ("violations", "0002_service_score"),
    ]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    shops = {
        code: old.get_model("catalog", "Shop").objects.create(code=code, name=code)
        for code in "abc"
    }
    standing = old.get_model("insurance", "ShopStanding")
    disputes_score = old.get_model("disputes", "ShopScore")
    standing.objects.create(shop=shops["a"], service_score=Decimal("4.70"), note="保费评级")
    disputes_score.objects.create(shop=shops["a"], score=Decimal("4.50"), updated_at=NOW)
    standing.objects.create(shop=shops["b"], service_score=Decimal("4.90"), note="")
    disputes_score.objects.create(shop=shops["c"], score=Decimal("4.20"), updated_at=NOW)
    # when the upgrade runs
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    # then each shop has one score, the lower of the two where both existed, and its story
    scores = dict(ServiceScore.objects.values_list("shop__code", "score"))
    assert scores == {"a": Decimal("4.50"), "b": Decimal("4.90"), "c": Decimal("4.20")}
    changes = ServiceScoreChange.objects.order_by("shop__code", "id").values_list(
        "shop__code", "from_score", "to_score", "origin", "reason", "changed_by_name"
    )
    story = {
        (code, str(f), str(t), origin, reason, by) for code, f, t, origin, reason, by in changes
    }
    assert ("b", "5.00", "4.90", "from_insurance", "", "system") in story
    assert ("c", "5.00", "4.20", "from_disputes", "", "system") in story
    assert {row for row in story if row[0] == "a"} in (
        # whichever old table was carried over first, the lower score is the one that stays
        {
            ("a", "5.00", "4.70", "from_insurance", "保费评级", "system"),
            ("a", "4.70", "4.50", "from_disputes", "", "system"),
        },
        {("a", "5.00", "4.50", "from_disputes", "", "system")},
    )
