"""SKU stock through the API and the order import, so an exchange completes through the API
alone; a customer's language through the import and its service."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from aftersales.catalog import order_data
from aftersales.catalog import orders as order_services
from aftersales.catalog import services as catalog
from aftersales.catalog.models import Customer, Product, Sku
from aftersales.core.actors import SYSTEM
from aftersales.core.errors import InvalidInput
from aftersales.team.services import token_create, user_create
from tests.conftest import Api, make_order, make_shop, make_user, open_case, order_payload


@pytest.fixture
def sized(order, shop):
    """The order's SKU-1 (none on the shelf) and an L variant of the same product."""
    product = Product.objects.get(code="SKU-1")
    Sku.objects.create(shop=shop, product=product, code="SKU-1-L", title="L码", stock=4)
    return order


def stock_of(code, shop="shop") -> int:
    return Sku.objects.get(shop__code=shop, code=code).stock


# --- set and read ----------------------------------------------------------------------------


def test_an_agent_sets_stock_and_reads_it_with_the_other_variants(agent, sized):
    # given
    assert stock_of("SKU-1") == 0

    # when
    response = agent.put("/skus/SKU-1/stock", {"stock": 7})

    # then
    assert response.status_code == 200, response.content
    expected = {
        "shop": "shop",
        "code": "SKU-1",
        "product": "SKU-1",
        "product_name": "商品 SKU-1",
        "title": "商品 SKU-1",
        "stock": 7,
        "variants": [{"code": "SKU-1-L", "title": "L码", "stock": 4}],
    }
    assert response.json() == expected
    assert stock_of("SKU-1") == 7
    assert agent.get("/skus/SKU-1").json() == expected
    assert agent.get("/skus/SKU-1", shop="shop").json() == expected


@pytest.mark.parametrize("role", ["installation_admin", "shop_admin", "agent"])
def test_admins_and_agents_of_the_shop_set_stock(sized, role):
    # given
    api = {
        "installation_admin": lambda: make_user("root", "admin"),
        "shop_admin": lambda: make_user("boss", "admin", shop="shop"),
        "agent": lambda: make_user("agent", "agent", shop="shop"),
    }[role]()

    # when
    response = api.put("/skus/SKU-1-L/stock", {"stock": 0})

    # then
    assert (response.status_code, response.json()["stock"]) == (200, 0)
    assert stock_of("SKU-1-L") == 0


def test_finance_reads_stock_but_cannot_set_it(finance, sized):
    # when
    read = finance.get("/skus/SKU-1-L")
    write = finance.put("/skus/SKU-1-L/stock", {"stock": 9})

    # then
    assert (read.status_code, read.json()["stock"]) == (200, 4)
    assert (write.status_code, write.json()["code"]) == (403, "forbidden")
    assert stock_of("SKU-1-L") == 4


def test_customers_neither_read_nor_set_stock(customer, sized):
    # when
    read = customer.get("/skus/SKU-1-L")
    write = customer.put("/skus/SKU-1-L/stock", {"stock": 9})

    # then
    assert (read.status_code, read.json()["code"]) == (403, "forbidden")
    assert (write.status_code, write.json()["code"]) == (403, "forbidden")
    assert stock_of("SKU-1-L") == 4


def test_another_shops_sku_is_not_found_and_not_changed(agent, sized):
    # given a SKU only another shop has
    make_shop("other")
    make_order(shop="other", lines=[("L1", "THEIRS", 1, Decimal("5.00"), Decimal("5.00"))])
    Sku.objects.filter(code="THEIRS").update(stock=3)

    # when
    read = agent.get("/skus/THEIRS")
    named = agent.get("/skus/THEIRS", shop="other")
    write = agent.put("/skus/THEIRS/stock", {"stock": 99, "shop": "other"})

    # then
    for response in (read, named, write):
        assert (response.status_code, response.json()["code"]) == (404, "sku_not_found")
    assert stock_of("THEIRS", shop="other") == 3
    assert agent.get("/skus/NOWHERE").json()["code"] == "sku_not_found"


