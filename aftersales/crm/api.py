"""Customers over HTTP: a customer's profile, preferences, tier and class; the shop's tiers;
the retention queue; a customer's data export and erasure (PIPL). Thin: parse, authorise (in
the services and selectors), call, present. Another shop's customers, tiers and items are 404."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import StrictBool, StrictInt

from aftersales.catalog.models import CustomerLanguage
from aftersales.core.schemas import (
    ERROR_RESPONSES,
    Amount,
    DateText,
    Id,
    Input,
    Output,
    refuse_unknown_parameters,
)
from aftersales.crm import access, classification, privacy, profiles, retention
from aftersales.crm.models import MembershipTier, RetentionItem, RetentionState

router = Router(tags=["customers"])

Days = Annotated[StrictInt, Field(ge=1, le=3650)]


class PreferencesIn(Input):
    """What the customer asked for; only the fields given change. ``birthday`` ``null`` forgets
    it."""

    email_opt_out: StrictBool | None = None
    sms_opt_out: StrictBool | None = None
    care_opt_out: StrictBool | None = None
    language: CustomerLanguage | None = None
    birthday: DateText | None = Field(None, examples=["1990-05-17"])


class PreferencesOut(Output):
    email_opt_out: bool
    sms_opt_out: bool
    care_opt_out: bool
    language: str


class ClassificationOut(Output):
    tier: str | None
    tier_benefits: str
    tier_until: dt.datetime | None
    segment: str | None
    segment_label: str
    recency_days: int | None
    frequency: int
    monetary: Decimal
    average_order_value: Decimal
    recency_score: int | None
    frequency_score: int | None
    monetary_score: int | None
    classified_at: dt.datetime | None


class OrderRow(Output):
    id: int
    external_id: str
    status: str
    status_label: str
    paid_at: dt.datetime | None
    total_amount: Decimal


class CaseRow(Output):
    number: str
    order: str
    kind: str
    kind_label: str
    state: str
    state_label: str
    opened_at: dt.datetime
    resolved_at: dt.datetime | None
    refunded_amount: Decimal


class ComplaintRow(Output):
    number: str
    type: str
    type_label: str
    state: str
    state_label: str
    filed_at: dt.datetime


class ContactRow(Output):
    subject: str | None
    channel: str
    channel_label: str
    summary: str
    by: str
    at: dt.datetime


class ScoreRow(Output):
    case: str
    score: int | None
    comment: str
    at: dt.datetime | None
    self_selected: bool


class RetentionRow(Output):
    id: int
    reasons: list[str]
    reason_labels: list[str]
    gesture: str
    state: str
    state_label: str
    created_at: dt.datetime


class ProfileOut(Output):
    """A customer as the shop knows them. ``phone`` and ``email`` are masked (``138****5678``,
    ``a***@example.com``, ``masked`` true) for roles without ``customer.contact``."""

    id: int
    shop: str
    external_id: str
    name: str
    phone: str
    email: str
    masked: bool
    birthday: dt.date | None
    erased_at: dt.datetime | None
    preferences: PreferencesOut
    classification: ClassificationOut
    orders: list[OrderRow]
    cases: list[CaseRow]
    complaints: list[ComplaintRow]
    contacts: list[ContactRow]
    ratings: list[ScoreRow]
    surveys: list[ScoreRow]
    retention: list[RetentionRow]


class TierIn(Input):
    """A membership tier: reached with at least ``min_spend`` (net of refunds) and
    ``min_orders`` paid orders within ``window_days``; held ``validity_days``. A higher
    ``rank`` is a better tier."""

    name: Annotated[str, Field(min_length=1, max_length=60)]
    rank: Annotated[StrictInt, Field(ge=0, le=100)]
    min_spend: Amount = Decimal("0.00")
    min_orders: Annotated[StrictInt, Field(ge=0, le=100000)] = 0
    window_days: Days = 365
    validity_days: Days = 365
    benefits: Annotated[str, Field(max_length=2000)] = ""


class TierOut(Output):
    id: int
    name: str
    rank: int
    min_spend: Decimal
    min_orders: int
    window_days: int
    validity_days: int
    benefits: str


class TierPage(Output):
    items: list[TierOut]


class RetentionQuery(Schema):
    state: RetentionState = RetentionState.OPEN


class RetentionItemOut(Output):
    id: int
    customer: int
    customer_name: str
    reasons: list[str]
    gesture: str
    state: str
    note: str
    created_at: dt.datetime
    handled_at: dt.datetime | None
    handled_by: str | None


class RetentionPage(Output):
    items: list[RetentionItemOut]


class ResolveIn(Input):
    """``contacted`` (what was done, optional) or ``dismissed`` (why, required)."""

    outcome: Literal["contacted", "dismissed"]
    note: Annotated[str, Field(max_length=retention.NOTE_LIMIT)] = ""


class ErasedOut(Output):
    id: int
    erased: bool


def present_tier(tier: MembershipTier) -> dict:
    return {
        name: getattr(tier, name)
        for name in (
            "id",
            "name",
            "rank",
            "min_spend",
            "min_orders",
            "window_days",
            "validity_days",
            "benefits",
        )
    }


def present_item(item: RetentionItem) -> dict:
    return {
        "id": item.pk,
        "customer": item.customer_id,
        "customer_name": item.customer.name or item.customer.external_id,
        "reasons": item.reasons,
        "gesture": item.gesture,
        "state": item.state,
        "note": item.note,
        "created_at": item.created_at,
        "handled_at": item.resolved_at,
        "handled_by": item.handled_by.username if item.handled_by else None,
    }


@router.get("/customers/{customer_id}/profile", response={200: ProfileOut, **ERROR_RESPONSES})
def get_customer_profile(request: HttpRequest, customer_id: Id):
    """A customer's profile: orders, cases and complaints with their states, the contact log,
    ratings and surveys, preferences, birthday, tier and class, retention items."""
    return profiles.customer_profile(actor=request.auth, customer_id=customer_id)


@router.put(
    "/customers/{customer_id}/preferences", response={200: PreferencesOut, **ERROR_RESPONSES}
)
def put_customer_preferences(request: HttpRequest, customer_id: Id, payload: PreferencesIn):
    """Record the customer's opt-outs of care messages (by e-mail, by text message, or all),
    their language and birthday."""
    given = payload.model_fields_set
    customer = profiles.preferences_update(
        actor=request.auth,
        customer_id=customer_id,
        email_opt_out=payload.email_opt_out,
        sms_opt_out=payload.sms_opt_out,
        care_opt_out=payload.care_opt_out,
        language=payload.language,
        birthday=payload.birthday,
        clear_birthday="birthday" in given and payload.birthday is None,
    )
    return profiles.preferences_of(customer)


@router.get(
    "/customers/{customer_id}/classification",
    response={200: ClassificationOut, **ERROR_RESPONSES},
)
def get_customer_classification(request: HttpRequest, customer_id: Id):
    """The customer's membership tier and RFM class, as last computed."""
    customer = access.customer_for(actor=request.auth, customer_id=customer_id)
    row = profiles.classification_of(customer)
    row.pop("birthday")
    row.pop("erased_at")
    return row


