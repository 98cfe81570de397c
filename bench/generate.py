"""Fill a migrated database with realistic after-sales data, fast.

    python -m bench.generate --orders 1000000 --cases 300000          # PostgreSQL from DATABASE_URL
    DATABASE_URL=sqlite:///bench.sqlite3 python -m bench.generate --orders 100000 --cases 30000

Rows go in with COPY on PostgreSQL (a million orders in a minute or two on two cores) and with
batched INSERTs on SQLite. Ten shops, the first holding half of everything; customers, products,
orders (a fifth with two lines), and cases spread over the eight states in a realistic mix of
kinds and reasons, each with a timeline, refund entries for refunded cases, and deadlines from an
hour overdue to ten days away (so a sweep has due work).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sqlite3
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

STATE_MIX = [  # (state, share, kind weights (refund_only, return_refund))
    ("awaiting_seller", 0.22, (0.4, 0.6)),
    ("rejected", 0.03, (0.4, 0.6)),
    ("awaiting_return", 0.12, (0.0, 1.0)),
    ("return_in_transit", 0.10, (0.0, 1.0)),
    ("inspecting", 0.05, (0.0, 1.0)),
    ("refund_pending", 0.05, (0.5, 0.5)),
    ("refunded", 0.35, (0.5, 0.5)),
    ("closed", 0.08, (0.3, 0.7)),
]
REASONS = {
    "refund_only": [
        ("not_shipped", 4),
        ("missing_item", 2),
        ("bought_by_mistake", 2),
        ("not_received", 1),
        ("quality_issue", 1),
    ],
    "return_refund": [
        ("no_reason", 4),
        ("wrong_size", 3),
        ("changed_mind", 2),
        ("quality_issue", 3),
        ("not_as_described", 1),
        ("wrong_item", 1),
        ("damaged_in_transit", 1),
        ("counterfeit", 0.2),
    ],
}
FAULT = {
    "no_reason": "buyer",
    "changed_mind": "buyer",
    "wrong_size": "buyer",
    "bought_by_mistake": "buyer",
    "damaged_in_transit": "carrier",
}
DEADLINE_ACTION = {
    "awaiting_seller": "auto_approve",
    "rejected": "auto_close",
    "awaiting_return": "auto_close",
    "return_in_transit": "auto_refund",
    "inspecting": "escalate",
    "refund_pending": "escalate",
}
PATH = {  # the timeline that leads to each state: (action, from, to)
    "awaiting_seller": [("open", "", "awaiting_seller")],
    "rejected": [("open", "", "awaiting_seller"), ("reject", "awaiting_seller", "rejected")],
    "awaiting_return": [
        ("open", "", "awaiting_seller"),
        ("approve", "awaiting_seller", "awaiting_return"),
    ],
    "return_in_transit": [
        ("open", "", "awaiting_seller"),
        ("approve", "awaiting_seller", "awaiting_return"),
        ("ship_return", "awaiting_return", "return_in_transit"),
    ],
    "inspecting": [
        ("open", "", "awaiting_seller"),
        ("approve", "awaiting_seller", "awaiting_return"),
        ("ship_return", "awaiting_return", "return_in_transit"),
        ("receive", "return_in_transit", "inspecting"),
    ],
    "refund_pending": [
        ("open", "", "awaiting_seller"),
        ("approve", "awaiting_seller", "refund_pending"),
    ],
    "refunded": [
        ("open", "", "awaiting_seller"),
        ("approve", "awaiting_seller", "refund_pending"),
        ("refund", "refund_pending", "refunded"),
    ],
    "closed": [("open", "", "awaiting_seller"), ("cancel", "awaiting_seller", "closed")],
}
PRODUCT_WORDS = [
    "羊毛开衫",
    "真皮休闲鞋",
    "西湖龙井",
    "蓝牙耳机",
    "纯棉袜子",
    "电热水壶",
    "羽绒服",
    "保温杯",
    "双肩包",
    "连衣裙",
    "运动裤",
    "护肤套装",
    "智能手表",
    "床上四件套",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
SHOPS = 10

TABLES = {
    "catalog_shop": "id code name preset timezone currency created_at updated_at",
    "catalog_returnaddress": "id shop_id name phone address is_default created_at updated_at",
    "cases_policy": "id shop_id version preset data created_at created_by_id",
    "catalog_customer": "id shop_id external_id name phone email created_at updated_at",
    "catalog_product": "id shop_id code name category warranty_days flags created_at updated_at",
    "catalog_sku": "id shop_id product_id code title stock created_at updated_at",
    "catalog_order": "id shop_id external_id customer_id status paid_at shipped_at signed_at "
    "shipping_fee goods_amount total_amount created_at updated_at",
    "catalog_orderline": "id order_id external_id sku_id title quantity unit_price paid_amount "
    "refunded_amount created_at updated_at",
    "cases_case": "id number shop_id order_id customer_id policy_id kind reason fault "
    "return_shipping_payer description state requested_amount approved_amount shipping_deduction "
    "inspection_deduction refunded_amount deadline_at deadline_action return_address_id "
    "return_carrier return_tracking_number reject_reason inspection_result inspection_note "
    "opened_by_id approved_at return_shipped_at received_at first_response_at resolved_at "
    "escalated_at created_at updated_at",
    "cases_caseline": "id case_id order_line_id quantity requested_amount approved_amount "
    "refunded_amount",
    "core_event": "id subject_type_id subject_id shop_id actor_id actor_name role action "
    "from_state to_state data at",
    "cases_refundentry": "id order_line_id case_id amount idempotency_key created_at",
}


def weighted(rng: random.Random, pairs):
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


class Generator:
    """Yields the rows of each table; ids are dense from 1 (the database must be empty)."""

    def __init__(self, orders: int, cases: int, seed: int = 7):
        self.orders = orders
        self.cases = min(cases, orders)
        self.customers = max(orders // 5, 10)
        self.products = 2000
        self.rng = random.Random(seed)
        self.now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        preset = Path(__file__).resolve().parent.parent / "aftersales/policy/presets/taobao.json"
        self.policy = json.loads(preset.read_text(encoding="utf-8"))["policy"]
        self.line_of_order: dict[int, tuple[int, Decimal]] = {}

    def shop_of(self, index: int) -> int:
        # shop 1 has half of everything, the nine others share the rest
        return 1 if index % 2 == 0 else 2 + index % (SHOPS - 1)

    def shops(self) -> Iterator[tuple]:
        for shop in range(1, SHOPS + 1):
            yield (
                shop,
                f"bench{shop}",
                f"压测店铺 {shop}",
                "taobao",
                "Asia/Shanghai",
                "CNY",
                self.now,
                self.now,
            )

    def addresses(self) -> Iterator[tuple]:
        for shop in range(1, SHOPS + 1):
            yield (
                shop,
                shop,
                "售后仓",
                "0571-88880000",
                f"杭州市余杭区 {shop} 号",
                True,
                self.now,
                self.now,
            )

    def policies(self) -> Iterator[tuple]:
        for shop in range(1, SHOPS + 1):
            yield (shop, shop, 1, "taobao", json.dumps(self.policy), self.now, None)

    def customer_rows(self) -> Iterator[tuple]:
        rng = self.rng
        for index in range(1, self.customers + 1):
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(["", *GIVEN])
            yield (
                index,
                self.shop_of(index),
                f"C{index:08d}",
                name,
                f"138{index:08d}",
                "",
                self.now,
                self.now,
            )

    def product_rows(self) -> Iterator[tuple]:
        for index in range(1, self.products + 1):
            flags = ["perishable"] if index % 40 == 0 else []
            yield (
                index,
                self.shop_of(index),
                f"P{index:06d}",
                f"{PRODUCT_WORDS[index % len(PRODUCT_WORDS)]} {index}号",
                "服饰",
                365,
                json.dumps(flags),
                self.now,
                self.now,
            )

    def sku_rows(self) -> Iterator[tuple]:
        for index in range(1, self.products + 1):
            yield (
                index,
                self.shop_of(index),
                index,
                f"SKU{index:06d}",
                f"{PRODUCT_WORDS[index % len(PRODUCT_WORDS)]} {index}号",
                100,
                self.now,
                self.now,
            )

    def _product_for_shop(self, shop: int) -> int:
        # products of the same shop: index ≡ shop rule of shop_of
        while True:
            candidate = self.rng.randrange(1, self.products + 1)
            if self.shop_of(candidate) == shop:
                return candidate

    def order_and_line_rows(self) -> tuple[Iterator[tuple], Iterator[tuple]]:
        orders, lines = [], []
        rng = self.rng
        line_id = 0
        for index in range(1, self.orders + 1):
            customer = rng.randrange(1, self.customers + 1)
            shop = self.shop_of(customer)
            paid = self.now - dt.timedelta(days=rng.uniform(3, 30))
            shipped = paid + dt.timedelta(hours=rng.uniform(4, 48))
            signed = shipped + dt.timedelta(hours=rng.uniform(24, 96))
            if signed > self.now:
                signed = None
            count = 2 if rng.random() < 0.2 else 1
            goods = Decimal(0)
            for number in range(1, count + 1):
                line_id += 1
                product = self._product_for_shop(shop)
                quantity = rng.choice([1, 1, 1, 2, 3])
                price = Decimal(rng.randrange(1990, 99900)) / 100
                paid_amount = (price * quantity * Decimal("0.95")).quantize(Decimal("0.01"))
                goods += paid_amount
                if number == 1:
                    self.line_of_order[index] = (line_id, paid_amount, quantity)
                lines.append(
                    (
                        line_id,
                        index,
                        str(number),
                        product,
                        f"{PRODUCT_WORDS[product % len(PRODUCT_WORDS)]} {product}号",
                        quantity,
                        price,
                        paid_amount,
                        Decimal("0.00"),
                        paid,
                        paid,
                    )
                )
            orders.append(
                (
                    index,
                    shop,
                    f"TB{index:012d}",
                    customer,
                    "signed" if signed else "shipped",
                    paid,
                    shipped,
                    signed,
                    Decimal("0.00"),
                    goods,
                    goods,
                    paid,
                    paid,
                )
            )
        return iter(orders), iter(lines)

    def case_rows(self):
        """Cases on the first ``cases`` orders, with their lines, events and refunds."""
        rng = self.rng
        states = [s for s, _share, _kinds in STATE_MIX]
        weights = [share for _s, share, _kinds in STATE_MIX]
        kinds_of = {s: kinds for s, _share, kinds in STATE_MIX}
        cases, case_lines, events, refunds = [], [], [], []
        event_id = 0
        refunded_lines: dict[int, Decimal] = {}
        for case_id in range(1, self.cases + 1):
            order = case_id  # one case per order keeps quantities within the ledger
            line_id, paid_amount, quantity = self.line_of_order[order]
            customer = 0
            state = rng.choices(states, weights)[0]
            kind = rng.choices(["refund_only", "return_refund"], kinds_of[state])[0]
            reason = weighted(rng, REASONS[kind])
            fault = FAULT.get(reason, "seller")
            payer = "buyer" if fault == "buyer" else "seller"
            opened = self.now - dt.timedelta(hours=rng.uniform(1, 240))
            amount = paid_amount
            approved = (
                amount if state not in ("awaiting_seller", "rejected", "closed") else Decimal(0)
            )
            refunded = amount if state == "refunded" else Decimal(0)
            deadline = action = None
            if state in DEADLINE_ACTION:
                deadline = self.now + dt.timedelta(hours=rng.uniform(-1, 240))
                action = DEADLINE_ACTION[state]
            final = state in ("refunded", "closed")
            cases.append(
                (
                    case_id,
                    f"AS20260101{case_id:08d}",
                    None,
                    order,
                    customer,
                    None,
                    kind,
                    reason,
                    fault,
                    payer,
                    "",
                    state,
                    amount,
                    approved,
                    Decimal(0),
                    Decimal(0),
                    refunded,
                    deadline,
                    action or "",
                    1
                    if state not in ("awaiting_seller", "rejected") and kind == "return_refund"
                    else None,
                    "",
                    "",
                    "",
                    "",
                    "",
                    None,
                    opened if approved else None,
                    None,
                    None,
                    opened if approved else None,
                    opened if final else None,
                    None,
                    opened,
                    opened,
                )
            )
            case_lines.append((case_id, case_id, line_id, quantity, amount, approved, refunded))
            for action_name, from_state, to_state in PATH[state]:
                if (
                    kind == "return_refund"
                    and action_name == "approve"
                    and to_state == "refund_pending"
                ):
                    to_state = "awaiting_return"
                event_id += 1
                events.append(
                    (
                        event_id,
                        case_id,
                        None,
                        "bench",
                        "agent",
                        action_name,
                        from_state,
                        to_state,
                        "{}",
                        opened,
                    )
                )
            if refunded:
                refunds.append(
                    (len(refunds) + 1, line_id, case_id, refunded, f"bench-{case_id}", opened)
                )
                refunded_lines[line_id] = refunded
        return cases, case_lines, events, refunds, refunded_lines


def _fill_case_refs(cases, orders_by_id):
    """Cases need their order's shop and customer; policies and addresses are per shop (id=shop)."""
    filled = []
    for row in cases:
        order = orders_by_id[row[3]]
        shop, customer = order[1], order[3]
        row = list(row)
        row[2], row[4], row[5] = shop, customer, shop
        if row[19] is not None:
            row[19] = shop
        filled.append(tuple(row))
    return filled


