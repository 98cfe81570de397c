"""A store's sync: every request its platform changed since the last one, landed once.

``land_page`` keeps a page of the platform's requests as last read, idempotent under duplicates
and out-of-order reads: a read whose modified time is older than the stored one's changes
nothing, and so does a read of the same modified time and version (the platform's clock and
version decide, never the order in which reads arrive). A page is one transaction of a few
statements, whatever its size; the requests it changed are marked for their cases to follow
(``cases.follow_pending``), which is the next step, never part of the landing. ``land`` is one
request, its case following at once. A push message is a reason to read a request again, never
its content (``refresh``).

``store_sync`` walks the store's windows (``connectors.walker``) from its position to now and
stores the new position after each complete window, so a failure loses nothing: rate limiting
sets when to try again, rejected keys stop the store until a person renews them. Then the cases
of what changed follow.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, fields

from django.db import transaction

from aftersales.connectors import keys, writeback
from aftersales.connectors.base import (
    Adapter,
    ConnectorError,
    CredentialRejected,
    RateLimited,
    RemoteLine,
    RemoteRequest,
)
from aftersales.connectors.cases import follow_now, follow_pending
from aftersales.connectors.models import PlatformRequest, PlatformWrite, Store
from aftersales.connectors.registry import KITS
from aftersales.connectors.walker import WalkInterrupted, walk
from aftersales.core import clock
from aftersales.core.bulk import bulk_insert_new, bulk_update_rows

# A new store reads the changes of this many days before it was added.
FIRST_SYNC_DAYS = 3
# One sync reads at most this many windows (two days of Pinduoduo's half hours); a store that
# fell further behind catches up over the next syncs, none of them holding a worker for long.
MAX_WINDOWS_PER_SYNC = 96
# One sync lets at most this many requests' cases follow them (a minute or two of a worker): a
# first sync of a busy store's days goes on in the next task (``tasks.sync_store``).
FOLLOW_PER_SYNC = 2_000


def adapter_for(store: Store) -> Adapter:
    return KITS[store.platform].connect(keys.unseal(store.sealed_keys), store.gateway)


_SCALARS = tuple(f.name for f in fields(RemoteRequest) if f.name not in ("lines", "raw"))
_LINE = tuple(f.name for f in fields(RemoteLine))


def _payload(request: RemoteRequest) -> dict:
    """The request as read, for the JSON column (``dataclasses.asdict`` without its deep copy:
    nothing here changes what the adapter parsed)."""
    payload = {name: getattr(request, name) for name in _SCALARS}
    payload["lines"] = [{name: getattr(line, name) for name in _LINE} for line in request.lines]
    payload["raw"] = dict(request.raw)
    return payload


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
        "payload": _payload(request),
        "mapped_kind": str(mapped.kind) if mapped else "",
        "mapped_state": str(mapped.state) if mapped else "",
        "money_out": bool(mapped and mapped.money_out),
        "needs_person": mapped is None or mapped.kind == "unmodelled",
    }


# What a changed read writes over the stored row.
_WRITTEN = (
    "order_id",
    "status",
    "kind",
    "version",
    "platform_created_at",
    "modified_at",
    "amount",
    "reason",
    "handling",
    "deadline_at",
    "payload",
    "mapped_kind",
    "mapped_state",
    "money_out",
    "needs_person",
    "updated_at",
    "revisions",
    "follow_pending",
)
_INSERTED = tuple(
    field.name for field in PlatformRequest._meta.concrete_fields if not field.primary_key
)


@dataclass(frozen=True)
class Landed:
    request: PlatformRequest
    changed: bool


# What comparing a read with the stored row found.
OLDER, SAME, CHANGED = "older", "same", "changed"


def _apply(row: PlatformRequest, request: RemoteRequest, now: dt.datetime) -> str:
    """Compare a read with the stored row and change the row (in memory) if the read is newer:
    ``OLDER`` (a read arriving late: it says nothing, it settles nothing), ``SAME`` or
    ``CHANGED``."""
    if request.modified_at < row.modified_at:
        return OLDER
    if request.modified_at == row.modified_at and request.version in (row.version, ""):
        # A fresh read, as it was (a listing without the version token is no newer): a lost write
        # did not happen. A fuller read of the same moment may give the step's deadline that a
        # listing does not (Pinduoduo's detail): kept.
        if request.deadline_at is None or request.deadline_at == row.deadline_at:
            return SAME
        row.deadline_at = request.deadline_at
    else:
        changed = _fields(row.store, request)
        if request.deadline_at is None and request.status == row.status:
            # a read that does not give the step's deadline keeps the one known
            changed["deadline_at"] = row.deadline_at
        for name, value in changed.items():
            setattr(row, name, value)
        row.revisions += 1
    row.updated_at = now
    row.follow_pending = True
    return CHANGED


@transaction.atomic
def land_page(store: Store, requests: Sequence[RemoteRequest]) -> list[Landed]:
    """Keep each of ``requests`` (a page of a listing, say) as the store's latest read of it,
    unless what is stored is as new: in one transaction, the stored rows locked and read by one
    query, the new ones inserted by one and the changed ones written by one. A request changed
    is marked for its case to follow (``cases.follow_pending``), which is the caller's next step:
    the page's landing never waits on the cases. Each request's answer, in order."""
    if not requests:
        return []
    now = clock.now()
    wanted = list(dict.fromkeys(request.request_id for request in requests))
    rows = {
        row.request_id: row
        for row in PlatformRequest.objects.select_for_update().filter(
            store=store, request_id__in=wanted
        )
    }
    for row in rows.values():
        row.store = store
    stored = set(rows)
    found: list[str] = []  # per read: OLDER, SAME or CHANGED
    new: dict[str, PlatformRequest] = {}
    for request in requests:
        row = rows.get(request.request_id)
        if row is None:
            row = PlatformRequest(
                store=store,
                request_id=request.request_id,
                first_seen_at=now,
                updated_at=now,
                follow_pending=True,
                **_fields(store, request),
            )
            rows[request.request_id] = new[request.request_id] = row
            found.append(CHANGED)
            continue
        found.append(_apply(row, request, now))
    if new:
        inserted = set(bulk_insert_new(PlatformRequest, list(new.values()), _INSERTED))
        for row in PlatformRequest.objects.select_for_update().filter(
            store=store, request_id__in=list(new)
        ):
            if row.pk in inserted:
                new[row.request_id].pk = row.pk
                new[row.request_id]._state.adding = False
                continue
            # Another worker landed it meanwhile: this page's reads are compared with its row.
            row.store = store
            rows[row.request_id] = row
            stored.add(row.request_id)
            for index, request in enumerate(requests):
                if request.request_id == row.request_id:
                    found[index] = _apply(row, request, now)
    changed, settling = set(), set()
    for request, outcome in zip(requests, found, strict=True):
        if request.request_id in stored and outcome != OLDER:
            settling.add(request.request_id)
            if outcome == CHANGED:
                changed.add(request.request_id)
    bulk_update_rows(PlatformRequest, [rows[request_id] for request_id in changed], _WRITTEN)
    # A write with no answer is settled by the next read of its request (new rows have none).
    if settling:
        unsettled = set(
            PlatformWrite.objects.filter(
                request__store=store,
                request__request_id__in=list(settling),
                status__in=writeback.UNSETTLED,
            ).values_list("request__request_id", flat=True)
        )
        for request_id in unsettled:
            writeback.settle(rows[request_id], changed=request_id in changed)
    return [
        Landed(rows[request.request_id], outcome == CHANGED)
        for request, outcome in zip(requests, found, strict=True)
    ]


def land(store: Store, request: RemoteRequest) -> Landed:
    """Keep ``request`` as the store's latest read of it, unless what is stored is as new, and
    let its case follow at once (a push's read, an imported line: one request at a time)."""
    landed = land_page(store, [request])[0]
    if landed.changed:
        return Landed(follow_now(landed.request), True)
    return landed


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
    followed: int = 0  # requests whose cases followed them
    follow_left: bool = False  # more wait for their cases (past ``FOLLOW_PER_SYNC``)


def _record_error(store: Store, error: ConnectorError, now: dt.datetime) -> None:
    store.last_error = error.code
    store.last_error_detail = str(error.detail or error)[:2000]
    store.last_error_at = now
    if isinstance(error, RateLimited):
        store.rate_limited_until = now + dt.timedelta(seconds=error.retry_after)
    if isinstance(error, CredentialRejected):
        store.paused = True  # a person renews the keys, then resumes the store


def store_sync(
    store_id: int, *, until: dt.datetime | None = None, follow: bool = True
) -> SyncResult:
    """Walk the store's changes from its position to ``until`` (now), landing them page by page;
    then (``follow``) let the cases of the requests that changed follow them, one request at a
    time: what the platform says is kept first, whatever the cases make of it."""
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

    def seen_page(requests: tuple[RemoteRequest, ...]) -> None:
        nonlocal changed
        changed += sum(landed.changed for landed in land_page(store, requests))

    def done(position: dt.datetime) -> None:
        Store.objects.filter(pk=store.pk).update(synced_until=position)

    error = ""
    try:
        progress = walk(
            adapter,
            since=since,
            until=until,
            now=now,
            seen_page=seen_page,
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
    followed = follow_pending(store, limit=FOLLOW_PER_SYNC) if follow else 0
    left = (
        followed >= FOLLOW_PER_SYNC
        and PlatformRequest.objects.filter(store=store, follow_pending=True).exists()
    )
    return SyncResult(progress.requests, changed, store.synced_until, error, followed, left)


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
