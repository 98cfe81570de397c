"""What the care campaigns did, for the desk's pages: the channels a campaign goes by, how many
messages each wrote and how they went, the deliveries of a page of sends. Reads only; the
campaign was already scoped to the caller (``care.campaign_for``, ``care.campaigns_of``)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Count, Exists, OuterRef, Q

from aftersales.catalog.models import Order
from aftersales.crm.care import EMAIL, KIND_CODES, SMS
from aftersales.crm.models import CareKind, CareSend
from aftersales.notify.deliveries import sms_wanted
from aftersales.notify.models import Delivery, DeliveryStatus


def campaign_channels(kind: str) -> list[str]:
    """The channels a campaign's messages go by: e-mail, and a text message when the
    installation sends care of this kind by text (``AFTERSALES_SMS_KINDS``)."""
    return [EMAIL, *([SMS] if sms_wanted(KIND_CODES[kind]) else [])]


def campaign_tallies(campaign_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """campaign id → how many messages it wrote (``messages``), how many reached the customer
    by at least one channel (``delivered``) and how many went by none because every channel was
    withheld or had no address (``not_sent``); one query for all the campaigns."""
    customer_channels = Delivery.objects.filter(
        notice_id=OuterRef("notice_id"), channel__in=(EMAIL, SMS)
    )
    tallies = (
        CareSend.objects.filter(campaign_id__in=campaign_ids)
        .values("campaign_id")
        .annotate(
            messages=Count("pk"),
            delivered=Count(
                "pk", filter=Q(Exists(customer_channels.filter(status=DeliveryStatus.DELIVERED)))
            ),
            not_sent=Count(
                "pk",
                filter=Q(Exists(customer_channels))
                & ~Q(Exists(customer_channels.exclude(status=DeliveryStatus.SKIPPED))),
            ),
        )
    )
    empty = {"messages": 0, "delivered": 0, "not_sent": 0}
    found = {row.pop("campaign_id"): row for row in tallies}
    return {campaign_id: found.get(campaign_id, dict(empty)) for campaign_id in campaign_ids}


def sends_deliveries(sends: Sequence[CareSend]) -> dict[int, list[Delivery]]:
    """send id → the deliveries of its notice to the customer (e-mail, then text message)."""
    by_notice: dict[int, list[Delivery]] = {}
    notices = [send.notice_id for send in sends if send.notice_id]
    deliveries = Delivery.objects.filter(notice_id__in=notices, channel__in=(EMAIL, SMS))
    for delivery in deliveries.order_by("notice_id", "channel"):
        by_notice.setdefault(delivery.notice_id, []).append(delivery)
    return {send.pk: by_notice.get(send.notice_id, []) for send in sends}


def occasion_orders(sends: Sequence[CareSend]) -> dict[int, str]:
    """order id → its number at the marketplace, for the occasions that name an order
    (``after_use:<order id>``, ``repurchase:<order id>``) of these sends."""
    ids = set()
    for send in sends:
        kind, _colon, key = send.occasion.partition(":")
        if kind in (CareKind.AFTER_USE, CareKind.REPURCHASE) and key.isdigit():
            ids.add(int(key))
    shops = {send.shop_id for send in sends}
    orders = Order.objects.filter(pk__in=ids, shop_id__in=shops)
    return dict(orders.values_list("pk", "external_id"))
