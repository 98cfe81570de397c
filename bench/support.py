"""Helpers for the benchmarks: databases, the product's processes, HTTP, statistics."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
# Appended to every benchmark database's name (and to the home below): two checkouts benchmarking
# on one server at once each keep datasets of their own (``BENCH_SUFFIX=_mine``).
SUFFIX = os.environ.get("BENCH_SUFFIX", "")
# The product's home (its secret key, files) for the benchmarks' processes.
HOME = Path(tempfile.gettempdir()) / f"aftersales-bench{SUFFIX}"


def pg_url(name: str) -> str:
    return f"{PG}/{name}{SUFFIX}"


def psql_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as connection:
        connection.execute(sql)


def db_name(name: str) -> str:
    """The database a benchmark's dataset ``name`` lives in (``BENCH_SUFFIX`` appended)."""
    return f"{name}{SUFFIX}"


def database_exists(name: str) -> bool:
    import psycopg

    with psycopg.connect(f"{PG}/postgres") as connection:
        row = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [db_name(name)]
        ).fetchone()
    return row is not None


def env_for(database_url: str, home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "AFTERSALES_HOME": str(home),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }


def cli(env: dict[str, str], *args: str, timeout: float = 3600) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "aftersales.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"aftersales {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout.strip()


def cli_token(env: dict[str, str], token: str) -> None:
    """Give the benchmarks' user ``bench`` the API token ``token``."""
    code = (
        "from aftersales.team.services import token_create;"
        f"token_create(username='bench', token='{token}')"
    )
    subprocess.run(
        [sys.executable, "-c", f"import django;django.setup();{code}"],
        env=env,
        cwd=ROOT,
        check=True,
    )


def run_module(module: str, *args: str, answer: str) -> dict:
    """``python -m module *args --json HOME/answer`` in a process of its own (a benchmark that
    sets Django up on a database of its own), its JSON answer read back."""
    path = HOME / answer
    HOME.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", module, *args, "--json", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=7200,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{module} failed:\n{done.stderr[-3000:]}")
    return json.loads(path.read_text(encoding="utf-8"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def server(env: dict[str, str], *, workers: int = 4, threads: int = 2):
    """A production server process (gunicorn) without the worker; yields its port."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aftersales.cli",
            "serve",
            "--no-worker",
            "--no-access-log",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--threads",
            str(threads),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                # Any answer means it serves (the health check says 503 without a worker; the API
                # document takes seconds to build on a busy machine, longer than this probe waits).
                connection.request("GET", "/health")
                connection.getresponse()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("server did not start")
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


class Client:
    """One keep-alive HTTP connection with a bearer token."""

    def __init__(self, port: int, token: str):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def request(self, method: str, path: str, body=None) -> tuple[int, bytes]:
        payload = json.dumps(body) if body is not None else None
        self.connection.request(method, path, body=payload, headers=self.headers)
        response = self.connection.getresponse()
        return response.status, response.read()


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)

    def at(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 2)

    return {
        "p50_ms": at(0.50),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "mean_ms": round(statistics.fmean(ordered), 2),
        "n": len(ordered),
    }


def timed(function, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return samples
