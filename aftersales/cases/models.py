"""The after-sales case, its lines, the refund ledger, compensation and evidence. Its timeline and
notices are the kernel's (``core.models.Event``, ``core.models.Notice``)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models import Q

from aftersales.cases.choices import (
    Authenticity,
    CaseKind,
    CaseState,
    CompensationKind,
    DeadlineAction,
    DiagnosedBy,
    Disposition,
    FlagColor,
    QuoteDecision,
    Reason,
    WarrantyEntitlement,
)
from aftersales.core.models import TimestampedModel
from aftersales.policy.choices import CompensationReason, Condition, Fault, ShippingPayer
from aftersales.sla.choices import Priority

MONEY = {"max_digits": 12, "decimal_places": 2, "default": Decimal("0.00")}


class Case(TimestampedModel):
    """An after-sales application (售后申请) against one order. Its state only ever changes through
    ``cases.services.case_transition``."""

    number = models.CharField(max_length=32, unique=True)
    shop = models.ForeignKey("catalog.Shop", on_delete=models.PROTECT, related_name="cases")
    order = models.ForeignKey("catalog.Order", on_delete=models.PROTECT, related_name="cases")
    customer = models.ForeignKey("catalog.Customer", on_delete=models.PROTECT, related_name="cases")
    policy = models.ForeignKey("policy.Policy", on_delete=models.PROTECT, related_name="cases")
    kind = models.CharField(max_length=20, choices=CaseKind.choices)
    reason = models.CharField(max_length=30, choices=Reason.choices)
    fault = models.CharField(max_length=10, choices=Fault.choices)
    return_shipping_payer = models.CharField(max_length=10, choices=ShippingPayer.choices)
    description = models.TextField(blank=True)
    state = models.CharField(max_length=30, choices=CaseState.choices)
    # Chooses the case's service-level targets (``aftersales.sla``).
    priority = models.CharField(
        max_length=10, choices=Priority.choices, default=Priority.NORMAL, db_default="normal"
    )

    requested_amount = models.DecimalField(**MONEY)
    approved_amount = models.DecimalField(**MONEY)
    shipping_deduction = models.DecimalField(**MONEY)
    inspection_deduction = models.DecimalField(**MONEY)
    refunded_amount = models.DecimalField(**MONEY)

    deadline_at = models.DateTimeField(null=True, blank=True)
    deadline_action = models.CharField(
        max_length=20, choices=DeadlineAction.choices, blank=True, default=""
    )

    return_address = models.ForeignKey(
        "catalog.ReturnAddress", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    return_carrier = models.CharField(max_length=100, blank=True)
    return_tracking_number = models.CharField(max_length=100, blank=True)
    reject_reason = models.TextField(blank=True)
    inspection_result = models.CharField(max_length=10, blank=True)
    inspection_note = models.TextField(blank=True)
    # The proof a counterfeit claim needs (``compensation.counterfeit_proven``).
    authenticity_verdict = models.CharField(
        max_length=20, choices=Authenticity.choices, blank=True, default="", db_default=""
    )
    suggested_deduction = models.DecimalField(**MONEY, db_default=Decimal("0.00"))
    # Signs that the customer and the shop may disagree, by code (``short_delivery`` and the
    # disputed conditions, ``wrong_item`` and ``empty_box``), in the order they appeared.
    dispute_signals = models.JSONField(default=list, blank=True, db_default=[])

    # Conversions: the kind the case was opened as, when it has been converted since.
    converted_from = models.CharField(max_length=20, blank=True, default="", db_default="")

    # Goods going to the customer: an exchange's replacement, or repaired / unrepaired goods.
    outbound_carrier = models.CharField(max_length=100, blank=True, default="", db_default="")
    outbound_tracking_number = models.CharField(
        max_length=100, blank=True, default="", db_default=""
    )
    outbound_shipped_at = models.DateTimeField(null=True, blank=True)
    # Exchange: positive, the customer paid the difference (payment_reference); negative, the
    # shop refunded it through the ledger.
    price_difference = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0.00"), db_default=Decimal("0.00")
    )
    payment_reference = models.CharField(max_length=200, blank=True, default="", db_default="")
    # What the parcels cost the shop (internal costs, for the cost reports): the customer's
    # return when the shop pays its shipping, and the parcel back to the customer.
    return_shipping_cost = models.DecimalField(**MONEY, db_default=Decimal("0.00"))
    outbound_shipping_cost = models.DecimalField(**MONEY, db_default=Decimal("0.00"))
    confirmed_at = models.DateTimeField(null=True, blank=True)

    # Repair: diagnosis, warranty, quote, costs.
    diagnosed_by = models.CharField(
        max_length=20, choices=DiagnosedBy.choices, blank=True, default="", db_default=""
    )
    service_center = models.ForeignKey(
        "catalog.ServiceCenter", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    fault_code = models.CharField(max_length=100, blank=True, default="", db_default="")
    diagnosis_note = models.TextField(blank=True, default="", db_default="")
    diagnosed_at = models.DateTimeField(null=True, blank=True)
    repairable = models.BooleanField(null=True, blank=True)
    under_warranty = models.BooleanField(null=True, blank=True)
    warranty_entitlement = models.CharField(
        max_length=20, choices=WarrantyEntitlement.choices, blank=True, default="", db_default=""
    )
    quote_amount = models.DecimalField(**MONEY, db_default=Decimal("0.00"))
    quoted_at = models.DateTimeField(null=True, blank=True)
    quote_reminded_at = models.DateTimeField(null=True, blank=True)
    quote_decision = models.CharField(
        max_length=10, choices=QuoteDecision.choices, blank=True, default="", db_default=""
    )
    repaired = models.BooleanField(null=True, blank=True)
    parts_cost = models.DecimalField(**MONEY, db_default=Decimal("0.00"))
    labour_cost = models.DecimalField(**MONEY, db_default=Decimal("0.00"))

    # The workbench: who works the case, its coloured flag, the next follow-up with the customer.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    flag = models.CharField(
        max_length=10, choices=FlagColor.choices, blank=True, default="", db_default=""
    )
    follow_up_on = models.DateField(null=True, blank=True)
    # The marketplace whose request this case is (``taobao``, ``jd``…; blank: the shop's own
    # case). The request itself, its store and raw codes are the connectors' (a higher layer).
    platform = models.CharField(max_length=20, blank=True, default="", db_default="")

    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    return_shipped_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    # The timeline and the notices of the case (the kernel's, about any subject).
    events = GenericRelation(
        "core.Event",
        content_type_field="subject_type",
        object_id_field="subject_id",
        related_query_name="case",
    )
    notices = GenericRelation(
        "core.Notice",
        content_type_field="subject_type",
        object_id_field="subject_id",
        related_query_name="case",
    )

    class Meta:
        indexes = [
            # The agent queue: a shop's cases in a state, soonest deadline first.
            models.Index(fields=["shop", "state", "deadline_at", "id"], name="case_queue"),
            models.Index(fields=["shop", "deadline_at", "id"], name="case_shop_deadline"),
            # The worker: only cases whose deadline still has an action to take.
            models.Index(fields=["deadline_at"], condition=~Q(deadline_action=""), name="case_due"),
            models.Index(fields=["customer", "deadline_at", "id"], name="case_customer"),
            models.Index(fields=["order"], name="case_order"),
            models.Index(fields=["return_tracking_number"], name="case_return_tracking"),
            models.Index(
                fields=["outbound_tracking_number"],
                condition=~Q(outbound_tracking_number=""),
                name="case_outbound_tracking",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0) & Q(requested_amount__gte=0),
                name="case_amounts_not_negative",
            )
        ]

    def __str__(self) -> str:
        return self.number


class CaseLine(models.Model):
    """The quantity and money of one order line that a case claims."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(
        "catalog.OrderLine", on_delete=models.PROTECT, related_name="case_lines"
    )
    quantity = models.PositiveIntegerField()
    requested_amount = models.DecimalField(**MONEY)
    approved_amount = models.DecimalField(**MONEY)
    refunded_amount = models.DecimalField(**MONEY)
    # Filled at the receiving desk and at inspection.
    # Database defaults as well, so bulk loaders and raw SQL (bench/) need not know these columns.
    received_quantity = models.PositiveIntegerField(null=True, blank=True)
    condition = models.CharField(
        max_length=20, choices=Condition.choices, blank=True, default="", db_default=""
    )
    disposition = models.CharField(
        max_length=20, choices=Disposition.choices, blank=True, default="", db_default=""
    )
    inspection_note = models.TextField(blank=True, default="", db_default="")
    # Exchange: the SKU shipped in its place (the same one, or another variant of the product).
    replacement_sku = models.ForeignKey(
        "catalog.Sku", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "order_line"], name="case_line_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="case_line_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.order_line_id}x{self.quantity}"


