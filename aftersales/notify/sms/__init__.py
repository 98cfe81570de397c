"""Text messages through an adapter: ``LoggingSmsBackend`` (the default: writes the message to the
log) or ``TencentSmsBackend`` (Tencent Cloud SMS, ``SendSms`` signed with TC3-HMAC-SHA256).
``AFTERSALES_SMS_BACKEND`` names the class."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class SmsMessage:
    phone: str
    # The message as the logging backend writes it, in the customer's language.
    text: str
    # The notice kind: a provider with approved templates picks the template by it.
    kind: str
    # The template's parameters, in order (the subject's number).
    params: list[str] = field(default_factory=list)


class SmsError(Exception):
    """The message was not sent; a later attempt may succeed (network, rate limit, outage)."""


class SmsRefused(SmsError):
    """The provider refused the message for good (a wrong number, a template not approved):
    trying again cannot help."""


class SmsNotSendable(Exception):
    """Nothing to send: the backend has no template for this kind of notice."""


class SmsBackend(Protocol):
    """Sends one message; returns the provider's reference for it. Raises ``SmsError``,
    ``SmsRefused`` or ``SmsNotSendable``."""

    def send(self, message: SmsMessage) -> str: ...


@cache
def _backend_class(path: str) -> type[SmsBackend]:
    return import_string(path)


def sms_backend() -> SmsBackend:
    return _backend_class(settings.AFTERSALES_SMS_BACKEND)()
