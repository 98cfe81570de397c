"""Writes for users, memberships and tokens."""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.catalog.models import Customer, Shop
from aftersales.core import clock
from aftersales.core.actors import SYSTEM, Principal, Role
from aftersales.core.errors import Conflict, InvalidInput, NotFound
from aftersales.team.audit import audit_record
from aftersales.team.models import (
    ApiToken,
    AuditChange,
    Membership,
    ReplyTemplate,
    new_auth_version,
)

TOKEN_PREFIX = "as_"
STARTER_TEMPLATES = Path(__file__).resolve().parent / "data" / "reply_templates.json"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def user_create(
    *,
    username: str,
    role: str,
    shop_codes: list[str] | None = None,
    customer_external_id: str | None = None,
    password: str | None = None,
    email: str = "",
    actor: Principal = SYSTEM,
):
    """A user with a role: a member of the shops named (the role in each of them), an admin or
    platform operator of the whole installation (no shop), or a customer's login. On the audit
    log."""
    if role not in Role.values:
        raise InvalidInput(_("Unknown role %(role)s.") % {"role": role}, code="unknown_role")
    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        raise Conflict(_("User %(name)s already exists.") % {"name": username}, code="user_exists")
    shops = list(Shop.objects.filter(code__in=shop_codes or []))
    missing = set(shop_codes or []) - {shop.code for shop in shops}
    if missing:
        raise NotFound(
            _("No shop %(code)s.") % {"code": ", ".join(sorted(missing))}, code="shop_not_found"
        )
    customer = None
    if role == Role.CUSTOMER:
        if len(shops) != 1 or not customer_external_id:
            raise InvalidInput(
                _("A customer user needs exactly one shop and the customer's external id."),
                code="customer_required",
            )
        if len(customer_external_id) > 100:
            raise InvalidInput(_("The customer's external id is too long."), code="invalid_input")
        # The login may come before the customer's first order: the order import fills in the
        # name and phone of the customer created here.
        customer, _created = Customer.objects.get_or_create(
            shop=shops[0], external_id=customer_external_id
        )
    elif customer_external_id:
        raise InvalidInput(_("Only customer users are tied to a customer."), code="invalid_input")
    if role == Role.PLATFORM_OPERATOR and shops:
        raise InvalidInput(
            _("A platform operator works across the installation, for no one shop."),
            code="invalid_input",
        )
    # An admin tied to no shop administers the whole installation, the Django admin included; a
    # shop's admin does not get it (it shows every shop's data).
    is_installation_admin = role == Role.ADMIN and not shops
    user = user_model.objects.create_user(
        username=username,
        email=email,
        password=password,
        is_staff=is_installation_admin,
        is_superuser=is_installation_admin,
    )
    membership = Membership.objects.create(user=user, role=role, customer=customer)
    if role != Role.CUSTOMER and shops:
        membership.shops.set(shops, through_defaults={"role": role})
    where = [customer.shop] if customer is not None else shops or [None]
    for shop in where:
        audit_record(actor=actor, member=user, shop=shop, change=AuditChange.GRANTED, after=role)
    return user


@transaction.atomic
def token_create(*, username: str, name: str = "", token: str | None = None) -> str:
    """Make a token for a user and return it; only its hash is kept."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None or not hasattr(user, "membership"):
        raise NotFound(_("No user %(name)s.") % {"name": username}, code="user_not_found")
    token = token or TOKEN_PREFIX + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, name=name, key_hash=hash_token(token), prefix=token[:10])
    return token


def token_for_credentials(*, username: str, password: str, name: str = "") -> str | None:
    """A new token for a user who proves their password, or ``None``."""
    from django.contrib.auth import authenticate

    user = authenticate(username=username, password=password)
    if user is None or not hasattr(user, "membership"):
        return None
    return token_create(username=user.username, name=name or "login")


def auth_version_bump(*, membership_id: int) -> None:
    """The member's shops or roles changed: a principal a process kept for them is resolved
    again on its next use (``team.selectors.PrincipalCache``). Called in the change's own
    transaction by every write of ``ShopRole``."""
    Membership.objects.filter(pk=membership_id).update(auth_version=new_auth_version())


@transaction.atomic
def token_revoke(*, token: str) -> None:
    # Nothing to bump: a kept principal is checked against the token's row itself, which a
    # revoked token no longer matches (``revoked_at``).
    updated = ApiToken.objects.filter(key_hash=hash_token(token), revoked_at=None).update(
        revoked_at=clock.now()
    )
    if not updated:
        raise NotFound(_("No such active token."), code="token_not_found")


def reply_templates_seed(shop: Shop) -> None:
    """Give a shop the starter set (Chinese and English, the reply wording of the after-sales
    handbooks, docs/domain.md) if it has none."""
    if ReplyTemplate.objects.filter(shop=shop).exists():
        return
    starter = json.loads(STARTER_TEMPLATES.read_text(encoding="utf-8"))
    ReplyTemplate.objects.bulk_create(
        ReplyTemplate(shop=shop, language=language, title=title, body=body)
        for language, items in starter.items()
        for title, body in items
    )
