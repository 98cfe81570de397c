"""Opening a case, reading one and reading the queue, in-process: CPU and queries per request,
and a profile.

    python -m bench.inprocess               # bench_small: 300 opens, 300 detail reads, 300 pages
    python -m bench.inprocess --opens 500 --reads 0 --pages 0 --profile 30
    python -m bench.inprocess --opens 0 --reads 0 --pages 300 --profile 40   # the queue alone

Django's test client against a benchmark dataset (``bench.run`` builds it; the opens take
signed orders of shop ``bench1`` that have no case yet), one request after another: no network,
no server, no other client. What it prints is the Python the product spends on a request (CPU
time of this process, the database's own work excluded), the queries it sends, and with
``--profile N`` the N costliest functions (cProfile, CPU time). The HTTP figures beside their
floors are ``bench.run``'s; these say where a request's time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import time

from bench.run import TOKEN, fresh_orders
from bench.support import HOME, pg_url


def _setup(dataset: str) -> None:
    os.environ["DATABASE_URL"] = pg_url(dataset)
    os.environ.setdefault("AFTERSALES_HOME", str(HOME))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _measure(requests, profile: cProfile.Profile | None) -> dict:
    """Run each callable (a request answering ``status``); CPU, wall time and queries of each."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cpu, wall, queries = [], [], []
    for request in requests:
        with CaptureQueriesContext(connection) as captured:
            started_cpu, started = time.process_time(), time.perf_counter()
            if profile is not None:
                profile.enable()
            request()
            if profile is not None:
                profile.disable()
            cpu.append((time.process_time() - started_cpu) * 1000)
            wall.append((time.perf_counter() - started) * 1000)
        queries.append(len(captured))
    return {
        "requests": len(cpu),
        "cpu_ms_mean": round(statistics.fmean(cpu), 2),
        "cpu_ms_median": round(statistics.median(cpu), 2),
        "wall_ms_median": round(statistics.median(wall), 2),
        "queries": sorted(set(queries)),
    }


def _profile_text(profile: cProfile.Profile, top: int) -> str:
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def run(dataset: str, opens: int, reads: int, pages: int, profile_top: int) -> dict:
    _setup(dataset)
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    results: dict = {"dataset": dataset}
    profiles: dict = {}
    if opens:
        orders = fresh_orders(dataset, opens + 20)

        def opener(pair):
            def request():
                answer = client.post(
                    "/api/v1/cases",
                    {
                        "order_id": pair[0],
                        "kind": "return_refund",
                        "reason": "quality_issue",
                        "lines": [{"order_line_id": pair[1], "quantity": 1}],
                    },
                    content_type="application/json",
                )
                assert answer.status_code == 201, answer.content[:300]

            return request

        _measure([opener(pair) for pair in orders[:20]], None)  # warm up
        profile = cProfile.Profile(time.process_time) if profile_top else None
        results["open"] = _measure([opener(pair) for pair in orders[20:]], profile)
        if profile is not None:
            profiles["open"] = _profile_text(profile, profile_top)
    if reads:
        import psycopg

        with psycopg.connect(pg_url(dataset)) as connection:
            number = connection.execute(
                "SELECT number FROM cases_case WHERE state = 'refunded' ORDER BY id LIMIT 1"
            ).fetchone()[0]

        def read():
            answer = client.get(f"/api/v1/cases/{number}")
            assert answer.status_code == 200, answer.content[:300]

        _measure([read] * 20, None)
        profile = cProfile.Profile(time.process_time) if profile_top else None
        results["detail"] = _measure([read] * reads, profile)
        if profile is not None:
            profiles["detail"] = _profile_text(profile, profile_top)
    if pages:
        import psycopg

        from bench.run import encode_cursor

        # the queue as ``bench.run`` reads it: a shop's cases awaiting the seller, the first page
        # and one three quarters deep
        with psycopg.connect(pg_url(dataset)) as connection:
            shop = connection.execute("SELECT id FROM catalog_shop WHERE code='bench1'").fetchone()[
                0
            ]
            total = connection.execute(
                "SELECT count(*) FROM cases_case WHERE shop_id=%s AND state='awaiting_seller'",
                [shop],
            ).fetchone()[0]
            deep = connection.execute(
                "SELECT deadline_at, id FROM cases_case WHERE shop_id=%s "
                "AND state='awaiting_seller' ORDER BY deadline_at NULLS LAST, id OFFSET %s LIMIT 1",
                [shop, min(total * 3 // 4, max(total - 51, 0))],
            ).fetchone()
        path = "/api/v1/cases?shop=bench1&state=awaiting_seller&limit=50"
        for name, url in (
            ("queue_first", path),
            ("queue_deep", f"{path}&cursor={encode_cursor(deep[0], deep[1])}"),
        ):

            def page(url=url):
                answer = client.get(url)
                assert answer.status_code == 200, answer.content[:300]

            _measure([page] * 20, None)
            profile = cProfile.Profile(time.process_time) if profile_top else None
            results[name] = _measure([page] * pages, profile)
            if profile is not None:
                profiles[name] = _profile_text(profile, profile_top)
    for name, text in profiles.items():
        print(f"--- profile: {name} ---\n{text}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--dataset", default="bench_small")
    parser.add_argument("--opens", type=int, default=300)
    parser.add_argument("--reads", type=int, default=300)
    parser.add_argument("--pages", type=int, default=300, help="queue pages (first, deep)")
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    args = parser.parse_args()
    print(json.dumps(run(args.dataset, args.opens, args.reads, args.pages, args.profile), indent=2))


if __name__ == "__main__":
    main()
