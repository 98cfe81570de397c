"""Onboarding a shop: one service on top of the apps a shop needs, each called for its part (the
catalog's shop and return addresses, the policy's first version, the team's starter replies)."""

from __future__ import annotations

from django.db import transaction

from aftersales.catalog.models import Platform, Shop
from aftersales.catalog.services import AddressData, shop_create
from aftersales.core.actors import Principal
from aftersales.playbooks.services import playbooks_seed
from aftersales.policy.services import policy_create_initial
from aftersales.team.services import reply_templates_seed


@transaction.atomic
def shop_onboard(
    *,
    actor: Principal,
    code: str,
    name: str,
    preset: str = Platform.GENERIC,
    timezone: str = "Asia/Shanghai",
    currency: str = "CNY",
    return_addresses: list[AddressData] | None = None,
) -> Shop:
    """A new shop, ready to take cases: its policy from its preset, the starter reply templates."""
    shop = shop_create(
        actor=actor,
        code=code,
        name=name,
        preset=preset,
        timezone=timezone,
        currency=currency,
        return_addresses=return_addresses,
    )
    policy_create_initial(shop=shop, actor_user_id=actor.user_id)
    reply_templates_seed(shop)
    playbooks_seed(shop=shop)
    return shop
