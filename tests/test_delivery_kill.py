"""A killed delivery is tried again exactly once: a real worker claims an e-mail whose SMTP server
hangs, is killed with SIGKILL mid-send, and a second worker, once the first one's lease ran out,
attempts the delivery once more; the message arrives once (PostgreSQL, real processes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection

from aftersales.catalog.models import Customer
from aftersales.notify.deliveries import deliveries_sweep
from aftersales.notify.models import Delivery
from tests.conftest import make_order, make_shop, make_user, open_case
from tests.servers import Mailbox, smtp_server

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
LEASE_SECONDS = 3


def worker_env(port: int) -> dict[str, str]:
    database = settings.DATABASES["default"]
    return {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT'] or 5432}/"
            f"{database['NAME']}"
        ),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "AFTERSALES_WORKER_INTERVAL": "0.1",
        "AFTERSALES_DELIVERY_LEASE": str(LEASE_SECONDS),
        "AFTERSALES_SMS_KINDS": "",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "EMAIL_TIMEOUT": "120",
    }


def start_worker(port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "aftersales.cli", "worker"],
        env=worker_env(port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_until(condition, timeout: float, what: str) -> None:
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def email_delivery() -> Delivery:
    connection.close()  # read what the workers committed, on a fresh connection
    return Delivery.objects.get(channel="email")


def test_a_delivery_killed_mid_send_is_attempted_once_more_and_arrives_once(settings):
    # given an e-mail to deliver (planned by the worker's delivery step, its task enqueued on
    # the database)
    settings.AFTERSALES_SMS_KINDS = []
    make_shop()
    order = make_order()
    buyer = make_user("buyer", "customer", shop="shop", customer="C1")
    Customer.objects.filter(external_id="C1").update(email="buyer@example.com", language="en")
    number = open_case(buyer, order)["number"]
    deliveries_sweep()
    assert Delivery.objects.get(channel="email").status == "pending"

    mailbox = Mailbox(stall_first=True)
    with smtp_server(mailbox) as server:
        # when a worker claims it and the server hangs in the middle of the message
        first = start_worker(server.port)
        try:
            assert mailbox.stalled.wait(timeout=60), "the first worker never sent"
            claimed = email_delivery()
            assert (claimed.status, claimed.attempts) == ("sending", 1)
            os.kill(first.pid, signal.SIGKILL)
        finally:
            first.wait(timeout=30)
        assert first.returncode == -signal.SIGKILL

        # and a second worker starts
        second = start_worker(server.port)
        try:
            wait_until(lambda: email_delivery().status == "delivered", 60, "the second attempt")
            # give a duplicate every chance to happen
            time.sleep(LEASE_SECONDS + 1)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=30)

    # then it was attempted exactly once more, and arrived exactly once
    delivery = email_delivery()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    assert mailbox.data_commands == 2
    assert [message["Subject"] for message in mailbox.messages] == [
        f"After-sales case {number} received"
    ]
