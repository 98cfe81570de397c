"""The reads of a shop's marketplace stores, always scoped to the caller (``store.view``): a store
of another shop answers 404, as if it did not exist.

A store's health is read from its own columns (where its sync got to, its last error, its waits)
and three counts (the requests it keeps, those waiting for a person, the writes whose outcome is
not known yet). Every error code a sync or a test can leave has its words here: people never see
the code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.catalog.models import Shop
from aftersales.connectors import keys
from aftersales.connectors.models import PlatformRequest, PlatformWrite, Store, WriteStatus
from aftersales.core.actors import Principal
from aftersales.core.errors import NotFound
from aftersales.core.permissions import require, shops_permitted

READ = "store.view"
IMPORT = "store.import"
MANAGE = "store.manage"
WRITES = "store.writes"

# A write sent whose answer has not come (or never will): the next read of its request settles it.
UNSETTLED_WRITES = (WriteStatus.SENDING, WriteStatus.UNKNOWN)
# The errors that pause a store until a person gives it keys that work.
KEY_ERRORS = frozenset({"credential_rejected", "keys_unreadable"})

ERROR_WORDS = {
    "rate_limited": gettext_lazy(
        "The platform asked us to slow down. The sync waits, then goes on where it stopped."
    ),
    "credential_rejected": gettext_lazy(
        "The platform refused the store's keys: they are wrong, expired or lack a permission. "
        "Renew them, test them, then resume the store."
    ),
    "keys_unreadable": gettext_lazy(
        "The store's keys can no longer be opened (this installation's secret key changed). "
        "Enter them again, then resume the store."
    ),
    "version_conflict": gettext_lazy(
        "The request changed on the platform since it was read: it is read again."
    ),
    "outcome_unknown": gettext_lazy(
        "The platform did not answer a write: it may have happened. It is never sent again; "
        "the next read of the request settles it."
    ),
    "handle_on_platform": gettext_lazy(
        "The platform does not let an API handle this request: a person handles it in the "
        "platform's back office."
    ),
    "state_refused": gettext_lazy(
        "The platform refused the write in the request's current state: it is read again."
    ),
    "platform_unreachable": gettext_lazy(
        "The platform could not be reached or gave no usable answer. The next sync tries again."
    ),
    "not_offered": gettext_lazy(
        "The platform has no API call for this: a person does it in the platform's back office."
    ),
    "platform_refused": gettext_lazy("The platform refused the call."),
    "platform_error": gettext_lazy("The call to the platform failed."),
    "waiting": gettext_lazy(
        "Not synced: the store is paused or waits until the platform lets it call again."
    ),
}

STATE_WORDS = {
    "import_only": gettext_lazy("Import only: its requests come from the platform's exports"),
    "paused": gettext_lazy("Paused"),
    "rate_limited": gettext_lazy("Waiting for the platform"),
    "failing": gettext_lazy("The last sync failed"),
    "never_synced": gettext_lazy("Not synced yet"),
    "ok": gettext_lazy("Synced"),
}


def error_words(code: str) -> str:
    """An error code of a sync or a test in words ("" for none)."""
    if not code:
        return ""
    return str(ERROR_WORDS.get(code, ERROR_WORDS["platform_error"]))


def paused_words(store: Store) -> str:
    """Why a paused store is paused ("" when it is not)."""
    if not store.paused:
        return ""
    if store.last_error in KEY_ERRORS:
        return _("Paused until its keys work again: %(why)s") % {
            "why": error_words(store.last_error)
        }
    return _("Paused by a person: it is not synced and nothing is written to the platform.")


# --- the stores -------------------------------------------------------------------------------


def stores_for(actor: Principal, queryset: QuerySet | None = None) -> QuerySet:
    """``queryset`` (every store) narrowed to the shops whose stores the caller may see."""
    if queryset is None:
        queryset = Store.objects.all()
    require(actor, READ)
    shops = shops_permitted(actor, READ)
    return queryset if shops is None else queryset.filter(shop_id__in=shops)


def _count(queryset: QuerySet) -> Coalesce:
    counted = (
        queryset.filter(store=OuterRef("pk"))
        .order_by()
        .values("store")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _with_counts(queryset: QuerySet) -> QuerySet:
    return queryset.select_related("shop").annotate(
        requests_kept=_count(PlatformRequest.objects.all()),
        waiting_for_person=_count(PlatformRequest.objects.filter(needs_person=True)),
        cases_to_follow=_count(PlatformRequest.objects.filter(follow_pending=True)),
        writes_unsettled=_count(PlatformWrite.objects.filter(status__in=UNSETTLED_WRITES)),
    )


def store_list(*, actor: Principal, shop: Shop | None = None) -> list[Store]:
    """The stores the caller may see (of ``shop`` only, when given), by shop and name, each with
    its counts."""
    stores = stores_for(actor)
    if shop is not None:
        stores = stores.filter(shop=shop)
    return list(_with_counts(stores).order_by("shop__code", "name", "id"))


def store_get(*, actor: Principal, store_id: int) -> Store:
    """One store of the caller's shops, with its counts."""
    store = _with_counts(stores_for(actor, Store.objects.filter(pk=store_id))).first()
    if store is None:
        raise NotFound(_("No such store."), code="store_not_found")
    return store


