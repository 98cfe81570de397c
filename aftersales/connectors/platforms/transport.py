"""The HTTP the platform adapters share: one form POST to a gateway with the standard library, and
how a failure to get an answer is told apart for a read and for a write.

A read that gets no answer raises ``Unreachable`` (a caller may try again). A write that was sent
and got no answer — a timeout, a dropped connection, a gateway error page, an answer that is not
the platform's JSON — raises ``OutcomeUnknown``: it may have happened, and it is never sent again
here; the next read of the request settles it. A write that could not even connect
(connection refused) was not sent, and raises ``Unreachable`` like a read.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Mapping
from typing import Any

from aftersales.connectors.base import ConnectorError, OutcomeUnknown

USER_AGENT = "aftersales-connector/1"


class Unreachable(ConnectorError):
    """The platform could not be reached or gave no usable answer to a read (or to a write that
    was never sent): nothing changed there, and the call may be made again later."""

    code = "platform_unreachable"


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


def post_form(
    url: str,
    fields: Mapping[str, str],
    *,
    timeout: float,
    write: bool,
    files: Mapping[str, tuple[str, bytes]] | None = None,
) -> dict[str, Any]:
    """POST ``fields`` (and ``files``, as multipart) to ``url``; the answer's JSON object."""
    if files:
        body, content_type = multipart(fields, files)
    else:
        body = urllib.parse.urlencode(fields).encode()
        content_type = "application/x-www-form-urlencoded;charset=utf-8"
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": content_type, "User-Agent": USER_AGENT},
    )
    failed = OutcomeUnknown if write else Unreachable
    try:
        with _opener.open(request, timeout=timeout) as response:
            payload = response.read()
    except urllib.error.HTTPError as error:
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
