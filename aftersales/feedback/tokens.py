"""A survey's one-time link. The token is an HMAC of a random salt under the installation's
``SECRET_KEY``; the survey keeps the salt and the token's SHA-256 only, so neither the database
nor the outbox alone can open a survey. Changing the secret key voids the links not yet used."""

from __future__ import annotations

import base64
import hashlib
import secrets

from django.conf import settings
from django.urls import reverse
from django.utils.crypto import salted_hmac

PURPOSE = "aftersales.feedback.survey"


def new_salt() -> str:
    return secrets.token_urlsafe(16)


def survey_token(salt: str) -> str:
    digest = salted_hmac(PURPOSE, salt, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def survey_link(salt: str) -> str:
    token = survey_token(salt)
    return settings.AFTERSALES_BASE_URL + reverse("feedback:survey", kwargs={"token": token})
