"""The page forms of a lifecycle's actions, drawn from each action's typed input: the declaration
that is the API's body and the effect's argument gives the form its fields, their labels, which
are required, and, through a field's ``widget``, how it is chosen. A page never offers a field
the action does not take, and what it posts is read back into the input's fields (the gate
validates them).

Widgets a subject needs beyond the defaults (a list of its shop's addresses, say) are passed in
by its app: a ``Widget`` draws the field's form fields and may read them back."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, get_args

from django.utils.translation import gettext as _
from pydantic import BaseModel

from aftersales.core.lifecycle import Lifecycle, plain_type


@dataclass
class Field:
    name: str
    label: str
    kind: str = "text"  # text | textarea | number | select | checkbox
    required: bool = False
    choices: list[tuple[str, str]] = field(default_factory=list)
    # A select's one empty option; ``initial`` is what the form shows chosen.
    empty_label: str = "—"
    initial: str = ""


def choices_of(enum_type) -> list[tuple[str, str]]:
    """A ``TextChoices``' options in the language of the request (never at import time: the
    labels are lazy and must be read per request)."""
    return [(value, str(label)) for value, label in enum_type.choices]


@dataclass(frozen=True)
class Widget:
    """How one kind of field is drawn (``draw(name, label, required, type, subject)`` → form
    fields, none to leave it off the form) and, if it needs to, read back (``read(name, data,
    post, subject)`` adjusts the values read)."""

    draw: Callable[[str, str, bool, Any, Any], list[Field]]
    read: Callable[[str, dict, Mapping, Any], None] | None = None


def widget_of(info) -> str:
    extra = info.json_schema_extra
    return extra.get("widget", "") if isinstance(extra, dict) else ""


def _default_fields(name: str, label: str, required: bool, kind, widget: str) -> list[Field]:
    if widget == "hidden":
        return []
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return [Field(name, label, "select", required, choices_of(kind))]
    if kind is bool:
        return [Field(name, label, "checkbox", required)]
    if kind is Decimal:
        return [Field(name, label, "number", required)]
    return [Field(name, label, "textarea" if widget == "textarea" else "text", required)]


def action_fields(
    lifecycle: Lifecycle, action: str, subject, widgets: Mapping[str, Widget] = {}
) -> list[Field]:
    """The fields of an action's form (its ``lines`` are drawn per line by the template)."""
    fields: list[Field] = []
    for name, info in lifecycle.inputs()[action].model_fields.items():
        if name == "lines":
            continue
        label = _(info.title) if info.title else name
        kind = plain_type(info.annotation)
        widget = widget_of(info)
        if widget in widgets:
            fields.extend(widgets[widget].draw(name, label, info.is_required(), kind, subject))
        else:
            fields.extend(_default_fields(name, label, info.is_required(), kind, widget))
    return fields


def line_model(lifecycle: Lifecycle, action: str) -> type[BaseModel] | None:
    info = lifecycle.inputs()[action].model_fields.get("lines")
    return get_args(plain_type(info.annotation))[0] if info is not None else None


def line_fields(lifecycle: Lifecycle, action: str) -> tuple[str, ...]:
    """The per-line fields of an action's form: ``line-<line id>-<name>``."""
    model = line_model(lifecycle, action)
    if model is None:
        return ()
    return tuple(name for name in model.model_fields if name not in ("order_line_id", "note"))


def _value(raw: str, info):
    if plain_type(info.annotation) is int and raw.isdigit():
        return int(raw)
    return raw


def action_data(
    lifecycle: Lifecycle,
    action: str,
    subject,
    post: Mapping,
    widgets: Mapping[str, Widget] = {},
    lines=(),
) -> dict:
    """Read an action's form into its input's fields (``lines``: the subject's lines, each with
    the ``order_line_id`` its form fields are named by)."""
    model = lifecycle.inputs()[action]
    data: dict = {}
    for name, info in model.model_fields.items():
        if name == "lines":
            continue
        widget = widgets.get(widget_of(info))
        if plain_type(info.annotation) is bool:
            data[name] = post.get(name) == "on"  # an unticked box sends nothing
        else:
            raw = (post.get(name) or "").strip()
            if raw:
                data[name] = _value(raw, info)
        if widget is not None and widget.read is not None:
            widget.read(name, data, post, subject)
    if "idempotency_key" in model.model_fields and "idempotency_key" not in data:
        # A form sent twice (a double click, a refresh) is one request.
        data["idempotency_key"] = f"form:{getattr(subject, 'number', subject.pk)}"
    entry_model = line_model(lifecycle, action)
    if entry_model is not None:
        entries = []
        for line in lines:
            entry: dict = {"order_line_id": line.order_line_id}
            for name, info in entry_model.model_fields.items():
                if name == "order_line_id":
                    continue
                raw = post.get(f"line-{line.order_line_id}-{name}", "").strip()
                if raw:
                    entry[name] = _value(raw, info)
            if len(entry) > 1:
                entries.append(entry)
        if entries:
            data["lines"] = entries
    return data
