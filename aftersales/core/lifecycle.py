"""The lifecycle kernel: every stateful thing (a case, a complaint, and what comes later) declares
ONE table of moves, and ONE gate changes its state.

A ``Lifecycle`` is the table of a model: ``(state, action) → (next state, roles, guard, typed
input, effect)``, with opening as the row whose source is ``None``, and for each waiting state
its deadline (a timeout and the action taken when it runs out). ``transition`` is the only code
that changes a state: it locks the row, checks the table and the guard, validates the action's
typed input, runs the effect in a savepoint, sets the next state and the deadline, saves only the
fields that changed, writes one timeline event and queues the notices, in one transaction. The
deadline sweep (``core.sweep``) applies the deadline actions of every registered lifecycle through
the same code (``apply``) with the actor ``system``.

Adding an action = a table row, its input model, its effect and its words (``Words``: its label,
and the wording of the notices it queues). Adding a stateful subject = a model with the
``Stateful`` fields, a ``Lifecycle``, and ``register`` at import of its app.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from types import UnionType
from typing import Any, Union, get_args, get_origin

from django.db import models
from django.db.models import Choices
from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticValidationError

from aftersales.core.actors import Principal
from aftersales.core.calendars import CALENDAR_TIME, Calendar
from aftersales.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied

# --- the typed input of an action --------------------------------------------------------------


class ActionInput(BaseModel):
    """The body of one action: the API's request body, the page's form fields and the effect's
    argument. Fields carry their label (``title``, translatable) and, for the forms, a widget in
    ``json_schema_extra``; unknown fields are ignored."""

    model_config = ConfigDict(frozen=True)


class NoInput(ActionInput):
    """An action that takes nothing."""


def plain_type(annotation):
    """The type under ``X | None`` and ``Annotated[...]`` (``Decimal``, an enum, ``str``…)."""
    while True:
        if get_origin(annotation) in (Union, UnionType):
            annotation = next(arg for arg in get_args(annotation) if arg is not type(None))
        elif hasattr(annotation, "__metadata__"):
            annotation = get_args(annotation)[0]
        else:
            return annotation


def _leaf(model: type[BaseModel], location: list[str]):
    """The field a problem's location names, through nested inputs (``lines.0.amount``)."""
    info = None
    for part in location:
        if part.isdigit():
            continue
        if model is None or part not in model.model_fields:
            return None
        info = model.model_fields[part]
        inner = plain_type(info.annotation)
        if get_origin(inner) is list:
            inner = plain_type(get_args(inner)[0])
        model = inner if isinstance(inner, type) and issubclass(inner, BaseModel) else None
    return info


def input_error(error: PydanticValidationError, model: type[BaseModel]) -> InvalidInput:
    """The first problem of an action's input, in words, with a code a client can rely on:
    ``<field>_required``, ``invalid_amount``, ``invalid_<field>`` for a word outside its list,
    else ``invalid_input``; the machine name of the field is in ``field`` for the forms. An
    input's ``error_codes`` (field → code) and ``error_details`` (field → a callable giving the
    words) replace the defaults for its fields."""
    first = error.errors()[0]
    location = [str(part) for part in first.get("loc", ())]
    name = next((part for part in reversed(location) if not part.isdigit()), "")
    info = _leaf(model, location)
    label = _(info.title) if info is not None and info.title else name
    kind = plain_type(info.annotation) if info is not None else None
    problem = first["type"]
    if problem in ("missing", "string_too_short", "too_short"):
        detail = _("%(field)s is required for this action.") % {"field": label}
        code = f"{name}_required"
    elif problem == "string_too_long":
        detail = _("%(field)s must be text of at most %(limit)s characters.") % {
            "field": label,
            "limit": (first.get("ctx") or {}).get("max_length"),
        }
        code = "invalid_input"
    elif kind is Decimal:
        detail = (
            _("%(field)s must be more than 0.") % {"field": label}
            if _not_positive(first.get("input"))
            else _("%(field)s must be an amount such as 12.50.") % {"field": label}
        )
        code = "invalid_amount"
    elif isinstance(kind, type) and issubclass(kind, Choices):
        detail = _("%(field)s must be one of: %(choices)s.") % {
            "field": label,
            "choices": " / ".join(str(text) for _value, text in kind.choices),
        }
        code = f"invalid_{name}"
    else:
        detail = _("%(field)s: %(problem)s") % {"field": label, "problem": first.get("msg", "")}
        code = "invalid_input"
    code = getattr(model, "error_codes", {}).get(name, code)
    # An input may word a field's refusal itself (whatever the problem): a callable, so that the
    # words are translated in the language of the request.
    worded = getattr(model, "error_details", {}).get(name)
    if worded is not None:
        detail = worded()
    return InvalidInput(detail, code=code, field=".".join(location))


