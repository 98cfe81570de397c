"""Queries compiled once (``core.compiled``) give what the ORM gives, and the caller they resolve
is the same as before: the token's and the signed-in user's principal in one query."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.test.utils import CaptureQueriesContext

from aftersales.core.compiled import Compiled
from aftersales.team.models import ApiToken, ShopRole
from aftersales.team.selectors import (
    _BY_TOKEN,
    _BY_USER,
    principal_for_token,
    principal_for_user,
)
from aftersales.team.services import hash_token, token_create, token_revoke, user_create
from tests.conftest import make_shop, make_user


@pytest.fixture
def people(db):
    shop, other = make_shop("shop"), make_shop("other")
    users = {
        "admin": make_user("root", "admin"),
        "operator": make_user("op", "platform_operator"),
        "agent": make_user("agent", "agent", shop="shop"),
        "customer": make_user("buyer", "customer", shop="shop", customer="C1"),
    }
    # a lead of one shop who is an agent of another
    user_create(username="lead", role="lead", shop_codes=["shop"])
    membership = get_user_model().objects.get(username="lead").membership
    ShopRole.objects.create(membership=membership, shop=other, role="agent")
    users["lead"] = type(users["agent"])(token_create(username="lead"))
    users["shops"] = (shop.id, other.id)
    return users


def test_compiled_rows_equal_the_orms_for_every_kind_of_caller(people):
    # given every kind of caller's token and user, and tokens that resolve to no one
    revoked = token_create(username="agent")
    token_revoke(token=revoked)
    tokens = [people[who].token for who in ("admin", "operator", "agent", "customer", "lead")]
    tokens += [revoked, "as_nobody"]
    for token in tokens:
        key_hash = hash_token(token)
        # when the compiled query and the ORM's are asked the same thing
        compiled = _BY_TOKEN.rows(key_hash=key_hash)
        orm = list(_BY_TOKEN.build(key_hash=key_hash))
        # then they give the same rows (order aside: one per shop role)
        assert sorted(map(repr, compiled)) == sorted(map(repr, orm)), token
    for user in get_user_model().objects.all():
        assert sorted(map(repr, _BY_USER.rows(user_id=user.pk))) == sorted(
            map(repr, _BY_USER.build(user_id=user.pk))
        )


def test_one_query_resolves_a_caller_with_roles_in_two_shops(people):
    # given a lead of one shop who is an agent of another
    with CaptureQueriesContext(connection) as queries:
        # when the token is resolved
        principal = principal_for_token(people["lead"].token)
    # then one query gives both roles
    assert len(queries) == 1
    shop, other = people["shops"]
    assert principal.shop_roles == {shop: "lead", other: "agent"}
    assert principal_for_user(get_user_model().objects.get(username="lead").pk) == principal


@pytest.mark.parametrize("who", ["admin", "operator", "agent", "customer"])
def test_the_principal_of_each_role(people, who):
    principal = principal_for_token(people[who].token)
    user = get_user_model().objects.get(pk=principal.user_id)
    # the same caller whether it comes by token or by its signed-in session
    assert principal_for_user(user.pk) == principal
    if who in ("admin", "operator"):
        assert principal.shop_ids is None
    elif who == "customer":
        assert principal.shop_ids == {people["shops"][0]} and principal.customer_id is not None
    else:
        assert principal.shop_roles == {people["shops"][0]: "agent"}


def test_revoked_inactive_and_unknown_callers_are_no_one(people):
    token = people["agent"].token
    token_revoke(token=token)
    assert principal_for_token(token) is None
    user = get_user_model().objects.get(username="buyer")
    user.is_active = False
    user.save()
    assert principal_for_token(people["customer"].token) is None
    assert principal_for_user(user.pk) is None
    assert principal_for_token("as_" + "x" * 40) is None
    assert ApiToken.objects.filter(revoked_at=None).exists()


def test_a_compiled_query_refuses_values_it_was_not_built_for(db):
    query = Compiled(
        lambda user_id: get_user_model().objects.filter(pk=user_id).values("username"),
        ["username"],
        user_id=int,
    )
    with pytest.raises(TypeError):
        query.rows(name="x")
    assert query.rows(user_id=10**6) == []


def _fields(instance) -> dict:
    """An instance's column values (no state, no cached relations)."""
    if instance is None:
        return None
    return {
        field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields
    }


def _case_as_read(case) -> dict:
    """Everything a case page reads of ``case_get``'s case: its columns, the rows it follows,
    its owner's name, and its lines with theirs."""
    if case is None:
        return None
    return {
        "case": _fields(case),
        **{
            name: _fields(getattr(case, name))
            for name in ("shop", "order", "customer", "policy", "return_address", "service_center")
        },
        "assignee_username": case.assignee_username,
        "lines": [
            {
                "line": _fields(line),
                "order_line": _fields(line.order_line),
                "sku": _fields(line.order_line.sku),
                "replacement_sku": _fields(line.replacement_sku),
                "case": line.case is case,
            }
            for line in case.lines.all()
        ],
    }


