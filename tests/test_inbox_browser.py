"""Messages, the bell and the queue's keys in a real browser: the customer replies with a photo
on the portal, the agent sees the unread count in the queue and the bell, opens the case from
the keyboard and answers, and the customer reads the answer."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from aftersales.conversations.models import Message
from tests.test_browser import (  # noqa: F401 (fixtures)
    CHROMIUM,
    Watched,
    launch,
    log_in,
    open_case_for,
    world,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]


def a_photo(path) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "blue").save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue())
    return str(path)


def test_a_customer_and_an_agent_talk(
    launch,  # noqa: F811 (the fixture imported above)
    live_server,
    world,  # noqa: F811
    tmp_path,
):
    number = open_case_for(world["order"])
    # the customer finds the order by its number and phone, and writes with a photo
    buyer = Watched(launch(), live_server.url)
    buyer.go("/")
    buyer.page.fill("#order", "TB-1001")
    buyer.page.fill("#phone", "13800000000")
    buyer.page.click("button[type=submit]")
    buyer.page.wait_for_load_state()
    buyer.go(f"/cases/{number}/")
    buyer.page.fill("#message-text", "壶底有裂纹，见照片")
    buyer.page.set_input_files("#message-photos", a_photo(tmp_path / "crack.jpg"))
    with buyer.page.expect_response(lambda r: r.url.endswith(f"/cases/{number}/message/")):
        buyer.page.click("button[data-send-message]")
    buyer.page.wait_for_selector("li[data-direction=in] img[data-photo]")
    buyer.check()
    assert Message.objects.get().photos.count() == 1

    # the agent sees the unread count in the queue and the bell
    agent = Watched(launch(), live_server.url)
    log_in(agent, "lead", "pw-lead-12345")
    agent.page.wait_for_selector(f"tr[data-case='{number}'] [data-unread='1']")
    agent.page.wait_for_selector("[data-bell-count]")
    assert agent.page.locator("[data-bell-count]").inner_text() == "1"
    agent.shot("inbox-queue")

    # and opens the case from the keyboard (j chooses the first row, o opens it)
    agent.page.keyboard.press("j")
    agent.page.keyboard.press("o")
    agent.page.wait_for_url(f"**/desk/cases/{number}/")
    agent.page.wait_for_selector("img[data-photo]")
    # a key typed into a field is text, not a shortcut
    agent.page.fill("#message-text", "")
    agent.page.type("#message-text", "jo 您好，已安排换新")
    assert agent.page.url.endswith(f"/desk/cases/{number}/")
    with agent.page.expect_response(lambda r: r.url.endswith(f"/desk/cases/{number}/message/")):
        agent.page.click("button[data-send-message]")
    agent.page.wait_for_selector("li[data-direction=out]")
    agent.check()
    agent.shot("inbox-case")

    # the customer reads the answer, signed by the shop
    buyer.go(f"/cases/{number}/")
    answer = buyer.page.locator("li[data-direction=out]")
    assert "jo 您好，已安排换新" in answer.inner_text()
    assert "lead" not in answer.inner_text()
    buyer.check()


def test_the_help_opens_with_a_question_mark(
    launch,  # noqa: F811
    live_server,
    world,  # noqa: F811
):
    agent = Watched(launch(), live_server.url)
    log_in(agent, "lead", "pw-lead-12345")
    agent.page.keyboard.press("?")
    agent.page.wait_for_selector("#shortcuts-help[open]")
    agent.page.keyboard.press("Escape")
    agent.page.keyboard.press("/")
    assert agent.page.evaluate("document.activeElement.name") == "q"
    agent.check()
