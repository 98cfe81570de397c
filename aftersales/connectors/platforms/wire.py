"""What the platform adapters share: one HTTP POST with the standard library (form, JSON or
multipart; no redirects) that tells a read's failure (``Unreachable``: try again) from a write's
(``OutcomeUnknown``: it may have happened, never sent again), the window check every ``changed``
does first, and the platforms' units (fen, Beijing-time text, epoch seconds and milliseconds)."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from aftersales.connectors.base import OutcomeUnknown, Unreachable, Window

# The platforms' local time: where they send or expect text times, they mean Beijing time.
SHANGHAI = ZoneInfo("Asia/Shanghai")
USER_AGENT = "aftersales-connectors/1"
TIMEOUT_SECONDS = 10.0


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a gateway does not redirect; one that does is answered as the failure it is


_opener = urllib.request.build_opener(_NoRedirects)


def multipart(
    fields: Mapping[str, str], files: Mapping[str, tuple[str, bytes]]
) -> tuple[bytes, str]:
    """A multipart/form-data body (for the platforms' image parameters) and its content type."""
    boundary = uuid.uuid4().hex
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    for name, (filename, content) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def post(
    url: str,
    *,
    form: Mapping[str, str] | None = None,
    body: bytes | None = None,
    content_type: str = "application/x-www-form-urlencoded;charset=utf-8",
    write: bool,
    timeout: float = TIMEOUT_SECONDS,
) -> dict[str, Any]:
    """POST ``form`` (url-encoded) or ``body`` and answer the parsed JSON object. No answer: a
    write raises ``OutcomeUnknown`` (it may have happened; never sent again here), a read
    ``Unreachable``; a refused connection sent nothing and is ``Unreachable`` either way."""
    data = body if body is not None else urllib.parse.urlencode(dict(form or {})).encode()
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={"Content-Type": content_type, "User-Agent": USER_AGENT},
    )
    failed = OutcomeUnknown if write else Unreachable
    try:
        with _opener.open(request, timeout=timeout) as response:
            payload = response.read()
    except urllib.error.HTTPError as error:
        # A gateway error page: a write may still have reached the platform behind it.
        raise failed(f"HTTP {error.code}", platform_code=str(error.code)) from None
    except urllib.error.URLError as error:
        if isinstance(error.reason, ConnectionRefusedError):
            raise Unreachable(str(error.reason)) from None  # nothing was sent
        raise failed(str(error.reason)) from None
    except OSError as error:  # TimeoutError included
        raise failed(str(error) or "timed out") from None
    try:
        answer = json.loads(payload)
    except ValueError:
        raise failed("the answer is not JSON", raw=payload[:500]) from None
    if not isinstance(answer, dict):
        raise failed("the answer is not a JSON object", raw=answer)
    return answer


def post_form(
    url: str,
    fields: Mapping[str, str],
    *,
    timeout: float,
    write: bool,
    files: Mapping[str, tuple[str, bytes]] | None = None,
) -> dict[str, Any]:
    """POST ``fields`` (and ``files``, as multipart: the platforms' image parameters)."""
    if files:
        body, content_type = multipart(fields, files)
        return post(url, body=body, content_type=content_type, write=write, timeout=timeout)
    return post(url, form=fields, write=write, timeout=timeout)


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
