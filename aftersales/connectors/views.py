"""The stores on the desk (``/desk/stores/``) and the endpoint of the platforms' push messages.

Desk: the list of the shops' stores with their health and the form to add one; a store's page
with its health, its buttons (test, pause, resume, sync now, writes on or off, the automatic
refund cap, new keys, rename, remove with confirmation), its requests waiting for a person and the
upload of the platform's after-sales export. Thin: reads are the selectors (the API's
presentation), writes the services; bad input is shown beside its form (422), a refused button as
a message.

Push (``/connectors/push/<platform>/<store id>``): the body goes to ``push.push_receive``
untouched; the answer is what the platform expects, or ``{"code", "detail"}`` with a 4xx.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.request import RawPostDataException
from django.shortcuts import redirect, render
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from aftersales.cases.views.desk import staff_required
from aftersales.catalog.models import Shop
from aftersales.connectors import selectors, services
from aftersales.connectors.api import present_store
from aftersales.connectors.models import Store, StorePlatform
from aftersales.connectors.push import Incoming, push_receive
from aftersales.core import clock
from aftersales.core.errors import ApplicationError
from aftersales.core.permissions import permitted, shops_permitted
from aftersales.core.timeline import readable_time

# The add form's fields that are shown again after a refusal (never the secrets).
SHOWN_AGAIN = ("shop", "platform", "name", "seller_id", "import_only", "app_key", "gateway")
EXTRA_FIELDS = ("sign_secret", "message_secret")
KEY_FIELDS = ("app_key", "app_secret", "access_token", *EXTRA_FIELDS)
# The fields of each form that show their own error.
FORM_FIELDS = {
    "add": ("shop", "platform", "name", "seller_id", *KEY_FIELDS, "gateway"),
    "keys": KEY_FIELDS,
    "rename": ("name", "gateway", "return_address_id"),
    "cap": ("auto_refund_cap",),
}


def _error(error: ApplicationError, shown: tuple[str, ...] = ()) -> dict:
    """A refusal to show beside its form; ``field_shown``: beside the field it names."""
    field = error.extra.get("field")
    return {"detail": str(error.detail), "field": field, "field_shown": field in shown}


def _times(store: Store, health: selectors.Health, now) -> dict:
    """The store's moments as people read them, in its shop's time zone."""
    zone = store.shop.timezone
    moments = {
        "last_sync_at": health.last_sync_at,
        "synced_until": health.synced_until,
        "last_error_at": health.last_error_at,
        "rate_limited_until": health.rate_limited_until,
        "unreachable_before": health.unreachable_before,
        "created_at": store.created_at,
    }
    shown = {name: readable_time(at, zone) if at else "" for name, at in moments.items()}
    shown["lag"] = timesince(health.synced_until, now) if health.lag is not None else ""
    return shown


def _row(store: Store, now) -> dict:
    health = selectors.store_health(store, now=now)
    return {
        "store": store,
        "data": present_store(store, now),
        "health": health,
        "times": _times(store, health, now),
        "platform_label": StorePlatform(store.platform).label,
    }


def _managed_shops(principal) -> list[Shop]:
    shops = shops_permitted(principal, selectors.MANAGE)
    rows = Shop.objects.order_by("code")
    return list(rows if shops is None else rows.filter(id__in=shops))


# --- the list and the add form ----------------------------------------------------------------


def _list_page(request: HttpRequest, *, error=None, values=None, status=200) -> HttpResponse:
    principal = request.principal
    now = clock.now()
    rows = [_row(store, now) for store in selectors.store_list(actor=principal)]
    return render(
        request,
        "connectors/stores.html",
        {
            "principal": principal,
            "rows": rows,
            "several_shops": len({row["store"].shop_id for row in rows}) > 1,
            "shops": _managed_shops(principal),
            "platforms": StorePlatform.choices,
            "error": error,
            "values": values or {},
        },
        status=status,
    )


@staff_required
def desk_list(request: HttpRequest) -> HttpResponse:
    return _list_page(request)


@require_POST
@staff_required
def desk_add(request: HttpRequest) -> HttpResponse:
    principal = request.principal
    form = request.POST
    values = {name: form.get(name, "") for name in SHOWN_AGAIN}
    try:
        shop = Shop.objects.filter(code=form.get("shop", "")).first()
        if shop is None or not principal.can_see_shop(shop.pk):
            raise ApplicationError(
                _("Choose one of your shops."), code="shop_required", field="shop"
            )
        store = services.store_add(
            actor=principal,
            shop=shop,
            platform=form.get("platform", ""),
            name=form.get("name", ""),
            seller_id=form.get("seller_id", ""),
            import_only=bool(form.get("import_only")),
            app_key=form.get("app_key", ""),
            app_secret=form.get("app_secret", ""),
            access_token=form.get("access_token", ""),
            extra={name: form[name] for name in EXTRA_FIELDS if form.get(name, "").strip()},
            gateway=form.get("gateway", ""),
        )
    except ApplicationError as error:
        if error.status == 403:
            raise
        return _list_page(
            request, error=_error(error, FORM_FIELDS["add"]), values=values, status=422
        )
    messages.success(request, _("Store %(name)s added.") % {"name": store.name})
    return redirect("connectors_desk:store", store_id=store.pk)


# --- a store's page ---------------------------------------------------------------------------


def _store_page(
    request: HttpRequest, store_id: int, *, errors=None, imported=None, status=200
) -> HttpResponse:
    principal = request.principal
    store = selectors.store_get(actor=principal, store_id=store_id)
    now = clock.now()
    return render(
        request,
        "connectors/store.html",
        {
            "principal": principal,
            **_row(store, now),
            "waiting": selectors.requests_for_a_person(store=store),
            "may_manage": permitted(principal, selectors.MANAGE, store),
            "may_write": permitted(principal, selectors.WRITES, store),
            "may_import": permitted(principal, selectors.IMPORT, store),
            "extra_fields": list(services.EXTRA_KEYS.get(store.platform, {})),
            "errors": errors or {},
            "imported": imported,
        },
        status=status,
    )


@staff_required
def desk_store(request: HttpRequest, store_id: int) -> HttpResponse:
    return _store_page(request, store_id)


def _test(request: HttpRequest, store_id: int) -> str:
    result = services.store_test(actor=request.principal, store_id=store_id)
    if result.ok:
        return result.words
    detail = f" ({result.detail})" if result.detail else ""
    raise ApplicationError(
        _("The test failed: %(words)s") % {"words": result.words} + detail, code=result.code
    )


def _pause(request: HttpRequest, store_id: int) -> str:
    services.store_pause(actor=request.principal, store_id=store_id)
    return _("The store is paused.")


def _resume(request: HttpRequest, store_id: int) -> str:
    services.store_resume(actor=request.principal, store_id=store_id)
    return _("The store is resumed: its next sync goes on from where it stopped.")


def _sync(request: HttpRequest, store_id: int) -> str:
    if services.store_sync_now(actor=request.principal, store_id=store_id):
        return _("The store's sync is queued.")
    return _("A sync of the store is already waiting to run.")


def _writes(request: HttpRequest, store_id: int) -> str:
    on = request.POST.get("write_enabled") == "on"
    services.store_update(actor=request.principal, store_id=store_id, write_enabled=on)
    if on:
        return _("Writes to the platform are on.")
    return _("Writes to the platform are off.")


def _cap(request: HttpRequest, store_id: int) -> str:
    services.store_update(
        actor=request.principal,
        store_id=store_id,
        auto_refund_cap=request.POST.get("auto_refund_cap", ""),
    )
    return _("The automatic refund cap is set.")


def _rename(request: HttpRequest, store_id: int) -> str:
    services.store_update(
        actor=request.principal,
        store_id=store_id,
        name=request.POST.get("name", ""),
        gateway=request.POST.get("gateway") if "gateway" in request.POST else None,
        return_address_id=request.POST.get("return_address_id")
        if "return_address_id" in request.POST
        else None,
    )
    return _("The store is changed.")


def _keys(request: HttpRequest, store_id: int) -> str:
    form = request.POST
    services.store_keys_renew(
        actor=request.principal,
        store_id=store_id,
        app_key=form.get("app_key", ""),
        app_secret=form.get("app_secret", ""),
        access_token=form.get("access_token", ""),
        extra={name: form[name] for name in EXTRA_FIELDS if form.get(name, "").strip()},
    )
    return _("New keys are sealed. Test them; a store paused for its keys needs resuming.")


# Each button of the store's page: what it does, and whether its refusal is shown beside its
# form (input a person typed) or as a message (a button).
STEPS: dict[str, tuple[Callable[[HttpRequest, int], str], bool]] = {
    "test": (_test, False),
    "pause": (_pause, False),
    "resume": (_resume, False),
    "sync": (_sync, False),
    "writes": (_writes, False),
    "cap": (_cap, True),
    "rename": (_rename, True),
    "keys": (_keys, True),
}


@require_POST
@staff_required
def desk_step(request: HttpRequest, store_id: int, step: str) -> HttpResponse:
    if step not in STEPS:
        return _store_page(request, store_id, status=404)
    run, in_place = STEPS[step]
    try:
        done = run(request, store_id)
    except ApplicationError as error:
        if error.status in (403, 404):
            raise
        if in_place:
            errors = {step: _error(error, FORM_FIELDS.get(step, ()))}
            return _store_page(request, store_id, errors=errors, status=422)
        messages.error(request, str(error.detail))
        return redirect("connectors_desk:store", store_id=store_id)
    messages.success(request, done)
    return redirect("connectors_desk:store", store_id=store_id)


@require_POST
@staff_required
def desk_remove(request: HttpRequest, store_id: int) -> HttpResponse:
    principal = request.principal
    store = selectors.store_get(actor=principal, store_id=store_id)
    if request.POST.get("confirm") != "yes":
        error = {"detail": _("Tick the box to confirm the removal."), "field": "confirm"}
        return _store_page(request, store_id, errors={"remove": error}, status=422)
    try:
        services.store_remove(actor=principal, store_id=store_id)
    except ApplicationError as error:
        if error.status in (403, 404):
            raise
        return _store_page(request, store_id, errors={"remove": _error(error)}, status=422)
    messages.success(request, _("Store %(name)s removed.") % {"name": store.name})
    return redirect("connectors_desk:list")


@require_POST
@staff_required
def desk_import(request: HttpRequest, store_id: int) -> HttpResponse:
    upload = request.FILES.get("file")
    try:
        result = services.store_import(
            actor=request.principal,
            store_id=store_id,
            data=upload.read() if upload else b"",
            filename=upload.name if upload else "",
        )
    except ApplicationError as error:
        if error.status in (403, 404):
            raise
        return _store_page(request, store_id, errors={"import": _error(error)}, status=422)
    return _store_page(request, store_id, imported=result)


# --- the platforms' push messages -------------------------------------------------------------

FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


@csrf_exempt
@require_POST
def push(request: HttpRequest, platform: str, store_id: int) -> HttpResponse:
    try:
        body = request.body
    except RawPostDataException:  # a multipart body, read as a form already
        body = b""
    incoming = Incoming(
        body=body,
        headers={name.lower(): value for name, value in request.headers.items()},
        form=request.POST.dict() if request.content_type in FORM_TYPES else {},
    )
    try:
        received = push_receive(platform=platform, store_id=store_id, push=incoming)
    except ApplicationError as error:
        return JsonResponse(
            error.as_dict(), status=error.status, json_dumps_params={"ensure_ascii": False}
        )
    return JsonResponse(received.answer, json_dumps_params={"ensure_ascii": False})
