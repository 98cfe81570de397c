"""Writes to the catalog: shops and their return addresses, service centers, SKU stock, a
customer's language. Orders: ``catalog.orders``."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.catalog.models import (
    Customer,
    CustomerLanguage,
    Platform,
    ReturnAddress,
    ServiceCenter,
    Shop,
    Sku,
)
from aftersales.core.actors import Principal
from aftersales.core.errors import (
    Conflict,
    InvalidInput,
    NotFound,
)
from aftersales.core.permissions import require


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
    require(actor, "shop.create")
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
    """Add a service center or supplier that diagnoses and repairs the shop's goods
    (``shop.manage``: the shop's administrators)."""
    require(actor, "shop.manage", shop)
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


# A billion units: more than any shop holds, well inside the column's 32-bit range.
MAX_STOCK = 1_000_000_000


def check_stock(stock: object) -> int:
    """A stock level is a whole number from 0 to ``MAX_STOCK``."""
    if not isinstance(stock, int) or isinstance(stock, bool) or not 0 <= stock <= MAX_STOCK:
        raise InvalidInput(
            _("Stock is a whole number from 0 to %(max)s.") % {"max": f"{MAX_STOCK:,}"},
            code="invalid_stock",
            field="stock",
        )
    return stock


@transaction.atomic
def sku_stock_set(*, actor: Principal, sku_id: int, stock: int) -> Sku:
    """Set a SKU's stock (what is on the shelf now), under its row lock, so it never interleaves
    with an exchange taking units from it (``stock.write`` in the SKU's shop)."""
    sku = (
        Sku.objects.select_for_update(of=("self",))
        .select_related("shop", "product")
        .filter(pk=sku_id)
        .first()
    )
    if sku is None or not (actor.is_system or actor.can_see_shop(sku.shop_id)):
        raise NotFound(_("No such SKU in your shops."), code="sku_not_found")
    require(actor, "stock.write", sku)
    sku.stock = check_stock(stock)
    sku.save(update_fields=["stock", "updated_at"])
    return sku


def check_language(language: object) -> str:
    if language not in CustomerLanguage.values:
        raise InvalidInput(
            _("The language is one of: %(languages)s.")
            % {"languages": ", ".join(CustomerLanguage.values)},
            code="invalid_language",
            field="language",
        )
    return str(language)


@transaction.atomic
def customer_language_set(*, customer_id: int, language: str) -> Customer:
    """Write to the customer in ``language`` from now on (the portal calls this when a customer
    applies in a language). The caller has already scoped ``customer_id`` to itself."""
    check_language(language)
    customer = Customer.objects.select_for_update().filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(_("No such customer."), code="customer_not_found")
    if customer.language != language:
        customer.language = language
        customer.save(update_fields=["language", "updated_at"])
    return customer
