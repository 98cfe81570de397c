"""The worker's routing step: give the new unassigned open cases and complaints of the shops that
assign automatically to their agents on duty, in batches.

Each shop and kind of work is one transaction. The shop's routing lock is taken with ``SKIP
LOCKED`` on PostgreSQL: a shop another worker (or a person claiming, or an agent going off duty)
is routing right now is left for the next round instead of waited for; the subjects are claimed
with ``SKIP LOCKED`` too, so one being assigned by hand at that moment is skipped, not waited
for. Loads are counted under the shop's lock, so no cap is passed however many workers run.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import connection, transaction

from aftersales.core import clock
from aftersales.core.actors import SYSTEM
from aftersales.routing.models import RoutingSettings
from aftersales.routing.services import candidates, hand_out, routing_lock
from aftersales.routing.subjects import Work, kinds_of_work

logger = logging.getLogger("aftersales.routing")


def _route_shop(work: Work, shop_id: int, batch_size: int, now: dt.datetime) -> int:
    skip = connection.features.has_select_for_update_skip_locked
    with transaction.atomic():
        settings = routing_lock(shop_id, skip_locked=skip)
        if settings is None or not settings.auto_assign:
            return 0
        pool = candidates(shop_id, settings)
        if not any(candidate.has_room for candidate in pool):
            return 0
        waiting = (
            work.open(shop_id)
            .filter(**{work.holder_id: None})
            .select_for_update(skip_locked=skip, of=("self",))
            .order_by("id")
        )
        subjects = list(waiting[:batch_size])
        result = hand_out(work, subjects, pool, settings, actor=SYSTEM, now=now)
    return len(result.given)


def routing_sweep(now: dt.datetime | None = None, *, batch_size: int = 200) -> int:
    """Assign up to ``batch_size`` waiting subjects per shop and kind of work; how many were
    assigned."""
    now = now or clock.now()
    shop_ids = list(
        RoutingSettings.objects.filter(auto_assign=True)
        .order_by("shop_id")
        .values_list("shop_id", flat=True)
    )
    assigned = 0
    for shop_id in shop_ids:
        for work in kinds_of_work():
            assigned += _route_shop(work, shop_id, batch_size, now)
    if assigned:
        logger.info("assigned %s cases and complaints", assigned)
    return assigned
