"""Queue and deliver notifications."""

from __future__ import annotations

import logging

from django.core.mail import send_mail
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from aftersales.core import clock
from aftersales.notify.models import Audience, Notification

logger = logging.getLogger("aftersales.notify")

MAX_ATTEMPTS = 5


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


def _subject(notification: Notification) -> str:
    number = notification.payload.get("case_number", "")
    subjects = {
        "case_opened": _("After-sales case %(number)s received"),
        "case_approved": _("After-sales case %(number)s approved"),
        "case_auto_approved": _("After-sales case %(number)s approved automatically"),
        "case_rejected": _("After-sales case %(number)s rejected"),
        "case_refunded": _("After-sales case %(number)s refunded"),
        "case_escalated": _("After-sales case %(number)s is overdue"),
        "case_closed": _("After-sales case %(number)s closed"),
        "case_compensated": _("A coupon or store credit for after-sales case %(number)s"),
        "case_converted": _("After-sales case %(number)s: the resolution changed"),
        "case_offer": _("After-sales case %(number)s: the shop offers an alternative"),
        "replacement_shipped": _("After-sales case %(number)s: your replacement is on its way"),
        "case_diagnosed": _("After-sales case %(number)s: diagnosis done"),
        "case_quoted": _("After-sales case %(number)s: a repair quote awaits your answer"),
        "quote_reminder": _("Reminder: the repair quote of case %(number)s awaits your answer"),
        "quote_expired": _(
            "After-sales case %(number)s: the quote expired; your goods come back unrepaired"
        ),
        "goods_shipped_back": _("After-sales case %(number)s: your goods are on their way back"),
        "case_completed": _("After-sales case %(number)s completed"),
    }
    template = subjects.get(notification.kind, _("After-sales case %(number)s updated"))
    return template % {"number": number}


def _deliver(notification: Notification) -> str:
    """Send one notification; returns the channel used."""
    if notification.audience == Audience.CUSTOMER and notification.case_id:
        email = notification.case.customer.email
        if email:
            with translation.override("zh-hans"):
                subject = _subject(notification)
            send_mail(subject, subject, None, [email])
            return "email"
    # No address to reach: the notification stays on record for the workbench and the portal.
    logger.debug(
        "notification %s %s → %s", notification.kind, notification.payload, notification.audience
    )
    return "log"


def notifications_deliver(*, batch_size: int = 100) -> int:
    """Deliver pending notifications; safe to run in several workers at once."""
    delivered = 0
    with transaction.atomic():
        pending = list(
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(delivered_at=None, attempts__lt=MAX_ATTEMPTS)
            .select_related("case__customer")
            .order_by("created_at")[:batch_size]
        )
        for notification in pending:
            notification.attempts += 1
            try:
                notification.channel = _deliver(notification)
                notification.delivered_at = clock.now()
                delivered += 1
            except Exception as error:  # a failed channel must not stop the others
                notification.last_error = str(error)[:1000]
                logger.warning("notification %s failed: %s", notification.pk, error)
            notification.save(update_fields=["attempts", "channel", "delivered_at", "last_error"])
    return delivered