def requests_for_a_person(*, store: Store, limit: int = 100) -> list[PlatformRequest]:
    """The store's requests whose platform codes the mapping does not know (or whose kind the
    cases do not model): a person decides what each is. Latest change first."""
    return list(
        PlatformRequest.objects.filter(store=store, needs_person=True).order_by(
            "-modified_at", "-id"
        )[:limit]
    )


# --- the health of a store --------------------------------------------------------------------


@dataclass(frozen=True)
class Health:
    """What a person needs to see of a store's sync. ``state`` sums it up (``STATE_WORDS``);
    the API answers these fields as they are (the lag in seconds)."""

    state: str
    state_label: str
    last_sync_at: dt.datetime | None
    synced_until: dt.datetime | None
    lag: dt.timedelta | None
    last_error: str
    last_error_words: str
    last_error_detail: str
    last_error_at: dt.datetime | None
    rate_limited_until: dt.datetime | None
    paused: bool
    paused_for_keys: bool
    paused_words: str
    requests: int
    waiting_for_person: int
    cases_to_follow: int  # requests read, their cases not yet opened or moved
    writes_unsettled: int
    unreachable_before: dt.datetime | None
    unreachable_words: str


def _state(store: Store, now: dt.datetime) -> str:
    if not store.api_access:
        return "import_only"
    if store.paused:
        return "paused"
    if store.rate_limited_until and store.rate_limited_until > now:
        return "rate_limited"
    if store.last_error:
        return "failing"
    if store.last_sync_at is None:
        return "never_synced"
    return "ok"


def store_health(store: Store, *, now: dt.datetime) -> Health:
    """The health of a store read by ``store_get`` or ``store_list`` (they count its requests)."""
    state = _state(store, now)
    waiting = store.rate_limited_until
    if waiting is not None and waiting <= now:
        waiting = None  # the wait is over
    unreachable = ""
    if store.unreachable_before:
        unreachable = _(
            "The platform no longer gives the changes made before this time (they are older "
            "than it lets an API read): import the platform's export to cover them."
        )
    return Health(
        state=state,
        state_label=str(STATE_WORDS[state]),
        last_sync_at=store.last_sync_at,
        synced_until=store.synced_until,
        lag=now - store.synced_until if store.synced_until and store.api_access else None,
        last_error=store.last_error,
        last_error_words=error_words(store.last_error),
        last_error_detail=store.last_error_detail,
        last_error_at=store.last_error_at,
        rate_limited_until=waiting,
        paused=store.paused,
        paused_for_keys=store.paused and store.last_error in KEY_ERRORS,
        paused_words=paused_words(store),
        requests=getattr(store, "requests_kept", 0),
        waiting_for_person=getattr(store, "waiting_for_person", 0),
        cases_to_follow=getattr(store, "cases_to_follow", 0),
        writes_unsettled=getattr(store, "writes_unsettled", 0),
        unreachable_before=store.unreachable_before,
        unreachable_words=unreachable,
    )


# --- its keys, as far as they are shown -------------------------------------------------------


@dataclass(frozen=True)
class KeysShown:
    """What is shown of a store's keys: whether it has any, whether they can be opened, and
    the last four characters of the app key (enough to tell two apps apart)."""

    set: bool
    readable: bool
    app_key_end: str


def keys_shown(store: Store) -> KeysShown:
    if not store.sealed_keys:
        return KeysShown(set=False, readable=True, app_key_end="")
    try:
        app_key = keys.unseal(store.sealed_keys).app_key
    except keys.KeysUnreadable:
        return KeysShown(set=True, readable=False, app_key_end="")
    return KeysShown(set=bool(app_key), readable=True, app_key_end=app_key[-4:])
