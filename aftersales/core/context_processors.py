"""What every page needs from the server."""

from __future__ import annotations

from aftersales.core import clock


def server_time(request) -> dict:
    """The server's "now" (``clock.now()``), so that the page's live countdowns run on the
    server's clock, not on the visitor's device (which may be wrong by hours or days)."""
    return {"server_now": clock.now()}
