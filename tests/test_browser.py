"""The main journeys in a real browser: Debian's Chromium, headless, driven by Playwright against
a live server. Screenshots of the key pages go to ``test-artifacts/screenshots/`` (gitignored)
so a person can look at them. Every page must render without JavaScript errors."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from aftersales.cases.models import Case
from aftersales.cases.services import case_transition
from aftersales.core import clock as server_clock
from aftersales.team.services import user_create
from tests.conftest import make_order, make_shop, open_case

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]


@pytest.fixture
def launch(tmp_path, monkeypatch):
    """Start Chromium with an empty profile and the given browser language."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own database calls are
    # still synchronous and safe. Only for these tests (it must never reach a deployment).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    contexts = []
    with sync_playwright() as playwright:

        def start(locale="en-US", device_time=None, **options):
            context = playwright.chromium.launch_persistent_context(
                str(tmp_path / f"profile-{len(contexts)}"),  # an empty --user-data-dir
                executable_path=CHROMIUM,
                headless=True,
                args=FLAGS,
                locale=locale,
                **{"viewport": {"width": 1280, "height": 900}, **options},
            )
            # The browser's clock follows the server's (frozen by the ``clock`` fixture), so no
            # page depends on today's date; a test may set the device's clock elsewhere.
            context.clock.set_fixed_time(device_time or server_clock.now())
            contexts.append(context)
            return context

        yield start
        for context in contexts:
            context.close()


@pytest.fixture
def browser(launch):
    return launch()


class Watched:
    """A page whose console errors and uncaught exceptions fail the test."""

    def __init__(self, context, base_url):
        self.page = context.new_page()
        self.base = base_url
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", self._console)

    def _console(self, message):
        # A form refused with 422 is the expected answer (its error is shown in place); Chromium
        # logs every 4xx fetch, which is not a script error.
        if message.type == "error" and "status of 422" not in message.text:
            self.errors.append(message.text)

    def go(self, path):
        response = self.page.goto(self.base + path)
        assert not self.errors, self.errors
        return response

    def shot(self, name):
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def check(self):
        assert not self.errors, self.errors

    def countdown(self, selector="time.countdown"):
        """A countdown's text once the page's script has run: an element can be in the page
        before its deferred script has turned the server's date into the time left."""
        self.page.wait_for_selector(selector)
        self.page.wait_for_load_state("domcontentloaded")
        return self.page.inner_text(selector)


@pytest.fixture
def world(transactional_db, clock):
    make_shop("shop")
    order = make_order(
        external_id="TB-1001",
        lines=[("L1", "KETTLE", 2, Decimal("129.00"), Decimal("258.00"))],
    )
    user_create(username="lead", role="admin", shop_codes=["shop"], password="pw-lead-12345")
    user_create(
        username="buyer",
        role="customer",
        shop_codes=["shop"],
        customer_external_id="C1",
        password="pw-buyer-12345",
    )
    return {"order": order}


def log_in(watched, username, password):
    watched.go("/desk/login/")
    watched.page.fill("#id_username", username)
    watched.page.fill("#id_password", password)
    watched.page.click("button[type=submit]")
    watched.page.wait_for_load_state()


def act(watched, action, fill=None):
    """Open an action's form on the case page, fill it and submit; wait for the fragment."""
    page = watched.page
    details = page.locator(f"#action-{action}")
    if not details.evaluate("e => e.open"):
        details.locator("summary").click()
    for selector, value in (fill or {}).items():
        target = details.locator(selector)
        if target.evaluate("e => e.tagName") == "SELECT":
            target.select_option(value)
        else:
            target.fill(value)
    with page.expect_response(re.compile(f"/act/{action}/")):
        details.locator(f"button[data-action={action}]").click()
    page.wait_for_timeout(100)
    watched.check()


def test_an_agent_approves_receives_inspects_and_refunds(browser, live_server, world):
    number = open_case_for(world["order"])
    agent = Watched(browser, live_server.url)
    log_in(agent, "lead", "pw-lead-12345")
    agent.page.wait_for_selector(f"tr[data-case='{number}']")
    assert agent.page.locator(f"tr[data-case='{number}'] time.countdown").count() == 1
    agent.shot("queue")
    agent.page.click(f"text={number}")
    agent.page.wait_for_selector("#actions")
    agent.shot("case")
    act(agent, "approve")
    assert agent.page.locator("[data-state]").first.get_attribute("data-state") == "awaiting_return"
    # the customer ships the parcel back (through the same service the portal uses)
    case = Case.objects.get(number=number)
    case_transition(
        case_id=case.id,
        action="ship_return",
        actor=buyer_principal(),
        data={"carrier": "顺丰速运", "tracking_number": "SF777"},
    )
    # the receiving desk finds it by the tracking number
    agent.go("/desk/receiving/")
    agent.page.fill("#code", "SF777")
    agent.page.click("button[type=submit]")
    agent.page.wait_for_selector("#action-receive")
    act(agent, "receive")
    act(agent, "inspect", {"[name=result]": "pass"})
    # a refused action answers in place and changes nothing
    assert agent.page.locator("#action-refund").count() == 1
    act(agent, "refund")
    assert agent.page.locator("[data-state]").first.get_attribute("data-state") == "refunded"
    assert Case.objects.get(number=number).refunded_amount == Decimal("129.00")
    agent.shot("case-refunded")


def open_case_for(order) -> str:
    from aftersales.team.services import token_create
    from tests.conftest import Api

    api = Api(token_create(username="buyer"))
    return open_case(api, order)["number"]


def buyer_principal():
    from aftersales.team.selectors import principal_for_token
    from aftersales.team.services import token_create

    return principal_for_token(token_create(username="buyer"))