def _not_positive(value) -> bool:
    try:
        return Decimal(str(value)) <= 0
    except (ArithmeticError, ValueError):
        return False


# --- the table -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Queued:
    """A notice an effect queues for one member of staff (``recipient_id``) instead of its
    kind's whole audience."""

    kind: str
    recipient_id: int | None = None


@dataclass
class Context:
    """What an effect works with: who acts, the validated input, the moment, and what it leaves
    for the timeline (``event_data``) and the notices (``notices``: kinds to queue, or
    ``Queued`` ones for one person; ``notify`` adds either)."""

    actor: Principal
    input: BaseModel
    now: dt.datetime
    # The subject's lifecycle: its calendar counts the time of any deadline an effect sets.
    lifecycle: Lifecycle | None = None
    event_data: dict[str, Any] = field(default_factory=dict)
    notices: list[str | Queued] = field(default_factory=list)
    # Work that needs the new row's id (opening only): called after its insert.
    after_insert: list[Callable[[Any], None]] = field(default_factory=list)
    # An opening's work once the new subject's id is known, before it is written: each sets the
    # subject's columns that come from its id (a number) and returns the new rows that name it
    # (its lines), written with it, its event and its notices in one statement where the
    # database allows (``core.bulk.insert_together``).
    with_id: list[Callable[[Any], list]] = field(default_factory=list)

    def notify(self, kind: str, *, recipient_id: int | None = None) -> None:
        """Queue a notice of ``kind``: for its kind's audience, or for ``recipient_id`` alone."""
        self.notices.append(kind if recipient_id is None else Queued(kind, recipient_id))


Effect = Callable[[Any, Context], None]


@dataclass(frozen=True)
class Move:
    """A row of the table. ``effect`` and ``input`` are never left out: an action without an
    effect says ``None``, one that takes nothing says ``NoInput``."""

    source: str | None  # None: the opening row
    action: str
    target: str | Callable[[Any], str]
    roles: frozenset[str]
    effect: Effect | None
    input: type[BaseModel]
    # Checked before the effect; refuses with an ApplicationError (an SOP step not done, say).
    guard: Effect | None = None

    def next_state(self, subject) -> str:
        return self.target(subject) if callable(self.target) else self.target


@dataclass(frozen=True)
class StateDeadline:
    """The deadline of a waiting state: the policy timeout that starts on entry (from ``anchor``,
    default the moment of entry; ``duration`` may replace the timeout for a subject) and the
    action the sweep takes when it runs out."""

    timeout: str | Callable[[Any], str]
    action: str | Callable[[Any], str]
    anchor: Callable[[Any], dt.datetime | None] | None = None
    duration: Callable[[Any], dt.timedelta | None] | None = None
    # Whether the bell warns the shop before it acts (a review's automatic positive at the end of
    # every trade's window is no news to anyone: not warned).
    warn: bool = True

    def timeout_name(self, subject) -> str:
        return self.timeout(subject) if callable(self.timeout) else self.timeout

    def action_for(self, subject) -> str:
        return self.action(subject) if callable(self.action) else self.action


class Stateful(models.Model):
    """The columns every subject of a lifecycle has: its state and its deadline (indexed for the
    sweep by each model's own partial index on ``deadline_at`` where an action is due)."""

    state = models.CharField(max_length=30)
    deadline_at = models.DateTimeField(null=True, blank=True)
    deadline_action = models.CharField(max_length=20, blank=True, default="")
    resolved_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


