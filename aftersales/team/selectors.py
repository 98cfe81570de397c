"""Reads for authentication, and the notes and contacts the team keeps beside a subject."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet

from aftersales.core.actors import Principal, Role
from aftersales.core.compiled import Compiled
from aftersales.team.models import ApiToken, ContactLog, Note
from aftersales.team.services import hash_token

PRINCIPAL_FIELDS = (
    "user_id",
    "user__username",
    "user__membership__id",
    "user__membership__role",
    "user__membership__customer_id",
    "user__membership__customer__shop_id",
    "user__is_superuser",
    # one row per shop the member has a role in (one row of nulls for none)
    "user__membership__shop_roles__shop_id",
    "user__membership__shop_roles__role",
)

# The caller of every API request and of every page: one query, compiled once per process.
_BY_TOKEN = Compiled(
    lambda key_hash: ApiToken.objects.filter(
        key_hash=key_hash,
        revoked_at=None,
        user__is_active=True,
        user__membership__isnull=False,
    ).values(*PRINCIPAL_FIELDS),
    PRINCIPAL_FIELDS,
    key_hash=str,
)
_USER_FIELDS = ("id", *(name.removeprefix("user__") for name in PRINCIPAL_FIELDS[1:]))
_BY_USER = Compiled(
    lambda user_id: (
        get_user_model()
        .objects.filter(pk=user_id, is_active=True, membership__isnull=False)
        .values(*_USER_FIELDS)
    ),
    _USER_FIELDS,
    user_id=int,
)


def principal_for_token(token: str) -> Principal | None:
    """Resolve a bearer token to the caller, or ``None`` for unknown, revoked or orphan tokens.

    One query (the token, its user, membership and shop roles), compiled once: this runs on
    every API request.
    """
    if not token or len(token) > 200:
        return None
    return _principal(_BY_TOKEN.rows(key_hash=hash_token(token)))


def principal_for_user(user_id: int) -> Principal | None:
    """The principal of a signed-in user of the pages (the same rules as a token's)."""
    return _principal(
        [
            dict(zip(PRINCIPAL_FIELDS, row.values(), strict=True))
            for row in _BY_USER.rows(user_id=user_id)
        ]
    )


def _principal(rows: list[dict]) -> Principal | None:
    if not rows:
        return None
    row = rows[0]
    role = row["user__membership__role"]
    base = {"user_id": row["user_id"], "username": row["user__username"], "role": role}
    if role == Role.CUSTOMER:
        return Principal(
            **base,
            shop_ids=frozenset({row["user__membership__customer__shop_id"]}),
            customer_id=row["user__membership__customer_id"],
        )
    shop_roles = {
        each["user__membership__shop_roles__shop_id"]: each["user__membership__shop_roles__role"]
        for each in rows
        if each["user__membership__shop_roles__shop_id"] is not None
    }
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
