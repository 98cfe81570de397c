"""The writes of a shop's marketplace stores: add one (its keys sealed; or one without API access
whose requests come from the platform's exports), test its keys, pause and resume it, renew its
keys, rename it, turn its writes to the platform on or off and cap its automatic refunds, sync it
now, import the platform's export into it, and remove it.

Every write is keyword-only, takes the ``actor`` first and checks the permission matrix in the
store's shop (``store.manage``; writes and the refund cap ``store.writes``; an import
``store.import``): a store of a shop the actor does not see answers 404, a role that may not
403. Bad input is refused before anything changes.

A store is removed with the requests it keeps; the cases opened from them stay. It is refused
while a write to the platform is being sent or its outcome is unknown: that write may have paid
a buyer, and only a later read of its request, which needs the store, can settle it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from aftersales.catalog.models import Shop
from aftersales.connectors import keys, selectors, tasks
from aftersales.connectors.base import ConnectorError, Credentials, RateLimited, Window
from aftersales.connectors.models import PlatformWrite, Store, StorePlatform
from aftersales.connectors.push import kuaishou_message_key
from aftersales.connectors.sync import adapter_for, store_create
from aftersales.core import clock
from aftersales.core.actors import Principal
from aftersales.core.errors import Conflict, InvalidInput, NotFound
from aftersales.core.money import money
from aftersales.core.permissions import require
from aftersales.core.timeline import readable_time

# A test reads the changes of the last few minutes: it proves the keys and moves nothing.
TEST_WINDOW = dt.timedelta(minutes=5)
# The platforms' keys are short; anything longer is a paste gone wrong.
KEY_LIMIT = 500
TEXT_LIMIT = 100
GATEWAY_LIMIT = 200
LARGEST_CAP = Decimal("9999999999.99")
# A platform's after-sales export of a few months fits well within this.
EXPORT_LIMIT = 10 * 1024 * 1024

# What one platform needs beyond the app key, app secret and access token: name → required.
EXTRA_KEYS: dict[str, dict[str, bool]] = {
    # The API's signature uses the sign secret; push messages are encrypted with the message
    # secret (only needed to receive them).
    StorePlatform.KUAISHOU: {"sign_secret": True, "message_secret": False},
}

FIELD_LABELS = {
    "platform": gettext_lazy("Platform"),
    "name": gettext_lazy("Name"),
    "seller_id": gettext_lazy("The shop's id on the platform"),
    "app_key": gettext_lazy("App key"),
    "app_secret": gettext_lazy("App secret"),
    "access_token": gettext_lazy("Access token"),
    "sign_secret": gettext_lazy("Sign secret"),
    "message_secret": gettext_lazy("Message secret"),
    "gateway": gettext_lazy("Gateway URL"),
    "auto_refund_cap": gettext_lazy("Automatic refund cap"),
    "return_address_id": gettext_lazy("The platform's id of the return address"),
    "file": gettext_lazy("Export file"),
}


# --- checks -----------------------------------------------------------------------------------


def _required(field: str) -> InvalidInput:
    return InvalidInput(
        _("%(field)s is required.") % {"field": FIELD_LABELS[field]},
        code=f"{field}_required",
        field=field,
    )


def _text(value: Any, field: str, *, limit: int = TEXT_LIMIT, required: bool = True) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text and required:
        raise _required(field)
    if len(text) > limit:
        raise InvalidInput(
            _("%(field)s must be at most %(limit)s characters.")
            % {"field": FIELD_LABELS[field], "limit": limit},
            code=f"invalid_{field}",
            field=field,
        )
    return text


def _platform(value: Any) -> str:
    if not isinstance(value, str) or value not in StorePlatform.values:
        raise InvalidInput(
            _("%(field)s must be one of: %(choices)s.")
            % {
                "field": FIELD_LABELS["platform"],
                "choices": ", ".join(str(label) for label in StorePlatform.labels),
            },
            code="invalid_platform",
            field="platform",
        )
    return StorePlatform(value).value


def _gateway(value: Any) -> str:
    gateway = _text(value, "gateway", limit=GATEWAY_LIMIT, required=False)
    if gateway:
        try:
            URLValidator(schemes=["http", "https"])(gateway)
        except ValidationError:
            raise InvalidInput(
                _("The gateway must be an http or https URL."),
                code="invalid_gateway",
                field="gateway",
            ) from None
    return gateway


def _cap(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value).strip()) if not isinstance(value, bool) else None
    except InvalidOperation:
        amount = None
    if (
        amount is None
        or not amount.is_finite()
        or amount < 0
        or amount > LARGEST_CAP
        or amount != amount.quantize(Decimal("0.01"))
    ):
        raise InvalidInput(
            _("%(field)s must be an amount such as 12.50.")
            % {"field": FIELD_LABELS["auto_refund_cap"]},
            code="invalid_auto_refund_cap",
            field="auto_refund_cap",
        )
    return money(amount)


def credentials_for(
    platform: str,
    *,
    seller_id: str,
    app_key: Any,
    app_secret: Any,
    access_token: Any,
    extra: Mapping[str, Any] | None,
) -> Credentials:
    """A store's keys, checked: the three every platform needs, and the platform's extras."""
    wanted = EXTRA_KEYS.get(platform, {})
    given = dict(extra or {})
    unknown = sorted(set(given) - set(wanted))
    if unknown:
        raise InvalidInput(
            _("This platform takes no key named %(names)s.") % {"names": ", ".join(unknown)},
            code="invalid_extra",
            field="extra",
        )
    extras = {}
    for name, required in wanted.items():
        value = _text(given.get(name), name, limit=KEY_LIMIT, required=required)
        if value:
            extras[name] = value
    if "message_secret" in extras:
        try:
            kuaishou_message_key(extras["message_secret"])
        except ValueError:
            raise InvalidInput(
                _("The message secret must be the platform's AES key in base64."),
                code="invalid_message_secret",
                field="message_secret",
            ) from None
    return Credentials(
        app_key=_text(app_key, "app_key", limit=KEY_LIMIT),
        app_secret=_text(app_secret, "app_secret", limit=KEY_LIMIT),
        access_token=_text(access_token, "access_token", limit=KEY_LIMIT),
        seller_id=seller_id,
        extra=extras,
    )


def _import_only(store: Store) -> Conflict:
    return Conflict(
        _("This store has no API access: its requests come from the platform's exports."),
        code="store_import_only",
    )


def _store(actor: Principal, store_id: int, action: str, *, lock: bool = False) -> Store:
    """The store, if the actor sees it (404 otherwise), once the actor may take ``action`` in
    its shop (403 otherwise)."""
    stores = selectors.stores_for(actor, Store.objects.filter(pk=store_id))
    if lock:
        stores = stores.select_for_update()
    store = stores.first()
    if store is None:
        raise NotFound(_("No such store."), code="store_not_found")
    require(actor, action, store)
    return store


# --- adding a store ---------------------------------------------------------------------------


@transaction.atomic
def store_add(
    *,
    actor: Principal,
    shop: Shop,
    platform: str,
    name: str,
    seller_id: str,
    import_only: bool = False,
    app_key: str = "",
    app_secret: str = "",
    access_token: str = "",
    extra: Mapping[str, Any] | None = None,
    gateway: str = "",
) -> Store:
    """A store of ``shop`` on ``platform``: its keys sealed, writes to the platform off, no
    automatic refund; its first sync reads the last days. ``import_only``: a shop without API
    access, whose store keeps no keys and is never synced (its requests come from the platform's
    exports). One store per platform account (``seller_id``)."""
    require(actor, selectors.MANAGE, shop)
    platform = _platform(platform)
    name = _text(name, "name")
    seller_id = _text(seller_id, "seller_id")
    if import_only:
        credentials, gateway = Credentials("", "", "", seller_id=seller_id), ""
    else:
        credentials = credentials_for(
            platform,
            seller_id=seller_id,
            app_key=app_key,
            app_secret=app_secret,
            access_token=access_token,
            extra=extra,
        )
        gateway = _gateway(gateway)
    duplicate = Conflict(
        _("This platform account is already a store (one store per account)."),
        code="store_exists",
        field="seller_id",
    )
    if Store.objects.filter(platform=platform, seller_id=seller_id).exists():
        raise duplicate
    try:
        with transaction.atomic():
            store = store_create(
                shop=shop, platform=platform, name=name, credentials=credentials, gateway=gateway
            )
    except IntegrityError:  # added by someone else meanwhile
        raise duplicate from None
    if import_only:
        store.api_access, store.sealed_keys = False, ""
        store.save(update_fields=["api_access", "sealed_keys", "updated_at"])
    return store


# --- testing its keys -------------------------------------------------------------------------


@dataclass(frozen=True)
class TestResult:
    """A test of a store's keys: ``ok``, or the failure's code (for logs), words and the
    platform's own detail."""

    ok: bool
    code: str = ""
    words: str = ""
    detail: str = ""


