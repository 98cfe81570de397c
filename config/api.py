"""The one NinjaAPI: token auth, the routers, operation ids, and the single mapping of errors to
HTTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ImproperlyConfigured, RequestDataTooBig
from django.http import Http404, HttpRequest
from django.http.request import RawPostDataException
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Router
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder
from ninja.security import HttpBearer

from aftersales.cases.api import router as cases_router
from aftersales.cases.queue_api import router as queue_router
from aftersales.cases.workbench_api import router as workbench_router
from aftersales.catalog.api import router as catalog_router
from aftersales.complaints.api import router as complaints_router
from aftersales.conversations.api import router as conversations_router
from aftersales.core.api import document_actions
from aftersales.core.errors import ApplicationError
from aftersales.core.middleware import contains_nul
from aftersales.notify.api import router as notify_router
from aftersales.onboarding.api import router as shops_router
from aftersales.policy.api import router as policy_router
from aftersales.reviews.api import router as reviews_router
from aftersales.routing.api import router as routing_router
from aftersales.sla.api import router as sla_router
from aftersales.team.api import router as team_router
from aftersales.team.selectors import principal_for_token


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        return principal_for_token(token)


class NulFreeJSONParser(Parser):
    """JSON bodies may not carry NUL characters (PostgreSQL cannot store them)."""

    def parse_body(self, request: HttpRequest):
        data = super().parse_body(request)
        if contains_nul(data):
            raise ValueError("NUL character in the body")
        return data


def _datetime_text(moment: dt.datetime) -> str:
    # Django's JSON encoder's words for a datetime: milliseconds, "Z" for UTC.
    text = moment.isoformat()
    if moment.microsecond:
        text = text[:23] + text[26:]
    if text.endswith("+00:00"):
        text = text.removesuffix("+00:00") + "Z"
    return text


class AnswerEncoder(NinjaJSONEncoder):
    """ninja's encoder, with the two kinds an answer is full of (a queue page holds 300 amounts
    and times) found by their exact type first: the same text, without a chain of
    ``isinstance`` checks through three encoders for each value."""

    by_type: dict[type, Callable[[Any], str]] = {Decimal: str, dt.datetime: _datetime_text}

    def default(self, o):
        convert = self.by_type.get(type(o))
        return convert(o) if convert is not None else super().default(o)


class Utf8JSONRenderer(JSONRenderer):
    # Chinese product names and messages stay readable on the wire (and a third shorter).
    json_dumps_params = {"ensure_ascii": False}
    encoder_class = AnswerEncoder


class CleanIdsAPI(NinjaAPI):
    """Operation ids are the view functions' names (``list_cases``), not ninja's module-prefixed
    ``aftersales_cases_api_list_cases``: a client generated from the document reads well."""

    def get_openapi_operation_id(self, operation) -> str:
        return operation.operation_id or operation.view_func.__name__

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        # Each case action's body is the action's typed input: the views take the JSON as it came
        # (the gate validates it against that input) and the document shows the input itself.
        # The operations are fixed once the routers are built, so the document (about 250 KB,
        # a second of work) is built once per process and prefix, not on every request.
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        cache = self.__dict__.setdefault("_openapi_documents", {})
        if path_prefix not in cache:
            schema = super().get_openapi_schema(path_prefix=path_prefix)
            document_actions(schema)
            cache[path_prefix] = schema
        return cache[path_prefix]


def _routers_within(routers) -> list[Router]:
    found: dict[int, Router] = {}
    pending = list(routers)
    while pending:
        router = pending.pop(0)
        if id(router) not in found:
            found[id(router)] = router
            pending.extend(child for _prefix, child, *_tags in router._routers)
    return list(found.values())


def check_operation_ids(routers) -> None:
    """Two operations with one id would make a generated client drop one of them: refuse to
    start instead."""
    seen: dict[str, str] = {}
    for router in _routers_within(routers):
        for view in router.path_operations.values():
            for operation in view.operations:
                operation_id = operation.operation_id or operation.view_func.__name__
                where = f"{operation.view_func.__module__}.{operation.view_func.__name__}"
                if operation_id in seen:
                    raise ImproperlyConfigured(
                        f"API operation id {operation_id!r} is used by {seen[operation_id]} "
                        f"and {where}; rename one of the view functions."
                    )
                seen[operation_id] = where


api = CleanIdsAPI(
    title="aftersales API",
    version="1",
    description="After-sales cases, orders and shop policies. Authenticate with "
    "`Authorization: Bearer <token>` (create one with `aftersales token create NAME`). "
    "Text may not contain the NUL character (refused with 400).",
    auth=TokenAuth(),
    urls_namespace="api-v1",
    renderer=Utf8JSONRenderer(),
    parser=NulFreeJSONParser(),
)
api.add_router("/", shops_router)
api.add_router("/", policy_router)
api.add_router("/", catalog_router)
# The queue's export first: "/cases/export.csv" is not a case number.
api.add_router("/", queue_router)
api.add_router("/", cases_router)
api.add_router("/", workbench_router)
api.add_router("/", complaints_router)
api.add_router("/", reviews_router)
api.add_router("/", "aftersales.disputes.api.router")
api.add_router("/", team_router)
api.add_router("/", routing_router)
api.add_router("/", sla_router)
api.add_router("/", notify_router)
api.add_router("/", conversations_router)
api.add_router("/", "aftersales.playbooks.api.router")
api.add_router("/", "aftersales.violations.api.router")
api.add_router("/", "aftersales.insurance.api.router")
api.add_router("/", "aftersales.inspections.api.router")
api.add_router("/", "aftersales.connectors.api.router")
api.add_router("/", "aftersales.feedback.api.router")
api.add_router("/", "aftersales.insights.api.router")
api.add_router("/", "aftersales.crm.api.router")
api.add_router("/", "aftersales.crm.care_api.router")

HTTP_CODES = {
    400: "malformed_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    429: "throttled",
}


@api.exception_handler(ApplicationError)
def application_error(request: HttpRequest, error: ApplicationError):
    return api.create_response(request, error.as_dict(), status=error.status)


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, error: AuthenticationError):
    return api.create_response(
        request,
        {"code": "unauthenticated", "detail": _("A valid bearer token is required.")},
        status=401,
    )


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, error: HttpError):
    code = HTTP_CODES.get(error.status_code, "bad_request")
    return api.create_response(
        request, {"code": code, "detail": str(error)}, status=error.status_code
    )


def _location(error: dict) -> str:
    return ".".join(str(part) for part in error.get("loc", ()) if part not in ("body", "payload"))


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, error: ValidationError):
    first = error.errors[0] if error.errors else {}
    return api.create_response(
        request,
        {
            "code": "validation_error",
            "detail": _("%(field)s: %(message)s")
            % {"field": _location(first) or _("body"), "message": first.get("msg", "")},
            "errors": [
                {"field": _location(e), "message": e.get("msg", ""), "type": e.get("type", "")}
                for e in error.errors
            ],
        },
        status=422,
    )


@api.exception_handler(RawPostDataException)
def form_body_for_json(request: HttpRequest, error: RawPostDataException):
    # A form body (read as a form by the middleware) sent to an operation that takes JSON.
    return api.create_response(
        request,
        {"code": "unsupported_media_type", "detail": _("Send the body as JSON.")},
        status=415,
    )


@api.exception_handler(Http404)
def not_found(request: HttpRequest, error: Http404):
    return api.create_response(
        request, {"code": "not_found", "detail": _("No such resource.")}, status=404
    )


@api.exception_handler(RequestDataTooBig)
def too_big(request: HttpRequest, error: RequestDataTooBig):
    return api.create_response(
        request,
        {"code": "payload_too_large", "detail": _("The request body is too large.")},
        status=413,
    )


# Last in this module, after every router and operation has been added.
check_operation_ids(router for _prefix, router in api._routers)
