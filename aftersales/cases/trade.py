"""When a trade ended, the moment the windows after it count from (a complaint's, a review's).

The trade ends when the order is signed for (success) or, when later, when its latest after-sales
case ends (the trade closed). One rule for every app above the cases that counts a window from
it."""

from __future__ import annotations

import datetime as dt

from django.db.models import Max

from aftersales.cases.choices import FINAL_STATES as CASE_FINAL_STATES
from aftersales.cases.models import Case
from aftersales.catalog.models import Order


def trade_ended_at(order: Order) -> dt.datetime | None:
    """When the trade ended: its signing, or the end of its latest after-sales case if later."""
    last_case = Case.objects.filter(order=order, state__in=CASE_FINAL_STATES).aggregate(
        at=Max("resolved_at")
    )["at"]
    moments = [moment for moment in (order.signed_at, last_case) if moment is not None]
    return max(moments) if moments else None
