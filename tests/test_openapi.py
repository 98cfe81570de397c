"""The OpenAPI document is as strict as the validation: clean operation ids, binary answers with
their media types, and no request the document calls valid is refused for its shape."""

from __future__ import annotations

import itertools
import json
import re
from decimal import Decimal

import pytest
import schemathesis
from django.core.exceptions import ImproperlyConfigured
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from ninja import Router
from schemathesis.core import NOT_SET

from aftersales.cases.lifecycle import CASES, SYSTEM, USER_ACTIONS
from aftersales.complaints.lifecycle import PERSON_ACTIONS as COMPLAINT_ACTIONS
from aftersales.core.api import person_actions
from aftersales.disputes.lifecycle import PERSON_ACTIONS as DISPUTE_ACTIONS
from aftersales.inspections.lifecycle import PERSON_ACTIONS as INSPECTION_ACTIONS
from aftersales.reviews.lifecycle import PERSON_ACTIONS as REVIEW_ACTIONS
from aftersales.violations.lifecycle import PENALTIES, VIOLATIONS
from config.api import check_operation_ids
from config.wsgi import application
from tests.conftest import make_order, make_user, open_case

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
# NUL is refused in any text by the JSON parser, as the document's description says.
schema.config.generation.update(allow_x00=False)
# One operation per action, its body the action's typed input.
ACTS = {
    action: schema[f"/api/v1/cases/{{number}}/actions/{action}"]["POST"]
    for action in sorted(USER_ACTIONS)
}
OPEN = schema["/api/v1/cases"]["POST"]

# Refusals that say the request's shape was wrong: the document must have refused it first. A
# word outside its list (``invalid_<field>``) and a missing required field (``<field>_required``)
# are shape refusals for the fields each action's document lists as such.
SHAPE_CODES = frozenset(
    {
        "validation_error",
        "malformed_request",
        "invalid_input",
        "invalid_purpose",
        "invalid_variant",
        "invalid_amount",
    }
)


def shape_codes_of(model) -> frozenset[str]:
    schema = model.model_json_schema()
    enums = {
        name
        for name, info in model.model_fields.items()
        if "enum" in json.dumps(schema["properties"][name])
        or "$ref" in json.dumps(schema["properties"][name])
    }
    required = set(schema.get("required", []))
    return (
        SHAPE_CODES
        | {f"invalid_{name}" for name in enums}
        | {f"{name}_required" for name in required}
    )


