"""The one gate that changes a subject's state, and the code it shares with the deadline sweep.

``open_subject`` takes a lifecycle's opening row (``open_subjects`` for many new subjects at
once); ``transition`` takes any other row on a locked subject. Both validate the action's typed
input, run the effect (in a savepoint once the subject exists), set the next state and its
deadline, and write the subject, one timeline event and the notices in one transaction. ``apply``
and ``record`` are the steps they share with ``core.sweep``, which writes a whole batch at once.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from aftersales.core import clock
from aftersales.core.actors import Principal
from aftersales.core.bulk import bulk_insert_rows, can_insert_together, insert_together, take_id
from aftersales.core.lifecycle import (
    Context,
    Lifecycle,
    Move,
    Queued,
    input_error,
    preconditions_for,
)
from aftersales.core.models import Event, Notice
from aftersales.core.notices import notice_build, notices_save


def parse_input(move: Move, data: Mapping[str, Any] | BaseModel | None) -> BaseModel:
    """The action's typed input from a body or a form's values (refusals in words)."""
    if isinstance(data, move.input):
        return data
    try:
        return move.input.model_validate(dict(data or {}))
    except PydanticValidationError as error:
        raise input_error(error, move.input) from None


@functools.cache
def _columns(model: type[models.Model]):
    """A model's column attributes, a getter of all of them at once, and each one's field name."""
    fields = model._meta.concrete_fields
    attnames = tuple(f.attname for f in fields)
    getter = operator.attrgetter(*attnames)
    if len(attnames) == 1:
        single = getter

        def getter(subject):
            return (single(subject),)

    return attnames, getter, tuple(f.name for f in fields)


def snapshot(subject: models.Model) -> dict[str, Any]:
    """The subject's own columns, to tell what a move changed (or to undo it in memory)."""
    attnames, getter, _names = _columns(type(subject))
    return dict(zip(attnames, getter(subject), strict=True))


def restore(subject: models.Model, before: dict[str, Any]) -> None:
    for name, value in before.items():
        setattr(subject, name, value)


def changed_fields(subject: models.Model, before: dict[str, Any]) -> list[str]:
    """The names of the fields whose values differ from ``before`` (a ``snapshot``)."""
    attnames, getter, names = _columns(type(subject))
    return sorted(
        name
        for name, attname, value in zip(names, attnames, getter(subject), strict=True)
        if before[attname] != value
    )


@dataclass
class Applied:
    """What a move did to a subject in memory, for the caller to write."""

    move: Move
    ctx: Context
    from_state: str
    changed: list[str]


def set_deadline(lifecycle: Lifecycle, subject, now: dt.datetime) -> None:
    """The deadline of the state the subject is in now (none for a state without one)."""
    rule = lifecycle.deadlines.get(subject.state)
    if rule is None:
        subject.deadline_at = None
        subject.deadline_action = ""
    else:
        anchor = (rule.anchor(subject) if rule.anchor else None) or now
        duration = (rule.duration(subject) if rule.duration else None) or lifecycle.timeout(
            subject, rule.timeout_name(subject)
        )
        subject.deadline_at = lifecycle.deadline_after(subject, anchor, duration)
        subject.deadline_action = rule.action_for(subject)
    if lifecycle.deadline_hook is not None:
        subject.deadline_at, subject.deadline_action = lifecycle.deadline_hook(
            subject, subject.deadline_at, subject.deadline_action
        )


def apply(
    lifecycle: Lifecycle,
    subject,
    move: Move,
    *,
    actor: Principal,
    input: BaseModel,
    now: dt.datetime,
    isolated: Callable[[], AbstractContextManager] = transaction.atomic,
    before: dict[str, Any] | None = None,
) -> Applied:
    """Run ``move`` on ``subject`` (locked, or new for an opening) in memory: the guard, the
    effect (in a savepoint when the subject exists, so a refusal leaves none of its writes; the
    sweep passes its batch's ``isolated``, which also drops the effect's deferred writes), the
    next state and its deadline. Writes nothing of the subject itself. ``before``: the subject's
    ``snapshot``, if the caller took one already."""
    ctx = Context(actor=actor, input=input, now=now, lifecycle=lifecycle)
    if before is None:
        before = snapshot(subject)
    from_state = subject.state or ""
    if move.guard is not None:
        move.guard(subject, ctx)
    if move.effect is not None:
        if subject.pk is None:
            move.effect(subject, ctx)
        else:
            with isolated():
                move.effect(subject, ctx)
    subject.state = move.next_state(subject)
    if subject.state != from_state:
        set_deadline(lifecycle, subject, now)
        if subject.state in lifecycle.final_states:
            subject.resolved_at = now
        ctx.notices.extend(lifecycle.entry_notices.get(subject.state, ()))
    elif move.action == lifecycle.escalate_action:
        # The escalation used up the deadline's action; the deadline itself stays, so the
        # subject keeps showing as overdue.
        subject.deadline_action = ""
    if hasattr(subject, "updated_at"):
        subject.updated_at = now
    return Applied(move, ctx, from_state, changed_fields(subject, before))


def event_for(
    subject, *, actor: Principal, action: str, from_state: str, data: dict, now: dt.datetime
) -> Event:
    """An unsaved timeline entry of ``subject`` (its ``to_state`` is the state it is in now)."""
    return Event(
        subject_type=ContentType.objects.get_for_model(subject),
        subject_id=subject.pk,
        shop_id=subject.shop_id,
        actor_id=actor.user_id,
        actor_name=actor.username,
        role=actor.role_in(getattr(subject, "shop_id", None)) or actor.role,
        action=action,
        from_state=from_state,
        to_state=getattr(subject, "state", ""),
        data=data,
        at=now,
    )