def test_a_code_in_several_of_the_callers_shops_needs_the_shop(sized):
    # given an agent of two shops that both sell SKU-1
    make_shop("other")
    make_order(shop="other")
    user_create(username="both", role="agent", shop_codes=["shop", "other"])
    both = Api(token_create(username="both"))

    # when
    unnamed = both.put("/skus/SKU-1/stock", {"stock": 5})
    named = both.put("/skus/SKU-1/stock", {"stock": 5, "shop": "other"})

    # then
    assert unnamed.status_code == 409
    assert unnamed.json() == {
        "code": "ambiguous_sku",
        "detail": "Several of your shops have this SKU (other, shop): name the shop.",
        "shops": ["other", "shop"],
    }
    assert (named.status_code, named.json()["shop"]) == (200, "other")
    assert (stock_of("SKU-1"), stock_of("SKU-1", shop="other")) == (0, 5)
    assert both.get("/skus/SKU-1").json()["code"] == "ambiguous_sku"
    assert both.get("/skus/SKU-1", shop="shop").json()["stock"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"stock": -1},
        {"stock": 1_000_000_001},
        {"stock": "5"},
        {"stock": 1.5},
        {"stock": True},
        {"stock": None},
        {},
        {"stock": 5, "shop": ""},
    ],
)
def test_bad_stock_values_are_refused_and_change_nothing(agent, sized, body):
    # when
    response = agent.put("/skus/SKU-1-L/stock", body)

    # then
    assert (response.status_code, response.json()["code"]) == (422, "validation_error")
    assert stock_of("SKU-1-L") == 4


def test_the_largest_stock_is_a_billion(agent, sized):
    # when
    response = agent.put("/skus/SKU-1-L/stock", {"stock": 1_000_000_000})

    # then
    assert response.json()["stock"] == 1_000_000_000


@pytest.mark.parametrize("stock", [-1, 1_000_000_001, True, "5"])
def test_the_service_refuses_bad_stock_too(sized, stock):
    # given
    sku = Sku.objects.get(code="SKU-1-L")

    # when
    with pytest.raises(InvalidInput) as refused:
        catalog.sku_stock_set(actor=SYSTEM, sku_id=sku.id, stock=stock)

    # then
    assert refused.value.code == "invalid_stock"
    assert stock_of("SKU-1-L") == 4


def test_an_unknown_parameter_is_refused(agent, sized):
    response = agent.get("/skus/SKU-1", shp="shop")
    assert (response.status_code, response.json()["code"]) == (422, "unknown_parameter")


# --- the order import ------------------------------------------------------------------------


def test_the_order_import_sets_stock_and_keeps_it_when_left_out(agent, sized):
    # given the order's line with a stock, and a new line of a new SKU with one
    payload = order_payload(sized, stock=12)
    new_line = {**payload["lines"][0], "external_id": "L2", "sku": "NEW-SKU", "stock": 3}
    without_stock = order_payload(sized)

    # when
    first = agent.post("/orders", {**payload, "lines": [payload["lines"][0], new_line]})
    again = agent.post("/orders", without_stock)

    # then
    assert (first.status_code, again.status_code) == (200, 200)
    assert (stock_of("SKU-1"), stock_of("NEW-SKU")) == (12, 3)


def test_the_order_import_refuses_bad_stock_and_changes_nothing(agent, sized):
    # when
    response = agent.post("/orders", order_payload(sized, stock=-3, quantity=1))

    # then
    assert (response.status_code, response.json()["code"]) == (422, "validation_error")
    assert (stock_of("SKU-1"), sized.lines.get().quantity) == (0, 2)


CSV_HEADER = (
    "shop,external_id,customer_external_id,customer_name,customer_language,paid_at,"
    "line_external_id,sku,title,quantity,unit_price,paid_amount,stock\n"
)


def run_import(agent, tmp_path, name, text):
    from aftersales.catalog.importer import import_orders

    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return import_orders(actor=agent.principal, path=path)


def test_a_csv_import_sets_stock_and_the_customers_language(agent, shop, tmp_path):
    # given
    text = CSV_HEADER + (
        "shop,T1,EN1,Ann,en,2026-11-20T10:00:00+08:00,1,TEE-M,T恤 M,1,10.00,10.00,25\n"
        "shop,T1,EN1,Ann,en,2026-11-20T10:00:00+08:00,2,TEE-L,T恤 L,1,10.00,10.00,\n"
        "shop,T2,ZH1,王芳,,2026-11-20T10:00:00+08:00,1,TEE-M,T恤 M,1,10.00,10.00,\n"
    )

    # when
    report = run_import(agent, tmp_path, "orders.csv", text)

    # then
    assert (report.created, report.errors) == (2, [])
    assert (stock_of("TEE-M"), stock_of("TEE-L")) == (25, 0)
    languages = dict(Customer.objects.values_list("external_id", "language"))
    assert languages == {"EN1": "en", "ZH1": "zh-hans"}


