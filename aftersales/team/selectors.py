"""Reads for authentication, and the notes and contacts the team keeps beside a subject."""

from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet

from aftersales.core.actors import Principal, Role
from aftersales.core.compiled import Compiled
from aftersales.team.models import ApiToken, ContactLog, Note
from aftersales.team.services import hash_token

# What a principal kept by a process must still match: every column of the token's user and
# membership it was built from (a token revoked or deleted, a user deactivated or deleted, made
# a superuser or renamed in the Django admin: no row, or another row), and the membership's
# ``auth_version``, which the team's services change with the member's shops and roles.
STAMP_FIELDS = (
    "user_id",
    "user__username",
    "user__membership__id",
    "user__membership__role",
    "user__membership__customer_id",
    "user__is_superuser",
    "user__membership__auth_version",
)
PRINCIPAL_FIELDS = (
    *STAMP_FIELDS,
    "user__membership__customer__shop_id",
    # one row per shop the member has a role in (one row of nulls for none)
    "user__membership__shop_roles__shop_id",
    "user__membership__shop_roles__role",
)
_ACTIVE_TOKEN = {"revoked_at": None, "user__is_active": True, "user__membership__isnull": False}

# The caller of every API request and of every page: one query, compiled once per process.
_BY_TOKEN = Compiled(
    lambda key_hash: ApiToken.objects.filter(key_hash=key_hash, **_ACTIVE_TOKEN).values(
        *PRINCIPAL_FIELDS
    ),
    PRINCIPAL_FIELDS,
    key_hash=str,
)
_STAMP_BY_TOKEN = Compiled(
    lambda key_hash: ApiToken.objects.filter(key_hash=key_hash, **_ACTIVE_TOKEN).values(
        *STAMP_FIELDS
    ),
    STAMP_FIELDS,
    key_hash=str,
)
_USER_FIELDS = ("id", *(name.removeprefix("user__") for name in PRINCIPAL_FIELDS[1:]))
_ACTIVE_USER = {"is_active": True, "membership__isnull": False}
_BY_USER = Compiled(
    lambda user_id: (
        get_user_model().objects.filter(pk=user_id, **_ACTIVE_USER).values(*_USER_FIELDS)
    ),
    _USER_FIELDS,
    user_id=int,
)
_STAMP_BY_USER = Compiled(
    lambda user_id: (
        get_user_model()
        .objects.filter(pk=user_id, **_ACTIVE_USER)
        .values(*_USER_FIELDS[: len(STAMP_FIELDS)])
    ),
    _USER_FIELDS[: len(STAMP_FIELDS)],
    user_id=int,
)


class PrincipalCache:
    """The callers a process resolved lately, each with the stamp it was built from.

    A hit is checked against the database on every use (one query on the token's, user's and
    membership's rows by their unique keys, without the shop roles' join): a revoked token, a
    deactivated user or a changed role is refused or seen on the very next request, in every
    process. What is saved is the resolution itself (the joins over the member's shops, one row
    each, and building the principal). An entry lives ``ttl`` seconds at most; a full cache
    starts again empty.
    """

    def __init__(self, ttl: float = 60.0, size: int = 10_000):
        self.ttl = ttl
        self.size = size
        self._entries: dict = {}

    def get(self, key, stamp_of) -> Principal | None:
        """The kept principal for ``key`` if it is fresh and ``stamp_of()`` still matches it."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, stamp, principal = entry
        if expires < time.monotonic() or stamp_of() != stamp:
            self._entries.pop(key, None)
            return None
        return principal

    def put(self, key, stamp: tuple, principal: Principal) -> None:
        if len(self._entries) >= self.size:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + self.ttl, stamp, principal)

    def clear(self) -> None:
        self._entries.clear()


_PRINCIPALS = PrincipalCache()


def principal_cache_clear() -> None:
    """Forget every caller this process resolved (what a new process starts with)."""
    _PRINCIPALS.clear()


def principal_for_token(token: str) -> Principal | None:
    """Resolve a bearer token to the caller, or ``None`` for unknown, revoked or orphan tokens.

    This runs on every API request: the principal is kept per process (``PrincipalCache``) and
    checked with one query on each use; resolving it anew is one query too (the token, its user,
    membership and shop roles). Both are compiled once.
    """
    if not token or len(token) > 200:
        return None
    key_hash = hash_token(token)
    key = ("token", key_hash)
    principal = _PRINCIPALS.get(key, lambda: _stamp(_STAMP_BY_TOKEN.tuples(key_hash=key_hash)))
    if principal is not None:
        return principal
    rows = _BY_TOKEN.tuples(key_hash=key_hash)
    principal = _principal([dict(zip(PRINCIPAL_FIELDS, row, strict=True)) for row in rows])
    if principal is not None:
        _PRINCIPALS.put(key, _stamp(rows), principal)
    return principal


def principal_for_user(user_id: int) -> Principal | None:
    """The principal of a signed-in user of the pages (the same rules as a token's, kept and
    checked the same way)."""
    key = ("user", user_id)
    principal = _PRINCIPALS.get(key, lambda: _stamp(_STAMP_BY_USER.tuples(user_id=user_id)))
    if principal is not None:
        return principal
    rows = _BY_USER.tuples(user_id=user_id)
    principal = _principal([dict(zip(PRINCIPAL_FIELDS, row, strict=True)) for row in rows])
    if principal is not None:
        _PRINCIPALS.put(key, _stamp(rows), principal)
    return principal


def _stamp(rows: list[tuple]) -> tuple | None:
    """The stamp columns of the first row (all rows of one caller share them)."""
    return tuple(rows[0][: len(STAMP_FIELDS)]) if rows else None


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
