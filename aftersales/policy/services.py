"""Writes of a shop's policy: its first version, and new versions by an administrator."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max

from aftersales.catalog.models import Shop
from aftersales.core.actors import Principal
from aftersales.core.permissions import require
from aftersales.policy.data import policy_validate
from aftersales.policy.models import Policy
from aftersales.policy.rules import (
    MERGED_FIELDS,
    policy_data_complete,
    preset_policy,
    staff_cost_per_hour,
)


def policy_create_initial(*, shop: Shop, actor_user_id: int | None = None) -> Policy:
    return Policy.objects.create(
        shop=shop,
        version=1,
        preset=shop.preset,
        data=policy_validate(preset_policy(shop.preset)),
        created_by_id=actor_user_id,
    )


@transaction.atomic
def policy_update(
    *, actor: Principal, shop: Shop, changes: dict[str, Any], preset_name: str | None = None
) -> Policy:
    """Make a new version from the current one (or from a newly chosen preset) plus ``changes``.
    Open cases keep the version they were opened under. Administrators only."""
    require(actor, "policy.write", shop)
    actor_user_id = actor.user_id
    Shop.objects.select_for_update().filter(pk=shop.pk).first()
    current = policy_current(shop=shop)
    base_preset = preset_name or current.preset
    # Rules added since the current version was written come from its preset.
    data = preset_policy(base_preset) if preset_name else policy_data_complete(current)
    for key, value in changes.items():
        if key in MERGED_FIELDS and isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    normalised = policy_validate(data)
    if normalised == current.data and base_preset == current.preset:
        return current
    version = (shop.policies.aggregate(top=Max("version"))["top"] or 0) + 1
    if preset_name and preset_name != shop.preset:
        shop.preset = preset_name
        shop.save(update_fields=["preset", "updated_at"])
    return Policy.objects.create(
        shop=shop, version=version, preset=base_preset, data=normalised, created_by_id=actor_user_id
    )


def policy_current(*, shop: Shop) -> Policy:
    current = shop.policies.order_by("-version").first()
    if current is None:
        current = policy_create_initial(shop=shop)
    return current


def staff_rate_of(subject) -> Decimal:
    """The staff cost per hour of a subject's shop (a case, a complaint…) by its current policy:
    a contact is costed at the rate of the moment it is logged."""
    return staff_cost_per_hour(policy_current(shop=subject.shop))
