"""A day of a large seller replayed against the running product, faster than life.

    python -m bench.simulate                                   # the default day (about 10 minutes)
    python -m bench.simulate --cases 3000 --speedup 180 --web 2 --workers 2 --sweep-interval 60
    python -m bench.simulate --json day.json                   # the figures as JSON too

What runs: the production server (gunicorn through ``aftersales serve --no-worker``, ``--web``
processes × 4 threads), ``--workers`` deadline workers (``aftersales worker``: the sweep and every
other step of its round) and PostgreSQL, on a database of the simulation's own
(``bench_simulate`` + ``BENCH_SUFFIX``, made afresh each run by ``bench.generate``).

What is replayed, in simulated time (a day, hour by hour):
- **opens**: ``--cases`` cases opened over the day (``POST /cases``), the hours weighted like a
  seller's day with one **peak hour** ``--peak`` times the average hour (Double 11: 20×);
- **agent actions**: most cases are answered by an agent after a few simulated minutes — the
  case page read (``GET /cases/{number}``), then ``approve`` or ``reject``;
- **buyer shipments**: most approved returns are shipped back by the buyer hours later
  (``ship_return`` with the buyer's own token);
- **deadlines that fall due**: ``--deadlines`` cases opened on earlier days (half refund-only
  requests the shop never answered — auto-approval pays them — and half approved returns the
  buyer never shipped — auto-closed) fall due over the day along the same weighted hours, the
  peak included (the worst day: the deadlines of an earlier peak meeting today's).

Time. The product reads the real clock (``core.clock.now()``, which moves only inside one process
for tests), so the simulation maps simulated time onto real time instead of moving the product's
clock: simulated second ``t`` of the day happens at real second ``t / speedup`` after the start,
and each due case's ``deadline_at`` is written at the real moment its simulated deadline maps to.
The workers sweep every ``--sweep-interval / --speedup`` real seconds. Everything scales
together, so a run of C cases at speed-up S loads the product as a seller with C × S cases a day
would in real time, and a deadline acted L real seconds late is L × S simulated seconds late.
Latencies are printed in real milliseconds (what a caller waits), lateness in simulated seconds
(what the day sees) and checked against one sweep interval.

The answer per simulated hour: requests arrived and served, the backlog (arrived, not yet
answered) at the hour's end, p50/p99 response time (from when the request was due, so waiting in
the backlog counts), deadlines due and acted, their max and p99 lateness, and whether any acted
more than one sweep interval late.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import heapq
import http.client
import json
import random
import subprocess
import sys
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from bench import generate
from bench.support import (
    HOME,
    ROOT,
    Client,
    cli,
    cli_token,
    database_exists,
    db_name,
    env_for,
    pg_url,
    psql_admin,
    server,
)

DATASET = "bench_simulate"
TOKEN = "as_bench_token_0123456789"  # the same token as bench.run's datasets
# A seller's ordinary day, share of the day's after-sales requests by hour (Beijing time): quiet
# at night, a morning and an afternoon round, the evening the busiest.
DAY_CURVE = [2, 1, 0.6, 0.4, 0.4, 0.6, 1, 2, 3.5, 5, 5.5, 5, 4.5, 4.5, 5, 5, 4.5, 4, 4.5, 5.5,
             6.5, 7, 6, 4]  # fmt: skip
ANSWERED = 0.8  # cases an agent answers the same day (the others wait for tomorrow's agents)
APPROVED = 0.85  # of those answered, approved (the rest rejected)
SHIPPED = 0.7  # approved returns the buyer ships back the same day
ANSWER_MINUTES = 20  # mean simulated minutes until an agent answers
SHIP_HOURS = 3  # mean simulated hours until the buyer ships


def hour_weights(peak: float, peak_hour: int) -> list[float]:
    """The day's weights by hour with ``peak_hour`` ``peak`` times the average hour."""
    if not 1 <= peak < 24:
        raise SystemExit("--peak must be at least 1 and below 24 (the peak hour is in the day)")
    others = sum(weight for hour, weight in enumerate(DAY_CURVE) if hour != peak_hour)
    # peak = factor × (others + peak) / 24, solved for peak
    weights = list(DAY_CURVE)
    weights[peak_hour] = peak * others / (24 - peak) if peak > 1 else DAY_CURVE[peak_hour]
    total = sum(weights)
    return [weight / total for weight in weights]


