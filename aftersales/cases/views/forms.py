"""The case's action forms: the kernel's forms (``core.forms``, drawn from each action's typed
input) with the case's own widgets: carriers from a list, the shop's return addresses and
service centers, the product's variants, the resolutions a case may turn into."""

from __future__ import annotations

from django.utils.translation import gettext as _

from aftersales.cases.choices import CaseKind, Disposition
from aftersales.cases.lifecycle import CASES
from aftersales.cases.wording import Carrier
from aftersales.core import forms
from aftersales.core.forms import Field, Widget, choices_of
from aftersales.policy.choices import Condition, ShippingPayer

OTHER_CARRIER_FIELD = "carrier_other"


def _carrier(name, label, required, kind, case) -> list[Field]:
    return [
        Field(name, label, "select", required, choices_of(Carrier), _("Choose the carrier")),
        Field(OTHER_CARRIER_FIELD, _("Carrier name (when “Other carrier”)")),
    ]


def _read_carrier(name, data, post, case) -> None:
    if data.get(name) == Carrier.OTHER:
        # "Other carrier" is a choice of the form, not a carrier: the name typed beside it is.
        data.pop(name)
        other = (post.get(OTHER_CARRIER_FIELD) or "").strip()
        if other:
            data[name] = other


def _return_address(name, label, required, kind, case) -> list[Field]:
    addresses = [(str(a.id), f"{a.name} · {a.address}") for a in case.shop_addresses]
    only = addresses[0][0] if len(addresses) == 1 else ""  # the only address needs no choosing
    return [
        Field(
            name,
            label,
            "select",
            required,
            addresses,
            _("The shop's default address"),
            initial=only,
        )
    ]


def _service_center(name, label, required, kind, case) -> list[Field]:
    centers = [(str(c.id), c.name) for c in case.shop_service_centers]
    return [Field(name, label, "select", required, centers)]


def variant_choices(case) -> list[tuple[str, str]]:
    """The variants of the case's products, with their stock, for an exchange's replacement."""
    in_stock = _("%(code)s (%(stock)s in stock)")
    return [
        (sku.code, in_stock % {"code": sku.code, "stock": max(sku.stock, 0)})
        for sku in case.variants
    ]


def _variant(name, label, required, kind, case) -> list[Field]:
    return [Field(name, label, "select", required, variant_choices(case), _("None"))]


def _conversion(name, label, required, kind, case) -> list[Field]:
    kinds = [(value, text) for value, text in choices_of(CaseKind) if value != case.kind]
    return [Field(name, label, "select", required, kinds, _("Choose the new resolution"))]


def _suggested_result(name, label, required, kind, case) -> list[Field]:
    return [
        Field(name, label, "select", required, choices_of(kind), _("Suggested from the grades"))
    ]


def _repair_invoice(name, label, required, kind, case) -> list[Field]:
    return [Field(name, label, "checkbox")] if case.kind == CaseKind.REPAIR else []


def _shop_pays(name, label, required, kind, case) -> list[Field]:
    # What the return parcel cost is asked only when the shop pays its shipping.
    paid_by_shop = case.return_shipping_payer == ShippingPayer.SELLER
    return [Field(name, label, "number", required)] if paid_by_shop else []


def _platform_reason(name, label, required, kind, case) -> list[Field]:
    # Only a marketplace's request is refused with the platform's reason code.
    return [Field(name, label, "text", required)] if case.platform else []


def _enum_with_empty(empty: str):
    def draw(name, label, required, kind, case) -> list[Field]:
        return [Field(name, label, "select", required, choices_of(kind), empty)]

    return draw


WIDGETS = {
    "carrier": Widget(_carrier, _read_carrier),
    "return_address": Widget(_return_address),
    "service_center": Widget(_service_center),
    "variant": Widget(_variant),
    "conversion": Widget(_conversion),
    "suggested_result": Widget(_suggested_result),
    "repair_invoice": Widget(_repair_invoice),
    "platform_reason": Widget(_platform_reason),
    "shop_pays": Widget(_shop_pays),
    "not_checked": Widget(lambda *args: _enum_with_empty(_("Not checked"))(*args)),
    "keep_reason": Widget(lambda *args: _enum_with_empty(_("Keep the reason"))(*args)),
}


def action_fields(action: str, case) -> list[Field]:
    return forms.action_fields(CASES, action, case, WIDGETS)


def line_fields(action: str) -> tuple[str, ...]:
    return forms.line_fields(CASES, action)


def action_data(action: str, case, post) -> dict:
    return forms.action_data(CASES, action, case, post, WIDGETS, lines=case.lines.all())


def conditions() -> list[tuple[str, str]]:
    return choices_of(Condition)


def dispositions() -> list[tuple[str, str]]:
    return choices_of(Disposition)
