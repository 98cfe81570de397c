"""Tencent Cloud SMS (腾讯云短信): ``SendSms`` of API version 2021-01-11, signed with
TC3-HMAC-SHA256 as the provider documents it ("Signature v3"):

    CanonicalRequest = POST \\n / \\n (empty query) \\n content-type:…\\nhost:…\\n \\n
                       content-type;host \\n hex(SHA256(body))
    StringToSign     = TC3-HMAC-SHA256 \\n timestamp \\n date/sms/tc3_request \\n
                       hex(SHA256(CanonicalRequest))
    key              = HMAC(HMAC(HMAC("TC3" + SecretKey, date), "sms"), "tc3_request")
    Authorization    = TC3-HMAC-SHA256 Credential=SecretId/date/sms/tc3_request,
                       SignedHeaders=content-type;host, Signature=hex(HMAC(key, StringToSign))

Mainland messages use templates approved in the console: the template is chosen by the notice's
kind (``TEMPLATES``, ``*`` for any other kind) and gets the subject's number as its parameter.
The answer carries either ``Response.Error`` (the request was refused) or one
``SendStatusSet`` entry per number whose ``Code`` is ``Ok`` when the message was accepted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings

from aftersales.core import clock
from aftersales.notify.sms import SmsBackend, SmsError, SmsMessage, SmsNotSendable, SmsRefused

SERVICE = "sms"
VERSION = "2021-01-11"
CONTENT_TYPE = "application/json; charset=utf-8"
TIMEOUT_SECONDS = 10

# Error codes (the part before the first dot, or the whole code) that no retry can fix: the
# number, the template, the signature or the account's settings are wrong. Anything else (an
# internal error, a rate limit, an expired signature from clock skew) is tried again.
PERMANENT = (
    "InvalidParameter",
    "InvalidParameterValue",
    "MissingParameter",
    "UnsupportedOperation",
    "UnauthorizedOperation",
    "FailedOperation.PhoneNumberInBlacklist",
    "FailedOperation.PhoneNumberOnBlacklist",
    "FailedOperation.TemplateIncorrectOrUnapproved",
    "FailedOperation.SignatureIncorrectOrUnapproved",
    "FailedOperation.ContainSensitiveWord",
)


def is_permanent(code: str) -> bool:
    return code in PERMANENT or code.split(".", 1)[0] in PERMANENT


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def tc3_authorization(
    *,
    secret_id: str,
    secret_key: str,
    service: str,
    host: str,
    body: bytes,
    timestamp: int,
    content_type: str = CONTENT_TYPE,
) -> str:
    """The ``Authorization`` header of a POST to ``/`` of ``host`` with ``body``."""
    date = dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d")
    canonical_request = "\n".join(
        [
            "POST",
            "/",
            "",
            f"content-type:{content_type.lower()}\nhost:{host.lower()}\n",
            "content-type;host",
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{date}/{service}/tc3_request"
    string_to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            str(timestamp),
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, "
        f"SignedHeaders=content-type;host, Signature={signature}"
    )


def e164(phone: str) -> str:
    """A mainland number as E.164 (``+8613800000000``); a number with ``+`` stays as it is."""
    digits = "".join(ch for ch in phone if ch.isdigit() or ch == "+")
    if digits.startswith("+"):
        return digits
    if digits.startswith("0086"):
        return "+" + digits[2:]
    if digits.startswith("86") and len(digits) == 13:
        return "+" + digits
    return "+86" + digits


class TencentSmsBackend(SmsBackend):
    def __init__(self, options: dict | None = None):
        self.options = options if options is not None else settings.AFTERSALES_SMS_TENCENT

    def request(self, message: SmsMessage) -> tuple[str, bytes, dict[str, str]]:
        """The URL, body and headers of the ``SendSms`` call for ``message``."""
        options = self.options
        templates = options.get("TEMPLATES") or {}
        template = templates.get(message.kind) or templates.get("*")
        if not template:
            raise SmsNotSendable(f"no Tencent SMS template for {message.kind}")
        body = json.dumps(
            {
                "PhoneNumberSet": [e164(message.phone)],
                "SmsSdkAppId": options["SDK_APP_ID"],
                "SignName": options["SIGN_NAME"],
                "TemplateId": template,
                "TemplateParamSet": message.params,
                "SessionContext": message.kind,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        url = options.get("ENDPOINT") or "https://sms.tencentcloudapi.com"
        host = urllib.parse.urlsplit(url).netloc
        timestamp = int(clock.now().timestamp())
        headers = {
            "Authorization": tc3_authorization(
                secret_id=options["SECRET_ID"],
                secret_key=options["SECRET_KEY"],
                service=SERVICE,
                host=host,
                body=body,
                timestamp=timestamp,
            ),
            "Content-Type": CONTENT_TYPE,
            "Host": host,
            "X-TC-Action": "SendSms",
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Version": VERSION,
            "X-TC-Region": options.get("REGION") or "ap-guangzhou",
        }
        return url, body, headers

    def send(self, message: SmsMessage) -> str:
        url, body, headers = self.request(message)
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                answer = json.loads(response.read().decode())
        except urllib.error.HTTPError as error:
            raise SmsError(f"Tencent SMS answered HTTP {error.code}") from error
        except (OSError, ValueError) as error:
            raise SmsError(f"Tencent SMS unreachable: {error}") from error
        return self.read(answer)

    @staticmethod
    def read(answer: dict) -> str:
        """The serial number of the accepted message, or the refusal as an exception."""
        response = answer.get("Response") or {}
        error = response.get("Error")
        if error:
            code, text = error.get("Code", ""), error.get("Message", "")
            refusal = SmsRefused if is_permanent(code) else SmsError
            raise refusal(f"{code}: {text}")
        statuses = response.get("SendStatusSet") or []
        if not statuses:
            raise SmsError("Tencent SMS answered without a send status")
        status = statuses[0]
        code = status.get("Code", "")
        if code != "Ok":
            refusal = SmsRefused if is_permanent(code) else SmsError
            raise refusal(f"{code}: {status.get('Message', '')}")
        return status.get("SerialNo", "")
