"""The desk's KPI pages: the dashboard shows the figures of ``selectors.kpis`` for the same
filter (written for people), every number opens exactly the cases ``kpi_cases`` names, the
exports hold one row per case with its values (CSV formula-safe, XLSX read back from its XML)
and are logged; an agent has no dashboard; a bad filter is a message, never a 500."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from decimal import Decimal
from html import unescape
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import translation

from aftersales.cases.models import Case
from aftersales.insights import dashboards, drill_pages, selectors
from aftersales.insights.feed import rollup_advance
from aftersales.insights.models import ExportLog
from aftersales.team.services import token_create, user_create
from tests.conftest import Api, make_order, make_shop, make_user, open_case

# NOW is 2026-11-24 10:00 in Shanghai: the default period is the 30 days up to that day.
SINCE, UNTIL = dt.date(2026, 10, 26), dt.date(2026, 11, 24)
PASSWORD = "pw-lead-12345"


def desk_client(username: str, role: str) -> tuple[Client, Api]:
    user_create(username=username, role=role, shop_codes=["shop"], password=PASSWORD)
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client, Api(token_create(username=username))


@pytest.fixture
def lead(shop):
    return desk_client("lead", "lead")


@pytest.fixture
def cases(customer, agent, finance, order, clock):
    """Three cases: one refunded after an hour's answer and three hours' work (5.00 goodwill
    paid, owned by Li Na), one rejected, one cancelled by the customer; the feed has run."""
    get_user_model().objects.filter(username="agent").update(first_name="=HYPERLINK(1)")
    refunded = open_case(customer, order, kind="refund_only")["number"]
    assert agent.put(f"/cases/{refunded}/assignee", {"assignee": "agent"}).status_code == 200
    clock.shift(hours=1)
    assert agent.act(refunded, "approve", {}).status_code == 200
    compensation = agent.post(
        f"/cases/{refunded}/compensations",
        {"reason": "goodwill", "kind": "coupon", "amount": "5.00"},
    )
    assert compensation.status_code == 201, compensation.content
    clock.shift(hours=3)
    assert finance.act(refunded, "refund", {"idempotency_key": "k1"}).status_code == 200
    rejected = open_case(customer, make_order(external_id="O2"))["number"]
    assert agent.act(rejected, "reject", {"reason": "照片看不清"}).status_code == 200
    cancelled = open_case(customer, make_order(external_id="O3"))["number"]
    assert customer.act(cancelled, "cancel", {}).status_code == 200
    rollup_advance()
    return {"refunded": refunded, "rejected": rejected, "cancelled": cancelled}


def text_of(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


def test_the_dashboard_shows_the_kpis_of_its_filter(lead, cases, shop):
    # given a lead of the shop
    client, api = lead
    # when they open the dashboard grouped by case kind (default period and shop)
    response = client.get("/desk/insights/", {"group_by": "kind"})
    # then its table holds kpis' rows for the same filter, each figure written for people
    assert response.status_code == 200
    expected = selectors.kpis(actor=api.principal, since=SINCE, until=UNTIL, group_by="kind")
    table = response.context["table"]
    assert [row["key"] for row in table] == [row["key"] for row in expected]
    for row, figures in zip(table, expected, strict=True):
        for cell, column in zip(row["cells"], dashboards.COLUMNS, strict=True):
            writer = dashboards._writer(column.kind, "CNY")
            assert cell["text"] == writer(figures[column.key])
    # and the headline is the shop's row of the same report
    (whole,) = selectors.kpis(actor=api.principal, since=SINCE, until=UNTIL, group_by="shop")
    headline = {cell["key"]: cell["text"] for cell in response.context["headline"]}
    assert headline["opened"] == "3" == str(whole["opened"])
    assert headline["ended"] == "2"
    assert headline["first_response_business_hours"] == dashboards.hours_text(
        whole["first_response_business_hours"]
    )
    assert headline["refund_rate"] == "50.0%"
    assert headline["compensation_amount"] == "5.00 CNY"
    assert headline["sla_met_percent"] == "100.0%"
    # and the page reads in words: kinds by their labels, durations in hours and minutes
    page = text_of(response.content.decode())
    assert "Refund only" in page and "Return and refund" in page
    assert "refund_only" not in page and "return_refund" not in page
    assert "2026-11-24T" not in page
    # and the charts' data is JSON for the static script, one point per day of the period
    charts = response.context["charts"]
    assert len(charts["trend"]["labels"]) == 30
    assert sum(charts["trend"]["series"][0]["data"]) == 3
    assert 'id="insights-charts" type="application/json"' in response.content.decode()
    html = response.content.decode()
    assert "/static/insights/echarts.min.js" in html
    # and the page runs only static scripts (the policy forbids inline code and styles)
    assert "<style" not in html and " style=" not in html
    scripts = re.findall(r"<script[^>]*>", html)
    assert all(' src="' in tag or 'type="application/json"' in tag for tag in scripts)
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_the_dashboard_speaks_chinese(lead, cases):
    client, _api = lead
    response = client.get("/desk/insights/", {"group_by": "kind"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert "仅退款" in response.content.decode()


def test_every_number_opens_the_cases_kpi_cases_names(lead, cases):
    # given the dashboard grouped by kind
    client, api = lead
    response = client.get("/desk/insights/", {"group_by": "kind"})
    links = [cell["url"] for cell in response.context["headline"]]
    links += [cell["url"] for row in response.context["table"] for cell in row["cells"]]
    assert len(links) > 20
    for link in links:
        # when a number is opened
        page = client.get(link)
        assert page.status_code == 200, link
        # then the page lists exactly the cases kpi_cases gives for it
        query = {key: values[0] for key, values in parse_qs(urlsplit(link).query).items()}
        items, _next, total = selectors.kpi_cases(
            actor=api.principal,
            measure=query["measure"],
            since=dt.date.fromisoformat(query["since"]),
            until=dt.date.fromisoformat(query["until"]),
            filters=selectors.Drill(kind=query.get("kind")),
        )
        assert [row["number"] for row in page.context["rows"]] == [i["number"] for i in items]
        assert page.context["total"] == total
    # and each case links to its page
    refunded = client.get(f"/desk/insights/cases/?measure=refunded&since={SINCE}&until={UNTIL}")
    assert f'href="/desk/cases/{cases["refunded"]}/"' in refunded.content.decode()


def test_the_cases_behind_a_number_come_a_page_at_a_time(lead, cases, monkeypatch):
    client, _api = lead
    monkeypatch.setattr(drill_pages, "DRILL_PAGE", 2)
    first = client.get("/desk/insights/cases/", {"measure": "opened", "since": SINCE})
    assert [row["number"] for row in first.context["rows"]] == [
        cases["refunded"],
        cases["rejected"],
    ]
    assert first.context["total"] == 3
    second = client.get("/desk/insights/cases/" + first.context["next_url"])
    assert [row["number"] for row in second.context["rows"]] == [cases["cancelled"]]
    assert second.context["next_url"] == ""
    assert second.context["first_url"]


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def xlsx_rows(content: bytes) -> list[list[str]]:
    """The first sheet's cells as text, read from the workbook's XML."""
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        strings = [
            "".join(t.text or "" for t in item.iter(f"{{{ns['m']}}}t"))
            for item in ElementTree.fromstring(book.read("xl/sharedStrings.xml")).findall(
                "m:si", ns
            )
        ]
        sheet = ElementTree.fromstring(book.read("xl/worksheets/sheet1.xml"))
    rows = []
    for row in sheet.iterfind(".//m:sheetData/m:row", ns):
        cells: dict[int, str] = {}
        for cell in row.findall("m:c", ns):
            letters = re.match(r"[A-Z]+", cell.get("r")).group()
            column = 0
            for letter in letters:  # A = 0, Z = 25, AA = 26, …
                column = column * 26 + ord(letter) - ord("A") + 1
            column -= 1
            value = cell.find("m:v", ns).text
            cells[column] = strings[int(value)] if cell.get("t") == "s" else value
        rows.append([cells.get(n, "") for n in range(max(cells) + 1)])
    return rows


def test_the_csv_export_has_one_row_per_case_with_its_values(lead, cases):
    # when the lead exports the dashboard's cases from the page
    client, _api = lead
    response = client.get("/desk/insights/cases.csv", {"since": SINCE, "until": UNTIL})
    # then there is one row per case, in the order of the numbers
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    header, *rows = csv_rows(response.content)
    assert header[:3] == ["Case", "Shop", "Kind"]
    assert [row[0] for row in rows] == sorted(cases.values())
    refunded = next(row for row in rows if row[0] == cases["refunded"])
    amount = Case.objects.get(number=cases["refunded"]).refunded_amount
    assert refunded == [
        cases["refunded"],
        "shop 旗舰店",
        "Refund only",
        "The shop's own",
        "Quality issue",
        "'=HYPERLINK(1)",  # the agent's name, defused
        "2026-11-24 10:00",
        "2026-11-24 11:00",
        "2026-11-24 14:00",
        "Refunded",
        "1.0",
        "1.0",  # no business hours set: every hour counts
        "4.0",
        "4.0",
        "Yes",
        str(amount),
        "5.00",
        "0.00",
        "0.00",
        "0.00",  # goods written off
        "0.00",  # shipping paid
        "0",  # staff minutes
        "0.00",  # staff cost
        "CNY",
        "",
        "SKU-1",  # the SKUs the case named
        "",  # their products' categories (none given)
    ]
    cancelled = next(row for row in rows if row[0] == cases["cancelled"])
    assert (cancelled[5], cancelled[9], cancelled[15], cancelled[16]) == (
        "No owner",
        "Closed",
        "0.00",
        "0.00",
    )
    # and the export is logged
    log = ExportLog.objects.get()
    assert (log.username, log.via, log.file_format, log.rows) == ("lead", "page", "csv", 3)
    assert (log.since, log.until, log.shop_code) == (SINCE, UNTIL, "")


def test_the_cases_behind_a_number_export_as_they_are_listed(lead, cases):
    # given the cases behind the dashboard's "rejected" number, with a filter of its row
    client, _api = lead
    query = {"since": SINCE, "until": UNTIL, "measure": "rejected", "kind": "return_refund"}
    page = client.get("/desk/insights/cases/", query)
    assert page.status_code == 200
    link = re.search(r'href="([^"]+)" data-export="csv"', page.content.decode()).group(1)
    # when the lead downloads them from that page
    response = client.get(unescape(link))
    # then the file holds exactly those cases, and the log keeps the filter
    assert response.status_code == 200
    _header, *rows = csv_rows(response.content)
    assert [row[0] for row in rows] == [cases["rejected"]]
    log = ExportLog.objects.get()
    assert (log.rows, log.filters) == (1, {"measure": "rejected", "kind": "return_refund"})
    # the same through the API
    _client, api = lead
    same = api.get("/insights/cases.csv", since=SINCE, until=UNTIL, measure="refunded")
    assert [row[0] for row in csv_rows(same.content)[1:]] == [cases["refunded"]]
    bad = api.get("/insights/cases.csv", since=SINCE, until=UNTIL, measure="everything")
    assert bad.status_code == 422


def test_the_xlsx_export_through_the_api_has_the_same_rows(lead, cases):
    _client, api = lead
    as_csv = csv_rows(api.get("/insights/cases.csv", since=SINCE, until=UNTIL, shop="shop").content)
    response = api.get("/insights/cases.xlsx", since=SINCE, until=UNTIL, shop="shop")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = xlsx_rows(response.content)
    assert len(rows) == 4
    assert rows[0] == as_csv[0]
    for from_xlsx, from_csv in zip(rows[1:], as_csv[1:], strict=True):
        # text as text (the agent's name is no formula), numbers as numbers
        assert from_xlsx[:6] == [from_csv[0], *from_csv[1:5], from_csv[5].lstrip("'")]
        assert [Decimal(from_xlsx[15]), Decimal(from_xlsx[16])] == [
            Decimal(from_csv[15]),
            Decimal(from_csv[16]),
        ]
    assert list(ExportLog.objects.order_by("id").values_list("via", "file_format", "rows")) == [
        ("api", "csv", 3),
        ("api", "xlsx", 3),
    ]


def test_an_agent_has_no_dashboard_and_no_entry_in_the_menu(lead, cases, agent):
    # given an agent of the shop signed in at the desk
    client, _api = desk_client("desk-agent", "agent")
    # then the menu has no entry, the pages and exports are refused, and nothing is logged
    assert 'data-nav="insights"' not in client.get("/desk/").content.decode()
    assert client.get("/desk/insights/").status_code == 403
    assert client.get("/desk/insights/cases/", {"measure": "opened"}).status_code == 403
    assert client.get("/desk/insights/cases.csv").status_code == 403
    assert agent.get("/insights/cases.csv", since=SINCE, until=UNTIL).status_code == 403
    assert ExportLog.objects.count() == 0
    # while the lead has the entry
    lead_client, _api = lead
    assert 'data-nav="insights"' in lead_client.get("/desk/").content.decode()


@pytest.mark.parametrize(
    ("path", "params", "status", "words"),
    [
        ("/desk/insights/", {"since": "2026-13-01"}, 422, "is not a date"),
        ("/desk/insights/", {"since": "2026-11-10", "until": "2026-11-01"}, 422, "ends before"),
        ("/desk/insights/", {"since": "2020-01-01", "until": "2026-11-01"}, 422, "at most"),
        ("/desk/insights/", {"group_by": "colour"}, 422, "Group the figures by"),
        ("/desk/insights/", {"shop": "nowhere"}, 404, "No shop nowhere"),
        ("/desk/insights/cases/", {"measure": "bogus"}, 422, "Pick a number"),
        ("/desk/insights/cases/", {"measure": "opened", "cursor": "x"}, 422, "does not exist"),
        ("/desk/insights/cases.pdf", {}, 422, "Export as csv or xlsx"),
        ("/desk/insights/cases.csv", {"until": "tomorrow"}, 422, "is not a date"),
    ],
)
def test_a_bad_filter_is_a_message_not_an_error(lead, path, params, status, words):
    client, _api = lead
    response = client.get(path, params)
    assert response.status_code == status
    assert words in text_of(response.content.decode())


def test_the_api_refuses_a_bad_export_in_words(lead):
    _client, api = lead
    response = api.get("/insights/cases.csv", since="2026-11-10", until="2026-11-01")
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_period"
    assert api.get("/insights/cases.xlsx", since="2026-11-01").status_code == 422
    assert ExportLog.objects.count() == 0
    other = make_user("other-lead", "lead", shop="shop")
    assert other.get("/insights/cases.csv", since=SINCE, until=UNTIL, shop="x").status_code == 404


def test_the_headline_over_two_shops_is_their_sums_divided_once(cases, customer, clock):
    # given a case in a second shop, answered after two hours, and an administrator of both
    make_shop("other")
    other_order = make_order(shop="other", external_id="X1", customer="C9")
    buyer = make_user("buyer9", "customer", shop="other", customer="C9")
    number = open_case(buyer, other_order, kind="refund_only")["number"]
    clock.shift(hours=2)
    assert make_user("agent9", "agent", shop="other").act(number, "approve").status_code == 200
    rollup_advance()
    user_create(username="boss", role="admin", password=PASSWORD)
    client = Client()
    assert client.login(username="boss", password=PASSWORD)
    # when the administrator opens the dashboard for every shop
    response = client.get("/desk/insights/")
    # then the headline adds the shops' counts and takes the mean over all the answers
    rows = selectors.kpis(
        actor=Api(token_create(username="boss")).principal,
        since=SINCE,
        until=UNTIL,
        group_by="shop",
    )
    assert len(rows) == 2
    headline = {cell["key"]: cell["text"] for cell in response.context["headline"]}
    assert headline["opened"] == str(sum(row["opened"] for row in rows)) == "4"
    answered = sum(row["first_responses"] for row in rows)
    mean = sum(row["first_response_hours"] * row["first_responses"] for row in rows) / answered
    assert headline["first_response_business_hours"] == (dashboards.hours_text(mean))
    assert [row["label"] for row in response.context["table"]] == ["other 旗舰店", "shop 旗舰店"]


def test_the_dashboard_reads_the_rollups_in_a_fixed_number_of_queries(
    lead, cases, django_assert_max_num_queries
):
    # (the session, the user, the shops, three reads of the rollups, two of the product rollups,
    # the names: never a query per case, group, product or day)
    client, _api = lead
    with django_assert_max_num_queries(QUERIES):
        assert client.get("/desk/insights/", {"group_by": "agent"}).status_code == 200


QUERIES = 17


def test_a_long_period_is_drawn_month_by_month(lead, cases):
    client, _api = lead
    response = client.get("/desk/insights/", {"since": "2026-09-01", "until": "2026-11-30"})
    trend = response.context["charts"]["trend"]
    assert trend["labels"] == ["September 2026", "October 2026", "November 2026"]
    assert trend["series"][0]["data"] == [0, 0, 3]
    assert "By month" in response.content.decode()


def test_durations_read_as_people_say_them():
    with translation.override("en"):
        assert dashboards.hours_text(None) == "—"
        assert dashboards.hours_text(1.0) == "1 hour"
        assert dashboards.hours_text(3 + 20 / 60) == "3 hours 20 minutes"
        assert dashboards.hours_text(1 / 60) == "1 minute"
        assert dashboards.hours_text(0) == "0 minutes"
    with translation.override("zh-hans"):
        assert dashboards.hours_text(1.0) == "1 小时"
        assert dashboards.hours_text(3 + 20 / 60) == "3 小时 20 分钟"