def store_test(*, actor: Principal, store_id: int) -> TestResult:
    """Read the store's changes of the last minutes with its keys: proves them, or says why not
    (and records the failure as the store's last error). Never moves the store's sync position.
    Not one transaction: the platform's answer is waited for outside any (a write lock held for
    a network call would stop everyone); the failure is recorded in one."""
    store = _store(actor, store_id, selectors.MANAGE)
    if not store.api_access:
        raise _import_only(store)
    now = clock.now()
    try:
        adapter_for(store).changed(Window(now - TEST_WINDOW, now))
    except keys.KeysUnreadable:
        failure = TestResult(False, "keys_unreadable", selectors.error_words("keys_unreadable"))
        wait = None
    except ConnectorError as error:
        failure = TestResult(
            False, error.code, selectors.error_words(error.code), str(error.detail or error)
        )
        # The platform's wait is kept as a sync's would be: the schedule honours it.
        wait = dt.timedelta(seconds=error.retry_after) if isinstance(error, RateLimited) else None
    else:
        return TestResult(True, words=_("The platform accepted the store's keys."))
    _record_failure(store.pk, failure, now, wait=wait)
    return failure


@transaction.atomic
def _record_failure(
    store_id: int, failure: TestResult, now: dt.datetime, *, wait: dt.timedelta | None = None
) -> None:
    changes: dict[str, Any] = {
        "last_error": failure.code,
        "last_error_detail": failure.detail[:2000],
        "last_error_at": now,
        "updated_at": now,
    }
    if wait is not None:
        changes["rate_limited_until"] = now + wait
    Store.objects.filter(pk=store_id).update(**changes)