def moments(rng: random.Random, count: int, weights: list[float]) -> list[float]:
    """``count`` simulated seconds of the day drawn along the hours' weights, sorted."""
    cumulative = [0.0]
    for weight in weights:
        cumulative.append(cumulative[-1] + weight)
    times = []
    for _ in range(count):
        draw = rng.random()
        hour = min(bisect.bisect_right(cumulative, draw) - 1, 23)
        times.append((hour + rng.random()) * 3600)
    return sorted(times)


@dataclass
class Planned:
    """One case opened during the day and what follows it (simulated seconds of the day)."""

    order_id: int
    line_id: int
    customer_external_id: str
    kind: str
    opened_at: float
    answer_at: float | None = None
    approve: bool = True
    ship_at: float | None = None
    number: str | None = None


@dataclass
class Plan:
    cases: list[Planned]
    deadlines: list[tuple[int, float, str]]  # (case id, simulated due second, action)
    weights: list[float]


def plan_day(args, rng: random.Random, orders: list[tuple], due: dict[str, list[int]]) -> Plan:
    weights = hour_weights(args.peak, args.peak_hour)
    day = 24 * 3600
    planned = []
    for opened_at, (order_id, line_id, customer) in zip(
        moments(rng, args.cases, weights), orders, strict=False
    ):
        kind = "refund_only" if rng.random() < 0.4 else "return_refund"
        case = Planned(order_id, line_id, customer, kind, opened_at)
        if rng.random() < ANSWERED:
            answer_at = opened_at + rng.expovariate(1 / (ANSWER_MINUTES * 60))
            if answer_at < day:
                case.answer_at = answer_at
                case.approve = rng.random() < APPROVED
                if case.approve and kind == "return_refund" and rng.random() < SHIPPED:
                    ship_at = answer_at + rng.expovariate(1 / (SHIP_HOURS * 3600))
                    case.ship_at = ship_at if ship_at < day else None
        planned.append(case)
    deadlines = []
    times = moments(rng, args.deadlines, weights)
    pool = [(case_id, "auto_approve") for case_id in due["auto_approve"]]
    pool += [(case_id, "auto_close") for case_id in due["auto_close"]]
    rng.shuffle(pool)
    for at, (case_id, action) in zip(times, pool, strict=False):
        deadlines.append((case_id, at, action))
    return Plan(planned, deadlines, weights)


# --- the dataset --------------------------------------------------------------------------------


