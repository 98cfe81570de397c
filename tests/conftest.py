"""Shared fixtures: a shop with staff and a customer, orders, and an API client per role."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client

from aftersales.catalog import order_data
from aftersales.catalog import orders as order_services
from aftersales.catalog import services as catalog
from aftersales.team.principal import SYSTEM
from aftersales.team.selectors import principal_for_token
from aftersales.team.services import token_create, user_create

# A fixed "now" for tests that move the clock: Tuesday 24 Nov 2026, 10:00 in Shanghai.
NOW = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)


def pytest_collection_modifyitems(config, items):
    # Runs before any database exists: decide from the configured engine, not a connection.
    from django.conf import settings

    is_postgres = "postgresql" in settings.DATABASES["default"]["ENGINE"]
    skip = pytest.mark.skip(reason="needs PostgreSQL (run with DATABASE_URL=postgres://...)")
    for item in items:
        if "postgres" in item.keywords and not is_postgres:
            item.add_marker(skip)


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


class Api:
    """A JSON client for one role's token."""

    def __init__(self, token: str):
        self.token = token
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        self.principal = principal_for_token(token)

    def _send(self, method: str, path: str, body=None, **headers):
        kwargs = {"content_type": "application/json", **headers}
        if body is not None:
            kwargs["data"] = (
                body if isinstance(body, (str, bytes)) else json.dumps(body, default=str)
            )
        return getattr(self.client, method)(f"/api/v1{path}", **kwargs)

    def get(self, path, **params):
        return self.client.get(f"/api/v1{path}", params)

    def post(self, path, body=None, **headers):
        return self._send("post", path, body, **headers)

    def put(self, path, body=None, **headers):
        return self._send("put", path, body, **headers)

    def act(self, number: str, action: str, body=None):
        return self.post(f"/cases/{number}/actions/{action}", body or {})


def make_user(username, role, shop=None, customer=None) -> Api:
    user_create(
        username=username,
        role=role,
        shop_codes=[shop] if shop else [],
        customer_external_id=customer,
    )
    return Api(token_create(username=username))


def make_shop(code="shop", preset="taobao", addresses=True, **policy_changes):
    from aftersales.cases.policy import policy_update

    shop = catalog.shop_create(
        actor=SYSTEM,
        code=code,
        name=f"{code} 旗舰店",
        preset=preset,
        return_addresses=[catalog.AddressData("售后仓", "0571-1", "杭州市余杭区 1 号")]
        if addresses
        else [],
    )
    if policy_changes:
        policy_update(actor=SYSTEM, shop=shop, changes=policy_changes)
    return shop


def make_order(
    shop="shop",
    external_id="O1",
    customer="C1",
    *,
    paid_at=NOW - dt.timedelta(days=4),
    shipped=True,
    signed=True,
    lines=None,
    flags=None,
):
    shipped_at = paid_at + dt.timedelta(days=1) if shipped else None
    signed_at = paid_at + dt.timedelta(days=2) if shipped and signed else None
    lines = lines or [("L1", "SKU-1", 2, Decimal("100.00"), Decimal("180.00"))]
    order, _ = order_services.order_upsert(
        actor=SYSTEM,
        data=order_data.OrderData(
            shop=shop,
            external_id=external_id,
            customer=order_data.CustomerData(customer, f"顾客{customer}", "13800000000", ""),
            paid_at=paid_at,
            shipped_at=shipped_at,
            signed_at=signed_at,
            lines=[
                order_data.LineData(
                    external_id=line_id,
                    sku=sku,
                    title=f"商品 {sku}",
                    quantity=quantity,
                    unit_price=price,
                    paid_amount=paid,
                    product_flags=flags,
                )
                for line_id, sku, quantity, price, paid in lines
            ],
        ),
    )
    return order


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    """Uploaded evidence goes to a temporary folder, never into the working tree."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def clock(time_machine):
    """The clock stands still at NOW; ``clock.shift(hours=…)`` moves it."""

    class Clock:
        now = NOW

        def shift(self, **delta):
            self.now = self.now + dt.timedelta(**delta)
            time_machine.move_to(self.now, tick=False)
            return self.now

        def set(self, moment):
            self.now = moment
            time_machine.move_to(moment, tick=False)

    time_machine.move_to(NOW, tick=False)
    return Clock()


@pytest.fixture
def shop(db, clock):
    return make_shop()


@pytest.fixture
def admin(db):
    return make_user("root", "admin")


@pytest.fixture
def agent(shop):
    return make_user("agent", "agent", shop="shop")


@pytest.fixture
def finance(shop):
    return make_user("finance", "finance", shop="shop")


@pytest.fixture
def order(shop):
    return make_order()


@pytest.fixture
def customer(order):
    return make_user("buyer", "customer", shop="shop", customer="C1")


def order_payload(order, customer="C1", **line_changes) -> dict:
    """The upsert body that re-sends an existing one-line order, with changes to its line."""
    line = order.lines.get()
    return {
        "shop": order.shop.code,
        "external_id": order.external_id,
        "customer": {"external_id": customer},
        "paid_at": order.paid_at.isoformat(),
        "shipped_at": order.shipped_at.isoformat() if order.shipped_at else None,
        "signed_at": order.signed_at.isoformat() if order.signed_at else None,
        "lines": [
            {
                "external_id": line.external_id,
                "sku": line.sku.code,
                "title": line.title,
                "quantity": line.quantity,
                "unit_price": str(line.unit_price),
                "paid_amount": str(line.paid_amount),
                **line_changes,
            }
        ],
    }


def open_case(api: Api, order, kind="return_refund", reason="quality_issue", quantity=1, **extra):
    line = order.lines.order_by("id").first()
    body = {
        "order_id": order.id,
        "kind": kind,
        "reason": reason,
        "description": "测试",
        "lines": [{"order_line_id": line.id, "quantity": quantity, **extra}],
    }
    response = api.post("/cases", body)
    assert response.status_code == 201, response.content
    return response.json()
