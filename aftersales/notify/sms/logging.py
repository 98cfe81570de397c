"""The default text-message backend: the message goes to the log, nothing leaves the machine."""

from __future__ import annotations

import logging

from aftersales.notify.sms import SmsBackend, SmsMessage

logger = logging.getLogger("aftersales.notify.sms")


class LoggingSmsBackend(SmsBackend):
    def send(self, message: SmsMessage) -> str:
        logger.info("SMS to %s: %s", message.phone, message.text)
        return "logged"
