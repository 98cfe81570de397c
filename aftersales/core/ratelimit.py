"""Fixed-window rate limits shared by every process (rows in the database)."""

from __future__ import annotations

from functools import wraps

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from aftersales.core import clock
from aftersales.core.models import RateCounter

LOGIN_LIMIT = 10
LOGIN_PERIOD = 300  # seconds


def rate_hit(key: str, *, limit: int, period: int) -> bool:
    """Count one hit for ``key``; ``False`` once the window holds more than ``limit`` hits."""
    window = int(clock.now().timestamp()) // period
    with transaction.atomic():
        RateCounter.objects.bulk_create(
            [RateCounter(key=key, window=window)], ignore_conflicts=True
        )
        RateCounter.objects.filter(key=key, window=window).update(hits=F("hits") + 1)
        hits = RateCounter.objects.filter(key=key, window=window).values_list("hits", flat=True)
        return hits.first() <= limit


def rate_prune(*, period: int = LOGIN_PERIOD) -> int:
    """Drop windows that ended (the worker calls this)."""
    current = int(clock.now().timestamp()) // period
    return RateCounter.objects.filter(window__lt=current - 1).delete()[0]


def client_address(request: HttpRequest) -> str:
    # REMOTE_ADDR is the peer; behind a proxy, configure the proxy to set it (not X-Forwarded-For,
    # which a client can forge).
    return request.META.get("REMOTE_ADDR", "unknown")


def login_allowed(request: HttpRequest, username: str) -> bool:
    """Both the address and the user name get ``LOGIN_LIMIT`` attempts per window."""
    address_ok = rate_hit(
        f"login:ip:{client_address(request)}", limit=LOGIN_LIMIT, period=LOGIN_PERIOD
    )
    user_ok = rate_hit(f"login:user:{username[:150]}", limit=LOGIN_LIMIT, period=LOGIN_PERIOD)
    return address_ok and user_ok


def rate_limited_login(view):
    """Wrap a login view (the admin's): too many POSTs answer 429."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if request.method == "POST" and not login_allowed(
            request, request.POST.get("username", "")
        ):
            return HttpResponse(
                _("Too many login attempts; wait a few minutes."),
                status=429,
                content_type="text/plain",
            )
        return view(request, *args, **kwargs)

    return wrapper
