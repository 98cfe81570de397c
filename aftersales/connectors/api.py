"""Marketplace stores over HTTP: parse, authorise, call a service or selector, present. Every read
is scoped to the caller (``store.view``): another shop's store answers 404. Keys are taken, never
answered (only whether they are set and the app key's last four characters)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.http import HttpRequest
from ninja import Router, Status

from aftersales.catalog import selectors as catalog_selectors
from aftersales.connectors import selectors, services
from aftersales.connectors.models import Store, StorePlatform
from aftersales.connectors.push import push_url
from aftersales.connectors.schemas import (
    StoreChangesIn,
    StoreIn,
    StoreKeysIn,
    StoreOut,
    StorePage,
    StoreSyncOut,
    StoreTestOut,
)
from aftersales.core import clock
from aftersales.core.schemas import ERROR_RESPONSES, Id

router = Router(tags=["stores"])


def present_health(store: Store, now: dt.datetime) -> dict:
    health = selectors.store_health(store, now=now)
    fields = dataclasses.asdict(health)
    lag = fields.pop("lag")
    return {
        **fields,
        "lag_seconds": int(lag.total_seconds()) if lag is not None else None,
        "last_error": health.last_error or None,
    }


def present_store(store: Store, now: dt.datetime) -> dict:
    shown = selectors.keys_shown(store)
    return {
        "id": store.pk,
        "shop": store.shop.code,
        "platform": store.platform,
        "platform_label": str(StorePlatform(store.platform).label),
        "name": store.name,
        "seller_id": store.seller_id,
        "api_access": store.api_access,
        "keys": {
            "set": shown.set,
            "readable": shown.readable,
            "app_key_end": shown.app_key_end,
        },
        "gateway": store.gateway,
        "write_enabled": store.write_enabled,
        "auto_refund_cap": store.auto_refund_cap,
        "return_address_id": store.return_address_id,
        "push_url": push_url(store),
        "created_at": store.created_at,
        "health": present_health(store, now),
    }


def _answer(actor, store_id: int) -> dict:
    return present_store(selectors.store_get(actor=actor, store_id=store_id), clock.now())


@router.get("/shops/{code}/stores", response={200: StorePage, **ERROR_RESPONSES})
def list_stores(request: HttpRequest, code: str):
    """The shop's stores on the marketplaces, each with its health."""
    actor = request.auth
    shop = catalog_selectors.shop_get(actor=actor, code=code)
    now = clock.now()
    return {"items": [present_store(s, now) for s in selectors.store_list(actor=actor, shop=shop)]}


@router.post("/shops/{code}/stores", response={201: StoreOut, **ERROR_RESPONSES})
def add_store(request: HttpRequest, code: str, payload: StoreIn):
    """Add a store (the shop's administrators and leads): its keys are sealed, writes to the
    platform stay off and no refund is automatic until someone turns them on. ``import_only``:
    a shop without API access (no keys; its requests come from the platform's exports)."""
    actor = request.auth
    shop = catalog_selectors.shop_get(actor=actor, code=code)
    store = services.store_add(actor=actor, shop=shop, **payload.model_dump())
    return Status(201, _answer(actor, store.pk))


@router.get("/stores/{store_id}", response={200: StoreOut, **ERROR_RESPONSES})
def get_store(request: HttpRequest, store_id: Id):
    """A store with its health: last sync, lag, last error in words, waits, pause and why, the
    requests it keeps and those waiting for a person, writes with no known outcome."""
    return _answer(request.auth, store_id)


@router.patch("/stores/{store_id}", response={200: StoreOut, **ERROR_RESPONSES})
def update_store(request: HttpRequest, store_id: Id, payload: StoreChangesIn):
    """Rename a store, set its gateway, turn its writes to the platform on or off, or set its
    automatic refund cap (the last two: the shop's administrators)."""
    actor = request.auth
    services.store_update(actor=actor, store_id=store_id, **payload.model_dump())
    return _answer(actor, store_id)


@router.delete("/stores/{store_id}", response={204: None, **ERROR_RESPONSES})
def remove_store(request: HttpRequest, store_id: Id):
    """Remove a store with the requests it keeps (the cases opened from them stay). Refused
    (409 ``store_writes_unsettled``) while a write to the platform has no known outcome."""
    services.store_remove(actor=request.auth, store_id=store_id)
    return Status(204, None)


@router.post("/stores/{store_id}/test", response={200: StoreTestOut, **ERROR_RESPONSES})
def test_store(request: HttpRequest, store_id: Id):
    """Prove the store's keys: read its changes of the last minutes. A failure is answered (and
    kept as its last error), not raised; the sync's position does not move."""
    result = services.store_test(actor=request.auth, store_id=store_id)
    return {
        "ok": result.ok,
        "code": result.code or None,
        "words": result.words,
        "detail": result.detail,
    }


@router.post("/stores/{store_id}/pause", response={200: StoreOut, **ERROR_RESPONSES})
def pause_store(request: HttpRequest, store_id: Id):
    """No sync, no read for a push, no write to the platform until the store is resumed."""
    services.store_pause(actor=request.auth, store_id=store_id)
    return _answer(request.auth, store_id)


@router.post("/stores/{store_id}/resume", response={200: StoreOut, **ERROR_RESPONSES})
def resume_store(request: HttpRequest, store_id: Id):
    """Sync again from where it stopped (a pause for its keys is cleared with its error)."""
    services.store_resume(actor=request.auth, store_id=store_id)
    return _answer(request.auth, store_id)


@router.post("/stores/{store_id}/sync", response={202: StoreSyncOut, **ERROR_RESPONSES})
def sync_store_now(request: HttpRequest, store_id: Id):
    """Queue the store's sync now instead of at its next turn."""
    return Status(202, {"queued": services.store_sync_now(actor=request.auth, store_id=store_id)})


@router.put("/stores/{store_id}/keys", response={200: StoreOut, **ERROR_RESPONSES})
def renew_store_keys(request: HttpRequest, store_id: Id, payload: StoreKeysIn):
    """New keys for the store's platform account (a store without API access gets it)."""
    services.store_keys_renew(actor=request.auth, store_id=store_id, **payload.model_dump())
    return _answer(request.auth, store_id)