def test_the_compiled_case_page_query_equals_the_orms_for_every_kind_of_caller(people, clock):
    from decimal import Decimal

    from aftersales.cases import selectors
    from aftersales.cases.models import Case
    from aftersales.core.errors import NotFound
    from tests.conftest import make_order, open_case

    # given a case of two lines, approved (a return address), owned, with a replacement SKU
    order = make_order(
        external_id="CMP-1",
        lines=[
            ("L1", "SKU-A", 2, Decimal("100.00"), Decimal("200.00")),
            ("L2", "SKU-B", 1, Decimal("20.00"), Decimal("20.00")),
        ],
    )
    first = open_case(people["customer"], order)
    assert people["agent"].act(first["number"], "approve").status_code == 200
    case = Case.objects.get(number=first["number"])
    case.assignee_id = get_user_model().objects.get(username="agent").pk
    case.save(update_fields=["assignee"])
    line = case.lines.first()
    line.replacement_sku_id = line.order_line.sku_id
    line.save(update_fields=["replacement_sku"])
    # and a stranger's case in another shop
    make_order("other", external_id="CMP-2", customer="C2")
    callers = {who: people[who].principal for who in ("admin", "operator", "agent", "lead")}
    callers["customer"] = people["customer"].principal
    callers["stranger"] = make_user("buyer2", "customer", shop="other", customer="C2").principal
    for who, actor in callers.items():
        for number in (case.number, "AS-NONE"):
            # when the compiled queries and the ORM's read the case
            expected = _case_as_read(selectors.case_get_orm(actor=actor, number=number))
            try:
                compiled = _case_as_read(selectors.case_get(actor=actor, number=number))
            except NotFound:
                compiled = None
            # then both give the same rows, or neither finds it
            assert compiled == expected, (who, number)
            if who != "stranger" and number == case.number:
                assert compiled is not None and len(compiled["lines"]) == 1
    assert selectors._CASE.for_caller(callers["lead"]) is not None  # two shops: compiled too


def test_the_compiled_queue_pages_equal_the_orms(people, clock):
    from aftersales.cases import selectors
    from aftersales.cases.models import Case
    from tests.conftest import make_order, open_case

    # given cases of two customers, two states, with and without a deadline, one flagged
    numbers = []
    for index in range(7):
        order = make_order(external_id=f"QC{index}")
        numbers.append(open_case(people["customer"], order)["number"])
        clock.shift(minutes=index * 7 % 5 + 1)
    people["agent"].act(numbers[1], "approve")
    people["customer"].act(numbers[2], "cancel")
    people["customer"].act(numbers[3], "cancel")
    Case.objects.filter(number=numbers[4]).update(deadline_at=None, flag="red")
    Case.objects.filter(number=numbers[5]).update(
        deadline_at=Case.objects.get(number=numbers[6]).deadline_at
    )
    agent_id = get_user_model().objects.get(username="agent").pk
    Case.objects.filter(number=numbers[6]).update(assignee_id=agent_id)
    order_id = Case.objects.get(number=numbers[0]).order_id
    filter_sets = [
        {},
        {"state": ["awaiting_seller"]},
        {"state": ["awaiting_seller", "cancelled", "awaiting_return"]},
        {"shop": "shop"},
        {"shop": "nosuch"},
        {"shop": "shop", "state": ["awaiting_seller"], "kind": "return_refund"},
        {"flagged": True},
        {"customer": "C1", "reason": "quality_issue"},
        {"order": order_id},
        {"assignee_id": agent_id},
        {"platform": "taobao"},
    ]
    callers = {who: people[who].principal for who in ("admin", "agent", "lead", "customer")}
    for who, actor in callers.items():
        for given in filter_sets:
            filters = selectors.CaseFilters(**given)
            after, pages = None, 0
            while True:
                # when a page is read by the compiled queries and by the ORM's
                expected = selectors._keyset_page(selectors.case_queryset(actor, filters), after, 3)
                compiled = selectors._compiled_page(actor, filters, after, 3)
                # then both give the same rows, page after page
                assert compiled == expected, (who, given, after)
                pages += 1
                if len(expected) < 3:
                    break
                after = selectors.Cursor(expected[-1]["deadline_at"], expected[-1]["id"])
            assert pages >= 1
    assert (
        len(
            selectors._keyset_page(
                selectors.case_queryset(callers["admin"], selectors.CaseFilters()), None, 50
            )
        )
        == 7
    )


@pytest.mark.postgres
def test_timestamps_by_psycopgs_c_loader_equal_djangos(db):
    import datetime as dt
    from zoneinfo import ZoneInfo

    from aftersales.core.pgtypes import fast_timestamps

    sql = (
        "SELECT v FROM (VALUES (TIMESTAMPTZ '2026-11-24 10:00:00.000001+08'), "
        "(TIMESTAMPTZ '1999-12-31 23:59:59+00'), (TIMESTAMPTZ '2026-03-29 01:30:00.5-05'), "
        "(NULL::timestamptz)) AS t(v)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        django_values = cursor.fetchall()
    with connection.cursor() as cursor:
        assert fast_timestamps(connection, cursor)
        cursor.execute(sql)
        c_values = cursor.fetchall()
    assert c_values == django_values
    for (ours,), (djangos,) in zip(c_values[:3], django_values[:3], strict=True):
        assert ours.tzinfo is djangos.tzinfo is dt.UTC
        assert ours.isoformat() == djangos.isoformat()
    # a database set to another time zone keeps Django's loader
    wrapper = connections[DEFAULT_DB_ALIAS]
    wrapper.__dict__["timezone"] = ZoneInfo("Asia/Shanghai")  # the cached property's value
    try:
        with wrapper.cursor() as cursor:
            assert not fast_timestamps(wrapper, cursor)
    finally:
        del wrapper.__dict__["timezone"]


def test_the_compiled_reads_keep_djangos_timestamps_off_postgresql(db):
    from aftersales.core.pgtypes import fast_timestamps

    with connection.cursor() as cursor:
        assert fast_timestamps(connection, cursor) is (connection.vendor == "postgresql")
