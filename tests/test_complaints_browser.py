"""A complaint's journey in a real browser (Debian's Chromium through Playwright, the fixtures and
flags of ``test_browser.py``): the customer files it from their order's page, an agent takes it
through the stages on the desk, and the customer answers the follow-up. Screenshots go to
``test-artifacts/screenshots/``; every page must render without JavaScript errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from aftersales.complaints.models import Complaint
from tests.test_browser import (  # noqa: F401 (fixtures)
    CHROMIUM,
    Watched,
    act,
    launch,
    log_in,
    world,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]


def find_order(watched, number="TB-1001"):
    watched.go("/")
    watched.page.fill("#order", number)
    watched.page.fill("#phone", "13800000000")
    watched.page.click("button[type=submit]")
    watched.page.wait_for_selector("[data-file-complaint]")


def test_a_complaint_from_the_portal_through_the_desk_to_the_customers_answer(
    launch,  # noqa: F811 (the fixture imported above)
    live_server,
    world,  # noqa: F811
):
    # the customer files a complaint from their order's page
    buyer = Watched(launch(), live_server.url)
    find_order(buyer)
    buyer.page.click("[data-file-complaint]")
    buyer.page.wait_for_selector("#file-complaint")
    buyer.page.select_option("#complaint-type", "not_as_described")
    buyer.page.fill("#complaint-description", "水壶容量与描述不符")
    buyer.shot("complaint-file")
    with buyer.page.expect_navigation():
        buyer.page.click("#file-complaint button[type=submit]")
    number = Complaint.objects.get().number
    assert buyer.page.locator("[data-state]").get_attribute("data-state") == "received"
    assert buyer.countdown() == "2h 0min"
    buyer.shot("complaint-status")
    buyer.check()

    # an agent finds it on the desk's list and takes it through the stages
    agent = Watched(launch(), live_server.url)
    log_in(agent, "lead", "pw-lead-12345")
    agent.go("/desk/complaints/")
    agent.page.wait_for_selector(f"tr[data-complaint='{number}'] time.countdown")
    agent.shot("complaints-list")
    agent.page.click(f"text={number}")
    agent.page.wait_for_selector("#action-acknowledge")
    act(agent, "assign", {"[name=owner]": "lead"})
    assert agent.page.inner_text("[data-owner]") == "lead"
    act(agent, "acknowledge", {"[name=channel]": "call"})
    act(agent, "analyse", {"[name=root_cause]": "详情页容量写错"})
    act(agent, "decide", {"[name=solution_kind]": "coupon", "[name=solution]": "赠送 20 元优惠券"})
    act(agent, "execute", {"[name=outcome]": "优惠券已发放，详情页已更正"})
    assert agent.page.locator("[data-state]").first.get_attribute("data-state") == "following_up"
    agent.shot("complaint-desk")

    # the customer reads what was done and answers the follow-up
    buyer.go(f"/complaints/{number}/")
    assert "赠送 20 元优惠券" in buyer.page.inner_text("[data-solution]")
    assert "详情页容量写错" not in buyer.page.content()  # the team's analysis stays with it
    act(buyer, "answer", {"[name=answer]": "satisfied", "[name=note]": "处理得很快"})
    assert buyer.page.locator("[data-state]").get_attribute("data-state") == "closed"
    buyer.shot("complaint-closed")
    complaint = Complaint.objects.get(number=number)
    assert (complaint.state, complaint.answer, complaint.answer_note) == (
        "closed",
        "satisfied",
        "处理得很快",
    )
