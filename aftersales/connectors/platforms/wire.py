"""What the JD, Douyin and Kuaishou adapters share: one HTTP POST with the standard library that
tells a read's failure (retry it) from a write's (its outcome is unknown, never retried), the
window check every ``changed`` does first, and the platforms' units (fen, Beijing-time text,
epoch seconds and milliseconds)."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from aftersales.connectors.base import ConnectorError, OutcomeUnknown, Window

# The platforms' local time: where they send or expect text times, they mean Beijing time.
SHANGHAI = ZoneInfo("Asia/Shanghai")
USER_AGENT = "aftersales-connectors/1"
TIMEOUT_SECONDS = 10.0


class ReadFailed(ConnectorError):
    """A read got no usable answer (a timeout, a dropped connection, a gateway error page):
    nothing changed on the platform, so the caller may simply try again."""

    code = "read_failed"


class NotOffered(ConnectorError):
    """The platform has no API call for this write on this kind of request (JD's pre-shipment
    refund has no return or receipt step; JD has no message call): a person does it in the
    platform's back office. Raised before any call is made."""

    code = "not_offered"


def post(
    url: str,
    *,
    form: Mapping[str, str] | None = None,
    body: bytes | None = None,
    content_type: str = "application/x-www-form-urlencoded;charset=utf-8",
    write: bool,
    timeout: float = TIMEOUT_SECONDS,
) -> dict[str, Any]:
    """POST ``form`` (url-encoded) or ``body`` and answer the parsed JSON. No answer: a write
    raises ``OutcomeUnknown`` (it may have happened), a read ``ReadFailed``."""
    data = body if body is not None else urllib.parse.urlencode(dict(form or {})).encode()
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={"Content-Type": content_type, "User-Agent": USER_AGENT},
    )
    failure = OutcomeUnknown if write else ReadFailed
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
    except urllib.error.HTTPError as error:
        # A gateway error page: a write may still have reached the platform behind it.
        raise failure(f"HTTP {error.code}", platform_code=str(error.code)) from None
    except TimeoutError as error:
        raise failure(f"no answer: {error}") from None
    except (OSError, ValueError) as error:
        raise failure(str(getattr(error, "reason", error))) from None
    try:
        answer = json.loads(raw)
    except ValueError:
        raise failure("the answer is not JSON", raw=raw[:500]) from None
    if not isinstance(answer, dict):
        raise failure("the answer is not a JSON object", raw=answer)
    return answer


def check_window(
    window: Window,
    *,
    max_window: dt.timedelta,
    max_lookback: dt.timedelta | None,
    now: Callable[[], dt.datetime],
) -> None:
    """Refuse (``ValueError``) a window the platform would refuse: not aware, empty, longer than
    ``max_window``, or reaching further back than ``max_lookback``."""
    if window.start.tzinfo is None or window.end.tzinfo is None:
        raise ValueError("a window's ends must be aware datetimes")
    if window.end <= window.start:
        raise ValueError("a window must end after it starts")
    if window.end - window.start > max_window:
        raise ValueError(f"a window may span at most {max_window}")
    if max_lookback is not None and window.start < now() - max_lookback:
        raise ValueError(f"a window may start at most {max_lookback} back")


# --- units ---------------------------------------------------------------------------------------


def yuan_from_fen(fen: Any) -> Decimal:
    return (Decimal(int(fen or 0)) / 100).quantize(Decimal("0.01"))


def fen_from_yuan(amount: Decimal) -> int:
    return int((Decimal(amount) * 100).to_integral_value())


def yuan(text: Any) -> Decimal:
    """An amount the platform sends in yuan (text or number)."""
    return Decimal(str(text or "0")).quantize(Decimal("0.01"))


def from_beijing_text(text: str | None) -> dt.datetime | None:
    """``yyyy-MM-dd HH:mm:ss`` in Beijing time, as UTC."""
    if not text:
        return None
    local = dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI)
    return local.astimezone(dt.UTC)


def beijing_text(moment: dt.datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def from_seconds(seconds: Any) -> dt.datetime | None:
    if not seconds:
        return None
    return dt.datetime.fromtimestamp(int(seconds), dt.UTC)


def from_millis(millis: Any) -> dt.datetime | None:
    if not millis:
        return None
    return dt.datetime.fromtimestamp(int(millis) / 1000, dt.UTC)


def seconds(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def millis(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)
