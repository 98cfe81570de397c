"""End to end: the real `aftersales serve` (gunicorn + worker process) walks a return through an
automatic approval and an automatic refund, with second-long timeouts."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import pytest
from django.conf import settings

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def database_url(tmp_path):
    """A database of its own: a fresh PostgreSQL database when the suite runs on PostgreSQL,
    else a SQLite file."""
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        yield f"sqlite:///{tmp_path / 'e2e.sqlite3'}"
        return
    import psycopg

    base = settings.DATABASES["default"]
    name = f"aftersales_e2e_{uuid.uuid4().hex[:8]}"
    admin_url = (
        f"host={base['HOST']} port={base['PORT'] or 5432} user={base['USER']} dbname=postgres"
    )
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield f"postgres://{base['USER']}@{base['HOST']}:{base['PORT'] or 5432}/{name}"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def product(tmp_path, database_url):
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "AFTERSALES_HOME": str(tmp_path),
        "AFTERSALES_WORKER_INTERVAL": "0.2",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }

    def cli(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "aftersales.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    cli("migrate", "--no-input", "-v0")
    cli("user", "create", "root", "--role", "admin")
    port = free_port()
    log = open(tmp_path / "serve.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [sys.executable, "-m", "aftersales.cli", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        # Up once it answers at all (the health check says 503 until the worker's first beat);
        # a loaded machine may take a while to start two processes.
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{base.removesuffix('/api/v1')}/health", timeout=5)
                break
            except urllib.error.HTTPError:
                break
            except OSError:  # refused, reset or timed out: not up yet
                time.sleep(0.2)
        else:
            pytest.fail("the server did not start: " + (tmp_path / "serve.log").read_text())
        yield {"cli": cli, "base": base, "server": server, "log": tmp_path / "serve.log"}
    finally:
        # Whatever happened above, the server and everything it started go away.
        stop_process_group(server)
        log.close()


def stop_process_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def days_ago(days: int) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat()


def call(base, token, method, path, body=None):
    request = urllib.request.Request(
        f"{base}{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def wait_for_state(base, token, number, state, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status, case = call(base, token, "GET", f"/cases/{number}")
        assert status == 200
        if case["state"] == state:
            return case
        time.sleep(0.3)
    pytest.fail(f"case {number} stayed {case['state']}, expected {state}")


def quick_shop(product) -> tuple[str, dict]:
    """A shop whose policy answers in seconds, an order and its buyer: (buyer token, order)."""
    cli, base = product["cli"], product["base"]
    root = cli("token", "create", "root")

    status, _ = call(
        base,
        root,
        "POST",
        "/shops",
        {
            "code": "e2e",
            "name": "端到端测试店",
            "preset": "taobao",
            "return_addresses": [{"name": "售后仓", "phone": "0571-1", "address": "杭州"}],
        },
    )
    assert status == 201
    status, policy = call(
        base,
        root,
        "PUT",
        "/shops/e2e/policy",
        {"timeouts": {"seller_response_shipped": "PT2S", "seller_receipt": "PT3S"}},
    )
    assert status == 200, policy
    status, order = call(
        base,
        root,
        "POST",
        "/orders",
        {
            "shop": "e2e",
            "external_id": "E2E-1",
            "customer": {"external_id": "C1", "name": "赵六"},
            # the real clock runs here (the server is another process): dates relative to today
            "paid_at": days_ago(9),
            "shipped_at": days_ago(8),
            "signed_at": days_ago(7),
            "lines": [
                {
                    "external_id": "1",
                    "sku": "SKU-1",
                    "title": "保温杯",
                    "quantity": 1,
                    "unit_price": "99.00",
                    "paid_amount": "99.00",
                }
            ],
        },
    )
    assert status == 201, order
    cli("user", "create", "zhao", "--role", "customer", "--shop", "e2e", "--customer", "C1")
    buyer = cli("token", "create", "zhao")
    return buyer, order


def test_a_return_is_approved_and_refunded_by_the_clock(product):
    base = product["base"]
    # given a shop whose policy answers in seconds
    buyer, order = quick_shop(product)

    # when the buyer asks for a return and the shop never answers
    status, case = call(
        base,
        buyer,
        "POST",
        "/cases",
        {
            "order_id": order["id"],
            "kind": "return_refund",
            "reason": "quality_issue",
            "lines": [{"order_line_id": order["lines"][0]["id"], "quantity": 1}],
        },
    )
    assert status == 201, case
    number = case["number"]

    # then the worker approves it on its own
    approved = wait_for_state(base, buyer, number, "awaiting_return")
    assert approved["events"][-1]["actor"] == "system"
    assert approved["events"][-1]["action"] == "auto_approve"
    assert approved["return_address"]["address"] == "杭州"

    # and when the buyer ships and the shop never confirms receipt, it refunds on its own
    status, shipped = call(
        base,
        buyer,
        "POST",
        f"/cases/{number}/actions/ship_return",
        {"carrier": "顺丰", "tracking_number": "SF100"},
    )
    assert status == 200, shipped
    refunded = wait_for_state(base, buyer, number, "refunded")
    assert refunded["refunded_amount"] == "99.00"
    assert [e["action"] for e in refunded["events"]] == [
        "open",
        "auto_approve",
        "ship_return",
        "auto_refund",
    ]
    assert refunded["events"][-1]["role"] == "system"
    root = product["cli"]("token", "create", "root")
    status, order_after = call(base, root, "GET", f"/orders/{order['id']}")
    assert order_after["lines"][0]["refunded_amount"] == "99.00"


def worker_pid(product) -> int | None:
    url = product["base"].removesuffix("/api/v1") + "/health"
    with urllib.request.urlopen(url, timeout=5) as response:
        worker = json.loads(response.read())["worker"]
    if worker["status"] != "running":
        return None
    return int(worker["worker"].rsplit(":", 1)[1])


def wait_for_worker(product, other_than: int | None = None, seconds: float = 30) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pid = worker_pid(product)
        if pid is not None and pid != other_than:
            return pid
        time.sleep(0.2)
    pytest.fail("no deadline worker came up: " + product["log"].read_text())


def test_a_killed_worker_is_started_again_and_deadlines_act_again(product):
    # given the running product, its worker killed without warning
    first = wait_for_worker(product)
    os.kill(first, signal.SIGKILL)

    # when a case falls due afterwards
    buyer, order = quick_shop(product)
    status, case = call(
        product["base"],
        buyer,
        "POST",
        "/cases",
        {
            "order_id": order["id"],
            "kind": "return_refund",
            "reason": "quality_issue",
            "lines": [{"order_line_id": order["lines"][0]["id"], "quantity": 1}],
        },
    )
    assert status == 201, case

    # then a new worker took over and acted on it, and the exit is in the log
    second = wait_for_worker(product, other_than=first)
    approved = wait_for_state(product["base"], buyer, case["number"], "awaiting_return")
    assert approved["events"][-1]["action"] == "auto_approve"
    assert second != first
    assert "deadline worker killed by SIGKILL" in product["log"].read_text()
