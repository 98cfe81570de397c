"""Reads for authentication, and the notes and contacts the team keeps beside a subject."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import F, QuerySet

from aftersales.core.actors import Principal, Role
from aftersales.team.models import ApiToken, ContactLog, Note, ShopRole
from aftersales.team.services import hash_token


def principal_for_token(token: str) -> Principal | None:
    """Resolve a bearer token to the caller, or ``None`` for unknown, revoked or orphan tokens.

    Read as plain values in at most two small queries: this runs on every API request.
    """
    if not token or len(token) > 200:
        return None
    row = (
        ApiToken.objects.filter(
            key_hash=hash_token(token),
            revoked_at=None,
            user__is_active=True,
            user__membership__isnull=False,
        )
        .values(*PRINCIPAL_FIELDS)
        .first()
    )
    return _principal(row)


def principal_for_user(user_id: int) -> Principal | None:
    """The principal of a signed-in user of the pages (the same rules as a token's)."""
    row = (
        get_user_model()
        .objects.filter(pk=user_id, is_active=True, membership__isnull=False)
        .values(
            user_id=F("id"),
            user__username=F("username"),
            user__membership__id=F("membership__id"),
            user__membership__role=F("membership__role"),
            user__membership__customer_id=F("membership__customer_id"),
            user__membership__customer__shop_id=F("membership__customer__shop_id"),
            user__is_superuser=F("is_superuser"),
        )
        .first()
    )
    return _principal(row)


PRINCIPAL_FIELDS = (
    "user_id",
    "user__username",
    "user__membership__id",
    "user__membership__role",
    "user__membership__customer_id",
    "user__membership__customer__shop_id",
    "user__is_superuser",
)


def _principal(row: dict | None) -> Principal | None:
    if row is None:
        return None
    role = row["user__membership__role"]
    base = {"user_id": row["user_id"], "username": row["user__username"], "role": role}
    if role == Role.CUSTOMER:
        return Principal(
            **base,
            shop_ids=frozenset({row["user__membership__customer__shop_id"]}),
            customer_id=row["user__membership__customer_id"],
        )
    shop_roles = dict(
        ShopRole.objects.filter(membership_id=row["user__membership__id"]).values_list(
            "shop_id", "role"
        )
    )
    # Tied to no shop: the installation's admin (made so, with the Django admin, by
    # ``user_create``; an admin whose last shop was taken back is not one) or its operator.
    if not shop_roles and (
        role == Role.PLATFORM_OPERATOR or (role == Role.ADMIN and row["user__is_superuser"])
    ):
        return Principal(**base, shop_ids=None)
    return Principal(**base, shop_ids=frozenset(shop_roles), shop_roles=shop_roles)


# --- what the team keeps beside a subject ------------------------------------------------------


def _about(subject) -> dict:
    return {"subject_type": ContentType.objects.get_for_model(subject), "subject_id": subject.pk}


def notes_for(subject) -> QuerySet[Note]:
    """A subject's internal notes, oldest first (the caller has already scoped the subject)."""
    return Note.objects.filter(**_about(subject)).order_by("id")


def contacts_for(subject) -> QuerySet[ContactLog]:
    """A subject's contact log, oldest first (the caller has already scoped the subject)."""
    return ContactLog.objects.filter(**_about(subject)).order_by("id")
