"""Shared fixtures: a shop with staff and a customer, orders, and an API client per role."""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import json
import os
import signal
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

from aftersales.catalog import order_data
from aftersales.catalog import orders as order_services
from aftersales.catalog import services as catalog
from aftersales.core.actors import SYSTEM
from aftersales.onboarding.services import shop_onboard
from aftersales.policy.services import policy_update
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


# --- no test leaves a process behind -------------------------------------------------------------
#
# The test process makes itself a "child subreaper": a process it started whose parent dies (a
# server's worker after its master was killed, say) is re-parented to the test process instead of
# to init, so every process a test started, however deep, stays visible as a descendant. After each
# test, any descendant still running is killed and fails the test; the session fails the same way.

PR_SET_CHILD_SUBREAPER = 36
GRACE_SECONDS = 10.0


def _become_subreaper() -> None:
    # Not on Linux: only direct children are seen.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _process_table() -> dict[int, tuple[int, str]]:
    """pid → (parent pid, state) of every process, from /proc."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (command) state ppid …": the command may hold spaces and parentheses
        fields = stat[stat.rindex(")") + 2 :].split()
        table[int(entry.name)] = (int(fields[1]), fields[0])
    return table


def _command_line(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def running_descendants() -> dict[int, str]:
    """Descendants of this process that still run (zombies are reaped, not reported)."""
    table = _process_table()
    children: dict[int, list[int]] = {}
    for pid, (parent, _state) in table.items():
        children.setdefault(parent, []).append(pid)
    found, stack = {}, list(children.get(os.getpid(), []))
    while stack:
        pid = stack.pop()
        state = table[pid][1]
        if state == "Z":
            if table[pid][0] == os.getpid():
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, os.WNOHANG)
            continue
        found[pid] = _command_line(pid)
        stack.extend(children.get(pid, []))
    return found


def leaked_processes(before: set[int], grace: float = GRACE_SECONDS) -> dict[int, str]:
    """Processes started since ``before`` that outlive a grace period; they are killed."""
    give_up = time.monotonic() + grace
    while True:
        leaked = {p: c for p, c in running_descendants().items() if p not in before}
        if not leaked or time.monotonic() > give_up:
            break
        time.sleep(0.1)
    for pid in leaked:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return leaked


@pytest.fixture(autouse=True, scope="session")
def no_process_outlives_the_session():
    _become_subreaper()
    before = set(running_descendants())
    yield
    leaked = leaked_processes(before)
    assert not leaked, f"processes outlived the test session (now killed): {leaked}"


@pytest.fixture(autouse=True)
def no_process_outlives_its_test(no_process_outlives_the_session):
    before = set(running_descendants())
    yield
    leaked = leaked_processes(before)
    assert not leaked, f"processes outlived the test (now killed): {leaked}"


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

    def patch(self, path, body=None, **headers):
        return self._send("patch", path, body, **headers)

    def delete(self, path, body=None, **headers):
        return self._send("delete", path, body, **headers)

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
    shop = shop_onboard(
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
def fast_password_hashing(settings):
    # Tests log in hundreds of times; the production hasher takes a second or more for each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_principal_cache():
    """Each test starts like a new process: no caller kept from another test (whose rolled-back
    rows may have had the same ids). Keeping callers between requests is tested on its own."""
    from aftersales.team.selectors import principal_cache_clear

    principal_cache_clear()
    yield
    principal_cache_clear()


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
def desk(agent):
    """The desk signed in as an agent of the shop."""
    user_create(username="desk-agent", role="agent", shop_codes=["shop"], password="pw-agent-123")
    client = Client()
    assert client.login(username="desk-agent", password="pw-agent-123")
    return client


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