def record(subject, applied: Applied) -> tuple[Event, list[Notice]]:
    """The timeline event and the notices of an applied move (unsaved)."""
    ctx = applied.ctx
    event = event_for(
        subject,
        actor=ctx.actor,
        action=applied.move.action,
        from_state=applied.from_state,
        data=ctx.event_data,
        now=ctx.now,
    )
    return event, [
        notice_build(subject, queued.kind, recipient_id=queued.recipient_id)
        if isinstance(queued, Queued)
        else notice_build(subject, queued)
        for queued in ctx.notices
    ]


def _write(subject, applied: Applied) -> Event:
    event, notices = record(subject, applied)
    event.save()
    notices_save(notices)
    return event


def _by_model(rows: list[models.Model]) -> list[list[models.Model]]:
    groups: dict[type, list] = {}
    for row in rows:
        groups.setdefault(type(row), []).append(row)
    return list(groups.values())


def _with_id_written(subject, ctx: Context) -> None:
    """The ``with_id`` work of an opening whose subject was inserted on its own: the columns it
    set are saved, its rows inserted."""
    if not ctx.with_id:
        return
    before = snapshot(subject)
    rows = [row for hook in ctx.with_id for row in hook(subject)]
    changed = changed_fields(subject, before)
    if changed:
        subject.save(update_fields=changed)
    for group in _by_model(rows):
        type(group[0]).objects.bulk_create(group)


def _has_timeline(model: type[models.Model]) -> bool:
    try:
        return model._meta.get_field("events").related_model is Event
    except FieldDoesNotExist:
        return False


def known_related(instance: models.Model, name: str, rows: list) -> None:
    """Give ``instance.<name>.all()`` the rows just written, as a prefetch would: an answer built
    from what was written reads none of it back."""
    rows_queryset = getattr(instance, name).all()
    rows_queryset._result_cache = list(rows)
    rows_queryset._prefetch_done = True
    instance.__dict__.setdefault("_prefetched_objects_cache", {})[name] = rows_queryset


@transaction.atomic
def open_subject(
    lifecycle: Lifecycle, *, actor: Principal, data: Mapping[str, Any] | BaseModel | None
):
    """Take the lifecycle's opening row: a new subject in its first state."""
    move = lifecycle.check_opening(actor)
    input = parse_input(move, data)
    subject = lifecycle.model()
    applied = apply(lifecycle, subject, move, actor=actor, input=input, now=clock.now())
    # The effect chose the subject's shop: the role the actor holds there decides.
    lifecycle.check_opening(actor, subject)
    ctx = applied.ctx
    if ctx.after_insert or not can_insert_together(type(subject)):
        subject.save()
        _with_id_written(subject, ctx)
        for after_insert in ctx.after_insert:
            after_insert(subject)
        event = _write(subject, applied)
    else:
        # Two round trips: the id, then the subject, its rows, its event and its notices.
        take_id(subject)
        rows = [row for hook in ctx.with_id for row in hook(subject)]
        event, notices = record(subject, applied)
        insert_together([[subject], *_by_model(rows), [event], notices])
    # A subject just opened has exactly this timeline (its answer need not read it back).
    if _has_timeline(type(subject)):
        known_related(subject, "events", [event])
    return subject


@transaction.atomic
def open_subjects(
    lifecycle: Lifecycle,
    *,
    actor: Principal,
    data: Sequence[Mapping[str, Any] | BaseModel],
) -> list:
    """Take the opening row for many new subjects at once (a survey round's sample, say): each
    is checked, filled by the effect and given its opening event exactly as ``open_subject``
    does, and they are written in bulk, as the sweep writes its batch: the subjects, then their
    events and notices. A refusal of any refuses them all."""
    move = lifecycle.check_opening(actor)
    now = clock.now()
    opened: list[tuple[Any, Applied]] = []
    for each in data:
        subject = lifecycle.model()
        applied = apply(
            lifecycle, subject, move, actor=actor, input=parse_input(move, each), now=now
        )
        lifecycle.check_opening(actor, subject)
        opened.append((subject, applied))
    subjects = [subject for subject, _applied in opened]
    bulk_insert_rows(lifecycle.model, subjects, with_ids=True)
    events: list[Event] = []
    notices: list[Notice] = []
    for subject, applied in opened:
        for after_insert in applied.ctx.after_insert:
            after_insert(subject)
        event, queued = record(subject, applied)
        events.append(event)
        notices.extend(queued)
    bulk_insert_rows(Event, events)
    notices_save(notices)
    return subjects


@transaction.atomic
def transition(
    lifecycle: Lifecycle,
    *,
    subject_id: int,
    action: str,
    actor: Principal,
    data: Mapping[str, Any] | BaseModel | None = None,
):
    """Take ``action`` on a subject: lock it, check the table, validate the input, ask the
    registered preconditions (``lifecycle.register_precondition``), apply the move, and write the
    changed fields, one event and the notices."""
    subject = lifecycle.lock(subject_id)
    key = (
        data.get("idempotency_key")
        if isinstance(data, Mapping)
        else getattr(data, "idempotency_key", None)
    )
    if (
        key
        and isinstance(key, str)
        and (
            Event.objects.filter(
                subject_type=ContentType.objects.get_for_model(subject),
                subject_id=subject.pk,
                action=action,
                data__idempotency_key=key,
            ).exists()
        )
    ):
        # A retried request was done once and is not done again, whatever happened since.
        return subject
    move = lifecycle.check(subject, action, actor)
    input = parse_input(move, data)
    for check in preconditions_for(lifecycle.subject_type):
        check(subject, action=action, actor=actor, input=input)
    applied = apply(lifecycle, subject, move, actor=actor, input=input, now=clock.now())
    if applied.changed:
        subject.save(update_fields=applied.changed)
    _write(subject, applied)
    return subject
