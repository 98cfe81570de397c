"""The words a policy speaks in: who is at fault, who pays the return shipping, how returned goods
arrive, and why a customer is compensated. Cases use them too; they are defined here, below the
cases, because the policy's rules are written in them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Fault(models.TextChoices):
    BUYER = "buyer", _("Buyer")
    SELLER = "seller", _("Seller")
    CARRIER = "carrier", _("Carrier")


class ShippingPayer(models.TextChoices):
    BUYER = "buyer", _("Buyer")
    SELLER = "seller", _("Seller")


class Condition(models.TextChoices):
    """How a returned line arrived (《售后服务手册》, the after-sales handbook: intact → refund;
    damaged packaging, worn, dirty → deduct by the degree of damage)."""

    INTACT = "intact", _("Intact")
    PACKAGING_DAMAGED = "packaging_damaged", _("Packaging damaged")
    USED = "used", _("Used / worn")
    DIRTY = "dirty", _("Dirty")
    DAMAGED = "damaged", _("Damaged")
    WRONG_ITEM = "wrong_item", _("Wrong item returned")
    MISSING_PARTS = "missing_parts", _("Missing parts")
    EMPTY_BOX = "empty_box", _("Empty box")


class CompensationReason(models.TextChoices):
    GOODWILL = "goodwill", _("Goodwill")
    OUT_OF_STOCK = "out_of_stock", _("Out of stock after payment")
    LATE_SHIPMENT = "late_shipment", _("Late shipment")
    COUNTERFEIT = "counterfeit", _("Counterfeit proven (ten-fold)")
