"""The notice the routing queues: work an agent left when going off duty that no colleague on
duty had room for, so it waits for the team lead."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from aftersales.core.models import Audience
from aftersales.core.notices import NoticeKind, notice_kinds

UNASSIGNED = "routing_unassigned"

notice_kinds(
    NoticeKind(
        UNASSIGNED,
        Audience.LEAD,
        gettext_lazy("%(number)s has nobody to work it"),
        gettext_lazy("Its agent went off duty and no colleague on duty had room: assign it"),
    )
)