def prepare(args) -> tuple[dict, list[tuple], dict[str, list[int]]]:
    """A fresh database: ``bench.generate``'s data sized to the day, the bench admin's token."""
    url = pg_url(args.dataset)
    env = env_for(url, HOME)
    # enough earlier cases to draw the due ones from (a tenth are unanswered refund-only
    # requests), and enough shop-1 orders without a case to open the day's cases on
    existing = max(10_000, args.deadlines * 12)
    orders = max(20_000, existing + args.cases * 6)
    if database_exists(args.dataset):
        psql_admin(f'DROP DATABASE "{db_name(args.dataset)}" WITH (FORCE)')
    psql_admin(f'CREATE DATABASE "{db_name(args.dataset)}"')
    cli(env, "migrate", "--no-input", "-v0")
    print(f"generating {orders:,} orders, {existing:,} earlier cases …", flush=True)
    stats = generate.generate(url, orders, existing)
    cli(env, "user", "create", "bench", "--role", "admin")
    cli_token(env, TOKEN)
    # Earlier days' events were rolled up on earlier days: the KPI feed starts the day caught up
    # (otherwise the workers' first rounds spend tens of seconds on the dataset's history).
    code = "from aftersales.insights.feed import rollup_rebuild; rollup_rebuild()"
    subprocess.run(
        [sys.executable, "-c", f"import django;django.setup();{code}"],
        env=env,
        cwd=ROOT,
        check=True,
    )
    with psycopg.connect(url) as connection:
        # the dataset's own deadlines (an hour overdue to ten days away) are later days'
        # deadlines: past the run, so no worker acts on one before the day's are written
        connection.execute(
            "UPDATE cases_case SET deadline_at = deadline_at + interval '60 days' "
            "WHERE deadline_at IS NOT NULL"
        )
        connection.commit()
        fresh = connection.execute(
            """
            SELECT o.id, l.id, cu.external_id FROM catalog_order o
            JOIN catalog_orderline l ON l.order_id = o.id AND l.external_id = '1'
            JOIN catalog_customer cu ON cu.id = o.customer_id
            WHERE o.shop_id = 1 AND o.signed_at IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM cases_case c WHERE c.order_id = o.id)
            ORDER BY o.id DESC LIMIT %s
            """,
            [args.cases],
        ).fetchall()
        due = {
            "auto_approve": [
                row[0]
                for row in connection.execute(
                    "SELECT c.id FROM cases_case c WHERE c.state = 'awaiting_seller' "
                    "AND c.kind = 'refund_only' AND NOT EXISTS (SELECT 1 FROM catalog_orderline l "
                    "JOIN cases_caseline cl ON cl.order_line_id = l.id WHERE cl.case_id = c.id "
                    "AND l.refunded_amount > 0) ORDER BY c.id LIMIT %s",
                    [args.deadlines // 2],
                )
            ]
        }
        due["auto_close"] = [
            row[0]
            for row in connection.execute(
                "SELECT id FROM cases_case WHERE state IN ('awaiting_return', 'awaiting_seller') "
                "AND NOT (id = ANY(%s)) ORDER BY id LIMIT %s",
                [due["auto_approve"], args.deadlines - len(due["auto_approve"])],
            )
        ]
    if len(fresh) < args.cases:
        raise SystemExit(f"only {len(fresh)} orders to open cases on; ask fewer --cases")
    return stats, fresh, due


def customer_tokens(env, customers: list[str]) -> dict[str, str]:
    """A login and token of its own for each buyer who ships a return during the day."""
    tokens = {customer: f"as_sim_buyer_{index:08d}" for index, customer in enumerate(customers)}
    code = f"""
import django
django.setup()
from aftersales.team.services import token_create, user_create
for customer, token in {json.dumps(tokens)}.items():
    name = "buyer-" + token[-8:]
    user_create(username=name, role="customer", shop_codes=["bench1"], customer_external_id=customer)
    token_create(username=name, token=token)
"""
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"buyers' tokens failed:\n{done.stderr[-3000:]}")
    return tokens


def seed_deadlines(url: str, plan: Plan, wall_start: float, speedup: float) -> dict[int, float]:
    """Write each due case's deadline at the real moment its simulated one maps to (the day
    starts at ``wall_start``, epoch seconds); every other deadline of the dataset is past the
    run (``prepare`` moved them)."""
    planned_real: dict[int, float] = {}
    rows = []
    for case_id, at, action in plan.deadlines:
        real = wall_start + at / speedup
        planned_real[case_id] = real
        state = "awaiting_seller" if action == "auto_approve" else "awaiting_return"
        kind = "refund_only" if action == "auto_approve" else "return_refund"
        rows.append((case_id, dt.datetime.fromtimestamp(real, dt.UTC), action, state, kind))
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        cursor.executemany(
            "UPDATE cases_case SET deadline_at = %s, deadline_action = %s, state = %s, "
            "kind = %s WHERE id = %s",
            [(due, action, state, kind, case_id) for case_id, due, action, state, kind in rows],
        )
    return planned_real


# --- the load -----------------------------------------------------------------------------------


@dataclass
class Sample:
    kind: str
    due: float  # real monotonic seconds the request was due
    started: float = 0.0
    finished: float = 0.0
    status: int = 0


