"""Customer e-mails: a subject, a plain-text and an HTML body in the customer's language, telling
what happened, where the case stands now, the next deadline in the shop's time and the link to
the case; delivered in batches, retried when the mail server fails."""

from __future__ import annotations

import smtplib
import socket

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as MemoryBackend

from aftersales.cases.choices import DeadlineAction
from aftersales.cases.models import Case
from aftersales.cases.wording import CUSTOMER_CONSEQUENCES
from aftersales.catalog.models import Customer, Shop
from aftersales.conversations.services import message_post
from aftersales.core.models import Audience, Notice
from aftersales.core.notices import registered_kinds
from aftersales.notify.services import notifications_deliver
from tests.conftest import make_order, open_case


@pytest.fixture(autouse=True)
def mailbox(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.AFTERSALES_BASE_URL = "https://help.example.com"


def reachable(external_id="C1", *, email="buyer@example.com", language="en") -> Customer:
    customer = Customer.objects.get(external_id=external_id)
    customer.email = email
    customer.language = language
    customer.save(update_fields=["email", "language"])
    return customer


def delivered_now():
    """Deliver what is pending; the e-mails sent by this call."""
    mail.outbox.clear()
    notifications_deliver()
    return list(mail.outbox)


def test_an_english_customer_reads_what_happened_the_state_the_deadline_and_the_link(
    customer, order, clock
):
    # given
    reachable(language="en")
    number = open_case(customer, order)["number"]

    # when
    [message] = delivered_now()

    # then
    assert message.to == ["buyer@example.com"]
    assert message.subject == f"After-sales case {number} received"
    assert message.body == (
        "Hello 顾客C1,\n"
        "\n"
        "We have received your after-sales application (Return and refund); "
        "the shop will answer it.\n"
        "\n"
        "Amount: 90.00 CNY\n"
        f"Case: {number}\n"
        "Order: O1\n"
        "State: Awaiting seller\n"
        "\n"
        "If the shop does not answer by 29 Nov 2026, 10:00, "
        "your application is approved automatically.\n"
        "\n"
        f"See your case: https://help.example.com/cases/{number}/\n"
        "\n"
        "shop 旗舰店 after-sales service\n"
        "This e-mail was sent automatically; to answer, please use the case page.\n"
    )
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert '<html lang="en">' in html
    assert f'<a href="https://help.example.com/cases/{number}/"' in html
    assert ">Awaiting seller</td>" in html
    assert "If the shop does not answer by 29 Nov 2026, 10:00" in html


def test_a_chinese_customer_reads_it_in_chinese_with_a_chinese_date(customer, order, clock):
    # given
    reachable(language="zh-hans")
    number = open_case(customer, order)["number"]

    # when
    [message] = delivered_now()

    # then
    assert message.subject == f"售后申请 {number} 已收到"
    assert message.body.startswith("顾客C1，您好：\n")
    assert "状态：买家已申请，待商家处理\n" in message.body
    assert "2026年11月29日 10:00" in message.body
    assert "29 Nov" not in message.body
    assert f"https://help.example.com/cases/{number}/" in message.body
    [(html, _mimetype)] = message.alternatives
    assert '<html lang="zh-hans">' in html
    assert ">买家已申请，待商家处理</td>" in html


def test_the_deadline_is_the_shops_local_time_and_the_case_is_read_at_delivery(
    customer, agent, order, clock
):
    # given: opened at 10:00 in Shanghai, rejected before anything was delivered
    reachable(language="en")
    number = open_case(customer, order)["number"]
    clock.shift(hours=13)  # 23:00 in Shanghai, 15:00 UTC
    agent.act(number, "reject", {"reason": "The seal is broken."})

    # when
    opened, rejected = delivered_now()

    # then: both tell the state as it is now, and the next deadline in Shanghai's time
    deadline = Case.objects.get(number=number).deadline_at
    assert deadline.hour == 15
    assert "State: Rejected by seller" in opened.body
    assert "State: Rejected by seller" in rejected.body
    assert "If the shop does not answer by" not in opened.body
    assert (
        "If nothing happens by 1 Dec 2026, 23:00, the case closes automatically." in rejected.body
    )


def test_a_rejection_carries_the_shops_reason(customer, agent, order, clock):
    # given
    reachable(language="en")
    number = open_case(customer, order)["number"]
    delivered_now()

    # when
    agent.act(number, "reject", {"reason": "Worn <b>twice</b> & washed."})
    [message] = delivered_now()

    # then
    assert message.subject == f"After-sales case {number} rejected"
    assert "The shop has rejected your application." in message.body
    assert "The shop's answer: Worn <b>twice</b> & washed." in message.body
    [(html, _mimetype)] = message.alternatives
    assert "Worn &lt;b&gt;twice&lt;/b&gt; &amp; washed." in html
    assert "<b>twice</b>" not in html


def test_a_message_carries_its_text(customer, agent, order, clock):
    # given
    reachable(language="en")
    number = open_case(customer, order)["number"]
    delivered_now()

    # when
    message_post(
        actor=agent.principal,
        subject_type="case",
        number=number,
        text="Please add a photo\nof the seam.",
    )
    [message] = delivered_now()

    # then
    assert message.subject == f"After-sales case {number}: a message from the shop"
    assert "The shop has sent you a message:\n\nPlease add a photo\nof the seam.\n" in message.body
    [(html, _mimetype)] = message.alternatives
    assert "Please add a photo<br>of the seam." in html


def test_a_compensation_names_its_amount_and_code(customer, agent, shop, clock):
    # given
    reachable(language="en")
    order = make_order(external_id="UNSHIPPED", shipped=False)
    number = open_case(customer, order, kind="refund_only", reason="not_shipped")["number"]
    delivered_now()

    # when
    code = agent.post(
        f"/cases/{number}/compensations", {"reason": "goodwill", "kind": "coupon", "amount": "8"}
    ).json()["code"]
    [message] = delivered_now()

    # then
    assert message.subject == f"A coupon or store credit for after-sales case {number}"
    assert f"Coupon: 8.00 CNY\nCoupon or credit code: {code}\n" in message.body


def test_a_refund_tells_the_amount_in_the_shops_currency(customer, agent, finance, order, clock):
    # given
    Shop.objects.filter(code="shop").update(currency="HKD")
    reachable(language="en")
    number = open_case(customer, order, kind="refund_only", reason="missing_item")["number"]
    agent.act(number, "approve")
    delivered_now()

    # when
    finance.act(number, "refund", {"idempotency_key": "pay-1"})
    [message] = delivered_now()

    # then
    assert message.subject == f"After-sales case {number} refunded"
    assert "You have been refunded 90.00 HKD.\n" in message.body
    assert "State: Refunded\n" in message.body


def test_an_offer_tells_what_the_shop_proposes(customer, agent, order, clock):
    # given: an exchange whose goods came back and passed inspection
    reachable(language="en")
    number = open_case(customer, order, kind="exchange", reason="wrong_size")["number"]
    agent.act(number, "approve")
    customer.act(number, "ship_return", {"carrier": "中通快递", "tracking_number": "ZT1"})
    agent.act(number, "receive")
    agent.act(number, "inspect", {"result": "pass"})
    delivered_now()

    # when
    agent.act(number, "offer", {"note": "M码缺货，可换L码", "discount": "20"})
    [message] = delivered_now()

    # then
    assert message.subject == f"After-sales case {number}: the shop offers an alternative"
    assert "The shop's offer: M码缺货，可换L码\nDiscount: 20.00 CNY\n" in message.body


def test_a_customer_without_an_address_gets_no_mail_and_the_notice_is_logged(
    customer, order, clock
):
    # given
    reachable(email="", language="en")
    number = open_case(customer, order)["number"]

    # when
    sent = delivered_now()

    # then
    assert sent == []
    notice = Notice.objects.get(case__number=number)
    assert notice.channel == "log"
    assert notice.delivered_at == clock.now
    assert notice.attempts == 1


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_failing_mail_server_leaves_the_notice_to_retry_with_its_error(
    customer, order, clock, settings
):
    # given: the mail server refuses connections
    reachable(language="en")
    number = open_case(customer, order)["number"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port()
    settings.EMAIL_TIMEOUT = 5

    # when: a first attempt, and a second once its pause (a minute) is over
    first = notifications_deliver()
    early = notifications_deliver()
    clock.shift(minutes=1)
    second = notifications_deliver()

    # then
    notice = Notice.objects.get(case__number=number)
    assert (first, early, second) == (0, 0, 0)
    assert notice.delivered_at is None
    assert notice.channel == ""
    assert notice.attempts == 2
    assert notice.last_error == "[Errno 111] Connection refused"

    # and once the server is back, the next attempt (two minutes later) delivers it
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    clock.shift(minutes=2)
    assert len(delivered_now()) == 1
    notice.refresh_from_db()
    assert (notice.channel, notice.attempts, notice.delivered_at) == ("email", 3, clock.now)


class DroppingBackend(MemoryBackend):
    """A server that drops the first connection mid-send; a dropped connection stays dead until
    it is closed and opened again, as an SMTP connection does."""

    drops_left = 0

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dropped = False

    def close(self):
        self.dropped = False

    def send_messages(self, messages):
        if DroppingBackend.drops_left:
            DroppingBackend.drops_left -= 1
            self.dropped = True
        if self.dropped:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


def test_a_dropped_connection_fails_one_notice_and_the_next_dials_again(
    customer, order, clock, settings, monkeypatch
):
    # given: two e-mails; the server drops the connection during the first
    reachable(language="en")
    first = open_case(customer, order)["number"]
    second = open_case(customer, make_order(external_id="O2"))["number"]
    settings.EMAIL_BACKEND = "tests.test_notify.DroppingBackend"
    monkeypatch.setattr(DroppingBackend, "drops_left", 1)
    mail.outbox = []

    # when
    delivered = notifications_deliver()

    # then
    assert delivered == 1
    assert [message.subject for message in mail.outbox] == [f"After-sales case {second} received"]
    failed = Notice.objects.get(case__number=first)
    assert (failed.delivered_at, failed.last_error) == (None, "Connection unexpectedly closed")


def test_twenty_notices_of_several_kinds_are_delivered(customer, agent, clock):
    # given: twenty e-mails of several kinds, each needing its case, customer, order and shop
    reachable(language="en")
    numbers = [open_case(customer, make_order(external_id=f"O{i}"))["number"] for i in range(1, 16)]
    for number in numbers[:3]:
        agent.act(number, "reject", {"reason": "Worn."})
    for number in numbers[3:5]:
        agent.post(
            f"/cases/{number}/compensations",
            {"reason": "goodwill", "kind": "coupon", "amount": "5"},
        )
    assert Notice.objects.filter(delivered_at=None).count() == 20

    # when (each delivery's queries are pinned in tests/test_deliveries.py)
    mail.outbox.clear()
    delivered = notifications_deliver()

    # then
    assert delivered == 20
    assert len(mail.outbox) == 20


def test_every_customer_notice_has_its_subject_and_every_deadline_its_sentence():
    # given the notices cases send customers
    kinds = {code: kind for code, kind in registered_kinds().items() if code.startswith("case_")}
    customer = {code for code, kind in kinds.items() if kind.audience == Audience.CUSTOMER}

    # then each has its subject and the team's words, and every deadline its sentence
    assert {"case_opened", "case_message", "case_compensated", "case_refunded"} <= customer
    assert all("%(number)s" in str(kind.subject) and str(kind.summary) for kind in kinds.values())
    assert set(DeadlineAction.values) - set(CUSTOMER_CONSEQUENCES) == set()
