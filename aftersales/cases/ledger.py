"""The refund ledger: per order line, under a row lock, idempotent by key.

The sum of a line's refund entries never exceeds what the line was paid;
``OrderLine.refunded_amount``
mirrors that sum and a database CHECK refuses any value above ``paid_amount``, so even a bug
elsewhere cannot pay out more than was paid.

In a sweep's batch (``core.batch``) the refunds are posted set-wise, under the same rules: the
order lines of every refund the batch pays are locked in one query (``refunds_prepare``, in id
order) with the idempotency keys already on them, each refund is checked against those rows as
the batch's earlier refunds left them, and the entries, the order lines' and the case lines'
balances are written at the batch's end (one COPY, one UPDATE each). A refused refund gives its
amounts and keys back in memory and keeps none of its rows.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.utils.translation import gettext as _

from aftersales.cases.choices import FINAL_STATES, GOODS_RETURNED_STATES
from aftersales.cases.models import Case, CaseLine, RefundEntry
from aftersales.catalog.models import OrderLine
from aftersales.core import batch
from aftersales.core.compiled import Compiled
from aftersales.core.errors import Conflict
from aftersales.core.money import ZERO

_BOOK = "cases.ledger"


def lock_order_lines(line_ids) -> dict[int, OrderLine]:
    """Lock order lines in id order (a fixed order, so two transactions cannot deadlock)."""
    rows = (
        OrderLine.objects.select_for_update(of=("self",))
        .select_related("sku__product")
        .filter(id__in=set(line_ids))
        .order_by("id")
    )
    return {row.id: row for row in rows}


class _Book:
    """A batch's view of the ledger: the order lines it locked (shared by its refunds, so each
    sees the balances the earlier ones left) and the idempotency keys on them."""

    def __init__(self) -> None:
        self.lines: dict[int, OrderLine] = {}
        # key → [(entry order, order line id, case id)]: the entry's id, or after every id for
        # an entry of this batch (the first is the one ``refund_post`` answers with)
        self.keys: dict[str, list[tuple[int, int, int]]] = {}
        self._added = 0

    def lock(self, line_ids) -> dict[int, OrderLine]:
        line_ids = set(line_ids)
        missing = line_ids - self.lines.keys()
        if missing:
            rows = (
                OrderLine.objects.select_for_update(of=("self",))
                .filter(id__in=missing)
                .order_by("id")
            )
            self.lines.update((row.id, row) for row in rows)
            entries = (
                RefundEntry.objects.filter(order_line_id__in=missing)
                .order_by("id")
                .values_list("id", "order_line_id", "idempotency_key", "case_id")
            )
            for entry_id, line_id, key, case_id in entries:
                self.keys.setdefault(key, []).append((entry_id, line_id, case_id))
        return {line_id: self.lines[line_id] for line_id in line_ids if line_id in self.lines}

    def used_by(self, line_ids, key: str) -> int | None:
        found = [entry for entry in self.keys.get(key, ()) if entry[1] in line_ids]
        return min(found)[2] if found else None

    def post(self, entry: RefundEntry, order_line: OrderLine, case_line: CaseLine) -> None:
        """Keep the entry and the two balances for the batch's end; undone if refused."""
        self._added += 1
        used = self.keys.setdefault(entry.idempotency_key, [])
        used.append((2**63 + self._added, order_line.id, entry.case_id))
        batch.insert(entry)
        batch.save_fields(order_line, ["refunded_amount", "updated_at"])
        batch.save_fields(case_line, ["refunded_amount"])

        def undo() -> None:
            used.pop()
            order_line.refunded_amount -= entry.amount
            case_line.refunded_amount -= entry.amount

        batch.on_undo(undo)


def _book() -> _Book | None:
    memo = batch.memo()
    return None if memo is None else memo.setdefault(_BOOK, _Book())


def refunds_prepare(cases) -> None:
    """In a sweep's batch: lock the order lines of every case that will pay (one query, in id
    order) and read the ledger's keys on them (one more)."""
    book = _book()
    if book is not None:
        book.lock(line.order_line_id for case in cases for line in case.lines.all())


def lock_lines_of_order(order_id: int) -> dict[int, OrderLine]:
    """Lock every line of an order (with SKU and product), in id order."""
    rows = (
        OrderLine.objects.select_for_update(of=("self",))
        .select_related("sku__product")
        .filter(order_id=order_id)
        .order_by("id")
    )
    return {row.id: row for row in rows}


