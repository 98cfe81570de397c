"""A shop's policy over HTTP: read it, with the source of every rule; change it (admins)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from aftersales.catalog import selectors
from aftersales.core.schemas import ERROR_RESPONSES
from aftersales.policy.models import Policy
from aftersales.policy.rules import policy_data_complete, preset
from aftersales.policy.schemas import PolicyIn, PolicyOut
from aftersales.policy.services import policy_current, policy_update

router = Router(tags=["shops and orders"])


def present_policy(policy: Policy) -> dict:
    return {
        "shop": policy.shop.code,
        "version": policy.version,
        "preset": policy.preset,
        "created_at": policy.created_at,
        **policy_data_complete(policy),  # with rules added since this version was written
        "sources": preset(policy.preset)["sources"],
    }


@router.get("/shops/{code}/policy", response={200: PolicyOut, **ERROR_RESPONSES})
def get_policy(request: HttpRequest, code: str):
    shop = selectors.shop_get(actor=request.auth, code=code)
    return present_policy(policy_current(shop=shop))


@router.put("/shops/{code}/policy", response={200: PolicyOut, **ERROR_RESPONSES})
def put_policy(request: HttpRequest, code: str, payload: PolicyIn):
    actor = request.auth
    shop = selectors.shop_get(actor=actor, code=code)
    changes = payload.model_dump(exclude_unset=True)
    preset_name = changes.pop("preset", None)
    policy = policy_update(actor=actor, shop=shop, changes=changes, preset_name=preset_name)
    return present_policy(policy)