FUZZING = settings(
    deadline=None,
    derandomize=True,  # the same examples every run
    database=None,
    phases=[Phase.explicit, Phase.generate],  # a failure is reported as found: no slow shrinking
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def openapi(client) -> dict:
    return client.get("/api/v1/openapi.json").json()


def operations(document: dict):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_operation_ids_are_the_view_names(admin):
    # given the document
    document = openapi(admin.client)
    # when its operation ids are read
    ids = [operation["operationId"] for _path, _method, operation in operations(document)]
    # then each is a clean snake_case name, without the module path, and unique
    assert [i for i in ids if not re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", i)] == []
    assert [i for i in ids if "aftersales" in i or "api_" in i] == []
    assert len(ids) == len(set(ids))
    assert {"list_cases", "get_case", "open_case", "approve_case", "get_evidence"} <= set(ids)


def test_two_operations_with_one_id_stop_the_start():
    # given two routers whose views share a name
    first, second = Router(), Router()

    @first.get("/a")
    def list_things(request):
        return []

    @second.get("/b", operation_id="list_things")
    def list_other_things(request):
        return []

    # when the ids are checked, then the start is refused, naming both
    with pytest.raises(ImproperlyConfigured, match=r"'list_things' is used by .*list_things and"):
        check_operation_ids([first, second])


BINARY = {"type": "string", "format": "binary"}


def test_the_label_and_the_evidence_files_declare_their_media_types(admin):
    # given the document
    paths = openapi(admin.client)["paths"]
    # when the answers of the downloads are read
    label = paths["/api/v1/cases/{number}/label.pdf"]["get"]["responses"]["200"]["content"]
    evidence = paths["/api/v1/cases/{number}/evidence/{evidence_id}"]["get"]["responses"]["200"]
    # then each names its binary media types, none is */*
    assert label == {"application/pdf": {"schema": BINARY}}
    assert evidence["content"] == {
        media_type: {"schema": BINARY}
        for media_type in ("image/jpeg", "video/mp4", "video/quicktime", "video/webm")
    }


def _parameter(operation: dict, name: str) -> dict:
    return next(p for p in operation["parameters"] if p["name"] == name)["schema"]


def test_words_from_a_fixed_set_are_enums(admin):
    # given the document
    document = openapi(admin.client)
    paths, schemas = document["paths"], document["components"]["schemas"]
    # when the fields that take one of a few words are read
    label = paths["/api/v1/cases/{number}/label.pdf"]["get"]
    upload = paths["/api/v1/cases/{number}/evidence"]["post"]["requestBody"]["content"]
    purpose = upload["multipart/form-data"]["schema"]["properties"]["purpose"]
    # then each lists its words
    assert _parameter(label, "variant")["enum"] == ["label", "packing_slip"]
    assert purpose["enum"] == ["application", "inspection"]
    case_paths = [p for p in paths if p.startswith("/api/v1/cases/{number}/actions/")]
    actions = {p.rsplit("/", 1)[1] for p in case_paths}
    assert actions == set(USER_ACTIONS)
    complaint_actions = {
        p.rsplit("/", 1)[1] for p in paths if p.startswith("/api/v1/complaints/{number}/actions/")
    }
    assert complaint_actions == set(COMPLAINT_ACTIONS)
    review_actions = {
        p.rsplit("/", 1)[1] for p in paths if p.startswith("/api/v1/reviews/{number}/actions/")
    }
    assert review_actions == set(REVIEW_ACTIONS)
    dispute_actions = {
        p.rsplit("/", 1)[1] for p in paths if p.startswith("/api/v1/disputes/{number}/actions/")
    }
    assert dispute_actions == set(DISPUTE_ACTIONS)
    inspection_actions = {
        p.rsplit("/", 1)[1] for p in paths if p.startswith("/api/v1/inspections/{number}/actions/")
    }
    assert inspection_actions == set(INSPECTION_ACTIONS)
    # a violation's and a penalty's person actions (their opening is POST /violations)
    marked = {
        subject: set(person_actions(lifecycle))
        for subject, lifecycle in (("violations", VIOLATIONS), ("penalties", PENALTIES))
    }
    assert {p for p in paths if "/actions/" in p} == {
        *(f"/api/v1/cases/{{number}}/actions/{a}" for a in actions),
        *(f"/api/v1/complaints/{{number}}/actions/{a}" for a in complaint_actions),
        *(f"/api/v1/reviews/{{number}}/actions/{a}" for a in review_actions),
        *(f"/api/v1/disputes/{{number}}/actions/{a}" for a in dispute_actions),
        *(f"/api/v1/inspections/{{number}}/actions/{a}" for a in inspection_actions),
        *(
            f"/api/v1/{subject}/{{number}}/actions/{a}"
            for subject in marked
            for a in marked[subject]
        ),
    }
    # one name per schema: two bodies with one name would share one entry of the document
    assert schemas["OpenIn"]["required"] == ["order_id", "kind", "reason", "lines"]
    assert schemas["InspectionResult"]["enum"] == ["pass", "deduct"]
    assert schemas["Authenticity"]["enum"] == ["genuine", "counterfeit", "inconclusive"]
    assert schemas["InspectIn"]["properties"]["result"]["anyOf"][0] == {
        "$ref": "#/components/schemas/InspectionResult"
    }


def test_the_policy_declares_its_bounds(admin):
    # given the document
    schemas = openapi(admin.client)["components"]["schemas"]
    # when the policy's body is read
    policy = schemas["PolicyIn"]["properties"]
    # then its numbers, keys and durations are bounded as the policy's rules bound them
    assert (policy["no_reason_days"]["minimum"], policy["no_reason_days"]["maximum"]) == (7, 365)
    assert policy["timeouts"]["additionalProperties"] is False
    assert re.fullmatch(policy["timeouts"]["properties"]["refund_duty"]["pattern"], "PT48H")
    assert not re.fullmatch(policy["timeouts"]["properties"]["refund_duty"]["pattern"], "48 hours")
    assert policy["return_shipping_payer"]["required"] == ["buyer", "seller", "carrier"]
    assert policy["inspection_deduction_percent"]["properties"]["used"] == {
        "type": "integer",
        "minimum": 0,
        "maximum": 100,
    }
    assert schemas["CounterfeitRule"]["properties"]["multiple"]["maximum"] == 10
    assert schemas["WarrantyRules"]["properties"]["return_days"]["minimum"] == 7
    assert "null" not in json.dumps(policy["compensation"])


def test_an_amount_of_zero_is_outside_the_document(admin):
    # given the document
    schemas = openapi(admin.client)["components"]["schemas"]
    # when the amount of a case line is read
    amount = schemas["CaseLineIn"]["properties"]["amount"]["anyOf"][0]["anyOf"]
    # then neither "0" nor 0 fits it, and "0.01" and 1 do
    pattern = amount[0]["pattern"]
    fits = {text: bool(re.fullmatch(pattern, text)) for text in ("0", "0.00", "0.01", "1.234")}
    assert fits == {"0": False, "0.00": False, "0.01": True, "1.234": False}
    assert amount[1]["minimum"] == 1


# --- schema-valid requests are never refused for their shape ---------------------------------

SHIPPED = {"carrier": "SF", "tracking_number": "SF100"}
INSPECTED = ("agent", "inspect", {"result": "pass"})
TO_INSPECTION = [
    ("agent", "approve", {}),
    ("customer", "ship_return", SHIPPED),
    ("agent", "receive", {}),
]
REPAIR_WALK = [
    *TO_INSPECTION,
    ("agent", "diagnose", {"diagnosed_by": "shop", "fault_code": "F1", "quote_parts": "50"}),
    ("customer", "accept_quote", {}),
    ("agent", "ship_back", SHIPPED),
]
# Where each action can be taken: the kind of case, and the moves that bring it there.
WHERE = {
    "approve": ("return_refund", []),
    "reject": ("return_refund", []),
    "cancel": ("return_refund", []),
    "modify": ("return_refund", [("agent", "reject", {"reason": "照片不清"})]),
    "ship_return": ("return_refund", TO_INSPECTION[:1]),
    "receive": ("return_refund", TO_INSPECTION[:2]),
    "inspect": ("return_refund", TO_INSPECTION),
    "refund": ("return_refund", [*TO_INSPECTION, INSPECTED]),
    "convert": ("return_refund", [*TO_INSPECTION, INSPECTED]),
    "ship_replacement": ("exchange", [*TO_INSPECTION, INSPECTED]),
    "offer": ("exchange", [*TO_INSPECTION, INSPECTED]),
    "diagnose": ("repair", REPAIR_WALK[:3]),
    "accept_quote": ("repair", REPAIR_WALK[:4]),
    "decline_quote": ("repair", REPAIR_WALK[:4]),
    "ship_back": ("repair", REPAIR_WALK[:5]),
    "confirm_receipt": ("repair", REPAIR_WALK),
}


def test_every_action_has_a_place_to_be_taken():
    # given the actions a person can take
    # when the fuzzing below looks up where each can be taken
    # then it knows every one of them (a new action must be added to WHERE)
    assert set(WHERE) == set(USER_ACTIONS)


def _role_for(action: str) -> str:
    roles = next(m.roles for m in CASES.moves if m.action == action and m.roles != SYSTEM)
    return next(role for role in ("customer", "agent", "finance") if role in roles)


@pytest.fixture
def apis(shop):
    return {
        "customer": make_user("buyer", "customer", shop="shop", customer="C1"),
        "agent": make_user("agent", "agent", shop="shop"),
        "finance": make_user("finance", "finance", shop="shop"),
    }


ORDER_NUMBERS = itertools.count(1)


def _case_ready_for(apis, action: str) -> tuple[str, int]:
    """A new case brought to a state where ``action`` can be taken; its number and line id."""
    kind, walk = WHERE[action]
    order = make_order(
        external_id=f"FUZZ{next(ORDER_NUMBERS)}",
        lines=[("L1", "SKU-1", 2, Decimal("100.00"), Decimal("180.00"))],
    )
    number = open_case(apis["customer"], order, kind=kind)["number"]
    for role, step, body in walk:
        response = apis[role].act(number, step, body)
        assert response.status_code == 200, (step, response.content)
    return number, order.lines.get().id


def _send(api, path: str, body) -> tuple[int, dict]:
    if body is NOT_SET:
        response = api.client.post(path, content_type="application/json")
    else:
        response = api.client.post(path, json.dumps(body), content_type="application/json")
    return response.status_code, response.json()


def _refused_for_shape(status: int, answer: dict, codes=SHAPE_CODES) -> bool:
    return status >= 500 or answer.get("code") in codes


@settings(FUZZING, max_examples=30)
@given(data=st.data())
def test_valid_action_bodies_are_never_refused_for_their_shape(data, apis, clock):
    # given a case where an action can be taken, and a body its document allows
    action = data.draw(st.sampled_from(sorted(ACTS)))
    generated = data.draw(ACTS[action].as_strategy())
    number, line_id = _case_ready_for(apis, action)
    body = generated.body
    if isinstance(body, dict):
        # the document cannot know the ids of this case's lines
        for line in body.get("lines") or []:
            line["order_line_id"] = line_id
    # when the caller allowed to take it sends it
    status, answer = _send(
        apis[_role_for(action)], f"/api/v1/cases/{number}/actions/{action}", body
    )
    # then a refusal, if any, is a rule of the business, never the body's shape
    codes = shape_codes_of(CASES.inputs()[action])
    assert not _refused_for_shape(status, answer, codes), (action, body, status, answer)


@settings(FUZZING, max_examples=25)
@given(generated=OPEN.as_strategy())
def test_valid_applications_are_never_refused_for_their_shape(generated, apis, clock):
    # given an order and an application the document allows, naming that order's line
    order = make_order(
        external_id=f"FUZZ{next(ORDER_NUMBERS)}",
        lines=[("L1", "SKU-1", 2, Decimal("100.00"), Decimal("180.00"))],
    )
    body = generated.body
    body["order_id"] = order.id
    for line in body["lines"]:
        line["order_line_id"] = order.lines.get().id
    # when the customer sends it
    status, answer = _send(apis["customer"], "/api/v1/cases", body)
    # then a refusal, if any, is a rule of the business, never the body's shape
    assert not _refused_for_shape(status, answer), (body, status, answer)


def _named_types(annotation, found: dict[str, set], seen: set) -> None:
    """Every model and enum of ours reachable from ``annotation``, by the name it has in the
    document's components."""
    import enum
    import typing

    from pydantic import BaseModel

    for argument in typing.get_args(annotation):
        _named_types(argument, found, seen)
    if not isinstance(annotation, type) or annotation in seen:
        return
    seen.add(annotation)
    ours = annotation.__module__.startswith(("aftersales.", "config."))
    if issubclass(annotation, BaseModel):
        if ours:
            found.setdefault(annotation.__name__, set()).add(annotation)
        for field in annotation.model_fields.values():
            _named_types(field.annotation, found, seen)
    elif issubclass(annotation, enum.Enum) and ours:
        found.setdefault(annotation.__name__, set()).add(annotation)


def schema_name_clashes(operations) -> dict[str, list[str]]:
    """The component names two different classes would share (ninja keeps the last one)."""
    found: dict[str, set] = {}
    seen: set = set()
    for operation in operations:
        for model in [*operation.models, *operation.response_models.values()]:
            if isinstance(model, type):
                _named_types(model, found, seen)
    return {
        name: sorted(f"{c.__module__}.{c.__qualname__}" for c in classes)
        for name, classes in found.items()
        if len(classes) > 1
    }


def _api_operations():
    from config.api import api

    return [
        operation
        for _prefix, router in api._routers
        for view in router.path_operations.values()
        for operation in view.operations
    ]


def test_no_two_schemas_of_the_document_share_a_name():
    # given every operation's bodies, parameters and answers, and every model and enum in them
    operations = _api_operations()
    assert len(operations) > 100
    # then no name stands for two different classes (one would silently replace the other)
    assert schema_name_clashes(operations) == {}


def test_two_schemas_with_one_name_are_caught():
    # given two routers whose bodies are different classes with one name
    from pydantic import BaseModel, create_model

    first_body = create_model("SameIn", __base__=BaseModel, __module__="aftersales.x", a=int)
    second_body = create_model("SameIn", __base__=BaseModel, __module__="aftersales.y", b=int)
    routers = {"/a": (Router(), first_body), "/b": (Router(), second_body)}
    for path, (router, model) in routers.items():

        def take(request, payload):
            return None

        # (this module's annotations are strings: the body's class is given as an object)
        take.__annotations__ = {"payload": model}
        router.post(path)(take)
    operations = [
        operation
        for router, _model in routers.values()
        for view in router.path_operations.values()
        for operation in view.operations
    ]
    # then the check names them
    assert list(schema_name_clashes(operations)) == ["SameIn"]
