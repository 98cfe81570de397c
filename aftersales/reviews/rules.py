"""The review rules of a policy version (``policy.reviews``) and the moments they give: the
window after the trade, the end of the buyer's change, the month a review counts in.

Windows count whole days in the shop's time zone, like the complaint window: from the day after
the moment, to the end of the last day (a 15-day window of a trade that ended on the 22nd ends at
the end of 7 December, 24:00). The cap's month is the calendar month of the order's creation in
the platform's time zone (``violations.timezone``, Asia/Shanghai), as Taobao counts."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.utils.dateparse import parse_duration

from aftersales.catalog.models import Order
from aftersales.policy.models import Policy
from aftersales.policy.rules import policy_data_complete


def review_rules(policy: Policy) -> dict[str, Any]:
    return policy_data_complete(policy)["reviews"]


def hold(policy: Policy) -> dt.timedelta:
    return parse_duration(review_rules(policy)["hold"])


def days_after(moment: dt.datetime, days: int, timezone: str) -> dt.datetime:
    """The end of the ``days``-th day after the day of ``moment`` in ``timezone`` (UTC)."""
    zone = zoneinfo.ZoneInfo(timezone)
    end_day = moment.astimezone(zone).date() + dt.timedelta(days=1 + days)
    return dt.datetime.combine(end_day, dt.time.min, tzinfo=zone).astimezone(dt.UTC)


def window_end(*, trade_ended_at: dt.datetime, policy: Policy, timezone: str) -> dt.datetime:
    return days_after(trade_ended_at, review_rules(policy)["window_days"], timezone)


def change_end(*, rated_at: dt.datetime, policy: Policy, timezone: str) -> dt.datetime:
    return days_after(rated_at, review_rules(policy)["change_days"], timezone)


def score_month(order: Order, policy: Policy) -> str:
    """``2026-11``: the month of the order's creation on the platform (its payment as imported,
    else its arrival here) in the platform's time zone."""
    zone = zoneinfo.ZoneInfo(policy_data_complete(policy)["violations"]["timezone"])
    created = order.paid_at or order.created_at
    return created.astimezone(zone).strftime("%Y-%m")