# --- pausing, resuming, its keys and settings -------------------------------------------------


@transaction.atomic
def store_pause(*, actor: Principal, store_id: int) -> Store:
    """No sync, no push read, no write to the platform until a person resumes it."""
    store = _store(actor, store_id, selectors.MANAGE, lock=True)
    if not store.api_access:
        raise _import_only(store)
    if not store.paused:
        store.paused = True
        store.save(update_fields=["paused", "updated_at"])
    return store


@transaction.atomic
def store_resume(*, actor: Principal, store_id: int) -> Store:
    """Sync again from where it stopped. A pause for rejected or unreadable keys is cleared with
    its error: if the keys still fail, the next sync pauses the store again."""
    store = _store(actor, store_id, selectors.MANAGE, lock=True)
    if not store.api_access:
        raise _import_only(store)
    store.paused = False
    if store.last_error in selectors.KEY_ERRORS:
        store.last_error, store.last_error_detail, store.last_error_at = "", "", None
    store.save()
    return store


@transaction.atomic
def store_keys_renew(
    *,
    actor: Principal,
    store_id: int,
    app_key: str,
    app_secret: str,
    access_token: str,
    extra: Mapping[str, Any] | None = None,
) -> Store:
    """New keys for the same platform account (sealed; the old ones are gone). A store without
    API access that is given keys gets it: it is synced from then on, its writes still off. A
    store paused for its keys stays paused: test the new ones, then resume it."""
    store = _store(actor, store_id, selectors.MANAGE, lock=True)
    credentials = credentials_for(
        store.platform,
        seller_id=store.seller_id,
        app_key=app_key,
        app_secret=app_secret,
        access_token=access_token,
        extra=extra,
    )
    store.sealed_keys = keys.seal(credentials)
    store.api_access = True
    store.save(update_fields=["sealed_keys", "api_access", "updated_at"])
    return store


