"""API shapes of the marketplace stores (types only). Keys go in, never out: a store answers
whether its keys are set and the last four characters of its app key."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from aftersales.connectors.models import StorePlatform
from aftersales.core.schemas import Amount, BodyBool, Input, Output

KeyText = Annotated[str, Field(max_length=500)]
# Kuaishou: ``sign_secret`` (required: its API's signature) and ``message_secret`` (base64 of
# an AES key: its push messages). The other platforms take none.
ExtraKeys = Annotated[dict[str, KeyText], Field(max_length=5)]


class StoreKeysIn(Input):
    app_key: str = Field(min_length=1, max_length=500)
    app_secret: str = Field(min_length=1, max_length=500)
    access_token: str = Field(min_length=1, max_length=500)
    extra: ExtraKeys = Field(default_factory=dict)


class StoreIn(Input):
    platform: StorePlatform
    name: str = Field(min_length=1, max_length=100)
    # The platform's id of the shop (Taobao nick or seller id, Pinduoduo mall id, JD venderId,
    # Douyin shop id, Kuaishou sellerId): one store per account.
    seller_id: str = Field(min_length=1, max_length=100)
    # A shop without API access: no keys, never synced; its requests come from the exports.
    import_only: BodyBool = False
    app_key: KeyText = ""
    app_secret: KeyText = ""
    access_token: KeyText = ""
    extra: ExtraKeys = Field(default_factory=dict)
    # The platform's gateway unless given (a sandbox).
    gateway: str = Field("", max_length=200)


class StoreChangesIn(Input):
    """What to change; a field left out (or null) keeps its value. ``write_enabled`` and
    ``auto_refund_cap`` are the shop administrators' (``store.writes``)."""

    name: str | None = Field(None, min_length=1, max_length=100)
    gateway: str | None = Field(None, max_length=200)
    write_enabled: BodyBool | None = None
    auto_refund_cap: Amount | None = None
    # The platform's id of the shop's return address ("" : the shop's default address is sent).
    return_address_id: str | None = Field(None, max_length=60)


class StoreKeysOut(Output):
    set: bool
    # False when the installation's secret key changed since they were sealed.
    readable: bool
    app_key_end: str


class StoreHealthOut(Output):
    state: Literal["import_only", "paused", "rate_limited", "failing", "never_synced", "ok"]
    state_label: str
    last_sync_at: dt.datetime | None
    # The end of the last span read completely; the lag is now minus it.
    synced_until: dt.datetime | None
    lag_seconds: int | None
    last_error: str | None
    last_error_words: str
    last_error_detail: str
    last_error_at: dt.datetime | None
    # Set while the platform makes the store wait.
    rate_limited_until: dt.datetime | None
    paused: bool
    paused_for_keys: bool
    paused_words: str
    requests: int
    waiting_for_person: int
    # Requests read whose cases have not yet been opened or moved (the sync's next step).
    cases_to_follow: int
    # Writes being sent or whose outcome is unknown (a later read settles them).
    writes_unsettled: int
    unreachable_before: dt.datetime | None
    unreachable_words: str


class StoreOut(Output):
    id: int
    shop: str
    platform: StorePlatform
    platform_label: str
    name: str
    seller_id: str
    api_access: bool
    keys: StoreKeysOut
    gateway: str
    write_enabled: bool
    auto_refund_cap: Decimal
    return_address_id: str
    # Where the platform (or the relay) posts its push messages; null without API access.
    push_url: str | None
    created_at: dt.datetime
    health: StoreHealthOut


class StorePage(Output):
    items: list[StoreOut]


class StoreTestOut(Output):
    ok: bool
    code: str | None
    words: str
    # The platform's own words, as it sent them.
    detail: str


class StoreSyncOut(Output):
    # False: a sync of the store was already waiting to run (it reads up to when it runs).
    queued: bool
