"""Shops and what they sold: customers, products and SKUs, orders, order lines, shipments."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from aftersales.core.models import TimestampedModel


class Platform(models.TextChoices):
    """Where the shop sells: its policy starts from this platform's preset."""

    GENERIC = "generic", _("Generic")
    TAOBAO = "taobao", _("Taobao")
    TMALL = "tmall", _("Tmall")
    JD = "jd", _("JD.com")
    PINDUODUO = "pinduoduo", _("Pinduoduo")
    DOUYIN = "douyin", _("Douyin")
    XIANYU = "xianyu", _("Xianyu (person to person)")


class Shop(TimestampedModel):
    """A seller's shop; everything else in the catalog and every case belongs to one."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    preset = models.CharField(max_length=20, choices=Platform.choices, default=Platform.GENERIC)
    timezone = models.CharField(max_length=64, default="Asia/Shanghai")
    currency = models.CharField(max_length=3, default="CNY")
    # What each flag colour means in this shop's workbench, e.g. {"purple": "退款已确认"}.
    flag_meanings = models.JSONField(default=dict, blank=True, db_default={})

    def __str__(self) -> str:
        return self.code


class ReturnAddress(TimestampedModel):
    """Where customers send returns; a shop has at most one default."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="return_addresses")
    name = models.CharField(max_length=100)
    phone = models.CharField(max_length=40)
    address = models.CharField(max_length=500)
    is_default = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop"], condition=Q(is_default=True), name="one_default_return_address"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.address}"


class ServiceCenter(TimestampedModel):
    """Who diagnoses and repairs goods for the shop: an authorised service center or the upstream
    supplier, with its address and usual turnaround (which sets the repair deadline)."""

    class Kind(models.TextChoices):
        SERVICE_CENTER = "service_center", _("Authorised service center")
        SUPPLIER = "supplier", _("Upstream supplier")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="service_centers")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.SERVICE_CENTER)
    name = models.CharField(max_length=200)
    phone = models.CharField(max_length=40, blank=True)
    address = models.CharField(max_length=500)
    turnaround_days = models.PositiveIntegerField(default=7)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "name"], name="service_center_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class CustomerLanguage(models.TextChoices):
    """The language a customer is written to in. Each name is in its own language (an endonym),
    so a reader finds theirs whatever language the page is in; hence not translated."""

    ZH_HANS = "zh-hans", "简体中文"
    EN = "en", "English"


class Customer(TimestampedModel):
    """A buyer as the shop knows them (external id from the shop's platform)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="customers")
    external_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    # A database default too, so loaders that write rows with raw SQL (bench/) need not name it.
    language = models.CharField(
        max_length=10,
        choices=CustomerLanguage.choices,
        default=CustomerLanguage.ZH_HANS,
        db_default=CustomerLanguage.ZH_HANS,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "external_id"], name="customer_unique_external")
        ]
        indexes = [models.Index(fields=["shop", "phone"])]

    def __str__(self) -> str:
        return f"{self.name or self.external_id}"


class ProductFlag(models.TextChoices):
    """Properties that can exclude a product from 7-day no-reason returns (policy decides)."""

    CUSTOM_MADE = "custom_made", _("Custom made")
    PERISHABLE = "perishable", _("Perishable")
    DIGITAL_UNSEALED = "digital_unsealed", _("Digital content, unsealed")
    INTIMATE = "intimate", _("Intimate / hygiene product")
    NEWSPAPER = "newspaper", _("Newspapers and periodicals")
    LIVE = "live", _("Live plants or animals")


class Product(TimestampedModel):
    """A product of a shop; its SKUs are the variants (size, colour) that orders name."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="products")
    code = models.CharField(max_length=100)
    name = models.CharField(max_length=300)
    category = models.CharField(max_length=100, blank=True)
    warranty_days = models.PositiveIntegerField(default=0)
    flags = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "code"], name="product_unique_code")]

    def __str__(self) -> str:
        return self.name


class Sku(TimestampedModel):
    """A sellable variant of a product."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="skus")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="skus")
    code = models.CharField(max_length=100)
    title = models.CharField(max_length=300, blank=True)
    stock = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "code"], name="sku_unique_code")]

    def __str__(self) -> str:
        return self.code


class OrderStatus(models.TextChoices):
    UNPAID = "unpaid", _("Unpaid")
    PAID = "paid", _("Paid, not shipped")
    SHIPPED = "shipped", _("Shipped")
    SIGNED = "signed", _("Signed for")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class Order(TimestampedModel):
    """An order imported from the shop's platform, unique per shop by external id."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="orders")
    external_id = models.CharField(max_length=100)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(max_length=20, choices=OrderStatus.choices)
    paid_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    shipping_fee = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    goods_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    total_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    # Whether the order's review is open (set by the reviews' worker step): the step looks only at
    # signed orders without one, however many orders have been reviewed before.
    review_opened = models.BooleanField(default=False, db_default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "external_id"], name="order_unique_external")
        ]
        indexes = [
            models.Index(fields=["customer", "-paid_at"]),
            # The reviews' worker step reads the signed orders without a review in signing order,
            # in batches (``reviews.services.reviews_open_due``).
            models.Index(
                fields=["signed_at", "id"],
                condition=models.Q(signed_at__isnull=False, review_opened=False),
                name="order_review_due",
            ),
        ]

    def __str__(self) -> str:
        return self.external_id

    @property
    def is_shipped(self) -> bool:
        return self.shipped_at is not None or self.signed_at is not None

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None


class OrderLine(TimestampedModel):
    """One line of an order. ``refunded_amount`` mirrors the refund ledger and the database
    refuses any value above ``paid_amount``: the last guard against an over-refund."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    external_id = models.CharField(max_length=100)
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="order_lines")
    title = models.CharField(max_length=300)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    paid_amount = models.DecimalField(max_digits=12, decimal_places=2)
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "external_id"], name="line_unique_external"),
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=F("paid_amount")) & Q(refunded_amount__gte=0),
                name="line_refund_within_paid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.external_id}"


class Shipment(TimestampedModel):
    """The shop's outbound parcel for an order."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments")
    carrier = models.CharField(max_length=100)
    tracking_number = models.CharField(max_length=100, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["order", "carrier", "tracking_number"], name="shipment_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_number}"


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note (red-letter invoice)")
    ENDORSEMENT = "endorsement", _("Endorsement for an exchange")
    INVOICE_RECEIVED = "invoice_received", _("Invoice received with goods for repair")
    INVOICE_RETURNED = "invoice_returned", _("Invoice returned with the repaired goods")


class InvoiceDocument(models.Model):
    """An order's invoice, and the documents that adjust it: a refund reverses part of it with a
    credit note (红冲) that names the invoice it reverses and carries a negative amount; an exchange
    endorses it (背书: the replacement is noted on the invoice, with any price difference); a repair
    records that the paper invoice travelled with the goods and came back (amount 0)."""

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="invoice_documents")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="invoice_documents")
    case = models.ForeignKey(
        "cases.Case",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoice_documents",
    )
    kind = models.CharField(max_length=20, choices=InvoiceKind.choices)
    number = models.CharField(max_length=64)
    reference = models.CharField(max_length=64, blank=True)
    title = models.CharField(max_length=200, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    note = models.CharField(max_length=500, blank=True, default="", db_default="")
    issued_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "number"], name="invoice_document_number"),
            models.UniqueConstraint(
                fields=["order"], condition=Q(kind="invoice"), name="one_invoice_per_order"
            ),
        ]
        indexes = [models.Index(fields=["shop", "kind", "id"], name="invoice_document_list")]

    def __str__(self) -> str:
        return self.number
