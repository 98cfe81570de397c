"""Text messages: the logging backend writes the notice's short sentence in the customer's
language; Tencent Cloud SMS is called with a request signed by TC3-HMAC-SHA256 (checked against
the provider's documented example and by a fake provider that recomputes the signature), and its
answers are read: accepted, refused for good (dead), or refused for now (tried again)."""

from __future__ import annotations

import logging

import pytest

from aftersales.catalog.models import Customer
from aftersales.notify.deliveries import deliveries_sweep
from aftersales.notify.models import Delivery
from aftersales.notify.runner import tasks_run
from aftersales.notify.sms import SmsError, SmsRefused
from aftersales.notify.sms.tencent import TencentSmsBackend, e164, tc3_authorization
from tests.conftest import open_case
from tests.servers import FakeTencentSms, http_server

SECRET_KEY = "test-secret-key-0123456789"


def test_the_signature_matches_the_providers_documented_example():
    # Tencent Cloud's "Signature v3" example (a CVM DescribeInstances call on 2019-02-25)
    body = (
        b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
    )
    authorization = tc3_authorization(
        secret_id="AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******",
        secret_key="Gu5t9xGARNpq86cd98joQYCN3*******",
        service="cvm",
        host="cvm.tencentcloudapi.com",
        body=body,
        timestamp=1551113065,
    )
    assert authorization == (
        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/"
        "tc3_request, SignedHeaders=content-type;host, "
        "Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
    )


@pytest.mark.parametrize(
    ("phone", "number"),
    [
        ("13800000000", "+8613800000000"),
        ("138 0000 0000", "+8613800000000"),
        ("8613800000000", "+8613800000000"),
        ("008613800000000", "+8613800000000"),
        ("+85291234567", "+85291234567"),
    ],
)
def test_numbers_are_sent_as_e164(phone, number):
    assert e164(phone) == number


@pytest.fixture
def tencent(settings):
    fake = FakeTencentSms(SECRET_KEY)
    with http_server(fake.handler()) as server:
        settings.AFTERSALES_SMS_BACKEND = "aftersales.notify.sms.tencent.TencentSmsBackend"
        settings.AFTERSALES_SMS_KINDS = ["case_opened"]
        settings.AFTERSALES_SMS_TENCENT = {
            "SECRET_ID": "AKIDtest",
            "SECRET_KEY": SECRET_KEY,
            "SDK_APP_ID": "1400006666",
            "SIGN_NAME": "售后服务",
            "REGION": "ap-guangzhou",
            "ENDPOINT": f"http://127.0.0.1:{server.server_address[1]}",
            "TEMPLATES": {"case_opened": "1110"},
        }
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        yield fake


def sms_of(customer, order, capture) -> Delivery:
    with capture(execute=True):
        open_case(customer, order)
        deliveries_sweep()  # the worker plans the notice's deliveries
    with capture(execute=True):
        tasks_run(worker_id="test")
    return Delivery.objects.get(channel="sms")


def test_a_text_is_sent_through_tencent_with_the_kinds_template_and_the_case_number(
    tencent, customer, order, clock, django_capture_on_commit_callbacks
):
    # when
    delivery = sms_of(customer, order, django_capture_on_commit_callbacks)

    # then the provider accepted a correctly signed request
    number = delivery.notice.payload["number"]
    [(headers, body)] = tencent.requests
    assert body == {
        "PhoneNumberSet": ["+8613800000000"],
        "SmsSdkAppId": "1400006666",
        "SignName": "售后服务",
        "TemplateId": "1110",
        "TemplateParamSet": [number],
        "SessionContext": "case_opened",
    }
    assert (headers["X-TC-Action"], headers["X-TC-Version"]) == ("SendSms", "2021-01-11")
    assert headers["X-TC-Timestamp"] == str(int(clock.now.timestamp()))
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("delivered", 1, "")


def test_a_wrong_number_is_refused_for_good(
    tencent, customer, order, clock, django_capture_on_commit_callbacks
):
    tencent.refused_numbers.add("+8613800000000")
    delivery = sms_of(customer, order, django_capture_on_commit_callbacks)
    assert (delivery.status, delivery.attempts) == ("dead", 1)
    assert delivery.last_error == "InvalidParameterValue.IncorrectPhoneNumber: incorrect number"


def test_a_wrong_key_is_refused_and_tried_again_later(
    tencent, customer, order, clock, settings, django_capture_on_commit_callbacks
):
    settings.AFTERSALES_SMS_TENCENT = {**settings.AFTERSALES_SMS_TENCENT, "SECRET_KEY": "wrong"}
    delivery = sms_of(customer, order, django_capture_on_commit_callbacks)
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.last_error.startswith("AuthFailure.SignatureFailure: ")


def test_a_kind_without_a_template_sends_nothing(
    tencent, customer, order, clock, settings, django_capture_on_commit_callbacks
):
    settings.AFTERSALES_SMS_TENCENT = {**settings.AFTERSALES_SMS_TENCENT, "TEMPLATES": {}}
    delivery = sms_of(customer, order, django_capture_on_commit_callbacks)
    assert (delivery.status, tencent.requests) == ("skipped", [])


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ({"Response": {"Error": {"Code": "InternalError.Timeout", "Message": "x"}}}, SmsError),
        ({"Response": {"Error": {"Code": "LimitExceeded.PhoneNumberDailyLimit"}}}, SmsError),
        (
            {"Response": {"Error": {"Code": "InvalidParameterValue.TemplateParameterFormatError"}}},
            SmsRefused,
        ),
        (
            {"Response": {"Error": {"Code": "UnauthorizedOperation.SmsSdkAppIdVerifyFail"}}},
            SmsRefused,
        ),
        (
            {"Response": {"SendStatusSet": [{"Code": "FailedOperation.PhoneNumberInBlacklist"}]}},
            SmsRefused,
        ),
        ({"Response": {"SendStatusSet": []}}, SmsError),
    ],
)
def test_the_providers_refusals_are_told_apart(answer, error):
    with pytest.raises(error) as refusal:
        TencentSmsBackend.read(answer)
    assert type(refusal.value) is error


def test_the_logging_backend_writes_the_short_text_in_the_customers_language(
    customer, order, clock, settings, caplog, django_capture_on_commit_callbacks
):
    settings.AFTERSALES_SMS_BACKEND = "aftersales.notify.sms.logging.LoggingSmsBackend"
    settings.AFTERSALES_SMS_KINDS = ["*"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    Customer.objects.filter(external_id="C1").update(language="en")
    with caplog.at_level(logging.INFO, logger="aftersales.notify.sms"):
        delivery = sms_of(customer, order, django_capture_on_commit_callbacks)
    number = delivery.notice.payload["number"]
    assert f"SMS to 13800000000: [shop 旗舰店] After-sales case {number} received" in caplog.text
    assert delivery.status == "delivered"
