"""E-mail over a real SMTP server (aiosmtpd, started and stopped by the test on a free port): the
message arrives once, with a plain-text and an HTML part in the customer's language, from the
shop's name at the installation's address, to the customer, with the notice's subject."""

from __future__ import annotations

import pytest
from django_tasks_db.models import DBTaskResult

from aftersales.catalog.models import Customer
from aftersales.notify.deliveries import deliveries_sweep
from aftersales.notify.models import Delivery
from aftersales.notify.runner import tasks_run
from tests.conftest import open_case
from tests.servers import Mailbox, smtp_server


@pytest.fixture
def mailbox(settings):
    box = Mailbox()
    with smtp_server(box) as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = server.hostname, server.port
        settings.EMAIL_TIMEOUT = 10
        settings.DEFAULT_FROM_EMAIL = "service@help.example.com"
        settings.AFTERSALES_BASE_URL = "https://help.example.com"
        settings.AFTERSALES_SMS_KINDS = []
        yield box


@pytest.mark.parametrize(
    ("language", "subject", "greeting", "state"),
    [
        ("en", "After-sales case {} received", "Hello 顾客C1,", "State: Awaiting seller"),
        ("zh-hans", "售后申请 {} 已收到", "顾客C1，您好：", "状态：买家已申请，待商家处理"),
    ],
)
def test_the_e_mail_reaches_the_smtp_server_with_both_parts_in_the_customers_language(
    mailbox,
    customer,
    order,
    clock,
    django_capture_on_commit_callbacks,
    language,
    subject,
    greeting,
    state,
):
    # given
    Customer.objects.filter(external_id="C1").update(email="buyer@example.com", language=language)
    with django_capture_on_commit_callbacks(execute=True):
        number = open_case(customer, order)["number"]
        deliveries_sweep()  # the worker plans the notice's deliveries

    # when the worker runs the delivery's task
    assert tasks_run(worker_id="test") == 1

    # then
    [message] = mailbox.messages
    assert mailbox.envelopes == [("service@help.example.com", ["buyer@example.com"])]
    assert message["From"] == "shop 旗舰店 <service@help.example.com>"
    assert message["To"] == "buyer@example.com"
    assert message["Subject"] == subject.format(number)
    delivery = Delivery.objects.get(channel="email")
    assert message["X-Aftersales-Delivery"] == str(delivery.pk)
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert text.startswith(greeting)
    assert state in text
    assert f"https://help.example.com/cases/{number}/" in text
    assert f'<html lang="{language}">' in html
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


def test_a_refused_message_is_kept_for_the_next_attempt(
    mailbox, customer, order, clock, settings, django_capture_on_commit_callbacks
):
    # given a server that keeps the message waiting and then answers "try again later"
    mailbox.stall_first = True
    mailbox.release.set()
    Customer.objects.filter(external_id="C1").update(email="buyer@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        open_case(customer, order)
        deliveries_sweep()  # the worker plans the notice's deliveries

    # when
    with django_capture_on_commit_callbacks(execute=True):
        tasks_run(worker_id="test")
    email = Delivery.objects.get(channel="email")

    # then
    assert (email.status, email.attempts, mailbox.messages) == ("pending", 1, [])
    assert "451" in email.last_error

    # and a minute later the next attempt delivers it, once
    clock.shift(minutes=1)
    tasks_run(worker_id="test")
    email.refresh_from_db()
    assert (email.status, email.attempts, len(mailbox.messages)) == ("delivered", 2, 1)
