"""The figures by product: the cases of a period by the SKU they name and by its product's
category (a case naming two SKUs counts under each), through the selector and the API, with
the cases behind each number; a product's category is the one it had when the case opened."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from aftersales.catalog.models import Product, Sku
from aftersales.insights import selectors
from aftersales.insights.feed import rollup_advance, rollup_check
from tests.conftest import make_order, make_user

SINCE, UNTIL = dt.date(2026, 11, 1), dt.date(2026, 11, 30)
PRICE = Decimal("100.00")


@pytest.fixture
def lead(shop):
    return make_user("lead", "lead", shop="shop")


def open_with(customer, order, kind, quantities):
    body = {
        "order_id": order.id,
        "kind": kind,
        "reason": "quality_issue",
        "description": "测试",
        "lines": [
            {"order_line_id": line.id, "quantity": quantity}
            for line, quantity in zip(order.lines.order_by("id"), quantities, strict=True)
        ],
    }
    response = customer.post("/cases", body)
    assert response.status_code == 201, response.content
    return response.json()["number"]


@pytest.fixture
def cases(customer, agent, finance, clock):
    """A refund only of two boots and a scarf (refunded); a return of one boot (open); a
    refund only of a scarf (rejected, then cancelled: ended, not refunded)."""
    both = make_order(
        external_id="P1",
        lines=[("L1", "BOOT-42", 2, PRICE, Decimal("200.00")), ("L2", "SCARF", 1, PRICE, PRICE)],
    )
    Product.objects.filter(skus__code="BOOT-42").update(category="鞋靴")
    Product.objects.filter(skus__code="SCARF").update(category="配饰")
    refunded = open_with(customer, both, "refund_only", [2, 1])
    assert agent.act(refunded, "approve", {}).status_code == 200
    assert finance.act(refunded, "refund", {"idempotency_key": "k1"}).status_code == 200
    boots = make_order(external_id="P2", lines=[("L1", "BOOT-42", 1, PRICE, PRICE)])
    open_with(customer, boots, "return_refund", [1])
    scarf = make_order(external_id="P3", lines=[("L1", "SCARF", 1, PRICE, PRICE)])
    cancelled = open_with(customer, scarf, "refund_only", [1])
    assert agent.act(cancelled, "reject", {"reason": "不符合"}).status_code == 200
    assert customer.act(cancelled, "cancel", {}).status_code == 200
    rollup_advance()
    # a category changed after the cases opened does not move their figures
    Product.objects.filter(skus__code="SCARF").update(category="围巾")
    return {"refunded": refunded, "cancelled": cancelled}


def by_key(rows):
    return {row["key"]: row for row in rows}


def test_the_cases_by_sku(lead, cases):
    rows = selectors.product_kpis(actor=lead.principal, since=SINCE, until=UNTIL)
    boot, scarf = Sku.objects.get(code="BOOT-42"), Sku.objects.get(code="SCARF")
    found = by_key(rows)
    assert [row["key"] for row in rows] == [str(boot.pk), str(scarf.pk)] or [
        row["key"] for row in rows
    ] == [str(scarf.pk), str(boot.pk)]
    b, s = found[str(boot.pk)], found[str(scarf.pk)]
    assert b["label"].startswith("BOOT-42 · ")
    assert (b["opened"], b["units"], b["ended"], b["refunded"], b["returns"]) == (2, 3, 1, 1, 0)
    assert (b["refund_rate"], b["refunds"], b["refund_amount"]) == (100.0, 1, Decimal("300.00"))
    assert (s["opened"], s["units"], s["ended"], s["refunded"], s["refund_rate"]) == (
        2,
        2,
        2,
        1,
        50.0,
    )
    assert rollup_check().differences == []


def test_the_cases_by_category_keep_the_category_they_opened_with(lead, cases):
    rows = by_key(
        selectors.product_kpis(actor=lead.principal, since=SINCE, until=UNTIL, group_by="category")
    )
    assert set(rows) == {"鞋靴", "配饰"}
    assert (rows["鞋靴"]["opened"], rows["配饰"]["opened"]) == (2, 2)
    # one kind only
    returns = selectors.product_kpis(
        actor=lead.principal,
        since=SINCE,
        until=UNTIL,
        group_by="category",
        kind="return_refund",
    )
    assert [(row["key"], row["opened"]) for row in returns] == [("鞋靴", 1)]


def test_the_api_and_the_cases_behind_a_product(lead, cases, shop):
    from aftersales.team.services import token_create
    from tests.conftest import Api

    api = Api(token_create(username="lead"))
    response = api.get(
        f"/insights/products?shop={shop.code}&since={SINCE}&until={UNTIL}&group_by=sku"
    )
    assert response.status_code == 200, response.content
    scarf = Sku.objects.get(code="SCARF")
    row = next(r for r in response.json()["rows"] if r["key"] == str(scarf.pk))
    assert (row["opened"], row["ended"], row["refund_rate"]) == (2, 2, 50.0)
    drill = api.get(
        f"/insights/kpis/cases?measure=refunded&shop={shop.code}&since={SINCE}&until={UNTIL}"
        f"&sku={scarf.pk}"
    )
    assert drill.status_code == 200, drill.content
    assert [item["number"] for item in drill.json()["items"]] == [cases["refunded"]]
    by_category = api.get(
        f"/insights/kpis/cases?measure=ended&since={SINCE}&until={UNTIL}&category=配饰"
    )
    assert {item["number"] for item in by_category.json()["items"]} == {
        cases["refunded"],
        cases["cancelled"],
    }
    bad = api.get(f"/insights/products?since={SINCE}&until={UNTIL}&group_by=colour")
    assert (bad.status_code, bad.json()["code"]) == (422, "validation_error")


def test_an_agent_reads_no_product_figures(agent, cases):
    response = agent.get(f"/insights/products?since={SINCE}&until={UNTIL}")
    assert response.status_code == 403


def test_the_dashboard_lists_the_products_and_each_number_opens_its_cases(cases, shop):
    from django.test import Client

    from aftersales.team.services import user_create

    user_create(username="lead2", role="lead", shop_codes=["shop"], password="pw-lead-12345")
    client = Client()
    assert client.login(username="lead2", password="pw-lead-12345")
    # every shop together: no product card, the page asks to pick a shop
    every = client.get("/desk/insights/", {"since": SINCE, "until": UNTIL}).content.decode()
    assert 'id="products-pick-shop"' in every and 'data-products="sku"' not in every
    page = client.get("/desk/insights/", {"since": SINCE, "until": UNTIL, "shop": shop.code})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-products="sku"' in html and 'data-products="category"' in html
    assert "BOOT-42 · " in html and "配饰" in html
    # the scarf's "refund rate" opens the one refunded case that named it
    scarf = Sku.objects.get(code="SCARF")
    import re
    from html import unescape

    row = re.search(rf'data-products="sku".*?data-group="{scarf.pk}">(.*?)</tr>', html, re.S)
    link = re.search(r'data-figure="refund_rate"><a href="([^"]+)">50', row.group(1))
    drill = client.get(unescape(link.group(1)))
    assert drill.status_code == 200
    assert cases["refunded"] in drill.content.decode()
    assert cases["cancelled"] not in drill.content.decode()
    chinese = client.get(
        "/desk/insights/", {"since": SINCE, "until": UNTIL}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert chinese.status_code == 200


def _summed(finer, key):
    from aftersales.insights.models import PRODUCT_MEASURES

    summed: dict = {}
    for row in finer.objects.all():
        sums = summed.setdefault(tuple(getattr(row, name) for name in key), {})
        for name in PRODUCT_MEASURES:
            sums[name] = sums.get(name, 0) + getattr(row, name)
    return {k: tuple(sums[name] for name in PRODUCT_MEASURES) for k, sums in summed.items()}


def _rows(model):
    from aftersales.insights.models import PRODUCT_MEASURES

    return {
        row.key: tuple(getattr(row, name) for name in PRODUCT_MEASURES)
        for row in model.objects.all()
    }


def _sku_tables():
    """Each SKU table, and what its finer twin (by kind and reason) sums to on its key."""
    from aftersales.insights.models import (
        ProductDailyRollup,
        ProductMonthlyRollup,
        SkuDailyRollup,
        SkuMonthlyRollup,
    )

    return [
        (SkuDailyRollup, ProductDailyRollup, SkuDailyRollup.KEY),
        (SkuMonthlyRollup, ProductMonthlyRollup, SkuMonthlyRollup.KEY),
    ]


def test_the_sku_tables_are_the_product_tables_summed_over_kind_and_reason(lead, cases):
    # the reports by SKU that ask for no kind or reason read the coarser tables
    for coarser, finer, key in _sku_tables():
        assert _rows(coarser) == _summed(finer, key)
        assert len(_rows(coarser)) >= 2  # two SKUs, three kinds between them
    # a period of a few days (read from the days) and a whole month (from the months) agree
    # with the figures of each kind added up
    for since, until in ((SINCE, UNTIL), (dt.date(2026, 11, 20), dt.date(2026, 12, 10))):
        everything = by_key(selectors.product_kpis(actor=lead.principal, since=since, until=until))
        kinds = [
            by_key(selectors.product_kpis(actor=lead.principal, since=since, until=until, kind=k))
            for k in ("refund_only", "return_refund")
        ]
        assert everything
        for key, row in everything.items():
            assert row["opened"] == sum(part[key]["opened"] for part in kinds if key in part)
            assert row["refund_amount"] == sum(
                (part[key]["refund_amount"] for part in kinds if key in part), Decimal("0.00")
            )


@pytest.mark.parametrize(
    "migration, step, table",
    [
        ("0008_sku_monthly_rollups", "sku_months_from_product_months", 1),
        ("0009_sku_daily_rollups", "sku_days_from_product_days", 0),
    ],
)
def test_upgrading_fills_the_sku_tables_from_the_product_tables(
    lead, cases, migration, step, table
):
    from importlib import import_module

    from django.apps import apps

    coarser, finer, key = _sku_tables()[table]
    before = _rows(coarser)
    coarser.objects.all().delete()
    getattr(import_module(f"aftersales.insights.migrations.{migration}"), step)(apps, None)
    assert _rows(coarser) == before == _summed(finer, key)
