"""Care campaigns over HTTP: a shop's campaigns, one campaign's changes and its sends. Thin:
parse, authorise (in ``crm.care``), call, present. Another shop's campaigns are 404."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.http import HttpRequest
from ninja import Field, Query, Router, Status
from pydantic import StrictBool, StrictInt

from aftersales.core.schemas import (
    ERROR_RESPONSES,
    BodyId,
    DateText,
    Id,
    Input,
    Output,
    refuse_unknown_parameters,
)
from aftersales.crm import access, care
from aftersales.crm.models import CareCampaign, CareKind, CareSend, Segment

router = Router(tags=["care"])

Days = Annotated[StrictInt, Field(ge=0, le=care.DAYS_MAX)]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Subject = Annotated[str, Field(min_length=1, max_length=200)]
Body = Annotated[str, Field(min_length=1, max_length=4000)]
Tiers = Annotated[list[BodyId], Field(max_length=50)]
Segments = Annotated[list[Segment], Field(max_length=10)]


class CampaignIn(Input):
    """``days``: before the birthday (0–30), after the order was signed for (``after_use``) or
    after the last paid order (``repurchase``); ``send_on``: the day of a ``holiday`` or a
    ``new_arrival`` campaign. ``subject`` and ``body`` may use ``{name}``, ``{shop}`` and
    ``{tier}``. No ``tier_ids`` nor ``segments``: every customer."""

    kind: CareKind
    name: Name
    subject: Subject
    body: Body
    tier_ids: Tiers = []
    segments: Segments = []
    days: Days | None = None
    send_on: DateText | None = Field(None, examples=["2027-01-28"])
    is_active: StrictBool = True


class CampaignPatch(Input):
    """The fields to change (the kind stays)."""

    name: Name | None = None
    subject: Subject | None = None
    body: Body | None = None
    tier_ids: Tiers | None = None
    segments: Segments | None = None
    days: Days | None = None
    send_on: DateText | None = None
    is_active: StrictBool | None = None


class CampaignOut(Output):
    id: int
    kind: str
    kind_label: str
    name: str
    subject: str
    body: str
    tier_ids: list[int]
    segments: list[str]
    days: int | None
    send_on: dt.date | None
    is_active: bool
    sent: int
    created_at: dt.datetime
    updated_at: dt.datetime


class CampaignPage(Output):
    items: list[CampaignOut]


class SendOut(Output):
    id: int
    customer: int
    customer_name: str
    occasion: str
    notice: int | None
    delivered_at: dt.datetime | None
    created_at: dt.datetime


class SendPage(Output):
    items: list[SendOut]
    count: int
    page: int
    size: int


class SendQuery(Input):
    page: Annotated[int, Field(ge=1, le=100000)] = 1
    size: Annotated[int, Field(ge=1, le=200)] = 50


def present(campaign: CareCampaign, sent: int | None = None) -> dict:
    return {
        **{
            name: getattr(campaign, name)
            for name in ("id", "kind", "name", "subject", "body", "tier_ids", "segments")
        },
        "kind_label": str(CareKind(campaign.kind).label),
        "days": campaign.days,
        "send_on": campaign.send_on,
        "is_active": campaign.is_active,
        "sent": sent if sent is not None else CareSend.objects.filter(campaign=campaign).count(),
        "created_at": campaign.created_at,
        "updated_at": campaign.updated_at,
    }


def present_send(send: CareSend) -> dict:
    return {
        "id": send.pk,
        "customer": send.customer_id,
        "customer_name": send.customer.name or send.customer.external_id,
        "occasion": send.occasion,
        "notice": send.notice_id,
        "delivered_at": send.notice.delivered_at if send.notice else None,
        "created_at": send.created_at,
    }


@router.get("/shops/{code}/care-campaigns", response={200: CampaignPage, **ERROR_RESPONSES})
def list_campaigns(request: HttpRequest, code: str):
    """The shop's care campaigns, the active first (leads and administrators)."""
    shop = access.shop_for(actor=request.auth, code=code, action=care.MANAGE)
    return {"items": [present(c) for c in care.campaigns_of(actor=request.auth, shop=shop)]}


@router.post("/shops/{code}/care-campaigns", response={201: CampaignOut, **ERROR_RESPONSES})
def create_campaign(request: HttpRequest, code: str, payload: CampaignIn):
    """Add a care campaign; the worker sends it to whoever is due from then on."""
    shop = access.shop_for(actor=request.auth, code=code, action=care.MANAGE)
    campaign = care.campaign_create(actor=request.auth, shop=shop, fields=payload.model_dump())
    return Status(201, present(campaign, 0))


@router.patch("/care-campaigns/{campaign_id}", response={200: CampaignOut, **ERROR_RESPONSES})
def update_campaign(request: HttpRequest, campaign_id: Id, payload: CampaignPatch):
    """Change a campaign (``is_active: false`` pauses it)."""
    changes = {name: getattr(payload, name) for name in payload.model_fields_set}
    campaign = care.campaign_update(actor=request.auth, campaign_id=campaign_id, changes=changes)
    return present(campaign)


@router.delete("/care-campaigns/{campaign_id}", response={204: None, **ERROR_RESPONSES})
def delete_campaign(request: HttpRequest, campaign_id: Id):
    """Remove a campaign and its record of sends."""
    care.campaign_delete(actor=request.auth, campaign_id=campaign_id)
    return Status(204, None)


@router.get("/care-campaigns/{campaign_id}/sends", response={200: SendPage, **ERROR_RESPONSES})
def list_sends(request: HttpRequest, campaign_id: Id, query: Query[SendQuery]):
    """Who the campaign wrote to, for which occasion, newest first, a page at a time."""
    refuse_unknown_parameters(request, SendQuery)
    sends, count = care.sends_of(
        actor=request.auth, campaign_id=campaign_id, page=query.page, size=query.size
    )
    return {
        "items": [present_send(send) for send in sends],
        "count": count,
        "page": query.page,
        "size": query.size,
    }
