"""The notices the clocks send the team: a due time coming, and one missed."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from aftersales.core.models import Audience
from aftersales.core.notices import NoticeKind, notice_kinds

notice_kinds(
    NoticeKind(
        "sla_warning",
        Audience.SHOP,
        gettext_lazy("%(number)s: a service-level due time is close"),
        gettext_lazy("Due soon: answer or resolve it before its service-level due time"),
    ),
    NoticeKind(
        "sla_breach",
        Audience.LEAD,
        gettext_lazy("%(number)s missed its service-level due time"),
        gettext_lazy("Overdue: its service-level due time passed"),
    ),
)
