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
import operator
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
    # csv.reader, each field's column found once: the same records as csv.DictReader gave (a
    # name the header repeats takes its last column; a column the header lacks, or a cell a
    # short row lacks, is None; blank rows are skipped and not counted), in less time a row.
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        return
    width = len(header)
    where = {name: position for position, name in enumerate(header)}

    def cells(names):  # a row ends with a None, the cell of every column the header lacks
        return operator.itemgetter(*(where.get(name, -1) for name in names))

    order_names = CSV_ORDER_FIELDS
    order_cells = cells(order_names)
    customer_names = tuple(CSV_CUSTOMER_FIELDS.values())
    customer_cells = cells(CSV_CUSTOMER_FIELDS)
    optional = [
        (target, where.get(source)) for source, target in CSV_OPTIONAL_CUSTOMER_FIELDS.items()
    ]
    line_names = tuple(CSV_LINE_FIELDS.values())
    line_cells = cells(CSV_LINE_FIELDS)
    key_cells = cells(("shop", "external_id"))
    padding = [None]
    current_key = None
    record: dict | None = None
    start = 0
    number = 1
    for row in reader:
        if not row:
            continue
        number += 1
        row += padding * (width + 1 - len(row)) if len(row) < width else padding
        key = key_cells(row)
        if key != current_key:
            if record is not None:
                yield start, record
            current_key, start = key, number
            record = {
                name: value or None
                for name, value in zip(order_names, order_cells(row), strict=True)
            }
            record["shipping_fee"] = record["shipping_fee"] or "0"
            record["customer"] = customer = {
                name: value or ""
                for name, value in zip(customer_names, customer_cells(row), strict=True)
            }
            for target, at in optional:
                if at is not None and row[at]:
                    customer[target] = row[at]
            record["lines"] = []
        line = {
            name: value or None for name, value in zip(line_names, line_cells(row), strict=True)
        }
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
