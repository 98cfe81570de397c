"""A care notice's deliveries honour the customer's opt-outs per channel and of care entirely;
a case's notices to the same customer still go."""

import datetime as dt

import pytest
from django.core import mail

from aftersales.catalog.models import Customer
from aftersales.core.models import Notice
from aftersales.crm.care import care_sweep
from aftersales.crm.models import CareCampaign, CustomerPreference
from aftersales.notify.deliveries import deliveries_sweep, delivery_attempt
from aftersales.notify.models import Delivery, DeliveryStatus
from tests.conftest import NOW, make_order, make_user, open_case


@pytest.fixture(autouse=True)
def mailbox(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.AFTERSALES_SMS_BACKEND = "aftersales.notify.sms.logging.LoggingSmsBackend"
    settings.AFTERSALES_SMS_KINDS = ["*"]


@pytest.fixture
def ana(shop, clock):
    make_order(external_id="O-ANA", customer="ANA", paid_at=NOW - dt.timedelta(days=40))
    customer = Customer.objects.get(external_id="ANA")
    customer.email, customer.language = "ana@example.com", "en"
    customer.save(update_fields=["email", "language"])
    return customer


def greet(shop):
    CareCampaign.objects.create(
        shop=shop,
        kind="holiday",
        name="元旦",
        subject="Happy new year, {name}",
        body="Dear {name},\nall of {shop} wishes you well.",
        send_on=NOW.date(),
        created_at=NOW,
        updated_at=NOW,
    )
    assert care_sweep() == 1
    deliveries_sweep()
    return Notice.objects.get(kind="care_holiday")


def opt_out(customer, **fields):
    CustomerPreference.objects.update_or_create(
        customer=customer, defaults={"shop_id": customer.shop_id, "updated_at": NOW, **fields}
    )


def outcome(notice) -> dict[str, str]:
    rows = Delivery.objects.filter(notice=notice)
    for row in rows.filter(status=DeliveryStatus.PENDING):
        delivery_attempt(row.pk)
    return {row.channel: row.status for row in rows}


def test_a_care_message_goes_by_e_mail_and_text_in_the_shops_words(shop, ana):
    notice = greet(shop)
    assert outcome(notice) == {"email": "delivered", "sms": "delivered"}
    [message] = mail.outbox
    assert message.subject == f"Happy new year, {ana.name}"
    assert f"Dear {ana.name}," in message.body
    assert "all of shop 旗舰店 wishes you well." in message.body
    assert message.to == ["ana@example.com"]


def test_an_e_mail_opt_out_withholds_the_e_mail_only(shop, ana):
    opt_out(ana, email_opt_out=True)
    notice = greet(shop)
    assert outcome(notice) == {"email": "skipped", "sms": "delivered"}
    assert mail.outbox == []
    email = Delivery.objects.get(notice=notice, channel="email")
    assert "opted out" in email.last_error


def test_a_text_opt_out_withholds_the_text_only(shop, ana):
    opt_out(ana, sms_opt_out=True)
    notice = greet(shop)
    assert outcome(notice) == {"email": "delivered", "sms": "skipped"}
    assert len(mail.outbox) == 1


def test_an_opt_out_after_the_notice_was_written_still_counts(shop, ana):
    CareCampaign.objects.create(
        shop=shop,
        kind="holiday",
        name="元旦",
        subject="s",
        body="b",
        send_on=NOW.date(),
        created_at=NOW,
        updated_at=NOW,
    )
    care_sweep()
    opt_out(ana, care_opt_out=True)  # before the worker planned the deliveries
    deliveries_sweep()
    notice = Notice.objects.get(kind="care_holiday")
    assert outcome(notice) == {"email": "skipped", "sms": "skipped"}
    assert mail.outbox == []
    # nothing left to plan: the sweep does not pick the notice up again
    assert deliveries_sweep() == 0


def test_a_care_opt_out_never_stops_a_cases_notices(
    shop, clock, django_capture_on_commit_callbacks
):
    order = make_order(external_id="O1", customer="C1")
    customer = Customer.objects.get(external_id="C1")
    Customer.objects.filter(pk=customer.pk).update(email="c1@example.com")
    opt_out(customer, care_opt_out=True, email_opt_out=True, sms_opt_out=True)
    buyer = make_user("buyer", "customer", shop="shop", customer="C1")
    with django_capture_on_commit_callbacks(execute=True):
        open_case(buyer, order)
        deliveries_sweep()
    notice = Notice.objects.get(kind="case_opened")
    assert outcome(notice) == {"email": "delivered", "sms": "delivered"}
    assert len(mail.outbox) == 1
