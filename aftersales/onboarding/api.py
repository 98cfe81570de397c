"""Shops over HTTP: onboarding one, and reading it with its policy's version."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status

from aftersales.catalog import selectors
from aftersales.catalog.models import Shop
from aftersales.catalog.schemas import ShopIn, ShopOut
from aftersales.catalog.services import AddressData
from aftersales.core.schemas import ERROR_RESPONSES
from aftersales.onboarding.services import shop_onboard
from aftersales.policy.services import policy_current

router = Router(tags=["shops and orders"])


def present_shop(shop: Shop) -> dict:
    return {
        "code": shop.code,
        "name": shop.name,
        "preset": shop.preset,
        "timezone": shop.timezone,
        "currency": shop.currency,
        "return_addresses": list(shop.return_addresses.order_by("id")),
        "policy_version": policy_current(shop=shop).version,
    }


@router.post("/shops", response={201: ShopOut, **ERROR_RESPONSES})
def create_shop(request: HttpRequest, payload: ShopIn):
    shop = shop_onboard(
        actor=request.auth,
        code=payload.code,
        name=payload.name,
        preset=payload.preset,
        timezone=payload.timezone,
        currency=payload.currency,
        return_addresses=[AddressData(**a.model_dump()) for a in payload.return_addresses],
    )
    return Status(201, present_shop(shop))


@router.get("/shops/{code}", response={200: ShopOut, **ERROR_RESPONSES})
def get_shop(request: HttpRequest, code: str):
    return present_shop(selectors.shop_get(actor=request.auth, code=code))
