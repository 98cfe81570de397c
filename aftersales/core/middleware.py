"""Refuse what no part of the product can store: NUL characters.

JSON and URLs may carry ``\\u0000``/``%00``; SQLite stores it, PostgreSQL refuses it with an
error that would surface as a 500. Paths and query strings are checked here, JSON bodies by the
API's parser (``config.api.NulFreeJSONParser``).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

NUL = "\x00"


def contains_nul(value) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(contains_nul(item) for item in value)
    return False


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
            detail = _("The address contains a NUL character.")
            if request.path.startswith("/api/"):
                return JsonResponse({"code": "malformed_request", "detail": detail}, status=400)
            return HttpResponse(detail, status=400, content_type="text/plain")
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