def rows_by_table(generator: Generator, case_type_id: int) -> dict[str, list[tuple]]:
    orders, lines = generator.order_and_line_rows()
    orders, lines = list(orders), list(lines)
    cases, case_lines, events, refunds, refunded_lines = generator.case_rows()
    cases = _fill_case_refs(cases, {row[0]: row for row in orders})
    # The timeline is the kernel's: each event names its subject (the case) and its shop.
    shop_of_case = {row[0]: row[2] for row in cases}
    events = [(row[0], case_type_id, row[1], shop_of_case[row[1]], *row[2:]) for row in events]
    lines = [
        (*row[:8], refunded_lines.get(row[0], row[8]), *row[9:])
        if row[0] in refunded_lines
        else row
        for row in lines
    ]
    return {
        "catalog_shop": list(generator.shops()),
        "catalog_returnaddress": list(generator.addresses()),
        "cases_policy": list(generator.policies()),
        "catalog_customer": list(generator.customer_rows()),
        "catalog_product": list(generator.product_rows()),
        "catalog_sku": list(generator.sku_rows()),
        "catalog_order": orders,
        "catalog_orderline": lines,
        "cases_case": cases,
        "cases_caseline": case_lines,
        "core_event": events,
        "cases_refundentry": refunds,
    }


def write_postgres(url: str, tables: dict[str, list[tuple]]) -> None:
    import psycopg

    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        for table, rows in tables.items():
            columns = TABLES[table].split()
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        cursor.execute("ANALYZE")


