"""The KPIs at a million cases: how long each report takes, beside the raw SQL of the same sums.

    python -m bench.insights                        # bench_large: 1,000,000 cases (made if missing)
    python -m bench.insights --dataset bench_small  # 10,000 cases
    python -m bench.insights --rebuild --json out.json

On the benchmark dataset (``bench.generate``: ten shops, the first holding half of everything,
each case with its timeline), the rollups are built once from the whole timeline
(``insights.feed.rollup_rebuild``, timed: the events a second it replays) unless they are there
already. Then, in this process, for the whole span of the data and for its last 30 days, for the
largest shop and for every shop together:

- **product**: ``insights.selectors.kpis`` — what the dashboard and ``GET /insights/kpis`` call
  (permission check, the rollups' sums, labels, every rate and mean) — once per grouping (and
  ``product_kpis`` by SKU and by category), and
  the dashboard page's figures (``insights.dashboards.dashboard``: the table by shop, the
  headline, the trend by day or by month, every cell written for people);
- **floor**: the SQL that ``kpis`` sends, run again through psycopg (no framework);
- **scan**: for reference, the cases opened and refunded by kind counted straight from
  ``cases_case`` (what a report without rollups would do).

Each is timed ``--repeat`` times (p50 and p95 in ms). The target (issue 14): every report under
300 ms at a million cases.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import time

from bench.support import HOME, ROOT, env_for, pg_url

TARGET_MS = 300.0


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50": round(statistics.median(ordered) * 1000, 2), "p95": round(p95 * 1000, 2)}


def _timed(work, repeat: int) -> list[float]:
    work()  # warm: the first call compiles and caches
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        samples.append(time.perf_counter() - started)
    return samples


def setup(dataset: str) -> None:
    from bench import run

    run.prepare(dataset, rebuild=False)
    HOME.mkdir(parents=True, exist_ok=True)
    os.environ.update(env_for(pg_url(dataset), HOME))
    import django

    django.setup()


def rebuild_if_needed(force: bool) -> dict:
    from django.db import connection

    from aftersales.core.models import Event
    from aftersales.insights.feed import rollup_rebuild
    from aftersales.insights.models import DailyRollup

    if DailyRollup.objects.exists() and not force:
        return {}
    events = Event.objects.count()
    print(f"building the rollups from {events:,} events …", flush=True)
    started = time.perf_counter()
    consumed = rollup_rebuild()
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "events": consumed,
        "seconds": round(seconds, 1),
        "events_per_second": round(consumed / seconds) if seconds else 0,
        "rollup_rows": DailyRollup.objects.count(),
    }


def _pairs():
    """The daily rollups the timed reports read and the monthly ones made of them, with their
    measures. (The finer product tables, by kind and reason, are read only when a report asks
    for one kind or reason, which no timed report does: they are not stretched.)"""
    from aftersales.insights.models import (
        PRODUCT_MEASURES,
        ROLLUP_MEASURES,
        DailyRollup,
        MonthlyRollup,
        SkuDailyRollup,
        SkuMonthlyRollup,
    )

    return (
        (DailyRollup, MonthlyRollup, ROLLUP_MEASURES),
        (SkuDailyRollup, SkuMonthlyRollup, PRODUCT_MEASURES),
    )


def _dailies():
    return [daily for daily, _monthly, _measures in _pairs()]


def stretch(years: int) -> dict:
    """The generated timeline covers a few days, so its rollups are a few thousand rows: copy
    them back in time, span after span, until they cover ``years`` years — the rows a shop's
    years of daily sums would be (the sums are copies; only the reports' reading is measured).
    The daily rollups of the cases and of their products are copied; their months are made
    again from the days."""
    from django.db import connection

    from aftersales.insights.models import DailyRollup

    with connection.cursor() as cursor:
        cursor.execute("SELECT min(day), max(day) FROM insights_dailyrollup")
        first, last = cursor.fetchone()
        span = (last - first).days + 1
        copies = (366 * years) // span
        found = {"copies": copies, "first": str(first)}
        for daily in _dailies():
            table = daily._meta.db_table
            names = ", ".join(
                field.column
                for field in daily._meta.concrete_fields
                if not field.primary_key and field.column != "day"
            )
            cursor.execute(
                f"INSERT INTO {table} (day, {names}) "
                f"SELECT day - (shift * %s), {names} FROM {table}, "
                "generate_series(1, %s) AS shift WHERE day >= %s",
                [span, copies, first],
            )
            cursor.execute(f"ANALYZE {table}")
            found[f"{table} rows"] = daily.objects.count()
        found.update(_months_from_days(cursor))
    found["rows"] = DailyRollup.objects.count()
    return found


def _months_from_days(cursor) -> dict:
    """The monthly rollups made again from the daily ones (as the feed would have kept them):
    the stretched days' months, or, once the copies are gone, the dataset's own."""
    found = {}
    for daily, monthly, measures in _pairs():
        keys = ", ".join(name for name in monthly.KEY if name != "month")
        sums = ", ".join(f"sum({name})" for name in measures)
        target = monthly._meta.db_table
        cursor.execute(f"DELETE FROM {target}")
        cursor.execute(
            f"INSERT INTO {target} (month, {keys}, {', '.join(measures)}) "
            f"SELECT date_trunc('month', day)::date, {keys}, {sums} "
            f"FROM {daily._meta.db_table} GROUP BY date_trunc('month', day), {keys}"
        )
        cursor.execute(f"ANALYZE {target}")
        found[f"{target} rows"] = monthly.objects.count()
    return found


def unstretch(first: str) -> None:
    """The copies removed again: the dataset's rollups are its timeline's once more."""
    from django.db import connection

    with connection.cursor() as cursor:
        for daily in _dailies():
            cursor.execute(f"DELETE FROM {daily._meta.db_table} WHERE day < %s", [first])
        _months_from_days(cursor)


def bench(dataset: str, repeat: int) -> dict:
    import psycopg
    from django.db import connection
    from django.db.models import Count, Max, Min
    from django.test.utils import CaptureQueriesContext

    from aftersales.catalog.models import Shop
    from aftersales.core.actors import SYSTEM
    from aftersales.insights.dashboards import Report, dashboard
    from aftersales.insights.models import DailyRollup, MonthlyRollup
    from aftersales.insights.selectors import (
        GROUPS,
        MAX_DAYS,
        PRODUCT_GROUPS,
        kpis,
        product_kpis,
    )

    span = DailyRollup.objects.aggregate(first=Min("day"), last=Max("day"))
    biggest = (
        DailyRollup.objects.values("shop_id")
        .annotate(rows=Count("id"))
        .order_by("-rows")
        .values_list("shop_id", flat=True)
        .first()
    )
    shop = Shop.objects.get(pk=biggest)
    periods = {
        # (a report spans at most MAX_DAYS days)
        "whole span": (
            max(span["first"], span["last"] - dt.timedelta(days=MAX_DAYS - 1)),
            span["last"],
        ),
        "last 30 days": (span["last"] - dt.timedelta(days=29), span["last"]),
    }
    results: dict = {
        "rows": DailyRollup.objects.count(),
        "monthly_rows": MonthlyRollup.objects.count(),
        "span": [str(d) for d in span.values()],
    }
    reports = []
    with psycopg.connect(pg_url(dataset)) as raw:
        for period_name, (since, until) in periods.items():
            for scope_name, scope in (("largest shop", shop), ("every shop", None)):
                for group in (*GROUPS, *(f"product:{g}" for g in PRODUCT_GROUPS), "dashboard"):

                    def product(group=group, scope=scope, since=since, until=until):
                        if group.startswith("product:"):
                            return product_kpis(
                                actor=SYSTEM,
                                shop=scope,
                                since=since,
                                until=until,
                                group_by=group.removeprefix("product:"),
                            )
                        if group != "dashboard":
                            return kpis(
                                actor=SYSTEM, shop=scope, since=since, until=until, group_by=group
                            )
                        # the dashboard page's figures: the table by shop, the headline, the
                        # trend (by day up to 61 days, by month beyond), each written for people
                        return dashboard(SYSTEM, Report(shop=scope, since=since, until=until))

                    with CaptureQueriesContext(connection) as sent:
                        product()
                    statements = [(q["sql"]) for q in sent.captured_queries]

                    def floor(statements=statements):
                        for sql in statements:
                            raw.execute(sql).fetchall()

                    mine, bare = _timed(product, repeat), _timed(floor, repeat)
                    reports.append(
                        {
                            "period": period_name,
                            "scope": scope_name,
                            "group_by": group,
                            "queries": len(statements),
                            "product_ms": _ms(mine),
                            "floor_ms": _ms(bare),
                        }
                    )
                    print(
                        f"  {period_name}, {scope_name}, {group}: {_ms(mine)} (floor {_ms(bare)})",
                        flush=True,
                    )

        def scan():
            raw.execute(
                "SELECT kind, count(*), count(*) FILTER (WHERE state = 'refunded'), "
                "sum(refunded_amount) FROM cases_case WHERE shop_id = %s GROUP BY kind",
                [shop.pk],
            ).fetchall()

        results["scan_ms"] = _ms(_timed(scan, max(3, repeat // 5)))
    results["reports"] = reports
    return results


def rows(results: dict) -> list[tuple[str, str, str, str, str, bool]]:
    """For ``bench.run``'s table: the dashboard's default view in each period and scope, and the
    slowest single report; (benchmark, product, floor, ratio, target, met)."""
    out = []

    def row(label, report):
        mine, bare = report["product_ms"], report["floor_ms"]
        out.append(
            (
                label,
                f"p50 {mine['p50']:.1f} / p95 {mine['p95']:.1f} ms",
                f"p50 {bare['p50']:.1f} / p95 {bare['p95']:.1f} ms",
                f"{mine['p95'] / bare['p95']:.1f}x" if bare["p95"] else "",
                f"p95 < {TARGET_MS:.0f} ms",
                mine["p95"] < TARGET_MS,
            )
        )

    cases = "1M" if results.get("dataset") == "bench_large" else "10k"
    for report in results["reports"]:
        if report["group_by"] == "dashboard":
            row(f"KPIs {cases}: dashboard, {report['period']}, {report['scope']}", report)
    slowest = max(results["reports"], key=lambda report: report["product_ms"]["p95"])
    row(
        f"KPIs {cases}: slowest report ({slowest['period']}, {slowest['scope']}, "
        f"{slowest['group_by']})",
        slowest,
    )
    return out


def table(results: dict) -> str:
    header = ("report", "product p50 / p95", "floor p50 / p95", "ratio (p95)", "target", "met")
    body = []
    for r in results["reports"]:
        mine, bare = r["product_ms"], r["floor_ms"]
        body.append(
            (
                f"kpis {r['period']}, {r['scope']}: {r['group_by']}",
                f"{mine['p50']:.1f} / {mine['p95']:.1f} ms",
                f"{bare['p50']:.1f} / {bare['p95']:.1f} ms",
                f"{mine['p95'] / bare['p95']:.1f}x" if bare["p95"] else "",
                f"p95 < {TARGET_MS:.0f} ms",
                "yes" if mine["p95"] < TARGET_MS else "NO",
            )
        )
    scan = results["scan_ms"]
    body.append(
        (
            "scan of cases_case (largest shop, by kind; no rollups)",
            f"{scan['p50']:.1f} / {scan['p95']:.1f} ms",
            "",
            "",
            "",
            "",
        )
    )
    widths = [max(len(str(line[i])) for line in [header, *body]) for i in range(6)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)) for line in body
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", default="bench_large", choices=("bench_large", "bench_small"))
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--rebuild", action="store_true", help="build the rollups again")
    parser.add_argument(
        "--years",
        type=int,
        default=0,
        help="copy the rollups back in time to cover this many years (removed after the run)",
    )
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    setup(args.dataset)
    built = rebuild_if_needed(args.rebuild)
    if built:
        print(f"  {built}", flush=True)
    stretched = stretch(args.years) if args.years else None
    if stretched:
        print(f"  stretched: {stretched}", flush=True)
    try:
        results = bench(args.dataset, args.repeat)
    finally:
        if stretched:
            unstretch(stretched["first"])
    results["stretched"] = stretched
    results["rebuild"] = built
    results["dataset"] = args.dataset
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(results, out, indent=2, default=str)
    print()
    print(table(results))


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
