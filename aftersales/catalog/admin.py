from django.contrib import admin

from aftersales.catalog.models import (
    Customer,
    Order,
    OrderLine,
    Product,
    ReturnAddress,
    ServiceCenter,
    Shop,
    Sku,
)


class ReturnAddressInline(admin.TabularInline):
    model = ReturnAddress
    extra = 0


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "preset", "timezone", "currency")
    search_fields = ("code", "name")
    inlines = [ReturnAddressInline]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("external_id", "name", "phone", "language", "shop")
    list_filter = ("shop", "language")
    search_fields = ("external_id", "name", "phone")


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "category", "warranty_days", "shop")
    list_filter = ("shop",)
    search_fields = ("code", "name")


@admin.register(Sku)
class SkuAdmin(admin.ModelAdmin):
    list_display = ("code", "title", "stock", "shop")
    list_filter = ("shop",)
    search_fields = ("code", "title")


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    # Refunds move only through the ledger.
    readonly_fields = ("refunded_amount",)
    raw_id_fields = ("sku",)


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("external_id", "shop", "customer", "status", "total_amount", "paid_at")
    list_filter = ("shop", "status")
    search_fields = ("external_id", "customer__name", "customer__phone")
    raw_id_fields = ("customer",)
    inlines = [OrderLineInline]


@admin.register(ServiceCenter)
class ServiceCenterAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "shop", "turnaround_days")
    list_filter = ("kind", "shop")
