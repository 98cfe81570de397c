"""Hot queries compiled once per process.

A query that runs on every request (the caller's token, the signed-in user) costs more to build
(Django's compiler: joins, aliases, ordering) than to run. ``Compiled`` asks the ORM for its SQL
once per database, with a marker in place of each value, and afterwards only binds the values
and applies the same converters the ORM would. The ORM stays the definition: the SQL is what it
wrote, and ``tests/test_compiled.py`` checks that both give the same rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet
from django.db.transaction import TransactionManagementError

from aftersales.core.pgtypes import fast_timestamps


def _marker(kind: type, index: int, name: str):
    if kind is int:
        return -2_000_000_000 - index
    if kind is dt.datetime:
        return dt.datetime(1901, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=index)
    return f"\x1fcompiled:{name}\x1f"


@dataclass(frozen=True)
class _Plan:
    sql: str
    params: tuple
    slots: tuple[tuple[int, str], ...]  # (position in params, name of the value)
    compiler: Any
    converters: dict


class Compiled:
    """``build(**values)`` returns a ``.values(*fields)`` queryset whose filters take each value
    (named with its type, ``str``, ``int`` or ``datetime.datetime``) as a plain parameter, once
    or more: a comparison, not an ``in`` of a list (a list's items are values of their own).
    ``rows(**values)`` gives the same dicts as ``list(build(**values))``."""

    def __init__(self, build: Callable[..., QuerySet], fields: Sequence[str], **values: type):
        self.build = build
        self.fields = tuple(fields)
        # a marker per value, of its type (a number field refuses a text marker); a number within
        # a 32-bit id's range, else the ORM takes the filter for an empty result and writes no SQL;
        # a moment in 1901 (bound as the database's driver takes a datetime)
        self.kinds = dict(values)
        self.markers = {
            name: _marker(kind, index, name)
            for index, (name, kind) in enumerate(sorted(values.items()))
        }
        self._plans: dict[str, _Plan] = {}

    def _bound(self, using: str, name: str, value):
        if self.kinds[name] is dt.datetime:
            return connections[using].ops.adapt_datetimefield_value(value)
        return value

    def _slots(self, using: str, params) -> tuple[tuple[int, str], ...]:
        bound = {name: self._bound(using, name, marker) for name, marker in self.markers.items()}
        slots = tuple(
            (index, name)
            for index, param in enumerate(params)
            for name, marker in bound.items()
            if param == marker
        )
        if {name for _, name in slots} != set(self.markers):
            raise ValueError("every value must appear as a plain parameter")
        return slots

    def _plan(self, using: str) -> _Plan:
        plan = self._plans.get(using)
        if plan is not None:
            return plan
        queryset = self.build(**self.markers)
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        slots = self._slots(using, params)
        if len(compiler.select) != len(self.fields):
            raise ValueError("the query must select exactly its fields")
        converters = compiler.get_converters([column[0] for column in compiler.select])
        plan = _Plan(sql, tuple(params), slots, compiler, converters)
        self._plans[using] = plan
        return plan

    def tuples(self, using: str = DEFAULT_DB_ALIAS, **values) -> list[tuple]:
        """The rows as tuples of the fields, in order."""
        if sorted(values) != sorted(self.markers):
            raise TypeError(f"expected the values {sorted(self.markers)}")
        plan = self._plan(using)
        params = list(plan.params)
        for index, name in plan.slots:
            params[index] = self._bound(using, name, values[name])
        connection = connections[using]
        if plan.compiler.query.select_for_update and connection.get_autocommit():
            # as the ORM refuses it: a lock taken outside a transaction would end at once
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        with connection.cursor() as cursor:
            fast_timestamps(connection, cursor)
            cursor.execute(plan.sql, params)
            rows = cursor.fetchall()
        if plan.converters:
            rows = plan.compiler.apply_converters(rows, plan.converters)
        return list(rows)

    def rows(self, using: str = DEFAULT_DB_ALIAS, **values) -> list[dict]:
        return [dict(zip(self.fields, row, strict=True)) for row in self.tuples(using, **values)]


class CompiledModels(Compiled):
    """Instances of ``model``, as ``build(**values)`` would give them (every concrete column,
    no related rows): ``build`` returns a queryset of ``model`` (filtered and ordered)."""

    def __init__(self, model: type[Model], build: Callable[..., QuerySet], **values: type):
        self.model = model
        names = [field.attname for field in model._meta.concrete_fields]
        super().__init__(lambda **given: build(**given).values(*names), names, **values)

    def instances(self, using: str = DEFAULT_DB_ALIAS, **values) -> list[Model]:
        return [self.model.from_db(using, self.fields, row) for row in self.tuples(using, **values)]


@dataclass(frozen=True)
class _JoinedPlan:
    sql: str
    params: tuple
    slots: tuple[tuple[int, str], ...]
    compiler: Any
    converters: dict
    model: type[Model]
    start: int
    end: int
    init_list: tuple[str, ...]
    populators: tuple
    annotations: tuple[tuple[str, int], ...]


class CompiledJoined(Compiled):
    """Instances as ``build(**values)``'s queryset gives them, with the rows it follows by
    ``select_related`` and its annotations (no prefetches): what Django's ``ModelIterable``
    does with the compiled rows, without compiling them again."""

    def __init__(self, build: Callable[..., QuerySet], **values: type):
        super().__init__(build, (), **values)

    def _plan(self, using: str) -> _JoinedPlan:  # type: ignore[override]
        plan = self._plans.get(using)
        if plan is not None:
            return plan  # type: ignore[return-value]
        from django.db.models.query import get_related_populators

        compiler = self.build(**self.markers).query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        slots = self._slots(using, params)
        select, klass_info = compiler.select, compiler.klass_info
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        plan = _JoinedPlan(
            sql=sql,
            params=tuple(params),
            slots=slots,
            compiler=compiler,
            converters=compiler.get_converters([column[0] for column in select]),
            model=klass_info["model"],
            start=start,
            end=end,
            init_list=tuple(column[0].target.attname for column in select[start:end]),
            populators=tuple(get_related_populators(klass_info, select, using)),
            annotations=tuple(compiler.annotation_col_map.items()),
        )
        self._plans[using] = plan  # type: ignore[assignment]
        return plan

    def instances(self, using: str = DEFAULT_DB_ALIAS, **values) -> list[Model]:
        plan = self._plan(using)
        model, start, end, init_list = plan.model, plan.start, plan.end, plan.init_list
        found = []
        for row in self.tuples(using, **values):
            instance = model.from_db(using, init_list, row[start:end])
            for populator in plan.populators:
                populator.populate(row, instance)
            for name, position in plan.annotations:
                setattr(instance, name, row[position])
            found.append(instance)
        return found

    def rows(self, using: str = DEFAULT_DB_ALIAS, **values) -> list[dict]:
        raise TypeError("a joined query gives instances")


class ScopedCompiled:
    """A query scoped to its caller (``Principal.scope``), compiled once per shape of the scope:
    every shop, a customer's own rows, or the rows of n shops (each a value of the query).
    ``build(scope, **values)`` narrows its queryset with ``scope.scope(…)``; ``make(build,
    **values)`` makes the compiled query (``Compiled``'s kinds). ``for_caller(actor)`` gives the
    compiled query for the caller's shape with the scope's values, or ``None`` where the ORM
    must answer (no shop at all, a customer without a customer row, more than ``max_shops``)."""

    def __init__(
        self,
        make: Callable[..., Compiled],
        build: Callable[..., QuerySet],
        *,
        max_shops: int = 16,
        **values: type,
    ):
        self.make, self.build, self.values, self.max_shops = make, build, values, max_shops
        self._shapes: dict[tuple, Compiled] = {}

    def for_caller(self, actor) -> tuple[Compiled, dict[str, int]] | None:
        from aftersales.core.actors import Principal, Role

        if actor.is_customer:
            if actor.customer_id is None:
                return None
            shape, scope_values = ("customer",), {"scope_customer": actor.customer_id}
        elif actor.shop_ids is None:
            shape, scope_values = ("every shop",), {}
        elif 0 < len(actor.shop_ids) <= self.max_shops:
            shape = ("shops", len(actor.shop_ids))
            scope_values = {f"scope_shop_{i}": s for i, s in enumerate(sorted(actor.shop_ids))}
        else:
            return None
        compiled = self._shapes.get(shape)
        if compiled is None:
            build, names = self.build, tuple(scope_values)

            def scoped(**given):
                marks = [given.pop(name) for name in names]
                if shape[0] == "customer":
                    scope = Principal(None, "", Role.CUSTOMER, customer_id=marks[0])
                elif shape[0] == "shops":
                    scope = Principal(None, "", Role.AGENT, shop_ids=frozenset(marks))
                else:
                    scope = Principal(None, "", Role.ADMIN, shop_ids=None)
                return build(scope, **given)

            compiled = self._shapes[shape] = self.make(
                scoped, **self.values, **dict.fromkeys(names, int)
            )
        return compiled, scope_values
