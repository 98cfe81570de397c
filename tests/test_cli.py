"""The operator's command line: users, tokens, order import, demo data."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from aftersales.cases.choices import CaseState
from aftersales.cases.models import Case
from aftersales.catalog.models import Order, OrderLine
from aftersales.team.models import Membership
from aftersales.team.selectors import principal_for_token
from tests.conftest import make_order

HEADER = ",".join(
    (
        "shop,external_id,customer_external_id,customer_name,customer_phone,customer_email",
        "paid_at,shipped_at,signed_at,shipping_fee,line_external_id,sku,title,quantity",
        "unit_price,paid_amount,product_flags",
    )
)
CSV = (
    HEADER
    + """
shop,TB-100,C7,孙七,13700000000,,2026-11-20T10:00:00+08:00,2026-11-21T10:00:00+08:00,,6.00,1,SKU-A,茶杯,2,30.00,55.00,
shop,TB-100,C7,孙七,13700000000,,2026-11-20T10:00:00+08:00,2026-11-21T10:00:00+08:00,,6.00,2,SKU-B,茶叶,1,80.00,80.00,perishable
shop,TB-101,C8,周八,,,2026-11-20T11:00:00+08:00,,,0,1,SKU-A,茶杯,1,30.00,30.00,
"""
)


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_user_and_token_create(shop):
    run("user", "create", "lee", "--role", "agent", "--shop", "shop")
    token = run("token", "create", "lee").strip()
    principal = principal_for_token(token)
    assert (principal.username, principal.role) == ("lee", "agent")
    assert principal.shop_ids == frozenset({shop.id})


def test_a_customer_user_is_tied_to_the_shops_customer(order):
    run("user", "create", "buyer", "--role", "customer", "--shop", "shop", "--customer", "C1")
    membership = Membership.objects.get(user__username="buyer")
    assert membership.customer == order.customer


def test_an_installation_admin_gets_the_django_admin(db):
    # given
    run("user", "create", "root", "--role", "admin", "--password", "pw-root-0123456")
    client = Client()
    # when
    response = client.post(
        "/admin/login/", {"username": "root", "password": "pw-root-0123456", "next": "/admin/"}
    )
    # then
    assert (response.status_code, response["Location"]) == (302, "/admin/")
    assert client.get("/admin/cases/case/").status_code == 200


def test_a_shop_admin_does_not_get_the_django_admin(shop):
    # given
    run("user", "create", "boss", "--role", "admin", "--shop", "shop", "--password", "pw-boss-123")
    # when
    response = Client().post(
        "/admin/login/", {"username": "boss", "password": "pw-boss-123", "next": "/admin/"}
    )
    # then
    assert response.status_code == 200
    assert "Please enter the correct username and password for a staff account." in (
        response.content.decode()
    )
    user = get_user_model().objects.get(username="boss")
    assert (user.is_staff, user.is_superuser) == (False, False)


@pytest.mark.parametrize(
    "args",
    [
        ("user", "create", "x", "--role", "customer", "--shop", "shop"),
        ("user", "create", "x", "--role", "agent", "--shop", "nowhere"),
        ("token", "create", "nobody"),
    ],
)
def test_bad_user_commands_fail_clearly(shop, args):
    with pytest.raises(CommandError):
        run(*args)


def test_import_orders_from_csv(shop, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(CSV, encoding="utf-8")
    assert "created=2 updated=0 lines=3 errors=0" in run("import", "orders", str(path))
    order = Order.objects.get(external_id="TB-100")
    assert (order.status, order.goods_amount, order.total_amount) == (
        "shipped",
        Decimal("135.00"),
        Decimal("141.00"),
    )
    assert order.lines.get(external_id="2").sku.product.flags == ["perishable"]
    # importing the same file again changes nothing
    assert "created=0 updated=2 lines=3" in run("import", "orders", str(path))
    assert OrderLine.objects.count() == 3


def test_import_orders_from_json_lines_reports_bad_records(shop, tmp_path):
    good = {
        "shop": "shop",
        "external_id": "J1",
        "customer": {"external_id": "C1"},
        "paid_at": "2026-11-20T10:00:00+08:00",
        "lines": [
            {
                "external_id": "1",
                "sku": "S",
                "title": "t",
                "quantity": 1,
                "unit_price": "1",
                "paid_amount": "1",
            }
        ],
    }
    bad_shop = {**good, "external_id": "J2", "shop": "nowhere"}
    path = tmp_path / "orders.jsonl"
    path.write_text("\n".join([json.dumps(good), "{broken", json.dumps(bad_shop)]) + "\n")
    with pytest.raises(CommandError, match="2 records were not imported"):
        run("import", "orders", str(path))
    assert list(Order.objects.values_list("external_id", flat=True)) == ["J1"]


def test_demo_data_loads_once_with_every_state(db):
    output = run("demo")
    assert "as_demo_agent" in output
    states = set(Case.objects.values_list("state", flat=True))
    assert states == set(CaseState.values)
    assert "already loaded" in run("demo")
    # refunded demo cases reversed their orders' invoices
    from aftersales.catalog.models import InvoiceDocument

    refunded = Case.objects.filter(state="refunded").count()
    assert InvoiceDocument.objects.filter(kind="credit_note").count() == refunded
    assert principal_for_token("as_demo_customer").customer_id is not None
    assert make_order(shop="demo", external_id="extra")
    # two teams of agents, two agents in each
    from aftersales.routing.models import AgentProfile

    assert sorted(
        AgentProfile.objects.filter(shop__code="demo").values_list("team__name", "user__username")
    ) == [
        ("维修组", "lead"),
        ("维修组", "xiaoli"),
        ("退换货一组", "agent"),
        ("退换货一组", "xiaowang"),
    ]
