"""The desk's queue: tabs by state group with their counts, sorting in both directions with
keyset paging, saved views, the CSV export of the view on screen, and pinned query counts."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import translation

from aftersales.cases.models import Case, SavedView
from aftersales.cases.queue import TABS, queue_page, queue_parameters
from aftersales.team.services import user_create
from tests.conftest import make_order, make_shop, make_user, open_case

# (state, the tab it shows in)
STATES = [
    ("awaiting_seller", "pending"),
    ("awaiting_return", "to_return"),
    ("return_in_transit", "receiving"),
    ("inspecting", "receiving"),
    ("refund_pending", "to_refund"),
    ("diagnosing", None),
]


@pytest.fixture
def cases(customer, clock):
    """One case per state, opened a minute apart, with growing amounts and deadlines."""
    numbers = {}
    for index, (state, _tab) in enumerate(STATES):
        order = make_order(
            external_id=f"Q{index}",
            lines=[("L1", f"SKU-{index}", 1, Decimal(10 + index), Decimal(10 + index))],
        )
        number = open_case(customer, order)["number"]
        Case.objects.filter(number=number).update(
            state=state, deadline_at=clock.now + dt.timedelta(hours=10 - index)
        )
        numbers[state] = number
        clock.shift(minutes=1)
    return numbers


@pytest.fixture
def desk(agent):
    user_create(username="desk", role="agent", shop_codes=["shop"], password="pw-desk-12345")
    client = Client()
    assert client.login(username="desk", password="pw-desk-12345")
    return client


def listed(page: str) -> list[str]:
    return re.findall(r'<tr data-case="([^"]+)"', page)


def tab_counts(page: str) -> dict[str, int]:
    return {
        code: int(count)
        for code, count in re.findall(
            r'data-tab="(\w+)"[^>]*>[^<]*<span class="count" data-tab-count>(\d+)<', page
        )
    }


def test_each_tab_counts_and_lists_its_states(desk, cases, clock):
    # given one case overdue
    Case.objects.filter(number=cases["diagnosing"]).update(
        deadline_at=clock.now - dt.timedelta(hours=1)
    )
    # when the queue is read
    page = desk.get("/desk/").content.decode()
    # then every tab has its count
    assert tab_counts(page) == {
        "pending": 1,
        "to_return": 1,
        "receiving": 2,
        "to_refund": 1,
        "overdue": 1,
        "all": 6,
    }
    # and each tab lists its states only
    for tab in TABS:
        shown = set(listed(desk.get("/desk/", {"tab": tab.code}).content.decode()))
        expected = {
            number
            for state, number in cases.items()
            if tab.code == "all"
            or (tab.code == "overdue" and state == "diagnosing")
            or dict(STATES)[state] == tab.code
        }
        assert shown == expected, tab.code


def test_the_tabs_count_within_the_other_filters(desk, cases):
    page = desk.get("/desk/", {"q": cases["inspecting"]}).content.decode()
    assert tab_counts(page)["receiving"] == 1 and tab_counts(page)["all"] == 1
    assert tab_counts(page)["pending"] == 0


def test_the_tabs_speak_the_readers_language(desk, cases):
    # (their Chinese: 待处理 / 待退货 / 待收货 / 待退款 / 已超时 / 全部, from the catalogue)
    page = desk.get("/desk/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    with translation.override("zh-hans"):
        labels = [str(tab.label) for tab in TABS]
    assert all(f"{label} <span" in page for label in labels)


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("deadline", list(reversed(range(6)))),
        ("-deadline", list(range(6))),
        ("created", list(range(6))),
        ("-created", list(reversed(range(6)))),
        ("amount", list(range(6))),
        ("-amount", list(reversed(range(6)))),
    ],
)
def test_sorting_in_both_directions(desk, cases, sort, order):
    states = [state for state, _tab in STATES]
    page = desk.get("/desk/", {"sort": sort}).content.decode()
    assert listed(page) == [cases[states[i]] for i in order]


@pytest.mark.parametrize("sort", ["-created", "amount", "-updated", "-deadline"])
def test_every_sort_pages_without_losing_or_repeating_a_case(agent, cases, sort):
    # given a case without a deadline (it comes last either way)
    Case.objects.filter(number=cases["refund_pending"]).update(deadline_at=None)
    view = queue_parameters({"sort": sort}, agent.principal)
    seen, cursor = [], None
    while True:
        rows, cursor = queue_page(actor=agent.principal, view=view, cursor=cursor, limit=2)
        seen += [row["number"] for row in rows]
        if cursor is None:
            break
    assert sorted(seen) == sorted(cases.values()) and len(seen) == 6
    if sort == "-deadline":
        assert seen[-1] == cases["refund_pending"]


def test_a_bad_cursor_is_refused_in_words(desk, cases):
    response = desk.get("/desk/", {"sort": "amount", "cursor": "!!"})
    assert response.status_code == 200
    assert "The cursor is not valid." in response.content.decode()


def test_saved_views_are_each_persons_own(agent, cases):
    # when the agent saves a view
    created = agent.post(
        "/me/views", {"name": "待退款的", "query": {"tab": "to_refund", "sort": "-amount"}}
    )
    # then it is listed with its address, for the agent only
    assert created.status_code == 201
    body = created.json()
    assert body["query"] == {"tab": "to_refund", "sort": "-amount"}
    assert body["url"] == "/desk/?tab=to_refund&sort=-amount"
    assert [v["name"] for v in agent.get("/me/views").json()["items"]] == ["待退款的"]
    colleague = make_user("colleague", "agent", shop="shop")
    assert colleague.get("/me/views").json()["items"] == []
    assert colleague.client.delete(f"/api/v1/me/views/{body['id']}").status_code == 404
    # and deleting it removes it
    assert agent.client.delete(f"/api/v1/me/views/{body['id']}").status_code == 204
    assert not SavedView.objects.exists()


@pytest.mark.parametrize(
    ("who", "body", "status", "code"),
    [
        ("agent", {"name": "", "query": {}}, 422, None),
        ("agent", {"name": "x", "query": {"bogus": "1"}}, 422, "unknown_parameter"),
        ("agent", {"name": "x", "query": {"shop": "other"}}, 404, "shop_not_found"),
        ("agent", {"name": "mine", "query": {}}, 409, "view_exists"),
        ("customer", {"name": "x", "query": {}}, 403, "forbidden"),
    ],
)
def test_saved_view_refusals(agent, customer, who, body, status, code):
    make_shop("other")
    agent.post("/me/views", {"name": "mine", "query": {"mine": True}})
    apis = {"agent": agent, "customer": customer}
    response = apis[who].post("/me/views", body)
    assert response.status_code == status
    if code:
        assert response.json()["code"] == code
    assert SavedView.objects.count() == 1


def test_the_desk_saves_deletes_and_offers_views(desk, cases):
    saved = desk.post("/desk/views/", {"name": "我的待处理", "tab": "pending", "mine": "1"})
    assert saved["Location"] == "/desk/?tab=pending&mine=1"
    page = desk.get("/desk/").content.decode()
    assert 'data-saved-view="我的待处理"' in page
    view = SavedView.objects.get()
    desk.post(f"/desk/views/{view.id}/delete/")
    assert not SavedView.objects.exists()


def rows_of(response) -> list[list[str]]:
    text = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_the_export_is_the_view_on_screen(desk, agent, cases, customer):
    # given a customer whose name a spreadsheet would run as a formula
    Case.objects.get(number=cases["refund_pending"]).customer.__class__.objects.update(
        name='=HYPERLINK("http://x","点击")'
    )
    params = {"tab": "receiving", "sort": "-created"}
    # when the view is exported from the desk and from the API
    from_desk = rows_of(desk.get("/desk/export.csv", params))
    from_api = rows_of(agent.client.get("/api/v1/cases/export.csv", params))
    # then both hold the tab's rows in the view's order, with words and readable times
    assert from_desk == from_api
    header, *rows = from_desk
    assert header[:6] == ["Case", "Order", "Customer", "Kind", "Reason", "State"]
    assert [row[0] for row in rows] == [cases["inspecting"], cases["return_in_transit"]]
    assert rows[0][2].startswith("'=HYPERLINK")
    assert rows[0][3:6] == ["Return and refund", "Quality issue", "Inspecting"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", rows[0][9])


def test_the_export_reads_chinese_and_refuses_unknown_filters(agent, cases):
    response = agent.client.get(
        "/api/v1/cases/export.csv", {"tab": "pending"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    header, _row = rows_of(response)
    assert header[:4] == ["售后单", "订单", "买家", "类型"]
    bad = agent.client.get("/api/v1/cases/export.csv", {"stat": "x"})
    assert (bad.status_code, bad.json()["code"]) == (422, "unknown_parameter")


def test_the_queue_with_tabs_pins_its_queries(desk, cases, customer, django_assert_max_num_queries):
    # given a page of cases with unread messages and a saved view
    for number in cases.values():
        customer.client.post(f"/api/v1/cases/{number}/messages", {"text": "在吗"})
    desk.post("/desk/views/", {"name": "v", "tab": "pending"})
    # when the queue is read, the count does not grow with the rows (15: session, user, the
    # roles per shop, three pages of rows, shops, the page's service-level clocks, tab counts,
    # saved views, the duty toggle, the worker's heartbeat, the shop's penalties in force (the
    # banner), unread counts)
    with django_assert_max_num_queries(15):
        page = desk.get("/desk/").content.decode()
    assert page.count('data-unread="1"') == 6
    with django_assert_max_num_queries(15):
        desk.get("/desk/", {"tab": "receiving", "sort": "-amount"})
