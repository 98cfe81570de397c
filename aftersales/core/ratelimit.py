"""Fixed-window rate limits shared by every process (rows in the database).

Password guessing is limited per (user name, address) and per address, never per user name
alone: a guesser elsewhere must not be able to lock a person out of their own account. Only
failures add up: an attempt is counted when it starts (so parallel guesses cannot slip past the
limit together) and a success takes its count back.

The portal's order look-up (order number + phone) is limited per address and per order number,
so that nobody can try phone number after phone number on one order from many addresses.
"""

from __future__ import annotations

import hashlib
from functools import wraps

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from aftersales.core import clock
from aftersales.core.models import RateCounter

LOGIN_PERIOD = 300  # seconds
LOGIN_LIMIT = 10  # failed logins per user name and address in a period
# failed logins per address in a period, whatever the user names: stops a spray of names from
# one address while leaving room for an office of people behind one address
LOGIN_ADDRESS_LIMIT = 30

PORTAL_ADDRESS_PERIOD = 300
PORTAL_ADDRESS_LIMIT = 20  # order look-ups per address in a period
PORTAL_ORDER_PERIOD = 900
PORTAL_ORDER_LIMIT = 5  # wrong phone numbers per order number in a period, from any address

LONGEST_PERIOD = max(LOGIN_PERIOD, PORTAL_ADDRESS_PERIOD, PORTAL_ORDER_PERIOD)


def _window_start(period: int) -> int:
    # A window is stored as its first second, so windows of different lengths can be pruned alike.
    now = int(clock.now().timestamp())
    return now - now % period


def rate_hit(key: str, *, limit: int, period: int) -> bool:
    """Count one hit for ``key``; ``False`` once the window holds more than ``limit`` hits."""
    window = _window_start(period)
    with transaction.atomic():
        RateCounter.objects.bulk_create(
            [RateCounter(key=key, window=window)], ignore_conflicts=True
        )
        RateCounter.objects.filter(key=key, window=window).update(hits=F("hits") + 1)
        hits = RateCounter.objects.filter(key=key, window=window).values_list("hits", flat=True)
        return hits.first() <= limit


def rate_take_back(key: str, *, period: int) -> None:
    """Undo one hit of the current window (an attempt that turned out not to count)."""
    RateCounter.objects.filter(key=key, window=_window_start(period), hits__gt=0).update(
        hits=F("hits") - 1
    )


def rate_reset(key: str) -> None:
    RateCounter.objects.filter(key=key).delete()


def rate_prune() -> int:
    """Drop windows that ended (the worker calls this)."""
    return RateCounter.objects.filter(
        window__lt=int(clock.now().timestamp()) - LONGEST_PERIOD
    ).delete()[0]


def client_address(request: HttpRequest) -> str:
    # REMOTE_ADDR is the peer; behind a proxy, configure the proxy to set it (not X-Forwarded-For,
    # which a client can forge).
    return request.META.get("REMOTE_ADDR", "unknown")[:64]


def _digest(*parts: str) -> str:
    # User names and order numbers can be long and are nobody's business in this table.
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


def _login_keys(request: HttpRequest, username: str) -> tuple[str, str]:
    address = client_address(request)
    name = username.strip().casefold()[:150]
    return f"login:user-address:{_digest(name, address)}", f"login:address:{address}"


def login_allowed(request: HttpRequest, username: str) -> bool:
    """Count a login attempt; ``False`` once this user name from this address, or this address
    whatever the name, has had its fill of failures. Call ``login_succeeded`` after a success."""
    pair_key, address_key = _login_keys(request, username)
    pair_ok = rate_hit(pair_key, limit=LOGIN_LIMIT, period=LOGIN_PERIOD)
    address_ok = rate_hit(address_key, limit=LOGIN_ADDRESS_LIMIT, period=LOGIN_PERIOD)
    return pair_ok and address_ok


def login_succeeded(request: HttpRequest, username: str) -> None:
    """A success does not count: the pair starts afresh and the address gets its attempt back."""
    pair_key, address_key = _login_keys(request, username)
    rate_reset(pair_key)
    rate_take_back(address_key, period=LOGIN_PERIOD)


def _signed_in_as(request: HttpRequest, response: HttpResponse, username: str) -> bool:
    # Django's login views redirect after a success and have put the user on the request.
    user = getattr(request, "user", None)
    return (
        response.status_code in (301, 302, 303)
        and user is not None
        and user.is_authenticated
        and user.get_username().strip().casefold() == username.strip().casefold()
    )


def rate_limited_login(view):
    """Wrap a login view (the desk's, the admin's): too many failed POSTs answer 429."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if request.method != "POST":
            return view(request, *args, **kwargs)
        username = request.POST.get("username", "")
        if not login_allowed(request, username):
            return HttpResponse(
                _("Too many login attempts; wait a few minutes."),
                status=429,
                content_type="text/plain",
            )
        response = view(request, *args, **kwargs)
        if _signed_in_as(request, response, username):
            login_succeeded(request, username)
        return response

    return wrapper


def _portal_keys(request: HttpRequest, order_number: str) -> tuple[str, str]:
    return f"portal-find:{client_address(request)}", f"portal-find:order:{_digest(order_number)}"


def portal_lookup_allowed(request: HttpRequest, order_number: str) -> bool:
    """Count an order look-up; ``False`` once this address, or this order number from any
    address, has had its fill. Call ``portal_lookup_succeeded`` when the order was found."""
    address_key, order_key = _portal_keys(request, order_number)
    address_ok = rate_hit(address_key, limit=PORTAL_ADDRESS_LIMIT, period=PORTAL_ADDRESS_PERIOD)
    order_ok = not order_number or rate_hit(
        order_key, limit=PORTAL_ORDER_LIMIT, period=PORTAL_ORDER_PERIOD
    )
    return address_ok and order_ok


def portal_lookup_succeeded(request: HttpRequest, order_number: str) -> None:
    """The right phone number: the order's guesses start afresh, the address gets its try back."""
    address_key, order_key = _portal_keys(request, order_number)
    rate_reset(order_key)
    rate_take_back(address_key, period=PORTAL_ADDRESS_PERIOD)
