"""Send one delivery over its channel. Each sender returns what the notice's record says was used
(``email``, ``log``, ``sms``, ``webhook``), raises ``NothingToSend`` when there is no address,
``Permanent`` when trying again cannot help, and any other exception for a failure to retry."""

from __future__ import annotations

import logging
from email.utils import formataddr

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from aftersales.catalog.models import Shop
from aftersales.core.notices import composer_for, notice_kind
from aftersales.notify.models import Channel, Delivery
from aftersales.notify.sms import SmsMessage, SmsNotSendable, SmsRefused, sms_backend
from aftersales.notify.webhooks import event_body, event_payload, webhook_post

logger = logging.getLogger("aftersales.notify")


class NothingToSend(Exception):
    """No address for this channel (no e-mail, no phone, no template): done, nothing sent."""


class Permanent(Exception):
    """The channel refused the message for good."""


def send_email(delivery: Delivery) -> str:
    notice = delivery.notice
    composer = composer_for(notice.subject_type)
    message = composer.email(notice, composer.prepare([notice])) if composer else None
    if message is None:
        raise NothingToSend("no e-mail address")
    shop = Shop.objects.only("name").get(pk=notice.shop_id)
    message.from_email = formataddr((shop.name, settings.DEFAULT_FROM_EMAIL))
    # The same id on a retry: a mail system that keeps it can recognise a repeat.
    message.extra_headers["X-Aftersales-Delivery"] = str(delivery.pk)
    message.send()
    return Channel.EMAIL


def sms_message(delivery: Delivery) -> SmsMessage | None:
    """The customer's text message for a notice: the notice kind's short sentence (its e-mail
    subject) in the customer's language, signed with the shop's name."""
    notice = delivery.notice
    model = notice.subject_type.model_class()
    subject = (
        model._default_manager.select_related("customer", "shop")
        .filter(pk=notice.subject_id)
        .first()
        if model is not None and hasattr(model, "customer")
        else None
    )
    customer = getattr(subject, "customer", None)
    if customer is None or not customer.phone:
        return None
    number = str(notice.payload.get("number", notice.subject_id))
    # A composer may give the message a link to carry (a survey's one-time link, say), or its
    # own sentence (a care message's, written by the shop).
    composer = composer_for(notice.subject_type)
    sms_link = getattr(composer, "sms_link", None)
    link = sms_link(notice) if sms_link is not None else ""
    sms_text = getattr(composer, "sms_text", None)
    with translation.override(customer.language):
        own = sms_text(notice) if sms_text is not None else ""
        text = own or str(notice_kind(notice.kind).subject) % {"number": number}
        text = f"{text} {link}" if link else text
        signed = _("[%(shop)s] %(text)s") % {"shop": subject.shop.name, "text": text}
    params = [number, link] if link else [number]
    return SmsMessage(phone=customer.phone, text=signed, kind=notice.kind, params=params)


def send_sms(delivery: Delivery) -> str:
    message = sms_message(delivery)
    if message is None:
        raise NothingToSend("no phone number")
    try:
        sms_backend().send(message)
    except SmsNotSendable as error:
        raise NothingToSend(str(error)) from None
    except SmsRefused as error:
        raise Permanent(str(error)) from None
    return Channel.SMS


def send_webhook(delivery: Delivery) -> str:
    endpoint = delivery.endpoint
    if endpoint is None or not endpoint.is_active:
        raise NothingToSend("the endpoint was switched off")
    shop_code = Shop.objects.values_list("code", flat=True).get(pk=delivery.shop_id)
    body = event_body(event_payload(delivery.notice, shop_code))
    webhook_post(url=endpoint.url, secret=endpoint.secret, delivery_id=delivery.pk, body=body)
    return Channel.WEBHOOK


def send_log(delivery: Delivery) -> str:
    # A notice for the team stays on record for the workbench; nothing goes out.
    notice = delivery.notice
    logger.debug("notice %s %s → %s", notice.kind, notice.payload, notice.audience)
    return Channel.LOG


SENDERS = {
    Channel.EMAIL: send_email,
    Channel.SMS: send_sms,
    Channel.WEBHOOK: send_webhook,
    Channel.LOG: send_log,
}


def send(delivery: Delivery) -> str:
    return SENDERS[delivery.channel](delivery)
