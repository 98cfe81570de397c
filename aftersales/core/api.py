"""A lifecycle's actions over HTTP: one operation per action a person may take, its body the
action's typed input. The views take the JSON as it came (the gate validates it against the
input, so its refusals name the field: ``reason_required``, …) and the document shows the input
itself (``document_actions``)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest
from ninja import Body, Router

from aftersales.core.actors import SYSTEM_ROLE
from aftersales.core.lifecycle import Lifecycle
from aftersales.core.schemas import ERROR_RESPONSES

# Where each lifecycle's actions are: its path template (``/cases/{number}/actions/``).
_ACTION_PATHS: dict[str, tuple[Lifecycle, str]] = {}


def person_actions(lifecycle: Lifecycle) -> list[str]:
    """The actions people take (not the clock), opening aside."""
    return sorted(
        {
            m.action
            for m in lifecycle.moves
            if m.source is not None and m.roles != frozenset({SYSTEM_ROLE})
        }
    )


def add_action_operations(
    router: Router,
    lifecycle: Lifecycle,
    *,
    path: str,
    noun: str,
    take: Callable[[HttpRequest, str, str, dict | None], object],
    response,
) -> None:
    """``POST {path}{action}`` for each action (``path`` has a ``{number}``), answering as
    ``take(request, number, action, body)`` does; any other word answers through ``take`` too
    (the gate says 404 ``unknown_action``, or 403 for the clock's own actions)."""
    _ACTION_PATHS[f"/api/v1{path}"] = (lifecycle, noun)

    def operation(action: str):
        def view(request: HttpRequest, number: str, payload: Body[dict] = None):
            return take(request, number, action, payload)

        view.__name__ = f"{action}_{noun}"
        model = lifecycle.inputs()[action]
        view.__doc__ = (model.__doc__ or "").strip() or None
        router.post(
            f"{path}{action}",
            response={200: response, **ERROR_RESPONSES},
            operation_id=view.__name__,
            summary=lifecycle.action_label(action),
        )(view)

    for action in person_actions(lifecycle):
        operation(action)

    def any_other(request: HttpRequest, number: str, action: str, payload: Body[dict] = None):
        return take(request, number, action, payload)

    any_other.__name__ = f"act_on_{noun}"
    router.post(
        f"{path}{{action}}",
        response={200: response, **ERROR_RESPONSES},
        include_in_schema=False,
    )(any_other)


def document_actions(document: dict) -> None:
    """Each action's body in the document is its typed input: its schema joins the components
    and the operation's body refers to it."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    paths = document.get("paths", {})
    for prefix, (lifecycle, _noun) in _ACTION_PATHS.items():
        inputs = lifecycle.inputs()
        for model in set(inputs.values()):
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(schema.pop("$defs", {}))
            schemas[model.__name__] = schema
        for action, model in inputs.items():
            operation = paths.get(f"{prefix}{action}", {}).get("post")
            if operation is not None:
                operation["requestBody"] = {
                    # a body may be left out when the action needs no field
                    "required": any(f.is_required() for f in model.model_fields.values()),
                    "content": {
                        "application/json": {
                            "schema": {"$ref": f"#/components/schemas/{model.__name__}"}
                        }
                    },
                }