def test_a_refused_form_shows_its_error_in_place(browser, live_server, world):
    number = open_case_for(world["order"])
    agent = Watched(browser, live_server.url)
    log_in(agent, "lead", "pw-lead-12345")
    agent.go(f"/desk/cases/{number}/")
    act(agent, "reject")  # no reason given
    assert agent.page.locator("[data-error-for=reject]").is_visible()
    assert Case.objects.get(number=number).state == "awaiting_seller"


def test_a_customer_opens_a_case_prints_the_label_and_follows_the_countdown(
    browser, live_server, world
):
    order = world["order"]
    buyer = Watched(browser, live_server.url)
    buyer.go("/")
    buyer.shot("portal-home")
    buyer.page.fill("#order", "TB-1001")
    buyer.page.fill("#phone", "13800000000")
    buyer.page.click("button[type=submit]")
    buyer.page.wait_for_selector("text=Apply for after-sales service")
    buyer.page.click("a.button")
    buyer.page.select_option("#kind", "return_refund")
    buyer.page.select_option("#reason", "quality_issue")
    buyer.page.fill("#description", "壶底漏水")
    buyer.page.click("button[name=check]")
    buyer.page.wait_for_selector("[data-eligible]")
    assert "The shop pays the return shipping." in buyer.page.inner_text("#preview")
    buyer.shot("portal-apply")
    buyer.page.click("button:not([name=check])[type=submit] >> text=Submit")
    countdown = buyer.countdown()
    number = Case.objects.get(order=order).number
    assert "approved automatically" in buyer.page.inner_text("#case")
    # the shop has 5 days to answer a shipped order's application (Taobao preset)
    assert countdown == "5d 0h 0min"
    buyer.shot("portal-case")
    # the shop approves; the customer prints the label and ships the parcel
    lead = Case.objects.get(number=number)
    from django.contrib.auth import get_user_model

    from aftersales.team.selectors import principal_for_user

    principal = principal_for_user(get_user_model().objects.get(username="lead").pk)
    case_transition(case_id=lead.id, action="approve", actor=principal)
    buyer.page.reload()
    label = buyer.page.request.get(f"{live_server.url}/cases/{number}/label.pdf")
    assert label.status == 200 and label.body()[:4] == b"%PDF"
    act(buyer, "ship_return", {"[name=carrier]": "SF", "[name=tracking_number]": "SF1"})
    assert Case.objects.get(number=number).state == "return_in_transit"
    assert "refunded automatically" in buyer.page.inner_text("#case")


def test_the_countdown_runs_on_the_servers_clock_not_the_devices(launch, live_server, world):
    # given a customer whose phone's clock is 40 days ahead of the server's
    number = open_case_for(world["order"])
    device = Watched(
        launch(device_time=server_clock.now() + dt.timedelta(days=40)), live_server.url
    )
    device.go("/")
    device.page.fill("#order", "TB-1001")
    device.page.fill("#phone", "13800000000")
    device.page.click("button[type=submit]")
    device.page.wait_for_selector("text=Apply for after-sales service")

    # when they open their case
    device.go(f"/cases/{number}/")

    # then the countdown shows the time the server says is left, not "overdue 35 days"
    assert device.countdown() == "5d 0h 0min"
    device.check()


def test_the_language_switches_and_defaults_from_the_browser(launch, browser, live_server, world):
    # the browser's language decides at first
    chinese = Watched(launch(locale="zh-CN"), live_server.url)
    chinese.go("/")
    assert chinese.page.inner_text("h1") == "我的退款到哪了？"
    chinese.shot("portal-home-zh")
    visitor = Watched(browser, live_server.url)
    visitor.go("/")
    assert visitor.page.inner_text("h1") == "Where is my refund?"
    # then the switch, which sticks
    with visitor.page.expect_navigation():
        visitor.page.select_option("select[name=language]", "zh-hans")
    assert visitor.page.inner_text("h1") == "我的退款到哪了？"
    visitor.check()
    visitor.go("/desk/login/")
    assert visitor.page.inner_text("h1") == "登录"
    with visitor.page.expect_navigation():
        visitor.page.select_option("select[name=language]", "en")
    assert visitor.page.inner_text("h1") == "Log in"


def test_a_customer_cannot_open_another_customers_case_by_editing_the_url(
    browser, live_server, world
):
    theirs = open_case_for(world["order"])
    make_order(external_id="TB-2002", customer="C2")
    other = Watched(browser, live_server.url)
    other.go("/")
    other.page.fill("#order", "TB-2002")
    other.page.fill("#phone", "13800000000")
    other.page.click("button[type=submit]")
    other.page.wait_for_selector("text=Apply for after-sales service")
    response = other.page.goto(f"{live_server.url}/cases/{theirs}/")
    assert response.status == 404
    assert theirs not in other.page.content()


@pytest.mark.parametrize("language", ["en-US", "zh-CN"])
def test_the_desk_and_the_portal_fit_a_phone(launch, live_server, world, language):
    # given a phone-sized screen (390 × 844) and a case with its forms
    number = open_case_for(world["order"])
    phone = launch(locale=language, viewport={"width": 390, "height": 844})
    agent = Watched(phone, live_server.url)
    log_in(agent, "lead", "pw-lead-12345")

    # when the agent reads the queue and the case, and the customer their case
    pages = {"queue": "/desk/", "case": f"/desk/cases/{number}/"}
    widths = {}
    for name, path in pages.items():
        agent.go(path)
        agent.page.wait_for_load_state()
        widths[name] = agent.page.evaluate("document.documentElement.scrollWidth")
        agent.shot(f"phone-{name}-{language}")

    # then nothing is wider than the screen: wide tables scroll inside their card
    assert widths == {"queue": 390, "case": 390}