def _reserved_rows(line_ids, excluding_case_id: int | None) -> QuerySet:
    return (
        CaseLine.objects.filter(order_line_id__in=set(line_ids))
        .exclude(case__state__in=list(GOODS_RETURNED_STATES))
        .exclude(case_id=excluding_case_id)
        .values("order_line_id")
        .annotate(
            units=Sum("quantity"),
            pending=Sum(
                "requested_amount", filter=~Q(case__state__in=list(FINAL_STATES)), default=ZERO
            ),
        )
    )


# ``_reserved_rows`` compiled once (``core.compiled``) per number of lines asked about and
# whether a case is left out: every opening asks it. Longer lists are asked through the ORM.
_MOST_LINES_COMPILED = 8
_RESERVED: dict[tuple[int, bool], Compiled] = {}


def _reserved_query(count: int, excluding: bool) -> Compiled:
    query = _RESERVED.get((count, excluding))
    if query is None:
        values = {f"line{index}": int for index in range(count)}
        if excluding:
            values["case_id"] = int

        def build(case_id: int | None = None, **lines: int) -> QuerySet:
            return _reserved_rows(lines.values(), case_id)

        query = Compiled(build, ("order_line_id", "units", "pending"), **values)
        _RESERVED[(count, excluding)] = query
    return query


def reserved_by_open_cases(
    line_ids, *, excluding_case_id: int | None = None
) -> dict[int, tuple[int, Decimal]]:
    """Per order line: units claimed by every case whose goods are not back with the customer
    (closed, or a completed repair or exchange), and money requested by cases still under way
    (money of finished cases is in the ledger already)."""
    line_ids = sorted(set(line_ids))
    if 0 < len(line_ids) <= _MOST_LINES_COMPILED:
        values = {f"line{index}": line_id for index, line_id in enumerate(line_ids)}
        if excluding_case_id is not None:
            values["case_id"] = excluding_case_id
        query = _reserved_query(len(line_ids), excluding_case_id is not None)
        rows = query.rows(**values)
    else:
        rows = _reserved_rows(line_ids, excluding_case_id)
    return {row["order_line_id"]: (row["units"] or 0, row["pending"] or ZERO) for row in rows}


def refund_post(
    *,
    case: Case,
    idempotency_key: str,
    now: dt.datetime,
    amounts: dict[int, Decimal] | None = None,
) -> Decimal:
    """Pay what the case approved and has not yet refunded, line by line, or, with ``amounts``
    (per case line id), exactly those amounts (an exchange's price difference or discount).

    Must run inside the transaction that holds the case's row lock. Returns the amount paid.
    """
    case_lines = list(case.lines.all())
    book = _book()
    if book is None:
        order_lines = lock_order_lines(cl.order_line_id for cl in case_lines)
        used_by = (
            RefundEntry.objects.filter(
                order_line_id__in=order_lines, idempotency_key=idempotency_key
            )
            .values_list("case_id", flat=True)
            .first()
        )
    else:
        order_lines = book.lock(cl.order_line_id for cl in case_lines)
        used_by = book.used_by(order_lines, idempotency_key)
    if used_by == case.id:
        return ZERO  # this refund was paid already
    if used_by is not None:
        raise Conflict(
            _("This idempotency key was already used for another refund."),
            code="idempotency_key_reused",
        )
    paid = ZERO
    for case_line in case_lines:
        if amounts is None:
            amount = case_line.approved_amount - case_line.refunded_amount
        else:
            amount = amounts.get(case_line.id, ZERO)
        if amount <= 0:
            continue
        order_line = order_lines[case_line.order_line_id]
        if order_line.refunded_amount + amount > order_line.paid_amount:
            raise Conflict(
                _(
                    "Refunding %(amount)s would exceed what line %(line)s was paid "
                    "(%(paid)s, of which %(refunded)s is refunded already)."
                )
                % {
                    "amount": amount,
                    "line": order_line.external_id,
                    "paid": order_line.paid_amount,
                    "refunded": order_line.refunded_amount,
                },
                code="refund_exceeds_paid",
            )
        entry = RefundEntry(
            order_line=order_line,
            case=case,
            amount=amount,
            idempotency_key=idempotency_key,
            created_at=now,
        )
        order_line.refunded_amount += amount
        case_line.refunded_amount += amount
        if book is None:
            entry.save(force_insert=True)
            order_line.save(update_fields=["refunded_amount", "updated_at"])
            case_line.save(update_fields=["refunded_amount"])
        else:
            book.post(entry, order_line, case_line)
        paid += amount
    case.refunded_amount += paid
    return paid