@dataclass
class Load:
    """An open-loop load: each request is sent when it falls due, by the next free client; the
    requests waiting for a client are the backlog."""

    port: int
    clients: int
    start: float
    speedup: float
    tokens: dict[str, str]
    samples: list[Sample] = field(default_factory=list)
    failures: list[tuple] = field(default_factory=list)

    def __post_init__(self):
        self.heap: list[tuple[float, int, object]] = []
        self.sequence = 0
        self.wake = threading.Condition()
        self.local = threading.local()
        self.pending = 0  # scheduled follow-ups not yet due (the heap) or running
        self.pool = ThreadPoolExecutor(self.clients)

    def at(self, simulated: float, step) -> None:
        with self.wake:
            self.sequence += 1
            heapq.heappush(self.heap, (self.start + simulated / self.speedup, self.sequence, step))
            self.wake.notify()

    def client(self, token: str) -> Client:
        clients = self.local.__dict__.setdefault("clients", {})
        if token not in clients:
            clients[token] = Client(self.port, token)
        return clients[token]

    def send(self, kind: str, due: float, method: str, path: str, body=None, token=TOKEN):
        sample = Sample(kind, due, started=time.monotonic())
        status, payload = 0, b""
        for _attempt in (1, 2):
            try:
                status, payload = self.client(token).request(method, path, body)
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as error:
                # the server closed an idle keep-alive connection before the request reached
                # it: once more on a new one (nothing was done); a second failure counts
                self.local.__dict__["clients"].pop(token, None)
                status, payload = 0, str(error).encode()
            except OSError as error:
                self.local.__dict__["clients"].pop(token, None)
                status, payload = 0, str(error).encode()
                break
        sample.finished, sample.status = time.monotonic(), status
        self.samples.append(sample)
        if status >= 400 or status == 0:
            self.failures.append((kind, status, payload[:200]))
        return status, payload

    def run(self, until: float) -> None:
        """Send what falls due until the heap is empty and nothing runs, or ``until``."""
        while True:
            with self.wake:
                while True:
                    if not self.heap:
                        if self.pending == 0 or time.monotonic() > until:
                            return
                        self.wake.wait(0.05)
                        continue
                    due, _sequence, step = self.heap[0]
                    delay = due - time.monotonic()
                    if delay <= 0:
                        heapq.heappop(self.heap)
                        break
                    self.wake.wait(min(delay, 0.05))
                self.pending += 1
            self.pool.submit(self._step, step, due)

    def _step(self, step, due: float) -> None:
        try:
            step(due)
        finally:
            with self.wake:
                self.pending -= 1
                self.wake.notify()


def schedule(load: Load, plan: Plan) -> None:
    for case in plan.cases:
        load.at(case.opened_at, _open_step(load, case))


def _open_step(load: Load, case: Planned):
    def step(due: float) -> None:
        status, payload = load.send(
            "open",
            due,
            "POST",
            "/api/v1/cases",
            {
                "order_id": case.order_id,
                "kind": case.kind,
                "reason": "quality_issue",
                "lines": [{"order_line_id": case.line_id, "quantity": 1}],
            },
        )
        if status == 201 and case.answer_at is not None:
            case.number = json.loads(payload)["number"]
            load.at(case.answer_at, _answer_step(load, case))

    return step


def _answer_step(load: Load, case: Planned):
    def step(due: float) -> None:
        path = f"/api/v1/cases/{case.number}"
        load.send("read", due, "GET", path)
        if case.approve:
            status, _ = load.send("approve", due, "POST", f"{path}/actions/approve", {})
        else:
            reason = {"reason": "照片与商品不符"}
            status, _ = load.send("reject", due, "POST", f"{path}/actions/reject", reason)
        if status == 200 and case.ship_at is not None:
            load.at(case.ship_at, _ship_step(load, case))

    return step


def _ship_step(load: Load, case: Planned):
    def step(due: float) -> None:
        body = {"carrier": "SF", "tracking_number": f"SF{case.order_id:012d}"}
        path = f"/api/v1/cases/{case.number}/actions/ship_return"
        load.send("ship", due, "POST", path, body, token=load.tokens[case.customer_external_id])

    return step


