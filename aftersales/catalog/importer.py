"""Read orders from CSV (one row per order line) or JSON Lines (one order per line).

Both formats go through the API's ``OrderIn`` schema, so a file and an HTTP call are checked the
same way. Bad records are reported with their line number and skipped; good ones are upserted.
Optional columns: ``customer_language`` (zh-hans or en; kept when empty) and ``stock`` (the SKU's
stock now; kept when empty).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from aftersales.catalog import order_staging
from aftersales.catalog.order_data import order_data_from
from aftersales.catalog.orders import orders_upsert
from aftersales.catalog.schemas import OrderIn
from aftersales.core.actors import Principal
from aftersales.core.errors import ApplicationError

CSV_ORDER_FIELDS = (
    "shop",
    "external_id",
    "paid_at",
    "shipped_at",
    "signed_at",
    "shipping_fee",
    "status",
)
CSV_CUSTOMER_FIELDS = {
    "customer_external_id": "external_id",
    "customer_name": "name",
    "customer_phone": "phone",
    "customer_email": "email",
}
# Left empty, these are left out (the customer keeps the language they have).
CSV_OPTIONAL_CUSTOMER_FIELDS = {"customer_language": "language"}
CSV_LINE_FIELDS = {
    "line_external_id": "external_id",
    "sku": "sku",
    "title": "title",
    "quantity": "quantity",
    "unit_price": "unit_price",
    "paid_amount": "paid_amount",
    "product_flags": "product_flags",
    "category": "category",
    "warranty_days": "warranty_days",
    "stock": "stock",
}


# CSV cells are text; these become JSON integers before the API's schema checks them, so "2"
# imports as 2 and "two" is reported like a bad JSON value.
CSV_INTEGER_FIELDS = ("quantity", "warranty_days", "stock")


def _integer(value: str | None) -> int | str | None:
    if value is not None and value.strip().lstrip("-").isdigit():
        return int(value)
    return value


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    lines: int = 0
    errors: list[str] | None = None


def _csv_records(text: str) -> Iterator[tuple[int, dict]]:
    reader = csv.DictReader(io.StringIO(text))
    current_key = None
    record: dict | None = None
    start = 0
    for number, row in enumerate(reader, start=2):
        key = (row.get("shop"), row.get("external_id"))
        if key != current_key:
            if record is not None:
                yield start, record
            current_key, start = key, number
            record = {name: row.get(name) or None for name in CSV_ORDER_FIELDS}
            record["shipping_fee"] = record["shipping_fee"] or "0"
            record["customer"] = {
                target: row.get(source) or "" for source, target in CSV_CUSTOMER_FIELDS.items()
            }
            for source, target in CSV_OPTIONAL_CUSTOMER_FIELDS.items():
                if row.get(source):
                    record["customer"][target] = row[source]
            record["lines"] = []
        line = {target: row.get(source) or None for source, target in CSV_LINE_FIELDS.items()}
        for name in CSV_INTEGER_FIELDS:
            line[name] = _integer(line[name])
        flags = line.pop("product_flags")
        line["product_flags"] = [f for f in flags.split("|") if f] if flags else None
        record["lines"].append(line)
    if record is not None:
        yield start, record


def _jsonl_records(text: str) -> Iterator[tuple[int, dict]]:
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            yield number, json.loads(raw)
        except json.JSONDecodeError as error:
            yield number, {"__error__": f"invalid JSON: {error.msg}"}


BATCH_SIZE = 1000


def _upsert_batch(actor: Principal, batch: list[tuple[int, OrderIn]], report: ImportReport) -> None:
    """Upsert a batch in one transaction; a record a rule refuses is reported and the rest of the
    batch is tried again without it."""
    batch = [(number, order_data_from(payload.model_dump())) for number, payload in batch]
    while batch:
        try:
            results = orders_upsert(actor=actor, items=[data for _number, data in batch])
        except ApplicationError as error:
            index = error.extra.get("index")
            if index is None:
                raise
            number, _data = batch.pop(index)
            report.errors.append(f"line {number}: {error.code}: {error.detail}")
            continue
        for (_number, data), (_order, created) in zip(batch, results, strict=True):
            report.created += created
            report.updated += not created
            report.lines += len(data.lines)
        return


def _stage_batch(actor: Principal, batch: list[tuple[int, OrderIn]], report: ImportReport) -> None:
    """The same through the staging tables (PostgreSQL): the refusals are known before anything
    is written, so the batch goes in once."""
    if batch:
        _staged_into(report, batch, _staged(actor, batch))


def _staged(actor: Principal, batch: list[tuple[int, OrderIn]]) -> order_staging.StagedBatch:
    return order_staging.orders_import_staged(
        actor=actor, items=[payload for _number, payload in batch]
    )


def _staged_into(
    report: ImportReport, batch: list[tuple[int, OrderIn]], result: order_staging.StagedBatch
) -> None:
    for index, error in result.refused:
        report.errors.append(f"line {batch[index][0]}: {error.code}: {error.detail}")
    for index, created in result.created.items():
        report.created += created
        report.updated += not created
        report.lines += len(batch[index][1].lines)


def import_orders(
    *,
    actor: Principal,
    path: Path,
    batch_size: int = BATCH_SIZE,
    staging: bool | None = None,
) -> ImportReport:
    """Import a file. ``staging``: through the staging tables (the default on PostgreSQL) or row
    by row (the default elsewhere); both give the same rows and the same report."""
    if staging is None:
        staging = order_staging.available()
    report = ImportReport(errors=[])
    upsert = _stage_batch if staging else _upsert_batch
    _read(
        path,
        batch_size,
        report.errors.append,
        lambda batch: upsert(actor, batch, report),
    )
    return report


def _read(
    path: Path,
    batch_size: int,
    error: Callable[[str], None],
    send: Callable[[list[tuple[int, OrderIn]]], None],
) -> None:
    """Validate the file's records with the API's schema: the bad ones go to ``error`` with their
    line number, the good ones to ``send`` in batches of ``batch_size``."""
    text = path.read_text(encoding="utf-8-sig")
    records = _csv_records(text) if path.suffix.lower() == ".csv" else _jsonl_records(text)
    batch: list[tuple[int, OrderIn]] = []
    for number, record in records:
        if "__error__" in record:
            error(f"line {number}: {record['__error__']}")
            continue
        try:
            payload = OrderIn.model_validate(record)
        except ValidationError as invalid:
            first = invalid.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            error(f"line {number}: {where}: {first['msg']}")
            continue
        batch.append((number, payload))
        if len(batch) >= batch_size:
            send(batch)
            batch = []
    send(batch)
