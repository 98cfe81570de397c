"""The health report, the worker's heartbeat, the workbench's warning, and the supervisor that
restarts a worker that exits."""

from __future__ import annotations

import logging
import sys

import pytest
from django.db import OperationalError
from django.test import Client

from aftersales.core import health
from aftersales.core.supervisor import Backoff, Child, Supervisor, describe_exit
from aftersales.team.services import user_create


def test_without_a_worker_the_report_is_degraded(db, clock):
    # given no worker ever swept
    # when monitoring asks
    response = Client().get("/health")

    # then the web and the database answer, and the worker is reported stopped
    assert response.status_code == 200
    report = response.json()
    assert report["status"] == "degraded"
    assert report["web"] == "ok"
    assert report["database"] == "ok"
    assert report["worker"]["status"] == "stopped"
    assert report["worker"]["last_heartbeat_at"] is None


def test_a_worker_that_swept_lately_is_running_and_one_silent_for_a_minute_is_not(db, clock):
    # given a worker that started and swept
    health.heartbeat_start(worker="host:1")
    clock.shift(seconds=30)
    health.heartbeat_beat(worker="host:1")

    # then it runs, with the age of its last sweep
    report = Client().get("/health").json()
    assert report["status"] == "ok"
    assert report["worker"] == {
        "status": "running",
        "worker": "host:1",
        "last_heartbeat_at": clock.now.isoformat(),
        "age_seconds": 0.0,
        "stale_after_seconds": 60.0,
    }

    # when it stays silent for 60 s it still counts; a second more and it does not
    clock.shift(seconds=60)
    assert health.worker_status().running is True
    clock.shift(seconds=1)
    report = Client().get("/health").json()
    assert report["status"] == "degraded"
    assert report["worker"]["status"] == "stopped"
    assert report["worker"]["age_seconds"] == 61.0


def test_a_worker_that_stops_on_request_is_gone_at_once(db, clock):
    health.heartbeat_start(worker="host:2")
    health.heartbeat_stop(worker="host:2")
    assert health.worker_status().running is False


def test_an_unreachable_database_answers_503(db, monkeypatch):
    class Unreachable:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr(health, "connection", Unreachable())
    response = Client().get("/health")
    assert response.status_code == 503
    assert response.json()["status"] == "down"
    assert response.json()["database"] == "unreachable"


@pytest.fixture
def desk_client(shop):
    user_create(username="lead", role="admin", shop_codes=["shop"], password="pw-lead-12345")
    client = Client()
    assert client.login(username="lead", password="pw-lead-12345")
    return client


def test_the_workbench_warns_when_the_worker_is_not_running(desk_client, clock):
    # given no worker sweeping
    page = desk_client.get("/desk/").content.decode()
    assert "data-worker-stopped" in page
    assert "The deadline worker is not running" in page

    # when a worker sweeps, the warning goes
    health.heartbeat_start(worker="host:3")
    assert "data-worker-stopped" not in desk_client.get("/desk/").content.decode()

    # and it comes back, with when it was last seen, once the worker is silent
    clock.shift(minutes=5)
    page = desk_client.get("/desk/").content.decode()
    assert "data-worker-stopped" in page
    assert "Last seen 5\xa0minutes ago." in page


def test_the_portal_does_not_read_the_workers_state(db, django_assert_num_queries):
    # the warning is the workbench's; the customer's pages never pay for it
    with django_assert_num_queries(0):
        Client().get("/")


# --- the supervisor -----------------------------------------------------------------------------


def test_the_pause_doubles_with_each_quick_failure_up_to_a_minute():
    backoff = Backoff()
    assert [backoff.pause(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_exits_are_described_in_words():
    assert describe_exit(3) == "exited with code 3"
    assert describe_exit(-9) == "killed by SIGKILL"


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_a_worker_that_exits_is_logged_and_started_again(caplog):
    # given a web server that runs and a worker that dies at once, again and again
    web = Child("web server", python("import time; time.sleep(60)"), restart=False)
    worker = Child("deadline worker", python("raise SystemExit(3)"), restart=True)
    supervisor = Supervisor(
        [web, worker], backoff=Backoff(first=0.01, longest=0.04), poll_interval=0.01
    )

    # when it runs until the worker has been started four times
    with caplog.at_level(logging.ERROR, logger="aftersales.supervisor"):
        code = supervisor.run(until=lambda: supervisor.starts["deadline worker"] >= 4)

    # then each exit was logged with its code and the pause before the next start, doubling
    exits = [r.getMessage() for r in caplog.records if r.name == "aftersales.supervisor"]
    assert len(exits) == 3
    assert all(m.startswith("deadline worker exited with code 3 after ") for m in exits)
    assert worker.quick_failures == 3
    # and stopping the supervisor stopped the web server too
    assert code == 0
    assert supervisor.starts["web server"] == 1


def test_a_killed_worker_is_reported_as_killed(caplog):
    worker = Child(
        "deadline worker",
        python("import os, signal; os.kill(os.getpid(), signal.SIGKILL)"),
        restart=True,
    )
    supervisor = Supervisor([worker], backoff=Backoff(first=0.01), poll_interval=0.01)
    with caplog.at_level(logging.ERROR, logger="aftersales.supervisor"):
        supervisor.run(until=lambda: supervisor.starts["deadline worker"] >= 2)
    assert "deadline worker killed by SIGKILL after " in caplog.records[0].getMessage()


def test_when_the_web_server_exits_everything_stops_with_its_code():
    web = Child("web server", python("raise SystemExit(4)"), restart=False)
    worker = Child("deadline worker", python("import time; time.sleep(60)"), restart=True)
    supervisor = Supervisor([web, worker], poll_interval=0.01)

    assert supervisor.run() == 4
    assert worker.process.poll() is not None  # stopped, not left behind


def test_a_worker_that_ran_long_starts_again_after_the_first_pause():
    # given a worker that failed quickly twice, then ran for longer than the stable period
    worker = Child("deadline worker", [], restart=True, quick_failures=2, started_at=0.0)
    supervisor = Supervisor([worker], monotonic=lambda: 1000.0)

    # when it exits
    supervisor._exited(worker, 1)

    # then the count starts again: the next pause is the first one
    assert worker.quick_failures == 1
    assert worker.start_at == 1001.0
