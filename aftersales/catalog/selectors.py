"""Reads of the catalog, always scoped to the caller."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from aftersales.catalog.models import InvoiceDocument, Order, Shop, Sku
from aftersales.core.actors import Principal
from aftersales.core.errors import Conflict, NotFound
from aftersales.core.permissions import narrowed, require, shops_permitted


def shops_for(actor: Principal) -> QuerySet[Shop]:
    shops = Shop.objects.all()
    if actor.shop_ids is not None:
        shops = shops.filter(id__in=actor.shop_ids)
    return shops


def shop_get(*, actor: Principal, code: str) -> Shop:
    shop = shops_for(actor).filter(code=code).first()
    if shop is None:
        raise NotFound(_("No shop %(code)s.") % {"code": code}, code="shop_not_found")
    return shop


def shop_get_for(*, actor: Principal, code: str, action: str) -> Shop:
    """The shop ``code`` among those where the caller may take ``action``; any other is 404
    (and a caller who may take it nowhere is refused)."""
    require(actor, action)
    permitted = shops_permitted(actor, action)
    shops = Shop.objects.all() if permitted is None else Shop.objects.filter(id__in=permitted)
    shop = shops.filter(code=code).first()
    if shop is None:
        raise NotFound(_("No shop %(code)s.") % {"code": code}, code="shop_not_found")
    return shop


# A code shared by more shops than this is answered with the first ones' names.
AMBIGUOUS_SHOPS_NAMED = 20


def sku_get(*, actor: Principal, code: str, shop: str | None = None) -> Sku:
    """The SKU ``code`` of one of the caller's shops (``shop`` when the code is in several), with
    its shop and product. Stock is shop business: only the shops where the caller may read it
    (``stock.read``; customers are refused)."""
    skus = narrowed(actor, "stock.read").scope(Sku.objects.filter(code=code))
    if shop is not None:
        skus = skus.filter(shop__code=shop)
    found = list(
        skus.select_related("shop", "product").order_by("shop__code")[: AMBIGUOUS_SHOPS_NAMED + 1]
    )
    if not found:
        # the code the caller sent is not repeated: the answer says nothing about other shops
        raise NotFound(_("No such SKU in your shops."), code="sku_not_found")
    if len(found) > 1:
        shops = [sku.shop.code for sku in found[:AMBIGUOUS_SHOPS_NAMED]]
        raise Conflict(
            _("Several of your shops have this SKU (%(shops)s): name the shop.")
            % {"shops": ", ".join(shops)},
            code="ambiguous_sku",
            shops=shops,
        )
    return found[0]


def sku_variants(*, sku: Sku) -> list[Sku]:
    """The other SKUs of the same product (same shop), by code."""
    return list(Sku.objects.filter(product_id=sku.product_id).exclude(pk=sku.pk).order_by("code"))


def orders_for(actor: Principal) -> QuerySet[Order]:
    return actor.scope(Order.objects.all())


def order_head(*, actor: Principal, order_id: int) -> Order:
    """An order with its shop and customer, without its lines."""
    order = orders_for(actor).select_related("shop", "customer").filter(pk=order_id).first()
    if order is None:
        raise NotFound(_("No order %(id)s.") % {"id": order_id}, code="order_not_found")
    return order


def order_get(*, actor: Principal, order_id: int) -> Order:
    order = (
        orders_for(actor)
        .select_related("shop", "customer")
        .prefetch_related("lines__sku__product", "shipments")
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        raise NotFound(_("No order %(id)s.") % {"id": order_id}, code="order_not_found")
    return order


def orders_by_id(*, actor: Principal, ids: list[int]) -> list[Order]:
    rows = (
        orders_for(actor)
        .select_related("shop", "customer")
        .prefetch_related("lines__sku__product", "shipments")
        .in_bulk(ids)
    )
    return [rows[i] for i in ids if i in rows]


def order_list(
    *,
    actor: Principal,
    shop: str | None = None,
    customer: str | None = None,
    external_id: str | None = None,
    after_id: int | None = None,
    limit: int = 50,
) -> list[Order]:
    orders = orders_for(actor)
    if shop:
        orders = orders.filter(shop__code=shop)
    if customer:
        orders = orders.filter(customer__external_id=customer)
    if external_id:
        orders = orders.filter(external_id=external_id)
    if after_id:
        orders = orders.filter(id__gt=after_id)
    return list(
        orders.select_related("shop", "customer")
        .prefetch_related("lines__sku__product", "shipments")
        .order_by("id")[:limit]
    )


INVOICE_FIELDS = (
    "id",
    "kind",
    "number",
    "reference",
    "title",
    "amount",
    "note",
    "issued_at",
    "order_id",
    "shop__code",
    "shop__currency",
    "order__external_id",
    "case__number",
)


def invoice_documents(
    *,
    actor: Principal,
    shop: str | None = None,
    kind: str | None = None,
    order: int | None = None,
    after_id: int | None = None,
    limit: int | None = 50,
) -> list[dict]:
    """Invoices and credit notes the caller may see, oldest first (keyset by id)."""
    documents = actor.scope(InvoiceDocument.objects.all(), customer_path="order__customer")
    if shop:
        documents = documents.filter(shop__code=shop)
    if kind:
        documents = documents.filter(kind=kind)
    if order:
        documents = documents.filter(order_id=order)
    if after_id:
        documents = documents.filter(id__gt=after_id)
    rows = documents.order_by("id").values(*INVOICE_FIELDS)
    return list(rows[:limit] if limit else rows)
