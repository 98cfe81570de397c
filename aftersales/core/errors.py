"""The application's one error family.

Every refusal a user can provoke is an ``ApplicationError`` with a stable machine ``code`` and a
translatable human ``detail``; the API maps it to ``{"code": ..., "detail": ...}`` with the
error's HTTP status in one place (``config.api``).
"""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, detail: Any = None, *, code: str | None = None, **extra: Any) -> None:
        if code is not None:
            self.code = code
        self.detail = detail if detail is not None else self.code
        self.extra = extra
        super().__init__(f"{self.code}: {self.detail}")

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "detail": str(self.detail), **self.extra}


class InvalidInput(ApplicationError):
    status = 422
    code = "invalid_input"


class NotFound(ApplicationError):
    status = 404
    code = "not_found"


class PermissionDenied(ApplicationError):
    status = 403
    code = "forbidden"


class Unauthenticated(ApplicationError):
    status = 401
    code = "unauthenticated"


class Conflict(ApplicationError):
    """The request is well-formed but the object's current state refuses it."""

    status = 409
    code = "conflict"


class Ineligible(ApplicationError):
    """A business rule refuses the request (window closed, quantity exhausted, ...)."""

    status = 422
    code = "ineligible"


class PayloadTooLarge(ApplicationError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(ApplicationError):
    status = 415
    code = "unsupported_media_type"


class Throttled(ApplicationError):
    status = 429
    code = "throttled"
