"""What every request goes through before a view sees it.

- ``RequestIdMiddleware``: each request gets an id (a well-formed ``X-Request-ID`` from the proxy,
  else a new one), answered in the ``X-Request-ID`` header and put on every log record of the
  request (``RequestIdLogFilter``), so the id a person quotes from an error page finds the
  traceback in the log.
- ``BodySizeLimitMiddleware``: a body larger than its path allows is refused on its declared
  ``Content-Length``, before anything reads it.
- ``RejectNulMiddleware``: NUL characters, which no part of the product can store. Paths, query
  strings and form bodies are checked here, JSON bodies by the API's parser
  (``config.api.NulFreeJSONParser``). SQLite stores them; PostgreSQL refuses them with an error
  that would surface as a 500.
- ``PageErrorMiddleware``: a refusal raised while rendering a page becomes its error page.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import translation
from django.utils.translation import gettext_lazy as _

NUL = "\x00"
REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy's id looks like (a UUID, nginx's $request_id, …); anything else is replaced, so a
# client cannot write arbitrary text into the log or the response headers.
WELL_FORMED_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{7,63}")
FORM_CONTENT_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
MEGABYTE = 1024 * 1024

_current_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "aftersales_request_id", default=None
)


def current_request_id() -> str | None:
    """The id of the request being handled in this thread or task, if any."""
    return _current_request_id.get()


def contains_nul(value) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(contains_nul(item) for item in value)
    return False


def refusal(request: HttpRequest, *, status: int, code: str, detail) -> HttpResponse:
    """A refusal before any view ran: ``{"code", "detail"}`` under ``/api/``, a short page
    elsewhere, in the visitor's language (``LocaleMiddleware`` may not have run yet)."""
    with translation.override(translation.get_language_from_request(request)):
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"code": code, "detail": str(detail)},
                status=status,
                json_dumps_params={"ensure_ascii": False},
            )
        from django.shortcuts import render

        return render(request, "core/refused.html", {"detail": detail}, status=status)


class RequestIdLogFilter(logging.Filter):
    """Puts ``request_id`` on every record (``-`` outside a request), for the log format."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id() or "-"
        return True


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        well_formed = WELL_FORMED_REQUEST_ID.fullmatch(incoming)
        request_id = incoming if well_formed else uuid.uuid4().hex
        request.request_id = request_id
        token = _current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _current_request_id.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


def body_limit_for(method: str, path: str) -> int | None:
    """The most bytes a request may send to this path (``None``: no limit)."""
    for limit_method, pattern, limit in settings.AFTERSALES_BODY_LIMITS:
        if method == limit_method and re.fullmatch(pattern, path):
            return limit
    if settings.DATA_UPLOAD_MAX_MEMORY_SIZE is None:
        return None
    # The envelope around the fields (multipart boundaries, headers) is not counted by Django's
    # own limit; a megabyte covers it.
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE + MEGABYTE


class BodySizeLimitMiddleware:
    """Django refuses an oversized upload only once it has read it (and a file field has no limit
    at all): hundreds of megabytes would arrive before the 413. The declared length is known
    before the first byte, so an oversized body is refused unread."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0  # Django reads nothing of a body whose length it cannot parse
        limit = body_limit_for(request.method, request.path)
        if limit is not None and declared > limit:
            return refusal(
                request,
                status=413,
                code="payload_too_large",
                detail=_("The request body is too large."),
            )
        return self.get_response(request)


def _form_contains_nul(request: HttpRequest) -> bool:
    # Upload file names need no check: Django drops their non-printable characters.
    return any(
        NUL in key or any(NUL in value for value in values) for key, values in request.POST.lists()
    ) or any(NUL in key for key in request.FILES)


class RejectNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if (
            NUL in request.path
            or "%00" in query
            or any(
                NUL in key or any(NUL in v for v in values) for key, values in request.GET.lists()
            )
        ):
            return refusal(
                request,
                status=400,
                code="malformed_request",
                detail=_("The address contains a NUL character."),
            )
        if request.method == "POST" and request.content_type in FORM_CONTENT_TYPES:
            try:
                has_nul = _form_contains_nul(request)
            except RequestDataTooBig:
                return refusal(
                    request,
                    status=413,
                    code="payload_too_large",
                    detail=_("The request body is too large."),
                )
            except (MultiPartParserError, TooManyFieldsSent, TooManyFilesSent):
                return refusal(
                    request,
                    status=400,
                    code="malformed_request",
                    detail=_("The form could not be read."),
                )
            if has_nul:
                return refusal(
                    request,
                    status=400,
                    code="malformed_request",
                    detail=_("The form contains a NUL character."),
                )
        return self.get_response(request)


class PageErrorMiddleware:
    """A refusal raised while rendering a page (not the API, which has its own handler) becomes
    the matching error page — a case that is not yours is a 404, never a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.shortcuts import render

        from aftersales.core.errors import ApplicationError

        if request.path.startswith("/api/") or not isinstance(exception, ApplicationError):
            return None
        status = exception.status if exception.status in (403, 404) else 400
        template = "core/404.html" if status == 404 else "core/error.html"
        return render(request, template, {"detail": exception.detail}, status=status)
