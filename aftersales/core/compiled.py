"""Hot queries compiled once per process.

A query that runs on every request (the caller's token, the signed-in user) costs more to build
(Django's compiler: joins, aliases, ordering) than to run. ``Compiled`` asks the ORM for its SQL
once per database, with a marker in place of each value, and afterwards only binds the values
and applies the same converters the ORM would. The ORM stays the definition: the SQL is what it
wrote, and ``tests/test_compiled.py`` checks that both give the same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet


@dataclass(frozen=True)
class _Plan:
    sql: str
    params: tuple
    slots: tuple[tuple[int, str], ...]  # (position in params, name of the value)
    compiler: Any
    converters: dict


class Compiled:
    """``build(**values)`` returns a ``.values(*fields)`` queryset whose filters take each value
    (named with its type, ``str`` or ``int``) as a plain parameter: an exact match, not an ``in``
    of a list. ``rows(**values)`` gives the same dicts as ``list(build(**values))``."""

    def __init__(self, build: Callable[..., QuerySet], fields: Sequence[str], **values: type):
        self.build = build
        self.fields = tuple(fields)
        # a marker per value, of its type (a number field refuses a text marker); a number within
        # a 32-bit id's range, else the ORM takes the filter for an empty result and writes no SQL
        self.markers = {
            name: -2_000_000_000 - index if kind is int else f"\x1fcompiled:{name}\x1f"
            for index, (name, kind) in enumerate(sorted(values.items()))
        }
        self._plans: dict[str, _Plan] = {}

    def _plan(self, using: str) -> _Plan:
        plan = self._plans.get(using)
        if plan is not None:
            return plan
        markers = self.markers
        names = sorted(markers)
        queryset = self.build(**markers)
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        slots = tuple(
            (index, name)
            for index, param in enumerate(params)
            for name, marker in markers.items()
            if param == marker
        )
        if sorted(name for _, name in slots) != sorted(names):
            raise ValueError("every value must appear once as a plain parameter")
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
            params[index] = values[name]
        with connections[using].cursor() as cursor:
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
