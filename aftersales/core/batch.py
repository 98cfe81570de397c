"""The writes of a sweep's batch, held until its end and then sent set-wise.

Inside ``writes_deferred()`` the effects' row writes that go through ``save_fields`` and
``insert`` (a case line's amounts, a ledger entry, an order line's balance) are kept in a log
instead of being sent one statement each; ``flush`` sends them at the batch's end: one
``UPDATE … FROM (VALUES …)`` per model and set of changed fields (each row once, with every field
any effect changed), one COPY per model of new rows. Outside it, both helpers write at once, as
``save(update_fields=…)`` and ``save()`` do: a person's move is unchanged.

An effect still runs "in a savepoint": ``isolated`` cuts the log back to where the effect began
when it is refused (and calls the ``on_undo`` steps its code registered, such as giving a locked
line's balance back in memory), and takes a real savepoint only if the effect sends a statement
of its own, just before the first (an effect whose writes are all deferred costs no round trip).

What a batch's effects would read one by one is read once, before them, into ``memo`` (the
lifecycle's ``batch_prepare``): ``memo()`` is the current batch's, or ``None`` outside one.
Deferred rows have no id until the flush: only rows nobody reads back in the batch are deferred.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import connections, router, transaction
from django.db.models import Model

from aftersales.core.bulk import bulk_insert_rows, bulk_update_rows

_CURRENT: ContextVar[BatchWrites | None] = ContextVar("aftersales_batch_writes", default=None)


class _Row:
    """One row's final values for ``bulk_update_rows`` (its id and the changed attributes)."""

    def __init__(self, pk, values: dict[str, Any]) -> None:
        self.pk = pk
        self.__dict__.update(values)


def _auto_now(obj: Model, fields: Iterable[str], *, add: bool) -> None:
    """Set the ``auto_now`` (and, on insert, ``auto_now_add``) times as ``save()`` would."""
    for name in fields:
        field = obj._meta.get_field(name)
        if getattr(field, "auto_now", False) or (add and getattr(field, "auto_now_add", False)):
            field.pre_save(obj, add)


class BatchWrites:
    def __init__(self, using: str) -> None:
        self.using = using
        self.memo: dict[str, Any] = {}
        # ("update", obj, fields) | ("insert", obj, None) | ("undo", callable, None)
        self._log: list[tuple[str, Any, Any]] = []

    def update(self, obj: Model, fields: Iterable[str]) -> None:
        fields = tuple(fields)
        _auto_now(obj, fields, add=False)
        self._log.append(("update", obj, fields))

    def insert(self, obj: Model) -> None:
        meta = obj._meta
        _auto_now(obj, [f.name for f in meta.concrete_fields if f is not meta.pk], add=True)
        self._log.append(("insert", obj, None))

    def on_undo(self, step: Callable[[], None]) -> None:
        """Call ``step`` if the effect that is running now is refused (in reverse order)."""
        self._log.append(("undo", step, None))

    def _undo(self, mark: int) -> None:
        for kind, item, _fields in reversed(self._log[mark:]):
            if kind == "undo":
                item()
        del self._log[mark:]

    @contextmanager
    def isolated(self) -> Iterator[None]:
        """Run an effect so that a refusal leaves nothing of it: its deferred writes are dropped,
        and what it sent itself is rolled back to a savepoint taken before its first statement."""
        mark = len(self._log)
        connection = connections[self.using]
        savepoint: list[str] = []

        def before_first_statement(execute, sql, params, many, context):
            if not savepoint:
                savepoint.append("")  # taking it runs a statement through this wrapper too
                savepoint[0] = transaction.savepoint(using=self.using)
            return execute(sql, params, many, context)

        try:
            with connection.execute_wrapper(before_first_statement):
                yield
        except Exception:
            self._undo(mark)
            if savepoint and savepoint[0]:
                transaction.savepoint_rollback(savepoint[0], using=self.using)
            raise
        if savepoint and savepoint[0]:
            transaction.savepoint_commit(savepoint[0], using=self.using)

    def flush(self) -> None:
        """Send what was kept: new rows by model, then each changed row once per model and set
        of fields, with its values as they are now."""
        inserts: dict[type, list[Model]] = {}
        updates: dict[tuple[type, Any], tuple[Model, dict[str, str]]] = {}
        for kind, item, fields in self._log:
            if kind == "insert":
                inserts.setdefault(type(item), []).append(item)
            elif kind == "update":
                key = (type(item), item.pk)
                _obj, changed = updates.setdefault(key, (item, {}))
                for name in fields:
                    # a field's value comes from the instance that changed it last
                    changed[name] = item
        self._log.clear()
        for model, rows in inserts.items():
            bulk_insert_rows(model, rows)
        groups: dict[tuple[type, tuple[str, ...]], list[_Row]] = {}
        for (model, pk), (_obj, changed) in updates.items():
            names = tuple(sorted(changed))
            values = {}
            for name in names:
                attname = model._meta.get_field(name).attname
                values[attname] = getattr(changed[name], attname)
            groups.setdefault((model, names), []).append(_Row(pk, values))
        for (model, names), rows in groups.items():
            bulk_update_rows(model, rows, names)


def current() -> BatchWrites | None:
    return _CURRENT.get()


def memo() -> dict[str, Any] | None:
    """What the current batch read ahead for its effects (``None`` outside a batch)."""
    batch = _CURRENT.get()
    return None if batch is None else batch.memo


@contextmanager
def writes_deferred(model: type[Model]) -> Iterator[BatchWrites]:
    """Keep the effects' writes until the end of the block (call ``flush`` before it ends)."""
    batch = BatchWrites(router.db_for_write(model))
    token = _CURRENT.set(batch)
    try:
        yield batch
    finally:
        _CURRENT.reset(token)


def save_fields(obj: Model, fields: list[str]) -> None:
    """``obj.save(update_fields=fields)``, or kept for the batch's end inside one."""
    batch = _CURRENT.get()
    if batch is None:
        obj.save(update_fields=fields)
    else:
        batch.update(obj, fields)


def insert(obj: Model) -> None:
    """``obj.save()`` of a new row, or kept for the batch's end inside one."""
    batch = _CURRENT.get()
    if batch is None:
        obj.save(force_insert=True)
    else:
        batch.insert(obj)


def on_undo(step: Callable[[], None]) -> None:
    """Inside a batch: undo ``step`` (in memory) if the running effect is refused."""
    batch = _CURRENT.get()
    if batch is not None:
        batch.on_undo(step)