def test_a_json_lines_import_sets_stock_and_refuses_an_unknown_language(agent, shop, tmp_path):
    # given
    good = {
        "shop": "shop",
        "external_id": "J1",
        "customer": {"external_id": "EN1", "language": "en"},
        "paid_at": "2026-11-20T10:00:00+08:00",
        "lines": [
            {
                "external_id": "1",
                "sku": "MUG",
                "title": "杯子",
                "quantity": 1,
                "unit_price": "1",
                "paid_amount": "1",
                "stock": 8,
            }
        ],
    }
    klingon = {**good, "external_id": "J2", "customer": {"external_id": "K", "language": "tlh"}}

    # when
    report = run_import(
        agent, tmp_path, "orders.jsonl", "\n".join(json.dumps(r) for r in (good, klingon))
    )

    # then
    assert report.created == 1
    assert report.errors == [
        "line 2: customer.language: Input should be 'zh-hans' or 'en'",
    ]
    assert stock_of("MUG") == 8
    assert Customer.objects.get(external_id="EN1").language == "en"


# --- the customer's language -----------------------------------------------------------------


def test_the_import_keeps_a_customers_language_when_left_out(agent, order):
    # given a customer who wrote in English
    english = {**order_payload(order), "customer": {"external_id": "C1", "language": "en"}}
    assert agent.post("/orders", english).json()["customer"]["language"] == "en"

    # when the order is sent again without a language
    response = agent.post("/orders", order_payload(order))

    # then
    assert response.json()["customer"]["language"] == "en"
    assert Customer.objects.get(external_id="C1").language == "en"


@pytest.mark.parametrize("language", ["fr", "zh-Hans", ""])
def test_the_import_refuses_an_unknown_language(agent, order, language):
    # given
    body = {**order_payload(order), "customer": {"external_id": "C1", "language": language}}

    # when
    response = agent.post("/orders", body)

    # then
    assert (response.status_code, response.json()["code"]) == (422, "validation_error")
    assert Customer.objects.get(external_id="C1").language == "zh-hans"


def test_the_order_service_refuses_an_unknown_language_too(shop):
    # given an order built in code, past the API's schema
    data = order_data.OrderData(
        shop="shop",
        external_id="O9",
        customer=order_data.CustomerData("C9", language="fr"),
        lines=[order_data.LineData("1", "S", "t", 1, Decimal("1.00"), Decimal("1.00"))],
    )

    # when
    with pytest.raises(InvalidInput) as refused:
        order_services.order_upsert(actor=SYSTEM, data=data)

    # then
    assert refused.value.code == "invalid_language"
    assert not Customer.objects.filter(external_id="C9").exists()


def test_a_customer_language_is_set_by_its_service(order):
    # given
    customer = Customer.objects.get(external_id="C1")

    # when
    catalog.customer_language_set(customer_id=customer.id, language="en")

    # then
    assert Customer.objects.get(pk=customer.id).language == "en"
    with pytest.raises(InvalidInput) as refused:
        catalog.customer_language_set(customer_id=customer.id, language="de")
    assert refused.value.code == "invalid_language"
    assert Customer.objects.get(pk=customer.id).language == "en"


# --- an exchange through the API alone -------------------------------------------------------


def test_an_exchange_completes_through_the_api_alone(customer, agent, order):
    # given an exchange waiting for a replacement that is not on the shelf
    number = open_case(customer, order, kind="exchange", reason="wrong_size")["number"]
    for api, action, body in [
        (agent, "approve", {}),
        (customer, "ship_return", {"carrier": "中通", "tracking_number": "ZT1"}),
        (agent, "receive", {}),
        (agent, "inspect", {"result": "pass"}),
    ]:
        assert api.act(number, action, body).status_code == 200
    ship = {"carrier": "顺丰速运", "tracking_number": "SF1"}
    refused = agent.act(number, "ship_replacement", ship)
    assert (refused.status_code, refused.json()["code"]) == (409, "replacement_out_of_stock")

    # when the agent restocks through the API and ships
    assert agent.put("/skus/SKU-1/stock", {"stock": 5}).status_code == 200
    shipped = agent.act(number, "ship_replacement", ship)
    done = customer.act(number, "confirm_receipt")

    # then
    assert (shipped.status_code, shipped.json()["state"]) == (200, "shipped_to_customer")
    assert (done.status_code, done.json()["state"]) == (200, "completed")
    assert agent.get("/skus/SKU-1").json()["stock"] == 4
