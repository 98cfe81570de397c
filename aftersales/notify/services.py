"""Queue and deliver notifications."""

from __future__ import annotations

import logging

from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction

from aftersales.core import clock
from aftersales.core.bulk import bulk_update_rows
from aftersales.notify.emails import BatchDetails, batch_details, case_email
from aftersales.notify.models import Audience, Notification

logger = logging.getLogger("aftersales.notify")

MAX_ATTEMPTS = 5
DELIVERY_FIELDS = ("attempts", "channel", "delivered_at", "last_error")


def notification_build(
    *, case, kind: str, audience: str, payload: dict | None = None
) -> Notification:
    """An unsaved notification; the caller writes it in the transaction that makes the change."""
    return Notification(
        shop_id=case.shop_id,
        case=case,
        audience=audience,
        kind=kind,
        payload={"case_number": case.number, "state": case.state, **(payload or {})},
        created_at=clock.now(),
    )


def _deliver(
    notification: Notification, *, extra: BatchDetails, connection: BaseEmailBackend
) -> str:
    """Send one notification; returns the channel used."""
    if notification.audience == Audience.CUSTOMER and notification.case_id:
        message = case_email(notification, extra)
        if message is not None:
            # Opens the batch's one connection on first use (a no-op once open); a refused
            # connection fails this notification only, and the next one tries again.
            connection.open()
            message.connection = connection
            message.send()
            return "email"
    # No address to reach: the notification stays on record for the workbench and the portal.
    logger.debug(
        "notification %s %s → %s", notification.kind, notification.payload, notification.audience
    )
    return "log"


def _close(connection: BaseEmailBackend) -> None:
    # A failed goodbye to the server must not undo the batch's record of what was sent (and
    # send it all again).
    try:
        connection.close()
    except Exception as error:
        logger.warning("closing the mail connection failed: %s", error)


def notifications_deliver(*, batch_size: int = 100) -> int:
    """Deliver pending notifications; safe to run in several workers at once."""
    delivered = 0
    with transaction.atomic():
        pending = list(
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(delivered_at=None, attempts__lt=MAX_ATTEMPTS)
            # The case as it is now, with what its e-mail tells, in this one query.
            .select_related("shop", "case__customer", "case__order", "case__return_address")
            .order_by("created_at")[:batch_size]
        )
        if not pending:
            return 0
        extra = batch_details(pending)
        connection = mail.get_connection()
        try:
            for notification in pending:
                notification.attempts += 1
                try:
                    notification.channel = _deliver(
                        notification, extra=extra, connection=connection
                    )
                    notification.delivered_at = clock.now()
                    delivered += 1
                except Exception as error:  # a failed channel must not stop the others
                    notification.last_error = str(error)[:1000] or type(error).__name__
                    logger.warning("notification %s failed: %s", notification.pk, error)
                    # A connection that failed once is not trusted again: the next e-mail dials
                    # anew.
                    _close(connection)
        finally:
            _close(connection)
        bulk_update_rows(Notification, pending, DELIVERY_FIELDS)
    return delivered
