"""An opening's reads, compiled once (``core.compiled``), give what the ORM's reads give: the
order with its shop and customer, its lines (locked) with their SKUs and products, the shop's
current policy, and what other cases hold of each line."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from aftersales.cases import ledger
from aftersales.cases.moves import opening
from aftersales.catalog.selectors import order_head
from aftersales.core.actors import SYSTEM
from aftersales.core.errors import NotFound
from aftersales.policy.models import Policy
from aftersales.policy.services import policy_current, policy_update
from aftersales.team.models import ShopRole
from aftersales.team.selectors import principal_for_token
from aftersales.team.services import token_create, user_create
from tests.conftest import make_order, make_shop, make_user, open_case


def columns(instance) -> dict | None:
    if instance is None:
        return None
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def line_columns(line) -> dict:
    """A line and every related row it was read with."""
    return {
        "line": columns(line),
        "order": columns(line.order),
        "shop": columns(line.order.shop),
        "customer": columns(line.order.customer),
        "sku": columns(line.sku),
        "product": columns(line.sku.product),
        "policy": columns(getattr(line, "current_policy", None)),
    }


@pytest.fixture
def world(shop, clock):
    """Two shops, orders of two customers (one of two lines), a second policy version in the
    first shop, a shop with no policy version at all, and every kind of caller."""
    other = make_shop("other")
    policy_update(actor=SYSTEM, shop=shop, changes={"no_reason_days": 15})
    orders = {
        "mine": make_order(
            lines=[
                ("L1", "SKU-1", 2, Decimal("100.00"), Decimal("180.00")),
                ("L2", "SKU-2", 1, Decimal("50.00"), Decimal("50.00")),
            ]
        ),
        "theirs": make_order(external_id="O2", customer="C2"),
        "other shop": make_order(shop="other", external_id="O3"),
    }
    bare = make_shop("bare")
    bare.policies.all().delete()
    orders["no policy"] = make_order(shop="bare", external_id="O4")
    callers = {
        "customer": make_user("buyer", "customer", shop="shop", customer="C1").principal,
        "agent": make_user("agent", "agent", shop="shop").principal,
        "admin": make_user("root", "admin").principal,
        "operator": make_user("op", "platform_operator").principal,
    }
    user_create(username="lead", role="lead", shop_codes=["shop"])
    membership = get_user_model().objects.get(username="lead").membership
    ShopRole.objects.create(membership=membership, shop=other, role="agent")
    callers["lead of two shops"] = principal_for_token(token_create(username="lead"))
    return {"orders": orders, "callers": callers, "shops": (shop, other)}


def scope_values(actor) -> tuple[tuple, dict]:
    if actor.is_customer:
        return ("customer", 0), {"customer_id": actor.customer_id}
    if actor.shop_ids is not None:
        shops = sorted(actor.shop_ids)
        return ("shops", len(shops)), {f"shop{i}": shop for i, shop in enumerate(shops)}
    return ("all", 0), {}


@pytest.mark.parametrize("lock", [True, False], ids=["locked", "unlocked"])
def test_the_compiled_opening_read_equals_the_orms(world, lock):
    for who, actor in world["callers"].items():
        (scope, count), values = scope_values(actor)
        compiled = opening._opening_read_query((scope, count, lock))
        for name, order in [*world["orders"].items(), ("none", None)]:
            order_id = order.id if order else 10**6
            with transaction.atomic():
                # when the compiled read and the ORM's are asked the same thing
                got = compiled.instances(order_id=order_id, **values)
                expected = list(
                    opening._lines_with_order_and_policy(order_id=order_id, lock=lock, **values)
                )
            # then they give the same rows, with the same related rows
            assert [line_columns(line) for line in got] == [
                line_columns(line) for line in expected
            ], (who, name)


def test_the_opening_read_equals_the_reads_it_replaces(world):
    for who, actor in world["callers"].items():
        for name, order in world["orders"].items():
            had_policy = Policy.objects.filter(shop_id=order.shop_id).exists()
            with transaction.atomic():
                read = opening.opening_lines(actor=actor, order_id=order.id, lock=True)
                try:
                    head = order_head(actor=actor, order_id=order.id)
                except NotFound:
                    # an order the caller may not see is not read
                    assert read is None, (who, name)
                    continue
                locked = ledger.lock_lines_of_order(order.id)
                policy = policy_current(shop=head.shop)
            found_order, lines, current = read
            assert columns(found_order) == columns(head), (who, name)
            assert columns(found_order.shop) == columns(head.shop)
            assert columns(found_order.customer) == columns(head.customer)
            assert list(lines) == list(locked)
            for line_id, line in lines.items():
                assert columns(line) == columns(locked[line_id])
                assert columns(line.sku) == columns(locked[line_id].sku)
                assert columns(line.sku.product) == columns(locked[line_id].sku.product)
                assert line.order is found_order
            if not had_policy:
                assert current is None  # the opening then makes the shop's first
            else:
                assert columns(current) == columns(policy)
                assert current.version == (2 if name in ("mine", "theirs") else 1)


def test_a_caller_of_many_shops_is_read_through_the_orm(world):
    # given an agent of more shops than the compiled read covers
    codes = [f"s{index}" for index in range(opening._MOST_SHOPS_COMPILED)]
    for code in codes:
        make_shop(code)
    user_create(username="busy", role="agent", shop_codes=["shop", *codes])
    actor = principal_for_token(token_create(username="busy"))
    # when an order is read for an opening, then the reads are the ORM's, one by one
    with transaction.atomic():
        assert (
            opening.opening_lines(actor=actor, order_id=world["orders"]["mine"].id, lock=True)
            is None
        )


def test_the_compiled_claims_equal_the_orms(customer, agent, clock):
    # given a two-line order with cases holding units of each line, one of them finished
    order = make_order(
        external_id="R1",
        lines=[
            ("L1", "SKU-1", 3, Decimal("100.00"), Decimal("300.00")),
            ("L2", "SKU-2", 2, Decimal("50.00"), Decimal("100.00")),
        ],
    )
    first = open_case(customer, order)
    open_case(customer, order)
    assert customer.act(first["number"], "cancel").status_code == 200
    line_ids = list(order.lines.order_by("id").values_list("id", flat=True))
    case_ids = [None, *order.cases.values_list("id", flat=True)]
    for asked in ([line_ids[0]], line_ids, [line_ids[1]], [10**6], [line_ids[0], 10**6]):
        for excluding in case_ids:
            # when the compiled query and the ORM's are asked the same thing
            values = {f"line{i}": line_id for i, line_id in enumerate(sorted(asked))}
            if excluding is not None:
                values["case_id"] = excluding
            compiled = ledger._reserved_query(len(asked), excluding is not None).rows(**values)
            orm = list(ledger._reserved_rows(asked, excluding))
            # then they give the same rows
            key = lambda row: row["order_line_id"]  # noqa: E731
            assert sorted(compiled, key=key) == sorted(orm, key=key), (asked, excluding)
            assert ledger.reserved_by_open_cases(asked, excluding_case_id=excluding) == {
                row["order_line_id"]: (row["units"], row["pending"]) for row in orm
            }


def test_an_opening_reads_its_order_lines_and_policy_in_one_query(customer, order):
    line = order.lines.get()
    body = {
        "order_id": order.id,
        "kind": "return_refund",
        "reason": "quality_issue",
        "lines": [{"order_line_id": line.id, "quantity": 1}],
    }
    # when a case is opened
    with CaptureQueriesContext(connection) as queries:
        assert customer.post("/cases", body).status_code == 201
    # then one query read the order, its lines and the policy
    tables = ('"catalog_order"', '"catalog_orderline"', '"cases_policy"')
    reads = [
        query["sql"]
        for query in queries
        if query["sql"].startswith("SELECT") and any(table in query["sql"] for table in tables)
    ]
    assert len(reads) == 1
    assert all(table in reads[0] for table in tables)
