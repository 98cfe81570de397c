"""Bases for API bodies and answers: plain pydantic models.

ninja's ``Schema`` wraps every value in an ORM-friendly getter, which cost a third of a queue
request and most of an order import's validation. Bodies and answers here are dicts or model
attributes, so plain pydantic does; query-parameter groups keep ``ninja.Schema``.
"""

import datetime as dt
import re
from decimal import Decimal
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
from aftersales.core.money import money


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


DATE_PATTERN = r"^(19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}$"
ISO_DATE = re.compile(DATE_PATTERN)


def _iso_date_text(value: object) -> object:
    # pydantic alone would also read 0 or "1700000000" as a date (a Unix time)
    if (isinstance(value, dt.date) and not isinstance(value, dt.datetime)) or (
        isinstance(value, str) and ISO_DATE.match(value)
    ):
        return value
    raise ValueError("expected a date from the years 1900 to 2999, such as 2026-11-24")


DateText = Annotated[
    dt.date,
    BeforeValidator(_iso_date_text),
    WithJsonSchema({"type": "string", "format": "date", "pattern": DATE_PATTERN}),
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


# --- numbers and money in bodies ------------------------------------------------------------------
# JSON Schema counts 2.0 as the integer 2 (a client may well write it so): a body takes what its
# document admits. Booleans, text and fractions stay refused. Bounds go before the validator, so
# the document states them even where the field may also be null.


def _whole_number(value: object) -> object:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def whole_number(low: int, high: int):
    """An integer from ``low`` to ``high``."""
    return Annotated[StrictInt, Field(ge=low, le=high), BeforeValidator(_whole_number)]


WholeInt = Annotated[StrictInt, BeforeValidator(_whole_number)]
WholeId = whole_number(1, 2**63 - 1)

# An amount is text of digits with at most two decimals ("12.50") or a whole number; a JSON
# fraction (12.5) is taken too, though a float is not money and the document does not offer it.
# The patterns and bounds are the validation's, so a client built from the document never sends
# an amount refused for its shape ("", "1e3", "-0").
LARGEST_WHOLE_AMOUNT = 9_999_999_999  # 12 digits, 2 of them decimals: the columns' size
MONEY_OR_ZERO = r"^[0-9]{1,10}(\.[0-9]{1,2})?$"
POSITIVE_MONEY = r"^([1-9][0-9]{0,9}(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$"
SIGNED_MONEY = r"^-?([0-9]{1,6}(\.[0-9]{1,2})?|1000000(\.00?)?)$"


def _money(pattern: str, minimum: int, maximum: int, description: str, **bounds):
    def amount_text(value: object) -> object:
        if isinstance(value, bool) or (isinstance(value, str) and not re.fullmatch(pattern, value)):
            raise ValueError("expected an amount such as 12.50 (at most two decimals)")
        return value

    return Annotated[
        Decimal,
        BeforeValidator(amount_text),
        Field(max_digits=12, decimal_places=2, **bounds),
        AfterValidator(money),
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "string", "pattern": pattern},
                    {"type": "integer", "minimum": minimum, "maximum": maximum},
                ],
                "description": description,
            }
        ),
    ]


Amount = _money(
    MONEY_OR_ZERO,
    0,
    LARGEST_WHOLE_AMOUNT,
    'An amount of 0 or more, at most two decimals: "12.50".',
    ge=0,
)
PositiveAmount = _money(
    POSITIVE_MONEY,
    1,
    LARGEST_WHOLE_AMOUNT,
    'More than 0, at most two decimal places: "12.50".',
    gt=0,
)
SignedAmount = _money(
    SIGNED_MONEY,
    -1_000_000,
    1_000_000,
    "-1000000 to 1000000, at most two decimal places.",
    ge=-1_000_000,
    le=1_000_000,
)