@contextmanager
def workers(env, count: int, interval: float, log: Path, delivery_workers: int = 0):
    """``count`` deadline workers; with ``delivery_workers`` they leave the delivery tasks to that
    many ``db_worker`` processes (``--tasks 0``) instead of running them in their own rounds."""
    processes = []
    worker = [sys.executable, "-m", "aftersales.cli", "worker", "--interval", f"{interval:.4f}"]
    if delivery_workers:
        worker += ["--tasks", "0"]
    commands = [worker] * count + [
        [sys.executable, "-m", "aftersales.cli", "db_worker", "--queue-name", "*"]
    ] * delivery_workers
    with open(log, "w", encoding="utf-8") as errors:
        try:
            for command in commands:
                processes.append(
                    subprocess.Popen(
                        command,
                        env=env,
                        cwd=ROOT,
                        stdout=subprocess.DEVNULL,
                        stderr=errors,
                        start_new_session=True,
                    )
                )
            yield processes
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


# --- the answer ---------------------------------------------------------------------------------


def acted_at(url: str, case_ids: list[int]) -> dict[int, tuple[float, str]]:
    """When the system first acted on each due case (its event's time), and the action."""
    with psycopg.connect(url) as connection:
        rows = connection.execute(
            "SELECT DISTINCT ON (subject_id) subject_id, at, action FROM core_event "
            "WHERE subject_id = ANY(%s) AND role = 'system' AND subject_type_id = "
            "(SELECT id FROM django_content_type WHERE app_label = 'cases' AND model = 'case') "
            "AND at > now() - interval '1 day' ORDER BY subject_id, at",
            [case_ids],
        ).fetchall()
        twice = connection.execute(
            "SELECT count(*) FROM (SELECT subject_id FROM core_event WHERE subject_id = ANY(%s) "
            "AND action IN ('auto_approve', 'auto_close') AND at > now() - interval '1 day' "
            "AND subject_type_id = (SELECT id FROM django_content_type WHERE app_label = 'cases' "
            "AND model = 'case') GROUP BY subject_id HAVING count(*) > 1) t",
            [case_ids],
        ).fetchone()[0]
    return {row[0]: (row[1].timestamp(), row[2]) for row in rows}, twice


