"""The HTTP contract: auth, scoping, shops, orders, the case list and detail."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aftersales.cases.models import Case
from aftersales.catalog.models import Customer, Order, OrderLine
from aftersales.team.services import token_revoke
from tests.conftest import NOW, Api, make_order, make_shop, make_user, open_case, order_payload

ORDER = {
    "shop": "shop",
    "external_id": "TB-1",
    "customer": {
        "external_id": "C9",
        "name": "王芳",
        "phone": "13900000000",
        "email": "w@example.com",
    },
    "paid_at": "2026-11-20T10:00:00+08:00",
    "shipped_at": "2026-11-21T10:00:00+08:00",
    "signed_at": "2026-11-22T10:00:00+08:00",
    "shipping_fee": "8.00",
    "lines": [
        {
            "external_id": "1",
            "sku": "SKU-WOOL-M",
            "title": "羊毛开衫 M",
            "quantity": 2,
            "unit_price": "299.00",
            "paid_amount": "560.00",
            "product_flags": [],
        }
    ],
}


# --- authentication -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header", [None, "Bearer", "Bearer nope", "Token as_x", "Bearer " + "x" * 5000]
)
def test_requests_without_a_valid_token_are_401(db, header):
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=header) if header else Client()
    response = client.get("/api/v1/cases")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_a_revoked_token_is_401(agent):
    assert agent.get("/cases").status_code == 200
    token_revoke(token=agent.token)
    assert agent.get("/cases").status_code == 401


def test_openapi_and_docs_are_served(db):
    from django.test import Client

    schema = Client().get("/api/v1/openapi.json")
    assert schema.status_code == 200
    assert "/api/v1/cases/{number}/actions/approve" in schema.json()["paths"]
    assert Client().get("/api/v1/docs").status_code == 200


def test_the_api_document_is_built_once_per_process(db):
    from django.test import Client

    from config.api import api

    first = api.get_openapi_schema()
    assert api.get_openapi_schema() is first
    served = Client().get("/api/v1/openapi.json").json()
    assert served["paths"].keys() == first["paths"].keys()
    # the actions' bodies are documented in the cached document too
    approve = first["paths"]["/api/v1/cases/{number}/actions/approve"]["post"]
    assert "requestBody" in approve


def test_unknown_paths_answer_json_404(agent):
    response = agent.get("/nothing-here")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# --- shops ----------------------------------------------------------------------------------


def test_an_installation_admin_creates_a_shop(admin):
    response = admin.post(
        "/shops",
        {
            "code": "tmall-1",
            "name": "天猫旗舰店",
            "preset": "taobao",
            "return_addresses": [
                {"name": "仓 A", "phone": "1", "address": "杭州"},
                {"name": "仓 B", "phone": "2", "address": "上海", "is_default": True},
            ],
        },
    )
    assert response.status_code == 201
    shop = response.json()
    assert (shop["timezone"], shop["currency"], shop["policy_version"]) == (
        "Asia/Shanghai",
        "CNY",
        1,
    )
    assert [a["is_default"] for a in shop["return_addresses"]] == [False, True]
    assert admin.get("/shops/tmall-1").json() == shop


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"code": "shop", "name": "dup"}, 409, "shop_exists"),
        ({"code": "x1", "name": "n", "timezone": "Mars/Olympus"}, 422, "invalid_timezone"),
        ({"code": "BAD CODE", "name": "n"}, 422, "validation_error"),
        ({"code": "x2", "name": "n", "preset": "ebay"}, 422, "validation_error"),
        (
            {
                "code": "x3",
                "name": "n",
                "return_addresses": [
                    {"name": "a", "phone": "1", "address": "a", "is_default": True},
                    {"name": "b", "phone": "1", "address": "b", "is_default": True},
                ],
            },
            422,
            "two_defaults",
        ),
    ],
)
def test_bad_shops_are_refused(admin, shop, body, status, code):
    response = admin.post("/shops", body)
    assert response.status_code == status
    assert response.json()["code"] == code


def test_shop_staff_cannot_create_shops_or_see_other_shops(agent, db):
    make_shop("other")
    assert agent.post("/shops", {"code": "mine", "name": "n"}).status_code == 403
    assert agent.get("/shops/other").status_code == 404
    assert agent.get("/shops/other/policy").status_code == 404
    assert agent.get("/shops/shop").status_code == 200


# --- orders ---------------------------------------------------------------------------------


def test_orders_upsert_is_idempotent_by_shop_and_external_id(agent):
    created = agent.post("/orders", ORDER)
    assert created.status_code == 201
    order = created.json()
    assert order["status"] == "signed"
    assert (order["goods_amount"], order["total_amount"]) == ("560.00", "568.00")
    assert order["lines"][0]["id"] > 0
    updated = agent.post("/orders", {**ORDER, "shipping_fee": "0.00"})
    assert updated.status_code == 200
    assert updated.json()["id"] == order["id"]
    assert updated.json()["total_amount"] == "560.00"
    assert Order.objects.count() == 1
    assert OrderLine.objects.count() == 1
    assert Customer.objects.get(external_id="C9").name == "王芳"


def test_many_orders_at_once_all_or_none(agent):
    second = {**ORDER, "external_id": "TB-2"}
    response = agent.post("/orders", [ORDER, second])
    assert response.status_code == 200
    assert [o["external_id"] for o in response.json()] == ["TB-1", "TB-2"]
    broken = {**ORDER, "external_id": "TB-3", "shop": "nowhere"}
    response = agent.post("/orders", [{**ORDER, "external_id": "TB-4"}, broken])
    assert response.status_code == 404
    assert response.json()["index"] == 1
    assert not Order.objects.filter(external_id="TB-4").exists()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"paid_at": "2026-11-20T10:00:00"}, "naive_datetime"),
        ({"signed_at": "2026-11-19T10:00:00+08:00"}, "invalid_order_dates"),
        ({"lines": []}, "validation_error"),
        ({"lines": [{**ORDER["lines"][0], "quantity": 0}]}, "validation_error"),
        ({"lines": [{**ORDER["lines"][0], "product_flags": ["glowing"]}]}, "validation_error"),
        ({"lines": [ORDER["lines"][0], ORDER["lines"][0]]}, "duplicate_line"),
        ({"shipping_fee": "-1"}, "validation_error"),
    ],
)
def test_bad_orders_are_refused(agent, change, code):
    response = agent.post("/orders", {**ORDER, **change})
    assert response.status_code in (404, 422), response.content
    assert response.json()["code"] == code
    assert Order.objects.count() == 0


def test_an_order_line_cannot_shrink_below_its_cases(agent, customer, order):
    open_case(customer, order, quantity=2)
    payload = order_payload(order, quantity=1, paid_amount="90.00")
    response = agent.post("/orders", payload)
    assert response.status_code == 422
    assert response.json()["code"] == "line_locked_by_cases"
    assert order.lines.get().quantity == 2


def test_customers_and_finance_cannot_import_orders(customer, finance):
    assert customer.post("/orders", ORDER).status_code == 403
    assert finance.post("/orders", ORDER).status_code == 403


def test_orders_are_scoped_to_the_caller(agent, customer, order, db):
    mine = order
    theirs = make_order(external_id="O2", customer="C2")
    make_shop("other")
    foreign = make_order(shop="other", external_id="F1")
    assert customer.get(f"/orders/{mine.id}").status_code == 200
    assert customer.get(f"/orders/{theirs.id}").status_code == 404
    assert agent.get(f"/orders/{theirs.id}").status_code == 200
    assert agent.get(f"/orders/{foreign.id}").status_code == 404
    assert [o["external_id"] for o in customer.get("/orders").json()["items"]] == ["O1"]
    assert {o["external_id"] for o in agent.get("/orders").json()["items"]} == {"O1", "O2"}
    assert [o["external_id"] for o in agent.get("/orders", customer="C2").json()["items"]] == ["O2"]


# --- cases: scoping, list, detail -------------------------------------------------------------


def test_a_customer_sees_only_their_own_cases(customer, agent, shop):
    mine = open_case(customer, make_order(external_id="A1"))["number"]
    other_order = make_order(external_id="A2", customer="C2")
    theirs = open_case(agent, other_order)["number"]
    assert customer.get(f"/cases/{theirs}").status_code == 404
    assert customer.act(theirs, "cancel").status_code == 404
    assert [c["number"] for c in customer.get("/cases").json()["items"]] == [mine]


def test_staff_of_another_shop_see_nothing(customer, order, db):
    number = open_case(customer, order)["number"]
    make_shop("other")
    outsider = make_user("outsider", "agent", shop="other")
    assert outsider.get(f"/cases/{number}").status_code == 404
    assert outsider.act(number, "approve").status_code == 404
    assert outsider.get("/cases").json()["items"] == []
    assert Case.objects.get(number=number).state == "awaiting_seller"


def test_the_case_detail(customer, agent, order):
    number = open_case(customer, order)["number"]
    agent.act(number, "approve")
    case = agent.get(f"/cases/{number}").json()
    assert case["state"] == "awaiting_return"
    assert case["return_address"]["address"] == "杭州市余杭区 1 号"
    assert case["lines"][0]["quantity"] == 1
    assert [e["action"] for e in case["events"]] == ["open", "approve"]
    assert case["events"][1]["actor"] == "agent"
    assert case["events"][1]["from_state"] == "awaiting_seller"
    assert case["first_response_at"] is not None
    assert case["deadline_at"].startswith("2026-12-01")


@pytest.mark.parametrize(
    ("opener", "kind", "reason", "extra"),
    [
        ("customer", "return_refund", "quality_issue", {}),
        ("customer", "refund_only", "missing_item", {"amount": "150.00"}),
        ("customer", "exchange", "quality_issue", {}),
        ("agent", "return_refund", "changed_mind", {}),
    ],
)
def test_the_opening_answer_equals_a_read_of_the_case(
    request, customer, agent, order, opener, kind, reason, extra
):
    # given a case opened through the API (answered from what the opening wrote)
    api = request.getfixturevalue(opener)
    with CaptureQueriesContext(connection) as queries:
        opened = open_case(api, order, kind=kind, reason=reason, **extra)
    # when the same person reads it back
    read = api.get(f"/cases/{opened['number']}").json()
    # then the two answers are the same, to the last field, and the answer read nothing back
    assert opened == read
    assert not [q for q in queries if q["sql"].startswith('SELECT "core_event"')]


# The case page's queries (docs/performance.md): the caller (the check of the one kept, or its
# resolution), the case with its shop, order, customer, policy and addresses, its lines with
# their SKUs, its timeline, its compensations and its evidence.
CASE_DETAIL_QUERIES = 6


@pytest.mark.parametrize("kept", [True, False], ids=["caller kept", "new process"])
def test_the_case_page_takes_a_fixed_number_of_queries(
    customer, agent, order, clock, django_assert_num_queries, kept
):
    from aftersales.team.selectors import principal_cache_clear

    number = open_case(customer, order)["number"]
    assert agent.act(number, "approve").status_code == 200
    for timeline_length in ("short", "long"):
        if not kept:
            principal_cache_clear()
        # when the case is read, with a short timeline and then a long one
        with django_assert_num_queries(CASE_DETAIL_QUERIES):
            answer = agent.get(f"/cases/{number}")
        assert answer.status_code == 200
        if timeline_length == "short":
            # the timeline grows by sixty entries
            case = Case.objects.get(number=number)
            entry = case.events.order_by("id").first()
            for _ in range(60):
                entry.pk, entry._state.adding = None, True
                entry.save()
    assert len(agent.get(f"/cases/{number}").json()["events"]) >= 62


@pytest.fixture
def many_cases(customer, agent, shop, clock):
    """Six cases opened an hour apart, two of them moved on (new deadlines), one closed."""
    numbers = []
    for index in range(6):
        order = make_order(external_id=f"Q{index}")
        numbers.append(open_case(customer, order)["number"])
        clock.shift(hours=1)
    agent.act(numbers[1], "approve")
    agent.act(numbers[2], "reject", {"reason": "x"})
    customer.act(numbers[3], "cancel")
    return numbers


def test_the_list_is_ordered_by_deadline_with_closed_cases_last(agent, many_cases):
    items = agent.get("/cases").json()["items"]
    deadlines = [item["deadline_at"] for item in items]
    assert deadlines[-1] is None
    assert deadlines[:-1] == sorted(deadlines[:-1])
    assert items[-1]["number"] == many_cases[3]


def test_keyset_pages_walk_every_case_once(agent, many_cases):
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = agent.get("/cases", **params).json()
        seen += [item["number"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(many_cases)
    assert len(seen) == len(set(seen))


def test_list_filters(agent, many_cases, clock):
    def numbers(**params):
        return {item["number"] for item in agent.get("/cases", **params).json()["items"]}

    assert numbers(state="rejected") == {many_cases[2]}
    assert numbers(state=["rejected", "closed"]) == {many_cases[2], many_cases[3]}
    assert numbers(kind="refund_only") == set()
    assert numbers(shop="shop") == set(many_cases)
    assert numbers(customer="C1") == set(many_cases)
    order_id = Case.objects.get(number=many_cases[4]).order_id
    assert numbers(order=order_id) == {many_cases[4]}
    due = (NOW + dt.timedelta(days=5, minutes=30)).isoformat()
    assert numbers(due_before=due) == {many_cases[0]}
    assert numbers(due_before="2026-11-29") == set()  # a plain date is midnight UTC
    assert numbers(due_before="2026-11-30") == {many_cases[0], many_cases[4], many_cases[5]}
    clock.set(NOW + dt.timedelta(days=5, hours=4, minutes=30))
    assert numbers(overdue="true") == {many_cases[0], many_cases[4]}
    assert many_cases[3] in numbers(overdue="false")


@pytest.mark.parametrize(
    "params",
    [{"cursor": "%%%"}, {"state": "limbo"}, {"limit": "many"}, {"due_before": "someday"}],
)
def test_bad_list_parameters_are_4xx(agent, params):
    response = agent.get("/cases", **params)
    assert response.status_code == 422
    assert response.json()["code"] in {"invalid_cursor", "validation_error"}


def test_case_detail_queries_do_not_grow_with_the_timeline(customer, agent, order):
    short = open_case(customer, order)["number"]
    long = open_case(customer, order)["number"]
    agent.act(long, "reject", {"reason": "a"})
    customer.act(long, "modify", {"description": "b"})
    agent.act(long, "reject", {"reason": "c"})
    customer.act(long, "modify", {"description": "d"})

    def count(number):
        with CaptureQueriesContext(connection) as queries:
            assert agent.get(f"/cases/{number}").status_code == 200
        return len(queries)

    assert count(short) == count(long)
    assert count(long) <= 8


def test_json_is_utf8_not_escaped(agent, customer, order):
    number = open_case(customer, order)["number"]
    response = agent.get(f"/cases/{number}")
    assert "商品".encode() in response.content


def test_errors_are_translated(customer, order):
    api = Api(customer.token)
    response = api.client.get("/api/v1/cases/AS0", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 404
    assert response.json()["code"] == "case_not_found"
    assert "售后" in response.json()["detail"]


def test_the_same_order_twice_in_one_call_is_refused(agent):
    response = agent.post("/orders", [ORDER, ORDER])
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["index"]) == ("duplicate_order", 1)
    assert Order.objects.count() == 0


def test_lines_left_out_are_kept_and_counted(agent):
    second_line = {**ORDER["lines"][0], "external_id": "2", "sku": "SKU-B", "paid_amount": "40.00"}
    agent.post("/orders", {**ORDER, "lines": [ORDER["lines"][0], second_line]})
    response = agent.post("/orders", {**ORDER, "lines": [{**second_line, "paid_amount": "30.00"}]})
    assert [line["paid_amount"] for line in response.json()["lines"]] == ["560.00", "30.00"]
    assert response.json()["goods_amount"] == "590.00"


def test_shipments_and_products_are_upserted_not_duplicated(agent):
    shipped = {**ORDER, "shipments": [{"carrier": "顺丰", "tracking_number": "SF1"}]}
    agent.post("/orders", shipped)
    flagged = {**shipped, "lines": [{**ORDER["lines"][0], "product_flags": ["intimate"]}]}
    response = agent.post("/orders", flagged)
    assert response.json()["shipments"] == [{"carrier": "顺丰", "tracking_number": "SF1"}]
    assert response.json()["lines"][0]["product_flags"] == ["intimate"]


def test_an_order_with_cases_keeps_its_customer(agent, customer, order):
    open_case(customer, order)
    payload = order_payload(order, customer="SOMEONE-ELSE")
    response = agent.post("/orders", payload)
    assert response.status_code == 409
    assert response.json()["code"] == "order_customer_locked"


def test_an_unknown_filter_is_refused_not_ignored(agent):
    response = agent.get("/cases", stat="rejected")
    assert response.status_code == 422
    assert response.json()["code"] == "unknown_parameter"
    assert agent.get("/orders", shopp="shop").json()["code"] == "unknown_parameter"


@pytest.mark.parametrize(("path", "expected"), [("/cases", 3), ("/orders", 6)])
def test_list_queries_do_not_grow_with_the_page(agent, customer, shop, path, expected):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert agent.get(path, limit=50).status_code == 200
        return len(queries)

    for index in range(3):
        open_case(customer, make_order(external_id=f"P{index}"))
    few = count()
    for index in range(3, 20):
        open_case(customer, make_order(external_id=f"P{index}"))
    assert count() == few == expected


def test_a_form_body_sent_to_a_json_operation_is_415(customer, agent, order):
    # given a case waiting for the shop
    number = open_case(customer, order)["number"]
    # when an action is sent as a form instead of JSON
    response = agent.client.post(f"/api/v1/cases/{number}/actions/reject", {"reason": "照片不清"})
    # then it is refused, not a 500, and the case waits still
    assert response.status_code == 415
    assert response.json() == {"code": "unsupported_media_type", "detail": "Send the body as JSON."}
    assert Case.objects.get(number=number).state == "awaiting_seller"
