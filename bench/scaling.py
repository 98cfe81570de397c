"""What one box sustains with 1, 2 and 4 processes, and where PostgreSQL saturates.

    python -m bench.scaling                     # about 4 minutes on two cores
    python -m bench.scaling --json scaling.json

On a dataset of its own (``bench_scaling`` + ``BENCH_SUFFIX``: 60,000 orders, 30,000 cases,
made afresh each run):
- **opening** (``POST /cases``, 16 clients) and **reading** (the case page, ``GET
  /cases/{number}``, 16 clients) with 1, 2 and 4 web processes of 4 threads (``bench.run``'s
  opening benchmark, as ``bench.server_shapes`` runs it);
- the **sweep** (auto-close) with 1, 2 and 4 ``aftersales sweep`` processes, and its floor (the
  one-statement batch of ``bench.run``) with as many connections;
- **PostgreSQL alone**: the opening's floor (its SQL through psycopg, one transaction an open)
  and the case page's three statements at 1, 2, 4, 8, 16 and 32 connections: where adding
  clients stops adding throughput is where the database saturates on this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg

from bench import run
from bench.support import HOME, Client, env_for, percentiles, pg_url, server

DATASET = "bench_scaling"
run.DATASETS.setdefault(DATASET, (60_000, 30_000))


def reads(name: str, *, web: int, requests: int, concurrency: int = 16) -> dict:
    """The case page read by ``concurrency`` clients from ``web`` processes × 4 threads."""
    env = env_for(pg_url(name), HOME)
    numbers = _numbers(name, 500)
    local = threading.local()

    def work(port, index):
        if not hasattr(local, "client"):
            local.client = Client(port, run.TOKEN)
        started = time.perf_counter()
        status, _ = local.client.request("GET", f"/api/v1/cases/{numbers[index % len(numbers)]}")
        assert status == 200, status
        return (time.perf_counter() - started) * 1000

    with server(env, workers=web, threads=4) as port:
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(lambda index: work(port, index), range(200)))
        local.__dict__.clear()
        started = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            samples = list(pool.map(lambda index: work(port, index), range(requests)))
        elapsed = time.perf_counter() - started
    return {"requests_per_second": round(requests / elapsed, 1), **percentiles(samples)}


def _numbers(name: str, count: int) -> list[str]:
    with psycopg.connect(pg_url(name)) as connection:
        return [
            row[0]
            for row in connection.execute(
                "SELECT number FROM cases_case WHERE shop_id = 1 ORDER BY id LIMIT %s", [count]
            )
        ]


def reads_floor(name: str, *, requests: int, concurrency: int) -> dict:
    """The case page's three statements (``bench.run.DETAIL_FLOOR``) on ``concurrency``
    connections."""
    with psycopg.connect(pg_url(name)) as connection:
        cases = connection.execute(
            "SELECT id, number FROM cases_case WHERE shop_id = 1 ORDER BY id LIMIT 500"
        ).fetchall()
        case_type = run.case_type_of(connection)
    local = threading.local()
    connections = []

    def work(index):
        if not hasattr(local, "connection"):
            local.connection = psycopg.connect(pg_url(name), autocommit=True)
            connections.append(local.connection)
        case_id, number = cases[index % len(cases)]
        started = time.perf_counter()
        for sql in run.DETAIL_FLOOR:
            local.connection.execute(
                sql, {"number": number, "id": case_id, "type": case_type}
            ).fetchall()
        return (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        samples = list(pool.map(work, range(requests)))
    elapsed = time.perf_counter() - started
    for connection in connections:
        connection.close()
    return {"requests_per_second": round(requests / elapsed, 1), **percentiles(samples)}


def sweeps(name: str, *, count: int) -> dict:
    env = env_for(pg_url(name), HOME)
    run.cli(env, "sweep", timeout=3600)  # the dataset's own due cases, untimed
    results = {}
    for workers in (1, 2, 4):
        ids = run._make_due(name, count)
        seconds = run._sweep_processes(env, workers)
        twice, left = run._duplicates(name, ids)
        floor_ids = run._make_due(name, count)
        floor_seconds = run._sweep_floor(name, workers)
        results[workers] = {
            "cases_per_second": round(len(ids) / seconds, 1),
            "acted_twice": twice,
            "left_undone": left,
            "floor_cases_per_second": round(len(floor_ids) / floor_seconds, 1),
        }
        print(f"  sweep {workers}: {results[workers]}", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--sweep-cases", type=int, default=2000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    HOME.mkdir(parents=True, exist_ok=True)
    print("preparing the dataset …", flush=True)
    run.prepare(DATASET, rebuild=True)
    results: dict = {"cpus": os.cpu_count(), "open": {}, "read": {}}
    for web in (1, 2, 4):
        opened = run.bench_open(
            DATASET, requests=args.requests, concurrency=16, workers=web, threads=4, floor=False
        )
        results["open"][web] = {**opened["product"], "failures": opened["failures"]}
        print(f"  open, {web} web: {results['open'][web]}", flush=True)
        results["read"][web] = reads(DATASET, web=web, requests=args.requests * 2)
        print(f"  read, {web} web: {results['read'][web]}", flush=True)
    results["open_floor"], results["read_floor"] = {}, {}
    for connections in (1, 2, 4, 8, 16, 32):
        orders = run.fresh_orders(DATASET, args.requests)
        results["open_floor"][connections] = run._open_floor(DATASET, orders, connections)
        results["read_floor"][connections] = reads_floor(
            DATASET, requests=args.requests * 4, concurrency=connections
        )
        print(
            f"  floor, {connections} connections: open "
            f"{results['open_floor'][connections]['requests_per_second']} tx/s, read "
            f"{results['read_floor'][connections]['requests_per_second']} /s",
            flush=True,
        )
    results["sweep"] = sweeps(DATASET, count=args.sweep_cases)
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
