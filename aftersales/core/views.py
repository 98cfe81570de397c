from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _

from aftersales.core.middleware import current_request_id


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "not_found", "detail": _("No such resource.")}, status=404)
    return render(request, "core/404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """The answer to an unexpected exception (logged with its traceback under this request's id):
    the id, for the person to quote."""
    request_id = getattr(request, "request_id", None) or current_request_id() or ""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {
                "code": "server_error",
                "detail": _("Internal error; it has been logged."),
                "request_id": request_id,
            },
            status=500,
        )
    # No request context: its processors might fail the same way the request did.
    page = loader.get_template("core/500.html").render({"request_id": request_id})
    return HttpResponse(page, status=500)
