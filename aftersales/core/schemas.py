"""Bases for API bodies and answers: plain pydantic models.

ninja's ``Schema`` wraps every value in an ORM-friendly getter, which cost a third of a queue
request and most of an order import's validation. Bodies and answers here are dicts or model
attributes, so plain pydantic does; query-parameter groups keep ``ninja.Schema``.
"""

import datetime as dt
import re
from typing import Annotated

from django.utils.translation import gettext as _
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    WithJsonSchema,
)

from aftersales.core.errors import InvalidInput


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Input(BaseModel):
    """A request body; unknown fields are ignored, as ninja's Schema does."""


class ErrorOut(Output):
    """Every refusal: a stable ``code``, a human ``detail``, sometimes more fields."""

    model_config = ConfigDict(extra="allow")

    code: str
    detail: str


ERROR_RESPONSES = dict.fromkeys((400, 401, 403, 404, 409, 413, 415, 422, 429), ErrorOut)


# A database id: larger values would overflow PostgreSQL's bigint (a 500, not a 404). Query and
# path parameters arrive as text, so ``Id`` converts; in bodies JSON types are kept strictly
# (``BodyId``, ``BodyInt``, ``BodyBool``, ``Timestamp``): the OpenAPI document says "integer",
# "boolean" or "date-time string", and ``0`` for ``false`` or ``"5"`` for 5 is refused.
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
BodyId = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]
BodyInt = StrictInt
BodyBool = StrictBool


# Years 1900 to 2999: every moment of a trade, and one that any time zone can convert to UTC
# (a date-time in year 1 or 9999 with an offset cannot be, in Python or PostgreSQL).
DATE_TIME_PATTERN = r"^(19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}"
ISO_DATE_TIME = re.compile(DATE_TIME_PATTERN)


def _iso_text(value: object) -> object:
    # pydantic alone would also read 0.5 or "1700000000" as a Unix time
    if isinstance(value, dt.datetime) or (isinstance(value, str) and ISO_DATE_TIME.match(value)):
        return value
    raise ValueError(
        "expected an ISO 8601 date-time from the years 1900 to 2999, such as "
        "2026-11-24T10:00:00+08:00"
    )


def _utc(value: dt.datetime) -> dt.datetime:
    # Stored and compared in UTC; PostgreSQL also refuses offsets beyond ±15:59 that Python allows.
    if value.tzinfo is None:
        return value
    try:
        return value.astimezone(dt.UTC)
    except OverflowError as error:
        raise ValueError("date-time out of range") from error


Timestamp = Annotated[
    dt.datetime,
    BeforeValidator(_iso_text),
    AfterValidator(_utc),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": DATE_TIME_PATTERN}),
]


def refuse_unknown_parameters(request, model: type[BaseModel]) -> None:
    """ninja drops query parameters it does not know; a list refuses them instead, because a
    mistyped filter (``?stat=rejected``) would otherwise silently return everything."""
    unknown = sorted(set(request.GET) - set(model.model_fields))
    if unknown:
        raise InvalidInput(
            _("Unknown parameters: %(names)s.") % {"names": ", ".join(unknown)},
            code="unknown_parameter",
        )
    # A single-valued filter given twice (``?customer=a&customer=b``) would keep only the last.
    repeated = sorted(
        name
        for name in request.GET
        if len(request.GET.getlist(name)) > 1
        and "list" not in str(model.model_fields[name].annotation)
    )
    if repeated:
        raise InvalidInput(
            _("Give %(names)s once.") % {"names": ", ".join(repeated)},
            code="repeated_parameter",
        )


MAX_PAGE = 200


def page_limit(requested: int) -> int:
    """A list's page size, kept between 1 and ``MAX_PAGE``."""
    return max(1, min(requested, MAX_PAGE))
