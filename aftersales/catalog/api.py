"""Shops and orders over HTTP: parse, authorise, call a service or selector, present."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from aftersales.catalog import orders as order_services
from aftersales.catalog import selectors, services
from aftersales.catalog.models import InvoiceKind, Order, Sku
from aftersales.catalog.order_data import OrderData, order_data_from
from aftersales.catalog.schemas import (
    InvoicePage,
    OrderIn,
    OrderOut,
    OrderPage,
    ServiceCenterIn,
    ServiceCenterOut,
    SkuOut,
    SkuStockIn,
)
from aftersales.core.exports import CSV_OPENAPI, csv_response
from aftersales.core.permissions import narrowed
from aftersales.core.schemas import ERROR_RESPONSES, Id, page_limit, refuse_unknown_parameters

router = Router(tags=["shops and orders"])


def present_order(order: Order) -> dict:
    return {
        "id": order.id,
        "shop": order.shop.code,
        "external_id": order.external_id,
        "customer": order.customer,
        "status": order.status,
        "paid_at": order.paid_at,
        "shipped_at": order.shipped_at,
        "signed_at": order.signed_at,
        "shipping_fee": order.shipping_fee,
        "goods_amount": order.goods_amount,
        "total_amount": order.total_amount,
        "lines": [
            {
                "id": line.id,
                "external_id": line.external_id,
                "sku": line.sku.code,
                "title": line.title,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "paid_amount": line.paid_amount,
                "refunded_amount": line.refunded_amount,
                "product_flags": line.sku.product.flags,
            }
            for line in sorted(order.lines.all(), key=lambda line: line.id)
        ],
        "shipments": list(order.shipments.all()),
    }


@router.get(
    "/shops/{code}/service-centers",
    response={200: list[ServiceCenterOut], **ERROR_RESPONSES},
)
def list_service_centers(request: HttpRequest, code: str):
    """The shop's authorised service centers and suppliers that diagnose and repair goods."""
    shop = selectors.shop_get(actor=request.auth, code=code)
    return list(shop.service_centers.order_by("id"))


@router.post("/shops/{code}/service-centers", response={201: ServiceCenterOut, **ERROR_RESPONSES})
def create_service_center(request: HttpRequest, code: str, payload: ServiceCenterIn):
    actor = request.auth
    shop = selectors.shop_get(actor=actor, code=code)
    center = services.service_center_create(actor=actor, shop=shop, **payload.model_dump())
    return Status(201, center)


def _order_data(payload: OrderIn) -> OrderData:
    return order_data_from(payload.model_dump())


@router.post("/orders", response={200: OrderOut | list[OrderOut], 201: OrderOut, **ERROR_RESPONSES})
def upsert_orders(request: HttpRequest, payload: OrderIn | list[OrderIn]):
    """Create or update orders by (shop, external_id): one object, or a list of up to 500."""
    actor = request.auth
    if isinstance(payload, list):
        results = order_services.orders_upsert_call(
            actor=actor, items=[_order_data(item) for item in payload]
        )
        orders = [order for order, _created in results]
        return Status(
            200,
            [
                present_order(o)
                for o in selectors.orders_by_id(actor=actor, ids=[o.id for o in orders])
            ],
        )
    order, created = order_services.order_upsert(actor=actor, data=_order_data(payload))
    body = present_order(selectors.order_get(actor=actor, order_id=order.id))
    return Status(201 if created else 200, body)


class OrderFilters(Schema):
    shop: str | None = None
    customer: str | None = None
    external_id: str | None = None
    cursor: Id | None = None
    limit: int = 50


@router.get("/orders", response={200: OrderPage, **ERROR_RESPONSES})
def list_orders(request: HttpRequest, filters: Query[OrderFilters]):
    refuse_unknown_parameters(request, OrderFilters)
    limit = page_limit(filters.limit)
    orders = selectors.order_list(
        actor=request.auth,
        shop=filters.shop,
        customer=filters.customer,
        external_id=filters.external_id,
        after_id=filters.cursor,
        limit=limit,
    )
    next_cursor = str(orders[-1].id) if len(orders) == limit else None
    return {"items": [present_order(o) for o in orders], "next_cursor": next_cursor}