@router.get("/customers/{customer_id}/export", response={200: dict[str, Any], **ERROR_RESPONSES})
def export_customer(request: HttpRequest, customer_id: Id):
    """Everything the product holds about the customer, unmasked (their PIPL access request;
    leads and administrators). Every export is logged: who, when, what."""
    return privacy.customer_export(actor=request.auth, customer_id=customer_id)


@router.post("/customers/{customer_id}/erase", response={200: ErasedOut, **ERROR_RESPONSES})
def erase_customer(request: HttpRequest, customer_id: Id):
    """Erase the customer's personal data (administrators; irreversible; logged). Orders,
    cases, refunds and amounts stay. Refused with 409 ``customer_has_open_cases`` while a case
    or complaint of theirs is open."""
    customer = privacy.customer_erase(actor=request.auth, customer_id=customer_id)
    return {"id": customer.pk, "erased": True}


@router.get("/shops/{code}/tiers", response={200: TierPage, **ERROR_RESPONSES})
def list_tiers(request: HttpRequest, code: str):
    """The shop's membership tiers, lowest rank first."""
    shop = access.shop_for(actor=request.auth, code=code, action=access.VIEW)
    tiers = classification.tier_list(actor=request.auth, shop=shop)
    return {"items": [present_tier(tier) for tier in tiers]}


@router.post("/shops/{code}/tiers", response={201: TierOut, **ERROR_RESPONSES})
def create_tier(request: HttpRequest, code: str, payload: TierIn):
    """Add a membership tier (leads and administrators); a name or rank taken is 409."""
    shop = access.shop_for(actor=request.auth, code=code, action=access.TIERS)
    tier = classification.tier_create(actor=request.auth, shop=shop, **payload.model_dump())
    return Status(201, present_tier(tier))


@router.put("/shops/{code}/tiers/{tier_id}", response={200: TierOut, **ERROR_RESPONSES})
def update_tier(request: HttpRequest, code: str, tier_id: Id, payload: TierIn):
    """Change a tier; customers move at the next recompute."""
    shop = access.shop_for(actor=request.auth, code=code, action=access.TIERS)
    tier = classification.tier_update(
        actor=request.auth, shop=shop, tier_id=tier_id, **payload.model_dump()
    )
    return present_tier(tier)


@router.delete("/shops/{code}/tiers/{tier_id}", response={204: None, **ERROR_RESPONSES})
def delete_tier(request: HttpRequest, code: str, tier_id: Id):
    """Remove a tier; its members hold none until the next recompute."""
    shop = access.shop_for(actor=request.auth, code=code, action=access.TIERS)
    classification.tier_delete(actor=request.auth, shop=shop, tier_id=tier_id)
    return Status(204, None)


@router.get("/shops/{code}/retention", response={200: RetentionPage, **ERROR_RESPONSES})
def list_retention(request: HttpRequest, code: str, query: Query[RetentionQuery]):
    """The shop's customers at risk (``state=open`` by default), oldest first."""
    refuse_unknown_parameters(request, RetentionQuery)
    shop = access.shop_for(actor=request.auth, code=code, action=access.MANAGE)
    items = retention.retention_list(actor=request.auth, shop=shop, state=query.state)
    return {"items": [present_item(item) for item in items]}


@router.post("/retention/{item_id}/resolve", response={200: RetentionItemOut, **ERROR_RESPONSES})
def resolve_retention(request: HttpRequest, item_id: Id, payload: ResolveIn):
    """Mark a customer at risk contacted, or dismiss the item with a note."""
    item = retention.retention_resolve(
        actor=request.auth, item_id=item_id, outcome=payload.outcome, note=payload.note
    )
    item = RetentionItem.objects.select_related("customer", "handled_by").get(pk=item.pk)
    return present_item(item)