@transaction.atomic
def store_update(
    *,
    actor: Principal,
    store_id: int,
    name: str | None = None,
    gateway: str | None = None,
    write_enabled: bool | None = None,
    auto_refund_cap: Decimal | str | None = None,
    return_address_id: str | None = None,
) -> Store:
    """Change what is given (``None``: unchanged). The name and the gateway are the managers'
    (``store.manage``); writes to the platform and the automatic refund cap move the shop's
    money there, and are its administrators' (``store.writes``)."""
    store = _store(actor, store_id, selectors.MANAGE, lock=True)
    if write_enabled is not None or auto_refund_cap is not None:
        require(actor, selectors.WRITES, store)
    if name is not None:
        store.name = _text(name, "name")
    if gateway is not None:
        if not store.api_access and gateway.strip():
            raise _import_only(store)
        store.gateway = _gateway(gateway)
    if write_enabled is not None:
        if write_enabled and not store.api_access:
            raise _import_only(store)
        store.write_enabled = bool(write_enabled)
    if auto_refund_cap is not None:
        store.auto_refund_cap = _cap(auto_refund_cap)
    if return_address_id is not None:
        # The platform's id of the shop's return address (Taobao, Douyin agree a return with it).
        store.return_address_id = _text(
            return_address_id, "return_address_id", limit=60, required=False
        )
    store.save()
    return store


# --- syncing now, importing, removing ---------------------------------------------------------


@transaction.atomic
def store_sync_now(*, actor: Principal, store_id: int) -> bool:
    """Queue the store's sync now (the worker's schedule would in a few minutes). False when a
    sync of it is already waiting to run: that one reads up to the moment it runs."""
    store = _store(actor, store_id, selectors.MANAGE)
    if not store.api_access:
        raise _import_only(store)
    if store.paused:
        raise Conflict(_("The store is paused: resume it first."), code="store_paused")
    now = clock.now()
    if store.rate_limited_until and store.rate_limited_until > now:
        raise Conflict(
            _("The platform asked us to wait until %(time)s.")
            % {"time": readable_time(store.rate_limited_until, store.shop.timezone)},
            code="store_rate_limited",
        )
    queued = tasks.waiting(tasks.sync_store, now=now, running=False)
    if queued is not None and [store.pk] in queued:
        return False
    tasks.enqueue(tasks.sync_store, store.pk)
    return True


@transaction.atomic
def store_import(*, actor: Principal, store_id: int, data: bytes, filename: str):
    """Land the requests of the platform's after-sales export (a CSV file from its back office)
    in the store, as a sync lands what it reads: idempotent, the newer read wins. For a store
    without API access, and for the changes an API no longer gives (``unreachable_before``).
    Answers the import's result: rows read, landed, changed, and each row's error."""
    store = _store(actor, store_id, selectors.IMPORT)
    if not data:
        raise _required("file")
    if len(data) > EXPORT_LIMIT:
        raise InvalidInput(
            _("The file is larger than %(megabytes)s MB.")
            % {"megabytes": EXPORT_LIMIT // (1024 * 1024)},
            code="file_too_large",
            field="file",
        )
    from aftersales.connectors import exports  # written beside this module

    return exports.import_export(store=store, data=data, filename=filename)


@transaction.atomic
def store_remove(*, actor: Principal, store_id: int) -> None:
    """The store goes with the requests it keeps and the record of its writes; the cases opened
    from them stay. Refused while a write is being sent or its outcome is unknown."""
    store = _store(actor, store_id, selectors.MANAGE, lock=True)
    unsettled = PlatformWrite.objects.filter(
        store=store, status__in=selectors.UNSETTLED_WRITES
    ).count()
    if unsettled:
        raise Conflict(
            ngettext(
                "%(count)s write to the platform is being sent or has no known outcome yet: the "
                "store's next read of its request settles it. Remove the store after that.",
                "%(count)s writes to the platform are being sent or have no known outcome yet: "
                "the store's next reads of their requests settle them. Remove the store after "
                "that.",
                unsettled,
            )
            % {"count": unsettled},
            code="store_writes_unsettled",
        )
    store.delete()
