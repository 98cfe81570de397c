"""The marketplace side in a real browser (Debian's Chromium through Playwright, the fixtures and
flags of ``test_browser.py``): a buyer asks the platform to step in from the portal, the platform's
operator decides on the desk, the shop accepts, and the buyer reads the decision and the refund;
the operator sends goods to the inspection center and records its verdict; a buyer quotes and
insures an order's return shipping. In Chinese, as the
buyers and the platform read it. Every page must render without JavaScript errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from aftersales.cases.models import Case, Compensation
from aftersales.cases.services import case_transition
from aftersales.catalog.models import Shop
from aftersales.core.actors import SYSTEM
from aftersales.core.sweep import sweep
from aftersales.disputes.models import Dispute
from aftersales.inspections.models import Inspection
from aftersales.insurance.models import Cover
from aftersales.policy.services import policy_update
from aftersales.team.selectors import principal_for_user
from aftersales.team.services import token_create, user_create
from tests.conftest import Api, open_case
from tests.test_browser import (  # noqa: F401 (fixtures)
    CHROMIUM,
    Watched,
    act,
    launch,
    log_in,
    open_case_for,
    world,
)
from tests.test_complaints_browser import find_order

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]


REPORT = "鞋标、走线与正品不符"


def principal(username):
    return principal_for_user(get_user_model().objects.get(username=username).pk)


def test_a_dispute_from_the_portal_decided_by_the_platform_on_the_desk(
    launch,  # noqa: F811 (the fixture imported above)
    live_server,
    world,  # noqa: F811
    clock,
):
    # given a case the shop rejected, and the platform's operator
    number = open_case_for(world["order"])
    case = Case.objects.get(number=number)
    case_transition(
        case_id=case.id, action="reject", actor=principal("lead"), data={"reason": "商品无质量问题"}
    )
    user_create(username="platform", role="platform_operator", password="pw-platform-123")

    # the buyer asks the platform to step in, from the case's page in the portal
    buyer = Watched(launch("zh-CN"), live_server.url)
    find_order(buyer)
    buyer.go(f"/cases/{number}/")
    buyer.page.click("[data-open-dispute]")
    buyer.page.wait_for_selector("#open-dispute")
    buyer.page.select_option("#dispute-kind", "refund")
    buyer.page.select_option("#dispute-dispute_class", "product")
    buyer.page.fill("#dispute-statement", "壶底漏水，卖家拒绝退款")
    buyer.shot("dispute-open")
    with buyer.page.expect_navigation():
        buyer.page.click("#open-dispute button[type=submit]")
    dispute = Dispute.objects.get()
    assert buyer.page.locator("[data-state]").get_attribute("data-state") == dispute.state
    assert buyer.page.locator("[data-paused]").count() == 1
    buyer.check()

    # the evidence window closes; the operator decides on the desk
    clock.shift(days=3)
    sweep()
    operator = Watched(launch("zh-CN"), live_server.url)
    log_in(operator, "platform", "pw-platform-123")
    operator.go("/desk/disputes/")
    operator.page.wait_for_selector(f"tr[data-dispute='{dispute.number}']")
    operator.shot("disputes-list")
    operator.page.click(f"text={dispute.number}")
    act(operator, "decide", {"[name=outcome]": "refund_full", "[name=reason]": "卖家未举证"})
    assert operator.page.locator("[data-state]").first.get_attribute("data-state") == "decided"
    assert operator.page.locator("[data-calculation] li").count() >= 1
    operator.shot("dispute-decided")

    # the shop accepts the decision; the refund is paid through the ledger
    act_lead = Watched(launch("zh-CN"), live_server.url)
    log_in(act_lead, "lead", "pw-lead-12345")
    act_lead.go(f"/desk/disputes/{dispute.number}/")
    act(act_lead, "accept")
    assert Case.objects.get(pk=case.pk).state == "refunded"

    # the buyer reads the decision and its reason, in words
    buyer.go(f"/disputes/{dispute.number}/")
    content = buyer.page.inner_text("body")
    assert "卖家未举证" in content
    assert "refund_full" not in content and "decided" not in content
    assert "system" not in content and "系统自动" in content  # the worker's moves, in words
    assert buyer.page.locator("[data-paused]").count() == 0  # the case runs again
    buyer.shot("dispute-final")
    buyer.check()


def test_the_inspection_center_proves_a_counterfeit_on_the_desk(
    launch,  # noqa: F811
    live_server,
    world,  # noqa: F811
    clock,
):
    # given a buyer's counterfeit claim whose goods the platform sent to its inspection center
    buyer_api = Api(token_create(username="buyer"))
    number = open_case(buyer_api, world["order"], reason="counterfeit")["number"]
    user_create(username="platform", role="platform_operator", password="pw-platform-123")
    operator_api = Api(token_create(username="platform"))
    opened = operator_api.post("/inspections", {"case_number": number, "reason": "买家称是假货"})
    assert opened.status_code == 201, opened.content
    inspection = opened.json()
    shipped = buyer_api.post(
        f"/inspections/{inspection['number']}/actions/ship",
        {"carrier": "SF", "tracking_number": "SF9001"},
    )
    assert shipped.status_code == 200, shipped.content

    # the operator confirms receipt by the label's code and records the verdict on the desk
    operator = Watched(launch("zh-CN"), live_server.url)
    log_in(operator, "platform", "pw-platform-123")
    operator.go("/desk/inspections/")
    operator.page.wait_for_selector(f"tr[data-inspection='{inspection['number']}']")
    operator.page.click(f"text={inspection['number']}")
    act(operator, "receive", {"[name=label]": inspection["label"]})
    act(
        operator,
        "verdict",
        {"[name=verdict]": "counterfeit", "[name=report]": REPORT},
    )
    assert operator.page.locator("[data-verdict]").get_attribute("data-verdict") == "counterfeit"
    assert operator.page.locator("[data-consequences] li").count() >= 1
    operator.shot("inspection-verdict")
    operator.check()

    # the verdict is the case's proof: the ten-fold compensation was granted once
    assert Inspection.objects.get().state == "decided"
    assert Compensation.objects.filter(case__number=number, reason="counterfeit").count() == 1

    # the buyer reads the verdict in words on the portal
    buyer = Watched(launch("zh-CN"), live_server.url)
    find_order(buyer)
    buyer.go(f"/inspections/{inspection['number']}/")
    content = buyer.page.inner_text("body")
    assert REPORT in content
    assert "counterfeit" not in content
    buyer.shot("inspection-portal")
    buyer.check()


def test_a_buyer_quotes_and_insures_the_return_shipping_from_the_portal(
    launch,  # noqa: F811
    live_server,
    world,  # noqa: F811
    clock,
):
    # given a shop that offers shipping insurance (运费险)
    policy_update(
        actor=SYSTEM, shop=Shop.objects.get(code="shop"), changes={"insurance": {"offered": True}}
    )

    # the buyer finds the order and follows its link to the insurance, in Chinese
    buyer = Watched(launch("zh-CN"), live_server.url)
    find_order(buyer)
    buyer.page.click("[data-insurance-link] a")
    buyer.page.wait_for_selector("#insurance")
    assert "运费险" in buyer.page.inner_text("h1")

    # they get a quote: the premium, its calculation and how long it is valid
    with buyer.page.expect_navigation():
        buyer.page.click("button[data-action=quote]")
    assert buyer.page.locator("[data-premium]").inner_text() == "5.50 CNY"
    assert "5.50 × 1.00 × 1.00 = 5.50" in buyer.page.inner_text("[data-calculation]")
    assert buyer.page.locator("time.countdown[data-valid-until]").count() == 1
    assert "已报价，未投保" in buyer.page.inner_text("h1")
    buyer.shot("insurance-quoted")
    buyer.check()

    # and insure the order at that premium
    with buyer.page.expect_navigation():
        buyer.page.click("button[data-action=insure]")
    assert buyer.page.locator("h1 [data-state]").get_attribute("data-state") == "insured"
    content = buyer.page.inner_text("body")
    assert "已投保" in content and "insured" not in content
    assert Cover.objects.get().state == "insured"
    buyer.shot("insurance-insured")
    buyer.check()