def write_sqlite(path: str, tables: dict[str, list[tuple]]) -> None:
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")

    def adapt(value):
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, dt.datetime):
            return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
        return value

    with connection:
        for table, rows in tables.items():
            columns = TABLES[table].split()
            marks = ", ".join("?" * len(columns))
            connection.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                ([adapt(v) for v in row] for row in rows),
            )
    connection.execute("ANALYZE")
    connection.close()


CASE_TYPE = "SELECT id FROM django_content_type WHERE app_label = 'cases' AND model = 'case'"


def case_type_id(database_url: str) -> int:
    """The content type of cases in this (migrated) database: what events point at."""
    if database_url.startswith("sqlite:///"):
        connection = sqlite3.connect(database_url.removeprefix("sqlite:///"))
        try:
            return connection.execute(CASE_TYPE).fetchone()[0]
        finally:
            connection.close()
    import psycopg

    with psycopg.connect(database_url) as connection:
        return connection.execute(CASE_TYPE).fetchone()[0]


def generate(database_url: str, orders: int, cases: int) -> dict[str, float]:
    started = time.perf_counter()
    tables = rows_by_table(Generator(orders, cases), case_type_id(database_url))
    built = time.perf_counter()
    if database_url.startswith("sqlite:///"):
        write_sqlite(database_url.removeprefix("sqlite:///"), tables)
    else:
        write_postgres(database_url, tables)
    done = time.perf_counter()
    return {
        "rows": sum(len(rows) for rows in tables.values()),
        "orders": orders,
        "cases": min(cases, orders),
        "build_seconds": round(built - started, 1),
        "load_seconds": round(done - built, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=300_000)
    args = parser.parse_args()
    url = os.environ["DATABASE_URL"]
    print(json.dumps(generate(url, args.orders, args.cases)))


if __name__ == "__main__":
    main()