def at_share(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def report(args, plan: Plan, load: Load, planned_real, acted, wall_start) -> dict:
    speedup = args.speedup
    interval = args.sweep_interval  # simulated seconds
    hours = []

    def hour_of_real(monotonic: float) -> int:
        return int((monotonic - load.start) * speedup // 3600)

    by_hour = defaultdict(list)
    for sample in load.samples:
        by_hour[hour_of_real(sample.due)].append(sample)
    finished = sorted(sample.finished for sample in load.samples)
    dues = sorted(sample.due for sample in load.samples)
    lateness_by_hour = defaultdict(list)
    acted_by_hour = defaultdict(int)
    missed = 0
    for case_id, real_due in planned_real.items():
        due_hour = int((real_due - wall_start) * speedup // 3600)
        if case_id in acted:
            moment = acted[case_id][0]
            lateness_by_hour[due_hour].append(max(0.0, moment - real_due) * speedup)
            acted_by_hour[min(int((moment - wall_start) * speedup // 3600), 24)] += 1
        else:
            missed += 1
    due_by_hour = defaultdict(int)
    for _case, at, _action in plan.deadlines:
        due_by_hour[int(at // 3600)] += 1
    for hour in range(24):
        end = load.start + (hour + 1) * 3600 / speedup
        samples = by_hour.get(hour, [])
        waits = sorted((s.finished - s.due) * 1000 for s in samples)
        lateness = sorted(lateness_by_hour.get(hour, []))
        hours.append(
            {
                "hour": hour,
                "arrivals": len(samples),
                "opens": sum(1 for s in samples if s.kind == "open"),
                "served": bisect.bisect_right(finished, end)
                - bisect.bisect_right(finished, end - 3600 / speedup),
                "backlog": bisect.bisect_right(dues, end) - bisect.bisect_right(finished, end),
                "p50_ms": round(at_share(waits, 0.5), 1),
                "p99_ms": round(at_share(waits, 0.99), 1),
                "deadlines_due": due_by_hour.get(hour, 0),
                "deadlines_acted": acted_by_hour.get(hour, 0),
                "lateness_max_s": round(lateness[-1], 1) if lateness else 0.0,
                "lateness_p99_s": round(at_share(lateness, 0.99), 1),
                "late_beyond_interval": sum(1 for value in lateness if value > interval),
            }
        )
    all_lateness = sorted(value for values in lateness_by_hour.values() for value in values)
    waits = sorted((s.finished - s.due) * 1000 for s in load.samples)
    return {
        "parameters": {
            "cases": args.cases,
            "deadlines": args.deadlines,
            "speedup": speedup,
            "web": args.web,
            "threads": args.threads,
            "workers": args.workers,
            "delivery_workers": args.delivery_workers,
            "sweep_interval_s": interval,
            "clients": args.clients,
            "peak": args.peak,
            "peak_hour": args.peak_hour,
            "equivalent_cases_a_day": round(args.cases * speedup),
        },
        "hours": hours,
        "requests": len(load.samples),
        "failures": len(load.failures),
        "failure_examples": [repr(failure) for failure in load.failures[:5]],
        "p50_ms": round(at_share(waits, 0.5), 1),
        "p99_ms": round(at_share(waits, 0.99), 1),
        "deadlines": len(planned_real),
        "deadlines_acted": len(acted),
        "deadlines_missed": missed,
        "acted_twice": 0,  # filled in by the caller
        "lateness_max_s": round(all_lateness[-1], 1) if all_lateness else 0.0,
        "lateness_p99_s": round(at_share(all_lateness, 0.99), 1),
        "late_beyond_interval": sum(1 for value in all_lateness if value > interval),
    }


def print_report(result: dict) -> None:
    p = result["parameters"]
    print(
        f"\n{p['cases']:,} cases and {p['deadlines']:,} deadlines in a day at {p['speedup']:g}×"
        f" (the load of {p['equivalent_cases_a_day']:,} cases a day in real time); "
        f"{p['web']} web × {p['threads']} threads, {p['workers']} worker(s) + {p['delivery_workers']} delivery worker(s), sweep every "
        f"{p['sweep_interval_s']:g} simulated s; peak hour {p['peak_hour']}:00 at {p['peak']:g}×"
    )
    header = (
        "hour", "arrived", "opens", "served", "backlog", "p50 ms", "p99 ms",
        "due", "acted", "late max s", "late p99 s", "> interval",
    )  # fmt: skip
    keys = (
        "hour", "arrivals", "opens", "served", "backlog", "p50_ms", "p99_ms",
        "deadlines_due", "deadlines_acted", "lateness_max_s", "lateness_p99_s",
        "late_beyond_interval",
    )  # fmt: skip
    widths = [max(len(h), 7) for h in header]
    print("  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)))
    for row in result["hours"]:
        print("  ".join(str(row[k]).rjust(w) for k, w in zip(keys, widths, strict=True)))
    late = result["late_beyond_interval"]
    print(
        f"\nrequests {result['requests']:,} (failures {result['failures']}), response p50 "
        f"{result['p50_ms']} ms p99 {result['p99_ms']} ms; deadlines {result['deadlines']:,}, "
        f"acted {result['deadlines_acted']:,}, never acted {result['deadlines_missed']}, "
        f"acted twice {result['acted_twice']}; lateness max {result['lateness_max_s']} s "
        f"p99 {result['lateness_p99_s']} s (simulated)"
    )
    verdict = "NO deadline" if late == 0 else f"{late} deadline(s)"
    print(f"{verdict} acted more than one sweep interval ({p['sweep_interval_s']:g} s) late")
    for example in result["failure_examples"]:
        print("  failure:", example)


def rows(result: dict) -> list[tuple[str, str, str, str, str, bool]]:
    """``bench.run``'s table rows: (benchmark, product, floor, ratio, target, met)."""
    p = result["parameters"]
    peak = max(result["hours"], key=lambda hour: hour["arrivals"])
    shape = f"{p['cases']:,} cases at {p['speedup']:g}x, {p['web']} web, {p['workers']} worker(s)"
    return [
        (
            f"simulated day: {shape}",
            f"p50/p99 {result['p50_ms']}/{result['p99_ms']} ms; peak backlog {peak['backlog']}",
            "",
            "",
            f"failures 0 (were {result['failures']})",
            result["failures"] == 0,
        ),
        (
            "simulated day: deadlines",
            f"{result['deadlines_acted']:,}/{result['deadlines']:,} acted, late max "
            f"{result['lateness_max_s']} s",
            "",
            "",
            f"none > one sweep interval ({p['sweep_interval_s']:g} s), none twice",
            result["late_beyond_interval"] == 0
            and result["deadlines_missed"] == 0
            and result["acted_twice"] == 0,
        ),
    ]


def simulate(args) -> dict:
    rng = random.Random(args.seed)
    stats, fresh, due = prepare(args)
    plan = plan_day(args, rng, fresh, due)
    url = pg_url(args.dataset)
    env = env_for(url, HOME)
    env["AFTERSALES_WORKER_INTERVAL"] = f"{args.sweep_interval / args.speedup:.4f}"
    shippers = sorted({case.customer_external_id for case in plan.cases if case.ship_at})
    print(f"{len(shippers):,} buyers' logins …", flush=True)
    tokens = customer_tokens(env, shippers)
    HOME.mkdir(parents=True, exist_ok=True)
    log = HOME / "simulate-workers.log"
    day_seconds = 24 * 3600 / args.speedup
    with ExitStack() as stack:
        port = stack.enter_context(server(env, workers=args.web, threads=args.threads))
        interval = args.sweep_interval / args.speedup
        stack.enter_context(workers(env, args.workers, interval, log, args.delivery_workers))
        time.sleep(3)  # the workers' first round (and their Django start) before the day starts
        start = time.monotonic() + 2
        wall_start = time.time() + (start - time.monotonic())
        planned_real = seed_deadlines(url, plan, wall_start, args.speedup)
        load = Load(port, args.clients, start, args.speedup, tokens)
        schedule(load, plan)
        print(
            f"replaying the day: {day_seconds / 60:.1f} minutes ({len(plan.cases):,} cases, "
            f"{len(plan.deadlines):,} deadlines) …",
            flush=True,
        )
        load.pending += 1  # the day itself: the load waits for it to end
        ticker = threading.Thread(target=_tick, args=(load, day_seconds), daemon=True)
        ticker.start()
        load.run(until=start + day_seconds + args.grace)
        load.pool.shutdown(wait=True)
        # what the workers still owe: wait for the last deadlines (bounded)
        ids = list(planned_real)
        deadline = time.monotonic() + args.grace
        while time.monotonic() < deadline:
            acted, _ = acted_at(url, ids)
            if len(acted) == len(ids):
                break
            time.sleep(1)
    acted, twice = acted_at(url, ids)
    result = report(args, plan, load, planned_real, acted, wall_start)
    result["acted_twice"] = twice
    result["dataset"] = stats
    return result


def _tick(load: Load, day_seconds: float) -> None:
    """Print the simulated hour as the day goes, and end the day."""
    for hour in range(1, 25):
        pause = load.start + hour * 3600 / load.speedup - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        done = len(load.samples)
        print(f"  {hour:>2}:00  requests answered so far {done:,}", flush=True)
    with load.wake:
        load.pending -= 1
        load.wake.notify()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=400, help="cases opened in the day")
    parser.add_argument(
        "--deadlines", type=int, help="earlier cases whose deadline falls due (default cases/2)"
    )
    parser.add_argument("--speedup", type=float, default=160, help="simulated seconds a second")
    parser.add_argument("--web", type=int, default=2, help="web processes (gunicorn workers)")
    parser.add_argument("--threads", type=int, default=4, help="threads per web process")
    parser.add_argument("--workers", type=int, default=1, help="deadline workers")
    parser.add_argument(
        "--sweep-interval", type=float, default=60, help="simulated seconds between sweeps"
    )
    parser.add_argument(
        "--delivery-workers",
        type=int,
        default=0,
        help="db_worker processes for the deliveries (0: the deadline workers run them)",
    )
    parser.add_argument("--clients", type=int, default=32, help="concurrent HTTP clients")
    parser.add_argument("--peak", type=float, default=20, help="peak hour over the average hour")
    parser.add_argument("--peak-hour", type=int, default=20)
    parser.add_argument("--grace", type=float, default=60, help="real seconds to drain after")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--dataset", default=DATASET, help="the database (made afresh; BENCH_SUFFIX appended)"
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.deadlines is None:
        args.deadlines = args.cases // 2
    result = simulate(args)
    print_report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
