"""Webhooks over HTTP: a shop's administrators add, list and remove its endpoints (the secret is
answered once, on creation) and replay a webhook delivery."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Router, Status

from aftersales.catalog import selectors as catalog_selectors
from aftersales.core.schemas import ERROR_RESPONSES, Id, Input, Output
from aftersales.notify import selectors, services

router = Router(tags=["webhooks"])


class WebhookIn(Input):
    url: str = Field(min_length=1, max_length=500)
    event_kinds: list[str] = Field(default_factory=list, max_length=100)
    description: str = Field("", max_length=200)


class WebhookOut(Output):
    id: int
    url: str
    event_kinds: list[str]
    is_active: bool
    description: str
    created_at: dt.datetime


class WebhookCreatedOut(WebhookOut):
    # Shown once: sign-checking needs it, and it is not answered again.
    secret: str


class DeliveryOut(Output):
    id: int
    channel: str
    status: str
    attempts: int
    next_attempt_at: dt.datetime


@router.get("/shops/{code}/webhooks", response={200: list[WebhookOut], **ERROR_RESPONSES})
def list_webhooks(request: HttpRequest, code: str):
    """The shop's webhook endpoints (administrators)."""
    shop = catalog_selectors.shop_get(actor=request.auth, code=code)
    return list(selectors.webhook_endpoints_for(actor=request.auth, shop=shop))


@router.post("/shops/{code}/webhooks", response={201: WebhookCreatedOut, **ERROR_RESPONSES})
def create_webhook(request: HttpRequest, code: str, payload: WebhookIn):
    """A new endpoint; the answer carries its signing secret, this once."""
    shop = catalog_selectors.shop_get(actor=request.auth, code=code)
    endpoint = services.webhook_endpoint_create(
        actor=request.auth, shop=shop, **payload.model_dump()
    )
    return Status(201, endpoint)


@router.delete("/shops/{code}/webhooks/{endpoint_id}", response={204: None, **ERROR_RESPONSES})
def delete_webhook(request: HttpRequest, code: str, endpoint_id: Id):
    shop = catalog_selectors.shop_get(actor=request.auth, code=code)
    services.webhook_endpoint_delete(actor=request.auth, shop=shop, endpoint_id=endpoint_id)
    return Status(204, None)


@router.post(
    "/webhook-deliveries/{delivery_id}/replay", response={202: DeliveryOut, **ERROR_RESPONSES}
)
def replay_webhook_delivery(request: HttpRequest, delivery_id: Id):
    """Send a dead or delivered webhook delivery once more (same delivery id)."""
    delivery = services.delivery_replay(actor=request.auth, delivery_id=delivery_id)
    return Status(202, delivery)
