"""Shop policy: presets, validation, the legal floor, versions, and the no-reason window."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from aftersales.cases.models import Case
from aftersales.catalog.models import Shop
from aftersales.policy.models import Policy
from tests.conftest import make_order, make_shop, make_user, open_case


def test_a_new_shop_starts_from_its_preset(admin, shop):
    response = admin.get("/shops/shop/policy")
    assert response.status_code == 200
    policy = response.json()
    assert policy["version"] == 1
    assert policy["preset"] == "taobao"
    assert policy["timeouts"] == {
        "seller_response_unshipped": "PT48H",
        "seller_response_shipped": "P5D",
        "buyer_reaction_after_reject": "P7D",
        "buyer_return_shipment": "P7D",
        "seller_receipt": "P10D",
        "refund_duty": "P7D",
        "seller_replacement_shipment": "P3D",
        "buyer_confirm_receipt": "P10D",
        "diagnosis": "P7D",
        "quote_reminder": "P3D",
        "quote_response": "P7D",
        "repair": "P15D",
        "seller_ship_back": "P3D",
        "complaint_response": "PT2H",
        "complaint_analysis": "P1D",
        "complaint_solution": "P2D",
        "complaint_execution": "P3D",
        "complaint_follow_up": "P7D",
    }
    assert policy["warranty"] == {"return_days": 7, "exchange_days": 15, "failed_repairs": 2}
    assert policy["no_reason_days"] == 7
    assert "perishable" in policy["no_reason_excluded_flags"]
    assert policy["return_shipping_payer"] == {
        "buyer": "buyer",
        "seller": "seller",
        "carrier": "seller",
    }
    assert policy["sources"]["no_reason_days"].startswith("《售后服务手册》")


def test_every_change_makes_a_version_and_open_cases_keep_theirs(admin, customer, order):
    case = open_case(customer, order)
    response = admin.put("/shops/shop/policy", {"timeouts": {"seller_response_shipped": "P3D"}})
    assert response.status_code == 200
    assert response.json()["version"] == 2
    assert response.json()["timeouts"]["seller_response_shipped"] == "P3D"
    assert response.json()["timeouts"]["seller_receipt"] == "P10D"  # untouched fields stay
    assert Case.objects.get(number=case["number"]).policy.version == 1
    newer = open_case(customer, order)
    assert Case.objects.get(number=newer["number"]).policy.version == 2
    assert Policy.objects.filter(shop__code="shop").count() == 2


def test_an_unchanged_policy_makes_no_version(admin, shop):
    response = admin.put("/shops/shop/policy", {"no_reason_days": 7})
    assert response.json()["version"] == 1


def test_switching_preset_starts_from_its_defaults(admin, shop):
    admin.put("/shops/shop/policy", {"deduct_buyer_shipping": True})
    response = admin.put("/shops/shop/policy", {"preset": "generic"})
    assert response.json()["preset"] == "generic"
    assert response.json()["deduct_buyer_shipping"] is False
    assert admin.get("/shops/shop").json()["preset"] == "generic"


@pytest.mark.parametrize(
    "change",
    [
        {"no_reason_days": 6},
        {"timeouts": {"refund_duty": "P8D"}},
        {"return_shipping_payer": {"buyer": "buyer", "seller": "buyer", "carrier": "seller"}},
        # since 1 Feb 2026 a merchant may appeal a platform's decision
        {"disputes": {"appeals": 0}},
    ],
)
def test_the_legal_floor(admin, shop, change):
    response = admin.put("/shops/shop/policy", change)
    assert response.status_code == 422
    assert response.json()["code"] == "policy_below_legal_floor"
    assert Policy.objects.filter(shop=shop).count() == 1


def test_a_longer_window_and_a_faster_refund_are_allowed(admin, shop):
    response = admin.put(
        "/shops/shop/policy", {"no_reason_days": 15, "timeouts": {"refund_duty": "P3D"}}
    )
    assert response.status_code == 200
    assert response.json()["no_reason_days"] == 15


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"timeouts": {"seller_receipt": "ten days"}}, "invalid_duration"),
        ({"timeouts": {"seller_receipt": "PT0S"}}, "invalid_duration"),
        ({"timeouts": {"seller_receipt": "P400D"}}, "invalid_duration"),
        ({"timeouts": {"coffee_break": "PT5M"}}, "invalid_policy"),
        ({"no_reason_excluded_flags": ["shiny"]}, "invalid_policy"),
        ({"buyer_shipping_deduction": "-1"}, "invalid_policy"),
        ({"preset": "amazon"}, "validation_error"),
        ({"jury": {"size": 17, "majority": 8}}, "invalid_policy"),
        ({"jury": {"vote_window": "a day"}}, "invalid_duration"),
        (
            {"autonomy": {"bands": [{"min_score": "4.8", "refund_only_after_receipt": "shop"}]}},
            "invalid_policy",
        ),
        ({"violations": {"timezone": "Mars/Olympus"}}, "invalid_policy"),
        ({"reviews": {"hold": "PT0S"}}, "invalid_duration"),
        ({"insurance": {"return_bands": [{"at_least": "2", "factor": "1.0"}]}}, "invalid_policy"),
        ({"disputes": {"escalate_in": "P1D"}}, "invalid_policy"),
    ],
)
def test_invalid_policies_are_refused(admin, shop, change, code):
    response = admin.put("/shops/shop/policy", change)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == code
    assert Policy.objects.filter(shop=shop).count() == 1


def test_only_admins_change_policy(agent, shop):
    response = agent.put("/shops/shop/policy", {"no_reason_days": 10})
    assert response.status_code == 403
    assert agent.get("/shops/shop/policy").status_code == 200


def test_second_long_timeouts_are_accepted(admin, shop):
    response = admin.put(
        "/shops/shop/policy",
        {"timeouts": {"seller_response_shipped": "PT2S", "seller_receipt": "PT3S"}},
    )
    assert response.status_code == 200
    assert response.json()["timeouts"]["seller_receipt"] == "PT3S"


# --- the no-reason window, in the shop's time zone -------------------------------------------

# Signed 10 Nov 2026 at 23:30 in Shanghai (15:30 UTC): the window opens 11 Nov 00:00 and ends at
# the end of 17 Nov, Shanghai time, i.e. 17 Nov 16:00 UTC.
SIGNED = dt.datetime(2026, 11, 10, 15, 30, tzinfo=dt.UTC)


def no_reason_order(external_id):
    return make_order(
        external_id=external_id, paid_at=SIGNED - dt.timedelta(days=2)
    )  # signed_at = paid_at + 2 days


@pytest.mark.parametrize(
    ("moment", "allowed"),
    [
        (dt.datetime(2026, 11, 10, 15, 45, tzinfo=dt.UTC), True),  # right after signing
        (dt.datetime(2026, 11, 17, 15, 59, 59, tzinfo=dt.UTC), True),  # 23:59:59 on day 7
        (dt.datetime(2026, 11, 17, 16, 0, 0, tzinfo=dt.UTC), False),  # 00:00 on day 8
    ],
)
def test_no_reason_window_edges(customer, shop, clock, moment, allowed):
    order = no_reason_order("W1")
    clock.set(moment)
    response = customer.post(
        "/cases",
        {
            "order_id": order.id,
            "kind": "return_refund",
            "reason": "no_reason",
            "lines": [{"order_line_id": order.lines.get().id, "quantity": 1}],
        },
    )
    assert response.status_code == (201 if allowed else 422), response.content


def test_the_window_follows_the_shop_time_zone(db, clock, admin):
    # For a shop in New York the same signing (15:30 UTC) is 10 Nov 10:30 local, so the window
    # ends at the end of 17 Nov New York time: 18 Nov 05:00 UTC, 13 hours after Shanghai's.
    make_shop("ny")
    Shop.objects.filter(code="ny").update(timezone="America/New_York")
    order = make_order(shop="ny", external_id="NY1", paid_at=SIGNED - dt.timedelta(days=2))
    buyer = make_user("nybuyer", "customer", shop="ny", customer="C1")
    clock.set(dt.datetime(2026, 11, 18, 4, 59, tzinfo=dt.UTC))
    payload = {
        "order_id": order.id,
        "kind": "return_refund",
        "reason": "no_reason",
        "lines": [{"order_line_id": order.lines.get().id, "quantity": 1}],
    }
    assert buyer.post("/cases", payload).status_code == 201
    clock.set(dt.datetime(2026, 11, 18, 5, 0, tzinfo=dt.UTC))
    response = buyer.post("/cases", payload)
    assert response.status_code == 422
    assert response.json()["code"] == "no_reason_window_closed"


def test_a_longer_shop_window_extends_no_reason(admin, customer, shop, clock):
    admin.put("/shops/shop/policy", {"no_reason_days": 15})
    order = no_reason_order("W2")
    clock.set(dt.datetime(2026, 11, 20, tzinfo=dt.UTC))
    case = open_case(customer, order, reason="no_reason")
    assert case["state"] == "awaiting_seller"


def test_the_product_names_its_sources_by_title_and_stands_alone():
    # the presets' sources are shown to users, the docs are read without this repository's
    # surroundings: neither points outside the repository or cites a source by a file number
    root = Path(__file__).resolve().parent.parent
    texts = {path: path.read_text(encoding="utf-8") for path in root.glob("docs/**/*.md")}
    texts[root / "README.md"] = (root / "README.md").read_text(encoding="utf-8")
    preset_files = list((root / "aftersales" / "policy" / "presets").glob("*.json"))
    assert len(preset_files) == 7
    for preset_file in preset_files:
        texts[preset_file] = " ".join(json.loads(preset_file.read_text())["sources"].values())
    assert (root / "docs" / "domain.md") in texts
    for path, text in texts.items():
        found = re.findall(r"\.\./shared|shared/|DOMAIN\.md|ARCHITECTURE\.md|[Ss]eed ?0\d\d", text)
        assert found == [], (path, found)


MARKETPLACE_SECTIONS = (
    "disputes",
    "autonomy",
    "jury",
    "inspection",
    "reviews",
    "violations",
    "insurance",
)


@pytest.mark.parametrize(
    "name", ["generic", "taobao", "tmall", "jd", "pinduoduo", "douyin", "xianyu"]
)
def test_every_platform_preset_is_a_valid_policy_with_a_source_for_each_marketplace_rule(name):
    from aftersales.policy.data import policy_validate
    from aftersales.policy.rules import preset

    found = preset(name)
    assert policy_validate(found["policy"]) == policy_validate(found["policy"])
    for section in MARKETPLACE_SECTIONS:
        assert section in found["policy"]
        assert len(found["sources"][section]) > 40, (name, section)


def test_a_shop_on_tmall_may_not_change_reviews_and_a_marketplace_section_changes_by_keys(
    admin, shop
):
    # given a shop that moves to Tmall's rules
    moved = admin.put("/shops/shop/policy", {"preset": "tmall"}).json()
    assert (moved["preset"], moved["reviews"]["changes"], moved["reviews"]["may_delete"]) == (
        "tmall",
        0,
        False,
    )
    assert moved["violations"]["enabled"] is True
    # when its administrator shortens the hold of a negative review
    changed = admin.put("/shops/shop/policy", {"reviews": {"hold": "PT24H"}}).json()
    # then that key changes and the section's others keep their values
    assert changed["reviews"] == {**moved["reviews"], "hold": "PT24H"}
    assert changed["version"] == moved["version"] + 1
    assert changed["sources"]["reviews"].startswith("《售后服务手册》")


def test_a_policy_written_before_the_marketplace_rules_reads_them_from_its_preset(admin, shop):
    from aftersales.policy.rules import policy_data_complete

    policy = Policy.objects.get(shop=shop)
    for section in MARKETPLACE_SECTIONS:
        policy.data.pop(section, None)
    policy.save(update_fields=["data"])
    shown = admin.get("/shops/shop/policy").json()
    assert shown["jury"] == {
        "size": 17,
        "majority": 9,
        "vote_window": "PT24H",
        "min_account_days": 90,
        "min_trades": 1,
        "short_vote": "platform",
    }
    assert policy_data_complete(policy)["disputes"]["appeals"] == 1
