"""What every page needs from the server's time-keeping."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from aftersales.core import clock
from aftersales.core.health import worker_status


def server_time(request) -> dict:
    """The server's "now" (``clock.now()``), so that the page's live countdowns run on the
    server's clock, not on the visitor's device (which may be wrong by hours or days); and
    whether the deadline worker is running, read only by the pages that show it (the
    workbench warns when it is not)."""
    return {"server_now": clock.now(), "deadline_worker": SimpleLazyObject(worker_status)}
