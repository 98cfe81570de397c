"""Who acts: the roles, and the caller of a request resolved once (from a token or a session),
with the scoping rules built on it. What each role may do is the matrix in ``core.permissions``;
the lifecycle kernel's tables take their roles from it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    LEAD = "lead", _("Team lead")
    AGENT = "agent", _("After-sales agent")
    FINANCE = "finance", _("Finance")
    LOGISTICS = "logistics", _("Logistics (receiving and inspection)")
    TECHNICIAN = "technician", _("Technician (diagnosis and repair)")
    PLATFORM_OPERATOR = "platform_operator", _("Platform operator")
    CUSTOMER = "customer", _("Customer")


# The roles a member of a shop's team holds in that shop (one per shop).
STAFF_ROLES = frozenset(
    {Role.ADMIN, Role.LEAD, Role.AGENT, Role.FINANCE, Role.LOGISTICS, Role.TECHNICIAN}
)
# Roles tied to no shop: the installation admin (an admin without shops) and the platform's
# operator, who reads across the shops and (later) decides their disputes.
INSTALLATION_ROLES = frozenset({Role.ADMIN, Role.PLATFORM_OPERATOR})
SYSTEM_ROLE = "system"


@dataclass(frozen=True)
class Principal:
    """Who is acting. ``shop_ids is None`` means every shop (installation admin, platform
    operator or system). ``role`` is the member's own role; a member of several shops may hold
    another role in some of them (``shop_roles``: shop id → role), and a check about a subject
    uses the role in the subject's shop (``role_in``)."""

    user_id: int | None
    username: str
    role: str
    shop_ids: frozenset[int] | None = field(default=frozenset())
    customer_id: int | None = None
    shop_roles: Mapping[int, str] = field(default_factory=dict, hash=False)

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & STAFF_ROLES)

    @property
    def is_customer(self) -> bool:
        return self.role == Role.CUSTOMER

    @property
    def is_system(self) -> bool:
        return self.role == SYSTEM_ROLE

    @property
    def is_installation_admin(self) -> bool:
        return self.role == Role.ADMIN and self.shop_ids is None

    @property
    def roles(self) -> frozenset[str]:
        """Every role the principal holds somewhere."""
        if not self.shop_ids:
            return frozenset({self.role})
        return frozenset(self.shop_roles.get(shop_id, self.role) for shop_id in self.shop_ids)

    def role_in(self, shop_id: int | None) -> str | None:
        """The role in a shop: ``None`` for a shop the principal is not tied to. Without a shop,
        the principal's own role."""
        if shop_id is None or self.shop_ids is None:
            return self.role
        if shop_id not in self.shop_ids:
            return None
        return self.shop_roles.get(shop_id, self.role)

    def can_see_shop(self, shop_id: int) -> bool:
        return self.shop_ids is None or shop_id in self.shop_ids

    def within(self, shop_ids: frozenset[int] | None) -> Principal:
        """The same principal narrowed to ``shop_ids`` (``None``: unchanged)."""
        if shop_ids is None:
            return self
        mine = shop_ids if self.shop_ids is None else self.shop_ids & shop_ids
        return Principal(
            user_id=self.user_id,
            username=self.username,
            role=self.role,
            shop_ids=frozenset(mine),
            customer_id=self.customer_id,
            shop_roles={k: v for k, v in self.shop_roles.items() if k in mine},
        )

    def scope(self, queryset, *, customer_path: str = "customer"):
        """Narrow a queryset of a model with a ``shop`` to what the caller may see: a customer
        their own rows (``customer_path`` leads to the Customer), staff their shops' rows, an
        installation admin everything."""
        if self.is_customer:
            return queryset.filter(**{f"{customer_path}_id": self.customer_id})
        if self.shop_ids is not None:
            return queryset.filter(shop_id__in=self.shop_ids)
        return queryset


SYSTEM = Principal(user_id=None, username="system", role=SYSTEM_ROLE, shop_ids=None)
