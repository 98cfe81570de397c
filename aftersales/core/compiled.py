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
from django.db.models.query import get_related_populators
from django.db.transaction import TransactionManagementError


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
        self._check_select(compiler)
        converters = compiler.get_converters([column[0] for column in compiler.select])
        plan = _Plan(sql, tuple(params), slots, compiler, converters)
        self._plans[using] = plan
        return plan

    def _check_select(self, compiler) -> None:
        if len(compiler.select) != len(self.fields):
            raise ValueError("the query must select exactly its fields")

    def tuples(self, using: str = DEFAULT_DB_ALIAS, **values) -> list[tuple]:
        """The rows as tuples of the fields, in order."""
        return self._rows(self._plan(using), using, values)

    def _rows(self, plan: _Plan, using: str, values: dict) -> list:
        if sorted(values) != sorted(self.markers):
            raise TypeError(f"expected the values {sorted(self.markers)}")
        params = list(plan.params)
        for index, name in plan.slots:
            params[index] = values[name]
        connection = connections[using]
        if plan.compiler.query.select_for_update and connection.get_autocommit():
            # as the ORM refuses it: a lock taken outside a transaction would end at once
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        with connection.cursor() as cursor:
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
class _Building:
    model: type[Model]
    start: int
    end: int
    init_list: list[str]
    populators: list
    annotations: dict[str, int]


class CompiledInstances(Compiled):
    """Instances as iterating ``build(**values)`` gives them: the model's columns, the rows of
    its ``select_related`` relations (each row its own related instances, as the ORM gives
    them) and its annotations, built by the ORM's own code for a queryset's rows."""

    def __init__(self, build: Callable[..., QuerySet], **values: type):
        super().__init__(build, (), **values)
        self._buildings: dict[str, _Building] = {}

    def _check_select(self, compiler) -> None:
        if compiler.klass_info is None:
            raise ValueError("the query must give model instances")

    def _building(self, using: str, plan: _Plan) -> _Building:
        building = self._buildings.get(using)
        if building is None:
            compiler = plan.compiler
            select, klass_info = compiler.select, compiler.klass_info
            fields = klass_info["select_fields"]
            start, end = fields[0], fields[-1] + 1
            building = _Building(
                model=klass_info["model"],
                start=start,
                end=end,
                init_list=[column[0].target.attname for column in select[start:end]],
                populators=get_related_populators(klass_info, select, using),
                annotations=dict(compiler.annotation_col_map or {}),
            )
            self._buildings[using] = building
        return building

    def instances(self, using: str = DEFAULT_DB_ALIAS, **values) -> list[Model]:
        plan = self._plan(using)
        building = self._building(using, plan)
        found = []
        for row in self._rows(plan, using, values):
            instance = building.model.from_db(
                using, building.init_list, row[building.start : building.end]
            )
            for populator in building.populators:
                populator.populate(row, instance)
            for name, position in building.annotations.items():
                setattr(instance, name, row[position])
            found.append(instance)
        return found
