"""The one source of "now".

Domain code calls ``clock.now()`` instead of ``timezone.now()`` so that tests, simulations and the
demo loader can move time (``time-machine`` also works, because this reads the real clock).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from django.utils import timezone

_offset = dt.timedelta(0)


def now() -> dt.datetime:
    return timezone.now() + _offset


@contextmanager
def shifted(by: dt.timedelta) -> Iterator[None]:
    """Run a block as if the clock read ``now() + by`` (used by the demo loader)."""
    global _offset
    previous = _offset
    _offset = previous + by
    try:
        yield
    finally:
        _offset = previous