@router.get("/orders/{order_id}", response={200: OrderOut, **ERROR_RESPONSES})
def get_order(request: HttpRequest, order_id: Id):
    return present_order(selectors.order_get(actor=request.auth, order_id=order_id))


def present_sku(sku: Sku) -> dict:
    return {
        "shop": sku.shop.code,
        "code": sku.code,
        "product": sku.product.code,
        "product_name": sku.product.name,
        "title": sku.title,
        "stock": sku.stock,
        "variants": selectors.sku_variants(sku=sku),
    }


class SkuFilters(Schema):
    shop: str | None = Field(None, min_length=1, max_length=40)


@router.get("/skus/{code}", response={200: SkuOut, **ERROR_RESPONSES}, tags=["stock"])
def get_sku(request: HttpRequest, code: str, filters: Query[SkuFilters]):
    """A SKU of your shops with its stock and the other variants of its product. Name the
    ``shop`` when several of your shops have this code (409 ``ambiguous_sku`` otherwise)."""
    refuse_unknown_parameters(request, SkuFilters)
    return present_sku(selectors.sku_get(actor=request.auth, code=code, shop=filters.shop))


@router.put("/skus/{code}/stock", response={200: SkuOut, **ERROR_RESPONSES}, tags=["stock"])
def put_sku_stock(request: HttpRequest, code: str, payload: SkuStockIn):
    """Set the SKU's stock (units on the shelf now). Administrators and agents of its shop."""
    actor = request.auth
    sku = selectors.sku_get(actor=actor, code=code, shop=payload.shop)
    return present_sku(services.sku_stock_set(actor=actor, sku_id=sku.id, stock=payload.stock))


class InvoiceFilters(Schema):
    shop: str | None = None
    kind: InvoiceKind | None = None
    order: Id | None = None
    cursor: Id | None = None
    limit: int = 50


def present_invoice(row: dict) -> dict:
    return {
        "id": row["id"],
        "kind": row["kind"],
        "number": row["number"],
        "reference": row["reference"],
        "title": row["title"],
        "shop": row["shop__code"],
        "order_id": row["order_id"],
        "order_external_id": row["order__external_id"],
        "case_number": row["case__number"],
        "amount": row["amount"],
        "note": row["note"],
        "currency": row["shop__currency"],
        "issued_at": row["issued_at"],
    }


@router.get("/invoices", response={200: InvoicePage, **ERROR_RESPONSES}, tags=["invoices"])
def list_invoices(request: HttpRequest, filters: Query[InvoiceFilters]):
    """Invoices and the documents cases issue against them: credit notes (红冲) for refunds,
    endorsements (背书) for exchanges, and the paper invoice received with goods for repair and
    returned with them."""
    refuse_unknown_parameters(request, InvoiceFilters)
    limit = page_limit(filters.limit)
    rows = selectors.invoice_documents(
        actor=narrowed(request.auth, "invoice.read"),
        shop=filters.shop,
        kind=filters.kind,
        order=filters.order,
        after_id=filters.cursor,
        limit=limit,
    )
    next_cursor = str(rows[-1]["id"]) if len(rows) == limit else None
    return {"items": [present_invoice(row) for row in rows], "next_cursor": next_cursor}


INVOICE_COLUMNS = (
    "number",
    "kind",
    "reference",
    "shop",
    "order_external_id",
    "case_number",
    "amount",
    "currency",
    "issued_at",
    "title",
    "note",
)


@router.get(
    "/invoices/export.csv",
    response={200: None, **ERROR_RESPONSES},
    openapi_extra=CSV_OPENAPI,
    tags=["invoices"],
)
def export_invoices(request: HttpRequest, filters: Query[InvoiceFilters]):
    """The same documents as a CSV file for the accountant (all pages). Text cells a spreadsheet
    would run as a formula (starting with =, +, -, @, a tab or a carriage return) start with an
    apostrophe; amounts stay numbers."""
    refuse_unknown_parameters(request, InvoiceFilters)
    rows = selectors.invoice_documents(
        actor=narrowed(request.auth, "invoice.read"),
        shop=filters.shop,
        kind=filters.kind,
        order=filters.order,
        limit=None,
    )
    documents = (present_invoice(row) for row in rows)
    return csv_response(
        filename="invoices.csv",
        header=INVOICE_COLUMNS,
        rows=([document[name] for name in INVOICE_COLUMNS] for document in documents),
    )
