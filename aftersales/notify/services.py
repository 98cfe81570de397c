"""Deliver the outbox: notices about any subject (``core.models.Notice``), each turned into a
message by the composer its subject's app registered (``core.notices``), sent over its channel."""

from __future__ import annotations

import logging
from collections import defaultdict

from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction

from aftersales.core import clock
from aftersales.core.bulk import bulk_update_rows
from aftersales.core.models import Audience, Notice
from aftersales.core.notices import composer_for

logger = logging.getLogger("aftersales.notify")

MAX_ATTEMPTS = 5
DELIVERY_FIELDS = ("attempts", "channel", "delivered_at", "last_error")


def _deliver(notice: Notice, prepared, composer, connection: BaseEmailBackend) -> str:
    """Send one notice; returns the channel used."""
    if notice.audience == Audience.CUSTOMER and composer is not None:
        message = composer.email(notice, prepared)
        if message is not None:
            # Opens the batch's one connection on first use (a no-op once open); a refused
            # connection fails this notice only, and the next one tries again.
            connection.open()
            message.connection = connection
            message.send()
            return "email"
    # No address to reach: the notice stays on record for the workbench and the portal.
    logger.debug("notice %s %s → %s", notice.kind, notice.payload, notice.audience)
    return "log"


def _close(connection: BaseEmailBackend) -> None:
    # A failed goodbye to the server must not undo the batch's record of what was sent (and
    # send it all again).
    try:
        connection.close()
    except Exception as error:
        logger.warning("closing the mail connection failed: %s", error)


def notifications_deliver(*, batch_size: int = 100) -> int:
    """Deliver pending notices; safe to run in several workers at once."""
    delivered = 0
    with transaction.atomic():
        pending = list(
            Notice.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(delivered_at=None, attempts__lt=MAX_ATTEMPTS)
            .select_related("subject_type")
            .order_by("created_at")[:batch_size]
        )
        if not pending:
            return 0
        by_type = defaultdict(list)
        for notice in pending:
            by_type[notice.subject_type_id].append(notice)
        # Each kind of subject reads what its messages tell in a few queries for the batch.
        prepared = {}
        for type_id, notices in by_type.items():
            composer = composer_for(notices[0].subject_type)
            prepared[type_id] = (composer, composer.prepare(notices) if composer else None)
        connection = mail.get_connection()
        try:
            for notice in pending:
                composer, batch = prepared[notice.subject_type_id]
                notice.attempts += 1
                try:
                    notice.channel = _deliver(notice, batch, composer, connection)
                    notice.delivered_at = clock.now()
                    delivered += 1
                except Exception as error:  # a failed channel must not stop the others
                    notice.last_error = str(error)[:1000] or type(error).__name__
                    logger.warning("notice %s failed: %s", notice.pk, error)
                    # A connection that failed once is not trusted again: the next e-mail dials
                    # anew.
                    _close(connection)
        finally:
            _close(connection)
        bulk_update_rows(Notice, pending, DELIVERY_FIELDS)
    return delivered
