"""A store's keys, encrypted at rest (Fernet: AES-128-CBC with an HMAC-SHA256 tag).

The key is ``AFTERSALES_CONNECTOR_KEY`` (a Fernet key: ``python -c "from cryptography.fernet
import Fernet; print(Fernet.generate_key().decode())"``) or, when unset, one derived from
``SECRET_KEY``: changing the secret key then makes the stored keys unreadable (each store says so
and asks for its keys again), so a deployment that may rotate its secret key sets its own.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import asdict

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from aftersales.connectors.base import Credentials


class KeysUnreadable(Exception):
    """The stored keys were encrypted with another key (or damaged)."""


def _fernet() -> Fernet:
    configured = getattr(settings, "AFTERSALES_CONNECTOR_KEY", "")
    if configured:
        return Fernet(configured.encode())
    digest = hashlib.sha256(b"aftersales.connectors.keys:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(credentials: Credentials) -> str:
    payload = {**asdict(credentials), "extra": dict(credentials.extra)}
    return _fernet().encrypt(json.dumps(payload, ensure_ascii=False).encode()).decode()


def unseal(token: str) -> Credentials:
    try:
        payload = json.loads(_fernet().decrypt(token.encode()))
    except (InvalidToken, ValueError) as error:
        raise KeysUnreadable from error
    return Credentials(**payload)
