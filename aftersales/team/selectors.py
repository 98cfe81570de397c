"""Reads for authentication."""

from __future__ import annotations

from aftersales.team.models import ApiToken, Role
from aftersales.team.principal import Principal
from aftersales.team.services import hash_token


def principal_for_token(token: str) -> Principal | None:
    """Resolve a bearer token to the caller, or ``None`` for unknown, revoked or orphan tokens."""
    if not token or len(token) > 200:
        return None
    row = (
        ApiToken.objects.filter(key_hash=hash_token(token), revoked_at=None, user__is_active=True)
        .select_related("user__membership__customer")
        .first()
    )
    if row is None or not hasattr(row.user, "membership"):
        return None
    return principal_for_membership(row.user.membership)


def principal_for_membership(membership) -> Principal:
    user = membership.user
    if membership.role == Role.CUSTOMER:
        return Principal(
            user_id=user.pk,
            username=user.username,
            role=membership.role,
            shop_ids=frozenset({membership.customer.shop_id}),
            customer_id=membership.customer_id,
        )
    shop_ids = frozenset(membership.shops.values_list("id", flat=True))
    if membership.role == Role.ADMIN and not shop_ids:
        return Principal(
            user_id=user.pk, username=user.username, role=membership.role, shop_ids=None
        )
    return Principal(
        user_id=user.pk, username=user.username, role=membership.role, shop_ids=shop_ids
    )