class RefundEntry(models.Model):
    """One refund to one order line. The ledger of a line is the sum of its entries; the sum over
    every case of the order never exceeds what the line was paid."""

    order_line = models.ForeignKey(
        "catalog.OrderLine", on_delete=models.PROTECT, related_name="refund_entries"
    )
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="refund_entries")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    idempotency_key = models.CharField(max_length=200)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["order_line", "idempotency_key"], name="refund_entry_idempotent"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_entry_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.order_line_id} {self.amount}"


class Compensation(models.Model):
    """A coupon or store credit given on a case. Its own ledger: it never counts against what a
    line may refund, and it is reported with the case's costs."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="compensations")
    shop = models.ForeignKey("catalog.Shop", on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey("catalog.Customer", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=CompensationKind.choices)
    reason = models.CharField(max_length=20, choices=CompensationReason.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    code = models.CharField(max_length=32, unique=True)
    note = models.TextField(blank=True)
    idempotency_key = models.CharField(max_length=200, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="compensation_positive"),
            models.UniqueConstraint(
                fields=["case", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="compensation_idempotent",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class Evidence(models.Model):
    """A photo or short video attached to a case (the application or the inspection). Images are
    stored re-encoded, without their metadata, with a thumbnail; the original bytes are not kept."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="evidence")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    role = models.CharField(max_length=20)
    kind = models.CharField(max_length=10)  # photo | video
    purpose = models.CharField(max_length=20, default="application")  # application | inspection
    content_type = models.CharField(max_length=50)
    file = models.FileField(upload_to="evidence/%Y/%m/")
    thumbnail = models.FileField(upload_to="evidence/%Y/%m/", blank=True)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64)
    caption = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["case", "id"], name="evidence_case")]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.id}"


class SavedView(models.Model):
    """A member of staff's named view of the queue: its tab, filters and sort, kept as the
    queue's own query parameters (``cases.queue.QUEUE_PARAMETERS``)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(max_length=60)
    query = models.JSONField(default=dict)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="saved_view_unique_name")
        ]
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.name}"
