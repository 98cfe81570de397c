"""Who reaches which customer, and what of their contact details they see (PIPL)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from aftersales.catalog.models import Customer, Shop
from aftersales.catalog.selectors import shop_get_for
from aftersales.core.actors import Principal
from aftersales.core.errors import NotFound
from aftersales.core.permissions import permitted, require, shops_permitted

VIEW = "customer.view"
CONTACT = "customer.contact"
MANAGE = "customer.manage"
TIERS = "tier.manage"
EXPORT = "customer.export"
ERASE = "customer.erase"


def customers_reachable(actor: Principal, action: str = VIEW):
    """The customers of the shops where the caller may take ``action``."""
    require(actor, action)
    shops = shops_permitted(actor, action)
    customers = Customer.objects.all()
    return customers if shops is None else customers.filter(shop_id__in=shops)


def customer_for(*, actor: Principal, customer_id: int, action: str = VIEW) -> Customer:
    """The customer ``customer_id`` if the caller may take ``action`` on them; any other is a
    404, so that another shop's customers cannot be told from missing ones."""
    customer = (
        customers_reachable(actor, action).select_related("shop").filter(pk=customer_id).first()
    )
    if customer is None:
        raise NotFound(_("No such customer."), code="customer_not_found")
    return customer


def shop_for(*, actor: Principal, code: str, action: str) -> Shop:
    """The shop ``code`` among those where the caller may take ``action``; any other is 404."""
    return shop_get_for(actor=actor, code=code, action=action)


def sees_contact(actor: Principal, shop_id: int) -> bool:
    return permitted(actor, CONTACT, shop_id)


def mask_phone(phone: str) -> str:
    """``13812345678`` → ``138****5678``: the first three and the last four digits stay (the
    carrier and what a customer reads back on the phone); a short number keeps its last two."""
    if not phone:
        return ""
    if len(phone) >= 8:
        return f"{phone[:3]}****{phone[-4:]}"
    return "*" * max(len(phone) - 2, 1) + phone[-2:]


def mask_email(email: str) -> str:
    """``alice@example.com`` → ``a***@example.com``."""
    if not email:
        return ""
    local, at, domain = email.partition("@")
    return f"{local[:1]}***{at}{domain}"


def contact_of(actor: Principal, customer: Customer) -> dict:
    """The customer's phone and e-mail as the caller may see them."""
    if sees_contact(actor, customer.shop_id):
        return {"phone": customer.phone, "email": customer.email, "masked": False}
    return {
        "phone": mask_phone(customer.phone),
        "email": mask_email(customer.email),
        "masked": True,
    }
