"""The KPI dashboard in a real browser (the fixtures of ``test_browser.py``): ECharts draws the
trend and the group charts from the page's JSON under the Content-Security-Policy (no inline
script or style, no console error), and a number opens the cases behind it. Screenshots go to
``test-artifacts/screenshots/``."""

from __future__ import annotations

from pathlib import Path

import pytest

from aftersales.insights.feed import rollup_advance
from tests.conftest import make_order
from tests.test_browser import (  # noqa: F401 (fixtures)
    CHROMIUM,
    Watched,
    browser,
    launch,
    log_in,
    open_case_for,
    world,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]


def test_the_dashboard_draws_its_charts_and_opens_the_cases_behind_a_number(
    browser,  # noqa: F811
    live_server,
    world,  # noqa: F811
):
    # given two cases opened and counted by the feed
    numbers = [open_case_for(world["order"]), open_case_for(make_order(external_id="TB-1002"))]
    rollup_advance()
    lead = Watched(browser, live_server.url)
    log_in(lead, "lead", "pw-lead-12345")
    # when the lead opens the dashboard from the menu, grouped by kind
    lead.page.click("a[data-nav=insights]")
    lead.page.wait_for_selector("#headline")
    lead.page.select_option("select[name=group_by]", "kind")
    lead.page.click("#report-filters button[type=submit]")
    lead.page.wait_for_load_state()
    # then ECharts draws both charts (a canvas in each box), with no script or policy error
    lead.page.wait_for_selector("#trend-chart[data-drawn] canvas")
    lead.page.wait_for_selector("#groups-chart[data-drawn] canvas")
    lead.check()
    assert lead.page.locator("[data-figure=opened] a").first.inner_text() == "2"
    lead.shot("insights-dashboard")
    # and the number of cases opened lists both, each linking to its page
    lead.page.click("#headline [data-figure=opened] a")
    lead.page.wait_for_selector("#drill")
    assert lead.page.locator("#drill tbody tr[data-number]").count() == 2
    lead.check()
    lead.page.click(f"#drill a:text('{numbers[0]}')")
    lead.page.wait_for_selector("#actions")
    lead.check()
