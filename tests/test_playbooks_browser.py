"""A playbook drives a case end to end on the desk, in a real browser (the fixtures of
``test_browser.py``): the quality playbook holds the approval until the photos are asked for
and looked at, fills its reply into the message box, holds the inspection until the fault is
confirmed on receipt, and is complete when the refund is paid. Screenshots go to
``test-artifacts/screenshots/``."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from aftersales.cases.models import Case
from aftersales.cases.services import case_transition
from aftersales.playbooks.models import Playbook
from tests.test_browser import (  # noqa: F401 (fixtures)
    CHROMIUM,
    Watched,
    act,
    browser,
    buyer_principal,
    launch,
    log_in,
    open_case_for,
    world,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]


def tick(watched, key, note=""):
    """Tick a step of the checklist (with a note) and wait for the case to come back."""
    page = watched.page
    item = page.locator(f"li[data-step={key}]")
    if note:
        item.locator("input[name=note]").fill(note)
    with page.expect_response(re.compile(f"/playbook/{key}/")):
        item.locator(f"button[data-tick={key}]").click()
    page.wait_for_selector(f"li[data-step={key}][data-done]")
    watched.check()


def state_of(page) -> str:
    return page.locator("[data-state]").first.get_attribute("data-state")


def test_an_agent_follows_the_quality_playbook_from_application_to_refund(
    browser,  # noqa: F811
    live_server,
    world,  # noqa: F811
):
    # given a shop that holds actions on its quality playbook, and a customer's quality case
    Playbook.objects.filter(shop__code="shop", key="quality_issue").update(enforced=True)
    number = open_case_for(world["order"])
    agent = Watched(browser, live_server.url)
    log_in(agent, "lead", "pw-lead-12345")
    agent.go(f"/desk/cases/{number}/")
    page = agent.page
    page.wait_for_selector("#playbook")
    assert "Quality problem: photos first" in page.locator("#playbook h2").inner_text()
    assert page.locator("[data-gate=approve]").inner_text().startswith("“Approve” waits on:")
    agent.shot("playbook-checklist")

    # when the agent approves before asking for photos, the gate says why, in place
    act(agent, "approve")
    held = page.locator("[data-error-for=approve]").inner_text()
    assert "Ask the customer for photos of the fault" in held
    assert state_of(page) == "awaiting_seller"
    agent.shot("playbook-approval-held")

    # the agent asks for the photos, ticks that with a note, looks at them, and approves
    tick(agent, "photos", "三张照片已收到")
    tick(agent, "fault_seen", "外壳裂纹，属质量问题")
    assert page.locator("[data-gate=approve]").count() == 0
    assert "三张照片已收到" in page.locator("li[data-step=photos]").inner_text()
    act(agent, "approve")
    assert state_of(page) == "awaiting_return"
    tick(agent, "offer_choice", "顾客选择退货退款")
    tick(agent, "approve")

    # the reply step puts its template, filled for this case, into the message box
    page.click("[data-fill=send_reply]")
    # (polled from outside the page: its Content-Security-Policy forbids evaluated scripts)
    expect(page.locator("#message-text")).to_have_value(re.compile(r"^Dear 顾客C1, we are sorry"))
    with page.expect_response(re.compile("/message/")):
        page.locator("form[action$='/message/'] button[type=submit]").click()
    # the message is in the conversation's thread and, once the page is read again, the timeline
    agent.go(f"/desk/cases/{number}/")
    page.wait_for_selector("li[data-action=message]")
    tick(agent, "send_reply")
    agent.shot("playbook-approved-and-replied")

    # the customer ships the parcel back; the inspection waits until the fault is confirmed
    case = Case.objects.get(number=number)
    case_transition(
        case_id=case.id,
        action="ship_return",
        actor=buyer_principal(),
        data={"carrier": "顺丰速运", "tracking_number": "SF888"},
    )
    agent.go(f"/desk/cases/{number}/")
    act(agent, "receive")
    act(agent, "inspect", {"[name=result]": "pass"})
    held = page.locator("[data-error-for=inspect]").inner_text()
    assert "On receipt, confirm the fault and keep photos as evidence" in held
    assert state_of(page) == "inspecting"
    tick(agent, "fault_on_receipt", "已拍照存证")
    act(agent, "inspect", {"[name=result]": "pass"})
    act(agent, "refund")

    # then the case is refunded and its checklist complete, every tick on the timeline
    assert state_of(page) == "refunded"
    assert Case.objects.get(number=number).refunded_amount == Decimal("129.00")
    assert page.locator("#playbook").get_attribute("data-complete") == "true"
    assert Case.objects.get(number=number).events.filter(action="playbook_step_done").count() == 6
    agent.shot("playbook-complete")
