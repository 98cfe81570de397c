"""A store's sync: every request its platform changed since the last one, landed once.

``land`` keeps the platform's request as last read, idempotent under duplicates and out-of-order
reads: a read whose modified time is older than the stored one's changes nothing, and so does a
read of the same modified time and version (the platform's clock and version decide, never the
order in which reads arrive). A push message is a reason to read a request again, never its
content (``refresh``).

``store_sync`` walks the store's windows (``connectors.walker``) from its position to now and
stores the new position after each complete window, so a failure loses nothing: rate limiting
sets when to try again, rejected keys stop the store until a person renews them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from django.db import transaction

from aftersales.connectors import keys, writeback
from aftersales.connectors.base import (
    Adapter,
    ConnectorError,
    CredentialRejected,
    RateLimited,
    RemoteRequest,
)
from aftersales.connectors.cases import follow
from aftersales.connectors.models import PlatformRequest, Store
from aftersales.connectors.registry import KITS
from aftersales.connectors.walker import WalkInterrupted, walk
from aftersales.core import clock

# A new store reads the changes of this many days before it was added.
FIRST_SYNC_DAYS = 3
# One sync reads at most this many windows (two days of Pinduoduo's half hours); a store that
# fell further behind catches up over the next syncs, none of them holding a worker for long.
MAX_WINDOWS_PER_SYNC = 96


def adapter_for(store: Store) -> Adapter:
    return KITS[store.platform].connect(keys.unseal(store.sealed_keys), store.gateway)


def _fields(store: Store, request: RemoteRequest) -> dict:
    mapped = KITS[store.platform].map_request(request)
    return {
        "order_id": request.order_id,
        "status": request.status,
        "kind": request.kind,
        "version": request.version,
        "platform_created_at": request.created_at,
        "modified_at": request.modified_at,
        "amount": request.amount,
        "reason": request.reason[:500],
        "handling": request.handling or bool(mapped and mapped.handling),
        "deadline_at": request.deadline_at,
        "payload": {**asdict(request), "raw": dict(request.raw)},
        "mapped_kind": str(mapped.kind) if mapped else "",
        "mapped_state": str(mapped.state) if mapped else "",
        "money_out": bool(mapped and mapped.money_out),
        "needs_person": mapped is None or mapped.kind == "unmodelled",
    }


@dataclass(frozen=True)
class Landed:
    request: PlatformRequest
    changed: bool


@transaction.atomic
def land(store: Store, request: RemoteRequest) -> Landed:
    """Keep ``request`` as the store's latest read of it, unless what is stored is as new."""
    now = clock.now()
    row = (
        PlatformRequest.objects.select_for_update()
        .filter(store=store, request_id=request.request_id)
        .first()
    )
    if row is None:
        row, created = PlatformRequest.objects.get_or_create(
            store=store,
            request_id=request.request_id,
            defaults={**_fields(store, request), "first_seen_at": now, "updated_at": now},
        )
        if created:
            row.store = store
            follow(row)
            return Landed(row, True)
        row = PlatformRequest.objects.select_for_update().get(pk=row.pk)
    row.store = store
    if request.modified_at < row.modified_at:
        return Landed(row, False)  # an older read arriving late: it settles nothing
    if request.modified_at == row.modified_at and request.version in (row.version, ""):
        # A fresh read, as it was (a listing without the version token is no newer): a lost write
        # did not happen. A fuller read of the same moment may give the step's deadline that a
        # listing does not (Pinduoduo's detail): kept.
        writeback.settle(row, changed=False)
        if request.deadline_at is None or request.deadline_at == row.deadline_at:
            return Landed(row, False)
        row.deadline_at, row.updated_at = request.deadline_at, now
        row.save(update_fields=["deadline_at", "updated_at"])
        follow(row)
        return Landed(row, True)
    fields = _fields(store, request)
    if request.deadline_at is None and request.status == row.status:
        fields["deadline_at"] = row.deadline_at  # a read that does not give it keeps the step's
    for name, value in fields.items():
        setattr(row, name, value)
    row.updated_at = now
    row.revisions += 1
    row.save()
    writeback.settle(row, changed=True)
    follow(row)
    return Landed(row, True)


def refresh(store: Store, request_id: str, *, order_id: str = "") -> Landed:
    """Read one request again (what a push message asks for) and land it; ``order_id`` is the
    request's order where the push gave it (Pinduoduo's read needs it for a request never seen)."""
    known = PlatformRequest.objects.filter(store=store, request_id=request_id).first()
    order_id = known.order_id if known else order_id
    return land(store, adapter_for(store).read(request_id, order_id=order_id))


@dataclass(frozen=True)
class SyncResult:
    requests: int
    changed: int
    synced_until: dt.datetime | None
    error: str = ""


def _record_error(store: Store, error: ConnectorError, now: dt.datetime) -> None:
    store.last_error = error.code
    store.last_error_detail = str(error.detail or error)[:2000]
    store.last_error_at = now
    if isinstance(error, RateLimited):
        store.rate_limited_until = now + dt.timedelta(seconds=error.retry_after)
    if isinstance(error, CredentialRejected):
        store.paused = True  # a person renews the keys, then resumes the store


def store_sync(store_id: int, *, until: dt.datetime | None = None) -> SyncResult:
    """Walk the store's changes from its position to ``until`` (now), landing each request."""
    store = Store.objects.get(pk=store_id)
    now = clock.now()
    until = until or now
    if store.paused or (store.rate_limited_until and store.rate_limited_until > now):
        return SyncResult(0, 0, store.synced_until, "waiting")
    try:
        adapter = adapter_for(store)
    except keys.KeysUnreadable:
        store.last_error, store.last_error_at, store.paused = "keys_unreadable", now, True
        store.save(update_fields=["last_error", "last_error_at", "paused", "updated_at"])
        return SyncResult(0, 0, store.synced_until, "keys_unreadable")
    since = store.synced_until or (store.created_at - dt.timedelta(days=FIRST_SYNC_DAYS))
    changed = 0

    def seen(request: RemoteRequest) -> None:
        nonlocal changed
        changed += land(store, request).changed

    def done(position: dt.datetime) -> None:
        Store.objects.filter(pk=store.pk).update(synced_until=position)

    error = ""
    try:
        progress = walk(
            adapter,
            since=since,
            until=until,
            now=now,
            seen=seen,
            done=done,
            max_windows=MAX_WINDOWS_PER_SYNC,
        )
    except WalkInterrupted as interrupted:
        progress = interrupted.progress
        _record_error(store, interrupted.error, now)
        error = interrupted.error.code
    else:
        store.last_error, store.last_error_detail, store.rate_limited_until = "", "", None
    store.synced_until = max(progress.synced_until, store.synced_until or progress.synced_until)
    store.last_sync_at = now
    if progress.unreachable_before:
        store.unreachable_before = progress.unreachable_before
    store.save()
    return SyncResult(progress.requests, changed, store.synced_until, error)


def store_create(
    *, shop, platform: str, name: str, credentials, gateway: str = "", synced_until=None
) -> Store:
    """A store of ``shop`` on ``platform`` with its keys sealed; writes stay off."""
    if platform not in KITS:
        raise ValueError(f"unknown platform {platform}")
    return Store.objects.create(
        shop=shop,
        platform=platform,
        name=name,
        seller_id=credentials.seller_id,
        sealed_keys=keys.seal(credentials),
        gateway=gateway,
        synced_until=synced_until,
    )
