"""Writes to the catalog: shops and their return addresses. Orders: ``catalog.orders``."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.catalog.models import (
    Platform,
    ReturnAddress,
    ServiceCenter,
    Shop,
)
from aftersales.core.errors import (
    Conflict,
    InvalidInput,
    PermissionDenied,
)
from aftersales.team.models import Role
from aftersales.team.principal import Principal


@dataclass
class AddressData:
    name: str
    phone: str
    address: str
    is_default: bool = False


def _check_addresses(addresses: list[AddressData]) -> None:
    if sum(1 for a in addresses if a.is_default) > 1:
        raise InvalidInput(_("Only one return address can be the default."), code="two_defaults")


@transaction.atomic
def shop_create(
    *,
    actor: Principal,
    code: str,
    name: str,
    preset: str = Platform.GENERIC,
    timezone: str = "Asia/Shanghai",
    currency: str = "CNY",
    return_addresses: list[AddressData] | None = None,
) -> Shop:
    from aftersales.cases.policy import policy_create_initial
    from aftersales.cases.workbench import reply_templates_seed

    if not actor.is_installation_admin and not actor.is_system:
        raise PermissionDenied(
            _("Only an installation administrator can create shops."), code="forbidden"
        )
    if preset not in Platform.values:
        raise InvalidInput(
            _("Unknown policy preset %(name)s.") % {"name": preset}, code="unknown_preset"
        )
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            _("Unknown time zone %(zone)s.") % {"zone": timezone}, code="invalid_timezone"
        ) from None
    if Shop.objects.filter(code=code).exists():
        raise Conflict(_("Shop %(code)s exists already.") % {"code": code}, code="shop_exists")
    addresses = return_addresses or []
    _check_addresses(addresses)
    if addresses and not any(a.is_default for a in addresses):
        addresses[0].is_default = True
    shop = Shop.objects.create(
        code=code, name=name, preset=preset, timezone=timezone, currency=currency.upper()
    )
    for address in addresses:
        ReturnAddress.objects.create(shop=shop, **address.__dict__)
    policy_create_initial(shop=shop, actor_user_id=actor.user_id)
    reply_templates_seed(shop)
    return shop


def service_center_create(
    *,
    actor: Principal,
    shop: Shop,
    kind: str,
    name: str,
    address: str,
    phone: str = "",
    turnaround_days: int = 7,
) -> ServiceCenter:
    """Add a service center or supplier that diagnoses and repairs the shop's goods. Admins."""
    if actor.role != Role.ADMIN and not actor.is_system:
        raise PermissionDenied(_("Only administrators manage service centers."), code="forbidden")
    if kind not in ServiceCenter.Kind.values:
        raise InvalidInput(
            _("kind must be service_center or supplier."), code="invalid_kind", field="kind"
        )
    if ServiceCenter.objects.filter(shop=shop, name=name).exists():
        raise Conflict(
            _("The shop has a service center called %(name)s already.") % {"name": name},
            code="service_center_exists",
        )
    return ServiceCenter.objects.create(
        shop=shop,
        kind=kind,
        name=name,
        address=address,
        phone=phone,
        turnaround_days=turnaround_days,
    )
