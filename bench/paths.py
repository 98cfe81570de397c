"""The paths the open issues added, each beside its floor (issue 15: "every new path … in
``make bench`` with a floor").

    python -m bench.paths                           # bench_large (made if missing)
    python -m bench.paths --dataset bench_small --json out.json

On a benchmark dataset (``bench.generate``; ``bench.run --only paths`` runs this in a process of
its own), each path is the product's own entry point, and its floor the SQL of the same work
through psycopg on one connection, no framework:

- **complaint**: ``POST /api/v1/complaints`` over HTTP, 16 clients (the server of
  ``bench.run``'s opening benchmark, 4 × 2), about signed orders of shop ``bench1``;
  throughput and p50/p95/p99. Floor: read the order, the policy and the trade's end, then the
  complaint, its event and its notice in one statement, 16 threads.
- **dispute**: the customer opens a dispute about their case (``disputes.services.dispute_open``,
  in-process: its case paused, two events, a notice), then adds a statement as evidence
  (``dispute_transition(add_evidence)``), one after another. Floor: the same reads and writes.
- **sla**: recomputing every open clock of shop ``bench1`` after its targets changed
  (``sla.refresh.sla_refresh(shop=…)``, what ``targets_set`` calls). Floor: read the open
  subjects and their timelines, and write the same clock rows back (``INSERT … ON CONFLICT``).
- **routing**: the worker assigning new cases of a shop that assigns automatically to its ten
  agents on duty (``routing.sweep.routing_sweep``, batches of 200). Floor: lock the shop's
  settings, count the agents' loads, claim 200 waiting cases and hand them out in turn with an
  event each, in one statement.
- **deliveries**: the worker delivering notices to the team's record (``notify``:
  ``deliveries_sweep`` plans them and enqueues their tasks, ``tasks_run`` runs the tasks).
  Floor: plan the deliveries of a batch of notices in one insert, then claim and finish them and
  mirror their notices in one statement.

No target of the issue's names these paths: each is judged by its ratio to the floor, ≤ 5× (the
ratio the issue asks of the case page, the nearest sibling; see docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg

from bench.deliveries import shop_notices
from bench.support import HOME, Client, env_for, percentiles, pg_url, run_module, server

TOKEN = "as_bench_token_0123456789"
TARGET_RATIO = 5.0
SHOP = "bench1"
AGENTS = 10


def setup(dataset: str) -> None:
    from bench import run

    run.prepare(dataset, rebuild=False)
    HOME.mkdir(parents=True, exist_ok=True)
    os.environ.update(env_for(pg_url(dataset), HOME))
    # A customer's notices go out by e-mail: nowhere, here (the console would print them all).
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.dummy.EmailBackend"
    import django

    django.setup()


def _rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds else 0.0


def content_type(connection, app_label: str, model: str) -> int:
    return connection.execute(
        "SELECT id FROM django_content_type WHERE app_label = %s AND model = %s",
        [app_label, model],
    ).fetchone()[0]


# --- filing a complaint over HTTP --------------------------------------------------------------


def complaint_orders(dataset: str, count: int) -> list[int]:
    """Signed orders of shop bench1 inside the complaint window, without a case or complaint."""
    with psycopg.connect(pg_url(dataset)) as connection:
        return [
            row[0]
            for row in connection.execute(
                """
                SELECT o.id FROM catalog_order o
                WHERE o.shop_id = 1 AND o.signed_at > now() - interval '12 days'
                  AND NOT EXISTS (SELECT 1 FROM cases_case c WHERE c.order_id = o.id)
                  AND NOT EXISTS (SELECT 1 FROM complaints_complaint t WHERE t.order_id = o.id)
                ORDER BY o.id LIMIT %s
                """,
                [count],
            )
        ]


COMPLAINT_READS = [
    "SELECT o.id, o.shop_id, o.customer_id, o.signed_at, s.timezone FROM catalog_order o "
    "JOIN catalog_shop s ON s.id = o.shop_id WHERE o.id = %(order)s",
    "SELECT id, data FROM cases_policy WHERE shop_id = 1 ORDER BY version DESC LIMIT 1",
    "SELECT max(resolved_at) FROM cases_case WHERE order_id = %(order)s "
    "AND state IN ('closed', 'completed', 'refunded')",
]
# The complaint, its event and its notice in one statement; its number from its id.
COMPLAINT_WRITE = """
WITH new AS (SELECT nextval(pg_get_serial_sequence('complaints_complaint', 'id')) AS id),
filed AS (
  INSERT INTO complaints_complaint (id, created_at, updated_at, state, deadline_at,
    deadline_action, number, type, description, stage_started_at, due_at, root_cause,
    solution_kind, solution, outcome, answer, answer_note, customer_id, filed_by_id, order_id,
    policy_id, shop_id)
  SELECT new.id, now(), now(), 'received', now() + interval '1 day', 'remind',
    'TS' || to_char(now() AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || lpad(new.id::text, 6, '0'),
    'product', 'bench complaint', now(), now() + interval '2 days', '', '', '', '', '', '',
    o.customer_id, NULL, o.id, %(policy)s, o.shop_id
  FROM new, catalog_order o WHERE o.id = %(order)s
  RETURNING id, shop_id, number
), event AS (
  INSERT INTO core_event (subject_type_id, subject_id, shop_id, actor_id, actor_name, role,
    action, from_state, to_state, data, at)
  SELECT %(type)s, id, shop_id, NULL, 'bench', 'admin', 'file', '', 'received',
    '{"type": "product"}', now() FROM filed
)
INSERT INTO core_notice (subject_type_id, subject_id, shop_id, audience, kind, payload,
  created_at, channel, attempts, last_error)
SELECT %(type)s, id, shop_id, 'customer', 'complaint_filed',
  json_build_object('number', number, 'state', 'received'), now(), '', 0, ''
FROM filed RETURNING subject_id
"""


def _complaint_floor(dataset: str, orders: list[int], concurrency: int) -> dict:
    local = threading.local()
    connections = []
    with psycopg.connect(pg_url(dataset)) as connection:
        complaint_type = content_type(connection, "complaints", "complaint")

    def work(order: int) -> float:
        if not hasattr(local, "connection"):
            local.connection = psycopg.connect(pg_url(dataset))
            connections.append(local.connection)
        started = time.perf_counter()
        with local.connection.transaction():
            params = {"order": order, "type": complaint_type}
            read = [local.connection.execute(sql, params).fetchone() for sql in COMPLAINT_READS]
            params["policy"] = read[1][0]
            local.connection.execute(COMPLAINT_WRITE, params).fetchone()
        return (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        samples = list(pool.map(work, orders))
    elapsed = time.perf_counter() - started
    for connection in connections:
        connection.close()
    return {"requests_per_second": _rate(len(orders), elapsed), **percentiles(samples)}


def bench_complaint(dataset: str, requests: int, concurrency: int = 16) -> dict:
    orders = complaint_orders(dataset, 100 + 2 * requests)
    if len(orders) < 100 + 2 * requests:
        raise RuntimeError(f"{len(orders)} orders left to complain about: --rebuild the dataset")
    warmup, measured, floor_orders = orders[:100], orders[100 : 100 + requests], orders[-requests:]
    local = threading.local()
    failures: list = []

    def work(port: int, order: int) -> float:
        if not hasattr(local, "client"):
            local.client = Client(port, TOKEN)
        body = {"order_id": order, "type": "product", "description": "bench complaint"}
        started = time.perf_counter()
        status, payload = local.client.request("POST", "/api/v1/complaints", body)
        if status != 201:
            failures.append((status, payload[:200]))
        return (time.perf_counter() - started) * 1000

    with server(dict(os.environ), workers=4, threads=2) as port:
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(lambda order: work(port, order), warmup))
        local.__dict__.clear()
        started = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            samples = list(pool.map(lambda order: work(port, order), measured))
        elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} complaints refused, e.g. {failures[0]}")
    return {
        "concurrency": concurrency,
        "server": "4x2",
        "product": {"requests_per_second": _rate(len(measured), elapsed), **percentiles(samples)},
        "floor": _complaint_floor(dataset, floor_orders, concurrency),
    }


# --- a dispute: opened, then a statement as evidence ------------------------------------------


def dispute_cases(dataset: str, count: int) -> list[tuple[int, str, int, int]]:
    """Cases the shop has left unanswered for over five days (a refund dispute may open), none
    disputed yet: (id, number, customer, shop)."""
    with psycopg.connect(pg_url(dataset)) as connection:
        return connection.execute(
            """
            SELECT c.id, c.number, c.customer_id, c.shop_id FROM cases_case c
            WHERE c.state = 'awaiting_seller' AND c.created_at < now() - interval '5 days'
              AND NOT EXISTS (SELECT 1 FROM disputes_dispute d WHERE d.case_id = c.id)
            ORDER BY c.id LIMIT %s
            """,
            [count],
        ).fetchall()


DISPUTE_READS = [
    "SELECT id, shop_id, customer_id, state, deadline_at, deadline_action, created_at "
    "FROM cases_case WHERE number = %(number)s AND customer_id = %(customer)s FOR UPDATE",
    "SELECT 1 FROM disputes_dispute WHERE case_id = %(case)s "
    "AND state NOT IN ('withdrawn', 'final') LIMIT 1",
    "SELECT id, data FROM cases_policy WHERE shop_id = %(shop)s ORDER BY version DESC LIMIT 1",
]
# The dispute, the case's deadline paused, an event of each and the shop's notice.
DISPUTE_WRITE = """
WITH new AS (SELECT nextval(pg_get_serial_sequence('disputes_dispute', 'id')) AS id),
opened AS (
  INSERT INTO disputes_dispute (id, created_at, updated_at, state, deadline_at, deadline_action,
    number, kind, dispute_class, statement, case_paused, appeals, appeal_reason, case_id,
    customer_id, policy_id, shop_id)
  SELECT new.id, now(), now(), 'evidence', now() + interval '2 days', 'close_evidence',
    'WQ' || to_char(now() AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || lpad(new.id::text, 6, '0'),
    'refund', 'product', 'bench statement', true, 0, '', %(case)s, %(customer)s, %(policy)s,
    %(shop)s
  FROM new RETURNING id, number
), paused AS (
  UPDATE cases_case SET deadline_at = NULL, deadline_action = '', updated_at = now()
  WHERE id = %(case)s
), case_event AS (
  INSERT INTO core_event (subject_type_id, subject_id, shop_id, actor_name, role, action,
    from_state, to_state, data, at)
  SELECT %(case_type)s, %(case)s, %(shop)s, 'system', 'system', 'dispute_pause',
    'awaiting_seller', 'awaiting_seller', json_build_object('dispute', number), now() FROM opened
), event AS (
  INSERT INTO core_event (subject_type_id, subject_id, shop_id, actor_name, role, action,
    from_state, to_state, data, at)
  SELECT %(dispute_type)s, id, %(shop)s, 'c', 'customer', 'open', '', 'evidence',
    '{"kind": "refund", "dispute_class": "product"}', now() FROM opened
)
INSERT INTO core_notice (subject_type_id, subject_id, shop_id, audience, kind, payload,
  created_at, channel, attempts, last_error)
SELECT %(dispute_type)s, id, %(shop)s, 'shop', 'dispute_opened',
  json_build_object('number', number, 'state', 'evidence'), now(), '', 0, ''
FROM opened RETURNING subject_id
"""
EVIDENCE_READ = (
    "SELECT id, state, deadline_at, shop_id FROM disputes_dispute WHERE id = %(dispute)s "
    "AND customer_id = %(customer)s FOR UPDATE"
)
EVIDENCE_WRITE = """
WITH added AS (
  INSERT INTO disputes_disputeevidence (dispute_id, side, kind, text, created_at)
  VALUES (%(dispute)s, 'buyer', 'text', 'bench evidence', now()) RETURNING id
), touched AS (
  UPDATE disputes_dispute SET updated_at = now() WHERE id = %(dispute)s
)
INSERT INTO core_event (subject_type_id, subject_id, shop_id, actor_name, role, action,
  from_state, to_state, data, at)
SELECT %(dispute_type)s, %(dispute)s, %(shop)s, 'c', 'customer', 'add_evidence', 'evidence',
  'evidence', json_build_object('kind', 'text', 'evidence', id), now() FROM added
RETURNING id
"""


def _timed_each(work, items) -> tuple[list[float], float, list]:
    samples, results = [], []
    started = time.perf_counter()
    for item in items:
        begun = time.perf_counter()
        results.append(work(item))
        samples.append((time.perf_counter() - begun) * 1000)
    return samples, time.perf_counter() - started, results


def _dispute_floor(dataset: str, cases) -> dict:
    with psycopg.connect(pg_url(dataset)) as connection:
        types = {
            "case_type": content_type(connection, "cases", "case"),
            "dispute_type": content_type(connection, "disputes", "dispute"),
        }

        def open_one(case) -> dict:
            params = {"number": case[1], "customer": case[2], "case": case[0], "shop": case[3]}
            with connection.transaction():
                found = connection.execute(DISPUTE_READS[0], params).fetchone()
                assert found is not None
                assert connection.execute(DISPUTE_READS[1], params).fetchone() is None
                params["policy"] = connection.execute(DISPUTE_READS[2], params).fetchone()[0]
                params["dispute"] = connection.execute(DISPUTE_WRITE, params | types).fetchone()[0]
            return params

        def add_one(params) -> None:
            with connection.transaction():
                row = connection.execute(EVIDENCE_READ, params).fetchone()
                assert row[1] == "evidence"
                connection.execute(EVIDENCE_WRITE, params | types).fetchone()

        opening, open_seconds, opened = _timed_each(open_one, cases)
        evidence, evidence_seconds, _ = _timed_each(add_one, opened)
    return {
        "open": {"per_second": _rate(len(cases), open_seconds), **percentiles(opening)},
        "evidence": {"per_second": _rate(len(cases), evidence_seconds), **percentiles(evidence)},
    }


def bench_dispute(dataset: str, count: int) -> dict:
    from aftersales.core.actors import Principal
    from aftersales.disputes.services import dispute_open, dispute_transition

    cases = dispute_cases(dataset, 20 + 2 * count)
    if len(cases) < 20 + 2 * count:
        raise RuntimeError(f"{len(cases)} cases left to dispute: --rebuild the dataset")
    warmup, measured, floor_cases = cases[:20], cases[20 : 20 + count], cases[-count:]

    def customer(case) -> Principal:
        return Principal(
            user_id=None,
            username="bench customer",
            role="customer",
            shop_ids=frozenset({case[3]}),
            customer_id=case[2],
        )

    def open_one(case):
        data = {
            "case_number": case[1],
            "kind": "refund",
            "dispute_class": "product",
            "statement": "bench statement",
        }
        return customer(case), dispute_open(actor=customer(case), data=data).pk

    def add_one(opened) -> None:
        actor, dispute_id = opened
        dispute_transition(
            dispute_id=dispute_id,
            action="add_evidence",
            actor=actor,
            data={"kind": "text", "text": "bench evidence"},
        )

    for opened in [open_one(case) for case in warmup]:
        add_one(opened)
    opening, open_seconds, opened = _timed_each(open_one, measured)
    evidence, evidence_seconds, _ = _timed_each(add_one, opened)
    return {
        "count": count,
        "product": {
            "open": {"per_second": _rate(count, open_seconds), **percentiles(opening)},
            "evidence": {"per_second": _rate(count, evidence_seconds), **percentiles(evidence)},
        },
        "floor": _dispute_floor(dataset, floor_cases),
    }


# --- the SLA: every open clock of a shop recomputed after its targets changed ------------------

CLOCK_COLUMNS = [
    "subject_type_id",
    "subject_id",
    "metric",
    "shop_id",
    "kind",
    "priority",
    "target",
    "state",
    "started_at",
    "due_at",
    "warn_at",
    "met_at",
    "breached_at",
    "rounds",
    "rounds_met",
    "warned_round",
    "breach_told_round",
    "check_at",
    "last_event_id",
    "computed_at",
]
CLOCK_UPSERT = (
    f"INSERT INTO sla_clock ({', '.join(CLOCK_COLUMNS)}) VALUES "
    f"({', '.join(['%s'] * len(CLOCK_COLUMNS))}) "
    "ON CONFLICT (subject_type_id, subject_id, metric) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in CLOCK_COLUMNS[3:])
)


def _sla_floor(dataset: str, shop_id: int, repeat: int) -> tuple[list[float], int]:
    """Read what the recompute reads (the shop's open cases and complaints, their timelines,
    their clocks, the targets and hours) and write the clocks the product computed back."""
    with psycopg.connect(pg_url(dataset)) as connection:
        types = {
            "cases_case": content_type(connection, "cases", "case"),
            "complaints_complaint": content_type(connection, "complaints", "complaint"),
        }
        finals = {
            "cases_case": ["closed", "completed", "refunded"],
            "complaints_complaint": ["closed", "withdrawn"],
        }
        clocks = connection.execute(
            f"SELECT {', '.join(CLOCK_COLUMNS)} FROM sla_clock WHERE shop_id = %s", [shop_id]
        ).fetchall()
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            with connection.transaction():
                connection.execute("SELECT * FROM sla_target WHERE shop_id = %s", [shop_id])
                connection.execute("SELECT * FROM sla_businesshours WHERE shop_id = %s", [shop_id])
                for table, type_id in types.items():
                    ids = [
                        row[0]
                        for row in connection.execute(
                            f"SELECT id FROM {table} WHERE shop_id = %s AND NOT state = ANY(%s)",
                            [shop_id, finals[table]],
                        )
                    ]
                    connection.execute(
                        "SELECT * FROM sla_clock WHERE subject_type_id = %s AND subject_id = ANY(%s)",
                        [type_id, ids],
                    ).fetchall()
                    connection.execute(
                        "SELECT subject_id, id, at, action, role, to_state FROM core_event "
                        "WHERE subject_type_id = %s AND subject_id = ANY(%s) "
                        "ORDER BY subject_id, at, id",
                        [type_id, ids],
                    ).fetchall()
                with connection.cursor() as cursor:
                    cursor.executemany(CLOCK_UPSERT, clocks)
            samples.append((time.perf_counter() - started) * 1000)
    return samples, len(clocks)


def bench_sla(dataset: str, repeat: int) -> dict:
    from aftersales.cases.choices import FINAL_STATES
    from aftersales.cases.models import Case
    from aftersales.catalog.models import Shop
    from aftersales.sla.refresh import sla_refresh
    from aftersales.sla.schemas import TargetsIn
    from aftersales.sla.services import targets_set
    from aftersales.team.selectors import principal_for_token

    shop = Shop.objects.get(code=SHOP)
    admin = principal_for_token(TOKEN)
    targets_set(actor=admin, shop=shop, data=TargetsIn(preset="generic"))  # a changed calendar
    opened = Case.objects.filter(shop=shop).exclude(state__in=FINAL_STATES).count()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = sla_refresh(shop=shop)
        samples.append((time.perf_counter() - started) * 1000)
    floor, clocks = _sla_floor(dataset, shop.pk, repeat)
    return {
        "open_cases": opened,
        "subjects": result.subjects,
        "clocks": clocks,
        "product_ms": percentiles(samples),
        "floor_ms": percentiles(floor),
        "product_subjects_per_second": _rate(result.subjects * repeat, sum(samples) / 1000),
        "floor_subjects_per_second": _rate(result.subjects * repeat, sum(floor) / 1000),
    }


# --- routing: the worker hands new cases to the agents on duty --------------------------------

ROUTE_FLOOR = """
WITH waiting AS (
  SELECT id, state, shop_id FROM cases_case
  WHERE shop_id = %(shop)s AND assignee_id IS NULL AND state <> ALL(%(finals)s)
  ORDER BY id LIMIT 200 FOR UPDATE SKIP LOCKED
), turns AS (
  SELECT id, state, shop_id, row_number() OVER (ORDER BY id) AS turn FROM waiting
), given AS (
  UPDATE cases_case c SET assignee_id = (%(agents)s::int[])[1 + turn %% %(count)s],
    updated_at = now()
  FROM turns WHERE c.id = turns.id RETURNING c.id, c.shop_id, c.state, c.assignee_id
)
INSERT INTO core_event (subject_type_id, subject_id, shop_id, actor_name, role, action,
  from_state, to_state, data, at)
SELECT %(type)s, id, shop_id, 'system', 'system', 'assign', state, state,
  json_build_object('assignee', assignee_id), now() FROM given
RETURNING 1
"""


def _agents(shop_id: int) -> list[int]:
    from aftersales.catalog.models import Shop
    from aftersales.routing.models import AgentProfile
    from aftersales.routing.services import routing_agent_set, routing_settings_set
    from aftersales.team.models import Membership
    from aftersales.team.selectors import principal_for_token
    from aftersales.team.services import user_create

    shop, admin = Shop.objects.get(pk=shop_id), principal_for_token(TOKEN)
    for index in range(AGENTS):
        username = f"bench-agent-{index}"
        if not Membership.objects.filter(user__username=username).exists():
            user_create(username=username, role="agent", shop_codes=[shop.code])
        routing_agent_set(actor=admin, shop=shop, username=username, capacity=1000)
    routing_settings_set(actor=admin, shop=shop, auto_assign=True, default_capacity=1000)
    AgentProfile.objects.filter(shop=shop).update(on_duty=True)
    return sorted(AgentProfile.objects.filter(shop=shop).values_list("user_id", flat=True))


def _unassign(dataset: str, shop_id: int) -> int:
    with psycopg.connect(pg_url(dataset)) as connection:
        return connection.execute(
            "UPDATE cases_case SET assignee_id = NULL WHERE shop_id = %s "
            "AND state NOT IN ('closed', 'completed', 'refunded')",
            [shop_id],
        ).rowcount


def bench_routing(dataset: str) -> dict:
    from aftersales.routing.models import RoutingSettings
    from aftersales.routing.sweep import routing_sweep

    shop_id = 1
    RoutingSettings.objects.exclude(shop_id=shop_id).update(auto_assign=False)
    agents = _agents(shop_id)
    waiting = _unassign(dataset, shop_id)
    assigned, started = 0, time.perf_counter()
    while done := routing_sweep():
        assigned += done
    product = time.perf_counter() - started
    again = _unassign(dataset, shop_id)
    with psycopg.connect(pg_url(dataset)) as connection:
        params = {
            "shop": shop_id,
            "finals": ["closed", "completed", "refunded"],
            "agents": agents,
            "count": len(agents),
            "type": content_type(connection, "cases", "case"),
        }
        floor_assigned, started = 0, time.perf_counter()
        while True:
            with connection.transaction():
                connection.execute(
                    "SELECT * FROM routing_routingsettings WHERE shop_id = %s FOR UPDATE", [shop_id]
                )
                connection.execute(
                    "SELECT p.user_id, count(c.id) FROM routing_agentprofile p LEFT JOIN cases_case c "
                    "ON c.assignee_id = p.user_id AND c.shop_id = p.shop_id "
                    "AND c.state <> ALL(%(finals)s) WHERE p.shop_id = %(shop)s AND p.on_duty "
                    "GROUP BY p.user_id",
                    params,
                ).fetchall()
                done = len(connection.execute(ROUTE_FLOOR, params).fetchall())
            floor_assigned += done
            if done == 0:
                break
        floor = time.perf_counter() - started
    return {
        "agents": len(agents),
        "waiting": waiting,
        "assigned": assigned,
        "floor_assigned": floor_assigned,
        "cases_per_second": _rate(assigned, product),
        "floor_cases_per_second": _rate(floor_assigned, floor),
        "unassigned_for_floor": again,
    }


# --- deliveries: the worker delivers notices to the team's record ------------------------------

DELIVERY_PLAN = """
INSERT INTO notify_delivery (notice_id, shop_id, channel, status, attempts, next_attempt_at,
  last_error, created_at)
SELECT id, shop_id, 'log', 'pending', 0, now(), '', now() FROM core_notice
WHERE id = ANY(%s) RETURNING id
"""
DELIVERY_RUN = """
WITH claimed AS (
  SELECT id FROM notify_delivery WHERE status = 'pending' AND next_attempt_at <= now()
  ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED
), done AS (
  UPDATE notify_delivery d SET status = 'delivered', attempts = d.attempts + 1,
    delivered_at = now(), lease_until = NULL
  FROM claimed WHERE d.id = claimed.id RETURNING d.notice_id, d.attempts
)
UPDATE core_notice n SET delivered_at = now(), channel = 'log', attempts = done.attempts
FROM done WHERE n.id = done.notice_id RETURNING n.id
"""


def _notices(count: int) -> list[int]:
    from aftersales.catalog.models import Shop

    return shop_notices(Shop.objects.get(code=SHOP), count)


def bench_deliveries(dataset: str, count: int) -> dict:
    from aftersales.notify.deliveries import deliveries_sweep
    from aftersales.notify.models import Delivery
    from aftersales.notify.runner import tasks_run

    def drain() -> int:
        ran = 0
        while True:
            planned = deliveries_sweep()
            done = tasks_run(worker_id="bench", max_tasks=200)
            ran += done
            if not planned and not done:
                return ran

    drain()  # what earlier benchmarks left undelivered
    ids = _notices(count)
    started = time.perf_counter()
    drain()
    product = time.perf_counter() - started
    delivered = Delivery.objects.filter(notice_id__in=ids, status="delivered").count()
    floor_ids = _notices(count)
    with psycopg.connect(pg_url(dataset)) as connection:
        started = time.perf_counter()
        for start in range(0, count, 200):
            with connection.transaction():
                connection.execute(DELIVERY_PLAN, [floor_ids[start : start + 200]]).fetchall()
        floor_delivered = 0
        while True:
            with connection.transaction():
                done = len(connection.execute(DELIVERY_RUN).fetchall())
            floor_delivered += done
            if not done:
                break
        floor = time.perf_counter() - started
    return {
        "notices": count,
        "delivered": delivered,
        "floor_delivered": floor_delivered,
        "per_second": _rate(delivered, product),
        "floor_per_second": _rate(floor_delivered, floor),
    }


# --- the table and the command -------------------------------------------------------------------


def rows(results: dict) -> list[tuple[str, str, str, str, str, bool]]:
    """For ``bench.run``'s table: (benchmark, product, floor, ratio, target, met); every ratio is
    the product's cost over the floor's (latency ÷ latency, floor rate ÷ product rate)."""
    out = []
    target = f"<= {TARGET_RATIO:.0f}x floor"

    def add(label, product, floor, ratio):
        out.append((label, product, floor, f"{ratio:.1f}x", target, ratio <= TARGET_RATIO))

    if "complaint" in results:
        p, f = results["complaint"]["product"], results["complaint"]["floor"]
        add(
            "file a complaint: throughput (16 clients)",
            f"{p['requests_per_second']} req/s",
            f"{f['requests_per_second']} tx/s",
            f["requests_per_second"] / p["requests_per_second"],
        )
        add(
            "file a complaint: p50/p95/p99",
            f"{p['p50_ms']}/{p['p95_ms']}/{p['p99_ms']} ms",
            f"{f['p50_ms']}/{f['p95_ms']}/{f['p99_ms']} ms",
            p["p99_ms"] / f["p99_ms"],
        )
    if "dispute" in results:
        for step, label in (("open", "open a dispute"), ("evidence", "dispute: add evidence")):
            p, f = results["dispute"]["product"][step], results["dispute"]["floor"][step]
            add(
                f"{label}: rate, p50/p95",
                f"{p['per_second']}/s, {p['p50_ms']}/{p['p95_ms']} ms",
                f"{f['per_second']}/s, {f['p50_ms']}/{f['p95_ms']} ms",
                f["per_second"] / p["per_second"],
            )
    if "sla" in results:
        s = results["sla"]
        add(
            f"SLA recompute, {s['subjects']:,} open subjects",
            f"{s['product_ms']['p50_ms']:.0f} ms ({s['product_subjects_per_second']}/s)",
            f"{s['floor_ms']['p50_ms']:.0f} ms ({s['floor_subjects_per_second']}/s)",
            s["product_ms"]["p50_ms"] / s["floor_ms"]["p50_ms"],
        )
    if "routing" in results:
        r = results["routing"]
        add(
            f"routing: assign new cases ({r['agents']} agents)",
            f"{r['cases_per_second']} cases/s",
            f"{r['floor_cases_per_second']} cases/s",
            r["floor_cases_per_second"] / r["cases_per_second"],
        )
    if "deliveries" in results:
        d = results["deliveries"]
        add(
            "deliveries: plan, queue and deliver notices",
            f"{d['per_second']} notices/s",
            f"{d['floor_per_second']} notices/s",
            d["floor_per_second"] / d["per_second"],
        )
    return out


def run(dataset: str, *, quick: bool) -> dict:
    setup(dataset)
    results: dict = {"dataset": dataset}
    steps = [
        ("complaint", lambda: bench_complaint(dataset, requests=300 if quick else 2000)),
        ("dispute", lambda: bench_dispute(dataset, count=100 if quick else 400)),
        ("sla", lambda: bench_sla(dataset, repeat=3)),
        ("routing", lambda: bench_routing(dataset)),
        ("deliveries", lambda: bench_deliveries(dataset, count=500 if quick else 2000)),
    ]
    for key, step in steps:
        print(f"  paths: {key} …", flush=True)
        results[key] = step()
    return results


def in_process(dataset: str, *, quick: bool) -> dict:
    """``run`` in a process of its own (it sets Django up on ``dataset``): ``bench.run``'s step."""
    quick_flag = ["--quick"] if quick else []
    return run_module("bench.paths", "--dataset", dataset, *quick_flag, answer="paths.json")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--dataset", default="bench_large")
    parser.add_argument("--quick", action="store_true", help="fewer requests of each")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    results = run(args.dataset, quick=args.quick)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(results, out, indent=2, default=str)
    for row in rows(results):
        print("  ".join(str(cell) for cell in row[:5]), "yes" if row[5] else "NO")


if __name__ == "__main__":
    main()