@dataclass
class Lifecycle:
    """The table of one stateful model and what the kernel needs to run it."""

    subject_type: str  # "case", "complaint": the timeline's and the notices' pointer
    model: type[models.Model]
    moves: tuple[Move, ...]
    deadlines: dict[str, StateDeadline]
    final_states: frozenset[str]
    # The subject's timeout for a policy timeout name (its policy version decides).
    timeout: Callable[[Any, str], dt.timedelta]
    # How the subject's deadlines count time: calendar time, or its shop's business hours.
    calendar: Callable[[Any], Calendar] = lambda subject: CALENDAR_TIME
    # What the gate and the sweep load with the locked row (effects read these).
    related: tuple[str, ...] = ()
    prefetch: tuple[Any, ...] = ()
    # Given the subjects of a sweep's batch whose moves read anything, reads once what their
    # effects would read one by one into ``core.batch.memo()`` (locks included), for the effects
    # to find there; ``None``: each effect reads its own.
    batch_prepare: Callable[[list], None] | None = None
    # Another clock a subject may follow (a marketplace's timeout for the step, say): given the
    # subject and the deadline its own table set (``deadline_at``, ``action``), the deadline it
    # keeps instead. ``None``: its table's deadline alone.
    deadline_hook: (
        Callable[[Any, dt.datetime | None, str], tuple[dt.datetime | None, str]] | None
    ) = None
    # The state's label and the action's label, in words.
    state_label: Callable[[str], str] = str
    action_label: Callable[[str], str] = str
    # Notice kind → audience ("customer", "lead", …) for the notices the moves queue.
    notice_audience: Callable[[str], str] = lambda kind: "lead"
    # Notices queued whenever a state is entered, by whatever move (a case closing, say).
    entry_notices: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # The action that escalates an overdue subject (the sweep's answer to a refused automatic
    # action), and the notice it queues.
    escalate_action: str = "escalate"
    escalate_notice: str = ""
    # SLA clocks (``aftersales.sla``): the subject's kind and priority, which choose its targets
    # (no ``sla_kind``: the subject has no SLA); the staff moves the customer does not see (they
    # are no response); the states where the shop waits on the customer (``None``: those whose
    # person moves are all the customer's).
    sla_kind: Callable[[Any], str] | None = None
    sla_priority: Callable[[Any], str] = lambda subject: "normal"
    sla_unseen_actions: frozenset[str] = frozenset()
    sla_waiting_states: frozenset[str] | None = None
    index: dict[tuple[str | None, str], Move] = field(init=False, repr=False)
    by_state: dict[str | None, tuple[Move, ...]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.index = {(m.source, m.action): m for m in self.moves}
        if len(self.index) != len(self.moves):
            raise ValueError(f"{self.subject_type}: a (state, action) pair is listed twice")
        states: dict[str | None, list[Move]] = {}
        for move in self.moves:
            states.setdefault(move.source, []).append(move)
        self.by_state = {state: tuple(moves) for state, moves in states.items()}

    # -- reading the table ------------------------------------------------------------------------

    @property
    def actions(self) -> frozenset[str]:
        return frozenset(m.action for m in self.moves)

    @property
    def opening(self) -> Move:
        return next(m for m in self.moves if m.source is None)

    def available(self, subject, role: str | None) -> list[str]:
        """The actions ``role`` may take on ``subject`` now (pass the role the caller holds in
        the subject's shop: ``Principal.role_in``)."""
        return [m.action for m in self.by_state.get(subject.state, ()) if role in m.roles]

    def inputs(self) -> dict[str, type[BaseModel]]:
        """Each action's input model (the same model wherever the action appears)."""
        found: dict[str, type[BaseModel]] = {}
        for move in self.moves:
            if found.setdefault(move.action, move.input) is not move.input:
                raise ValueError(f"{self.subject_type}.{move.action} has two input models")
        return found

    def check_opening(self, actor: Principal, subject=None) -> Move:
        """The opening row, if the actor's role may take it: in any of their shops before the
        subject is filled in, in its shop once it is (``gate.open_subject`` asks both). The
        system opens too (a marketplace's request, say), as it may do everything."""
        move = self.opening
        if actor.is_system:
            return move
        roles = actor.roles if subject is None else {actor.role_in(subject.shop_id)}
        if not roles & move.roles:
            raise PermissionDenied(
                _("Your role may not take the action “%(action)s”.")
                % {"action": self.action_label(move.action)},
                code="action_forbidden",
            )
        return move

    def check(self, subject, action: str, actor: Principal) -> Move:
        """The table's verdict on ``action`` by ``actor`` on ``subject`` as it is now."""
        opening = self.opening.action
        # A member of several shops acts with the role they hold in the subject's shop.
        role = actor.role_in(subject.shop_id)
        if action not in self.actions or action == opening:
            raise NotFound(
                _("Unknown action %(action)s.") % {"action": action}, code="unknown_action"
            )
        if not any(role in m.roles for m in self.moves if m.action == action):
            raise PermissionDenied(
                _("Your role may not take the action “%(action)s”.")
                % {"action": self.action_label(action)},
                code="action_forbidden",
            )
        move = self.index.get((subject.state, action))
        if move is None:
            raise Conflict(
                _("The action “%(action)s” is not possible while it is “%(state)s”.")
                % {"state": self.state_label(subject.state), "action": self.action_label(action)},
                code="action_not_allowed",
                state=subject.state,
            )
        if role not in move.roles:
            raise PermissionDenied(
                _("Your role may not take the action “%(action)s”.")
                % {"action": self.action_label(action)},
                code="action_forbidden",
            )
        return move

    # -- rows -----------------------------------------------------------------------------------

    def locked(self):
        """The queryset that locks a subject's row (only its own table's row), with what the
        effects read."""
        query = self.model.objects.select_for_update(of=("self",))
        if self.related:
            query = query.select_related(*self.related)
        if self.prefetch:
            query = query.prefetch_related(*self.prefetch)
        return query

    def lock(self, subject_id: int):
        """One subject, locked for the rest of the transaction (call inside one)."""
        subject = self.locked().filter(pk=subject_id).first()
        if subject is None:
            raise NotFound(_("No such record."), code=f"{self.subject_type}_not_found")
        return subject

    def deadline_after(self, subject, start: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        return self.calendar(subject).add(start, duration)


# --- the registry --------------------------------------------------------------------------------

_REGISTRY: dict[str, Lifecycle] = {}

# A precondition is asked by the gate before a person's move on a subject of its type, after the
# table's verdict and before the effect: ``check(subject, action=…, actor=…, input=…)`` refuses
# with an ApplicationError. A higher app registers one at its start (an SOP checklist, say) so
# that the app that owns the table need not know of it. The sweep's automatic moves never ask.
Precondition = Callable[..., None]
_PRECONDITIONS: dict[str, list[Precondition]] = {}


def register(lifecycle: Lifecycle) -> Lifecycle:
    existing = _REGISTRY.get(lifecycle.subject_type)
    if existing is not None and existing is not lifecycle:
        raise ValueError(f"two lifecycles for {lifecycle.subject_type}")
    _REGISTRY[lifecycle.subject_type] = lifecycle
    return lifecycle


def lifecycles() -> Iterable[Lifecycle]:
    return tuple(_REGISTRY.values())


def lifecycle_for(subject_type: str) -> Lifecycle:
    return _REGISTRY[subject_type]


def register_precondition(subject_type: str, check: Precondition) -> Precondition:
    """Ask ``check`` before every person's move on subjects of ``subject_type`` (once, however
    often it is registered)."""
    checks = _PRECONDITIONS.setdefault(subject_type, [])
    if check not in checks:
        checks.append(check)
    return check


def preconditions_for(subject_type: str) -> tuple[Precondition, ...]:
    return tuple(_PRECONDITIONS.get(subject_type, ()))
