"""The pages' side of conversations and of the bell: posting a message from the desk or the
portal (the thread is drawn into the subject's page by ``conversations/_thread.html``), marking
a thread read, a message's photo, and the bell (its badge, its list, marking read). Thin: every
write is a service, every read a selector."""

from __future__ import annotations

import contextlib

from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from aftersales.cases.views.common import form_error
from aftersales.cases.views.desk import staff_required
from aftersales.cases.views.portal import customer_required
from aftersales.conversations import bell, selectors, services
from aftersales.conversations.subjects import DESK_PAGES, PORTAL_PAGES, subject_get
from aftersales.core.errors import ApplicationError

PAGES = {"desk": DESK_PAGES, "portal": PORTAL_PAGES}
BASES = {"desk": "desk/base.html", "portal": "portal/base.html"}


def _thread_response(request, where, subject_type, number, form_errors=None, status=200):
    """The thread alone: swapped in place by htmx, or as its own page (a refused message without
    JavaScript: the error beside the form, and what was typed kept)."""
    subject = subject_get(actor=request.principal, subject_type=subject_type, number=number)
    context = {
        "subject": subject,
        "where": where,
        "form_errors": form_errors or {},
        "typed": request.POST.get("text", "") if form_errors else "",
        "principal": request.principal,
        "base": BASES[where],
        "back": reverse(PAGES[where][subject_type], args=[number]),
    }
    template = "conversations/_thread.html" if request.htmx else "conversations/thread_page.html"
    return render(request, template, context, status=status)


def _post(request: HttpRequest, where: str, subject_type: str, number: str) -> HttpResponse:
    raw_template = request.POST.get("template_id", "")
    try:
        services.message_post(
            actor=request.principal,
            subject_type=subject_type,
            number=number,
            text=request.POST.get("text", ""),
            photos=request.FILES.getlist("photos"),
            template_id=int(raw_template) if raw_template.isdigit() else None,
        )
    except ApplicationError as error:
        return _thread_response(
            request, where, subject_type, number, {"message": form_error(error)}, status=422
        )
    if not request.htmx:
        return redirect(reverse(PAGES[where][subject_type], args=[number]) + "#thread")
    return _thread_response(request, where, subject_type, number)


def _read(request: HttpRequest, subject_type: str, number: str) -> HttpResponse:
    services.thread_read(actor=request.principal, subject_type=subject_type, number=number)
    return HttpResponse(status=204)


@require_POST
@staff_required
def desk_message(request: HttpRequest, number: str, subject_type: str) -> HttpResponse:
    return _post(request, "desk", subject_type, number)


@require_POST
@customer_required
def portal_message(request: HttpRequest, number: str, subject_type: str) -> HttpResponse:
    return _post(request, "portal", subject_type, number)


@require_POST
@staff_required
def desk_read(request: HttpRequest, number: str, subject_type: str) -> HttpResponse:
    return _read(request, subject_type, number)


@require_POST
@customer_required
def portal_read(request: HttpRequest, number: str, subject_type: str) -> HttpResponse:
    return _read(request, subject_type, number)


def _photo(request: HttpRequest, photo_id: int) -> FileResponse:
    photo = selectors.photo_get(actor=request.principal, photo_id=photo_id)
    stored = photo.thumbnail if request.GET.get("thumbnail") == "1" else photo.file
    response = FileResponse(stored.open("rb"), content_type="image/jpeg")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    return response


@staff_required
def desk_photo(request: HttpRequest, photo_id: int) -> FileResponse:
    return _photo(request, photo_id)


@customer_required
def portal_photo(request: HttpRequest, photo_id: int) -> FileResponse:
    return _photo(request, photo_id)


# --- the bell ------------------------------------------------------------------------------------


@staff_required
def bell_badge(request: HttpRequest) -> HttpResponse:
    """The bell in the desk's header: its unread count and newest notices (polled by htmx)."""
    principal = request.principal
    return render(
        request,
        "conversations/_bell_menu.html",
        {
            "unread": bell.unread_count(principal),
            "items": bell.bell_items(principal, limit=10),
        },
    )


@staff_required
def notices_page(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    unread_only = request.GET.get("unread") == "1"
    return render(
        request,
        "conversations/notices.html",
        {
            "items": bell.bell_items(principal, unread_only=unread_only),
            "unread": bell.unread_count(principal),
            "unread_only": unread_only,
            "principal": principal,
        },
    )


@require_POST
@staff_required
def notices_read(request: HttpRequest) -> HttpResponse:
    """Mark one notice read (``notice``) or all of them; then follow the notice's link, or go
    back to the list."""
    principal = request.principal
    raw = request.POST.get("notice", "")
    # a notice that is not the caller's is simply not marked
    with contextlib.suppress(ApplicationError):
        bell.notices_read(actor=principal, ids=[int(raw)] if raw.isdigit() else None)
    target = request.POST.get("next", "")
    if target.startswith("/desk/") and "//" not in target:
        return redirect(target)
    return redirect("conversations:notices")
