"""Who acts: the roles, and the caller of a request resolved once (from a token or a session),
with the scoping rules built on it. The lifecycle kernel checks its tables' roles against these."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    AGENT = "agent", _("After-sales agent")
    FINANCE = "finance", _("Finance")
    CUSTOMER = "customer", _("Customer")


STAFF_ROLES = frozenset({Role.ADMIN, Role.AGENT, Role.FINANCE})
SYSTEM_ROLE = "system"


@dataclass(frozen=True)
class Principal:
    """Who is acting. ``shop_ids is None`` means every shop (installation admin or system)."""

    user_id: int | None
    username: str
    role: str
    shop_ids: frozenset[int] | None = field(default=frozenset())
    customer_id: int | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_customer(self) -> bool:
        return self.role == Role.CUSTOMER

    @property
    def is_system(self) -> bool:
        return self.role == SYSTEM_ROLE

    @property
    def is_installation_admin(self) -> bool:
        return self.role == Role.ADMIN and self.shop_ids is None

    def can_see_shop(self, shop_id: int) -> bool:
        return self.shop_ids is None or shop_id in self.shop_ids

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
