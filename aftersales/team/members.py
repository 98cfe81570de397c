"""A shop's team: who works for it with which role, and the changes an administrator or a team
lead makes to it. Each change is checked against the one matrix (``team.manage`` in the shop),
made under the shop's row lock (two changes of one team never interleave, so a shop never loses
its last administrator to a race) and written to the audit log in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.catalog.models import Shop
from aftersales.core.actors import STAFF_ROLES, Principal, Role
from aftersales.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from aftersales.core.permissions import LEAD_GRANTS, require
from aftersales.team.audit import audit_record
from aftersales.team.models import AuditChange, ShopRole
from aftersales.team.services import auth_version_bump


@dataclass(frozen=True)
class Member:
    username: str
    role: str


def team_of(*, actor: Principal, shop: Shop) -> list[Member]:
    """The members of a shop's team by name (the caller must be allowed to see it)."""
    require(actor, "team.read", shop)
    rows = (
        ShopRole.objects.filter(shop=shop, membership__user__is_active=True)
        .order_by("membership__user__username")
        .values_list("membership__user__username", "role")
    )
    return [Member(username, role) for username, role in rows]


def _grantable(actor: Principal, shop: Shop, role: str | None) -> bool:
    """Whether ``actor`` may give (or take back) ``role`` in ``shop``: an administrator any
    shop role, a lead the roles under their own."""
    if role is None or actor.is_system or actor.role_in(shop.id) == Role.ADMIN:
        return True
    return role in LEAD_GRANTS


def _refuse_role(role: str) -> PermissionDenied:
    return PermissionDenied(
        _("Only an administrator gives or takes back the role “%(role)s”.")
        % {"role": Role(role).label},
        code="role_beyond_your_own",
    )


def _member(username: str):
    user = (
        get_user_model()
        .objects.filter(username=username, is_active=True, membership__isnull=False)
        .select_related("membership")
        .first()
    )
    if user is None:
        raise NotFound(_("No user %(name)s.") % {"name": username}, code="user_not_found")
    return user


def _locked(shop: Shop) -> None:
    Shop.objects.select_for_update().filter(pk=shop.pk).first()


def _check_last_admin(shop: Shop, current: ShopRole) -> None:
    if current.role != Role.ADMIN:
        return
    others = ShopRole.objects.filter(shop=shop, role=Role.ADMIN, membership__user__is_active=True)
    if not others.exclude(pk=current.pk).exists():
        raise Conflict(
            _("%(name)s is the shop's last administrator: make another member one first.")
            % {"name": current.membership.user.username},
            code="last_admin",
        )


@transaction.atomic
def team_member_set(*, actor: Principal, shop: Shop, username: str, role: str) -> Member:
    """Give ``username`` the role ``role`` in ``shop``: a new member of the team, or a new role
    for one. No change, no audit entry."""
    require(actor, "team.manage", shop)
    if role not in STAFF_ROLES:
        raise InvalidInput(
            _("The role in a shop is one of: %(roles)s.")
            % {"roles": ", ".join(str(Role(r).label) for r in Role.values if r in STAFF_ROLES)},
            code="invalid_role",
            field="role",
        )
    if not _grantable(actor, shop, role):
        raise _refuse_role(role)
    _locked(shop)
    user = _member(username)
    membership = user.membership
    if membership.role not in STAFF_ROLES or (membership.role == Role.ADMIN and user.is_superuser):
        raise InvalidInput(
            _("%(name)s is not a member of staff of a shop.") % {"name": username},
            code="not_staff",
            field="username",
        )
    current = ShopRole.objects.filter(membership=membership, shop=shop).first()
    if current is None:
        ShopRole.objects.create(membership=membership, shop=shop, role=role)
        auth_version_bump(membership_id=membership.pk)
        audit_record(actor=actor, member=user, shop=shop, change=AuditChange.GRANTED, after=role)
        return Member(username, role)
    if current.role == role:
        return Member(username, role)
    if not _grantable(actor, shop, current.role):
        raise _refuse_role(current.role)
    if role != Role.ADMIN:
        _check_last_admin(shop, current)
    before, current.role = current.role, role
    current.save(update_fields=["role"])
    auth_version_bump(membership_id=membership.pk)
    audit_record(
        actor=actor,
        member=user,
        shop=shop,
        change=AuditChange.CHANGED,
        before=before,
        after=role,
    )
    return Member(username, role)


@transaction.atomic
def team_member_remove(*, actor: Principal, shop: Shop, username: str) -> None:
    """Take ``username`` off ``shop``'s team (their role there ends; their other shops stay)."""
    require(actor, "team.manage", shop)
    _locked(shop)
    current = (
        ShopRole.objects.filter(shop=shop, membership__user__username=username)
        .select_related("membership__user")
        .first()
    )
    if current is None:
        raise NotFound(
            _("%(name)s is not on this shop's team.") % {"name": username},
            code="member_not_found",
        )
    if not _grantable(actor, shop, current.role):
        raise _refuse_role(current.role)
    _check_last_admin(shop, current)
    current.delete()
    auth_version_bump(membership_id=current.membership_id)
    audit_record(
        actor=actor,
        member=current.membership.user,
        shop=shop,
        change=AuditChange.REVOKED,
        before=current.role,
    )
