"""The notices violation points send: to the shop's team (a violation recorded, a penalty
started, ended or lifted, a decision on an appeal) and its lead (an appeal made). They reach
the desk's bell; none goes to a customer."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from aftersales.core.models import Audience
from aftersales.core.notices import NoticeKind, notice_kinds

SHOP, LEAD = Audience.SHOP, Audience.LEAD

notice_kinds(
    NoticeKind(
        "violation_recorded",
        SHOP,
        gettext_lazy("Violation %(number)s recorded on the shop"),
        gettext_lazy("The platform recorded a violation on the shop"),
    ),
    NoticeKind(
        "violation_appealed",
        LEAD,
        gettext_lazy("Violation %(number)s appealed"),
        gettext_lazy("The shop appealed a violation"),
    ),
    NoticeKind(
        "violation_upheld",
        SHOP,
        gettext_lazy("Violation %(number)s: the appeal was rejected"),
        gettext_lazy("The platform upheld the violation"),
    ),
    NoticeKind(
        "violation_withdrawn",
        SHOP,
        gettext_lazy("Violation %(number)s withdrawn on appeal"),
        gettext_lazy("The platform withdrew the violation: its points no longer count"),
    ),
    NoticeKind(
        "penalty_started",
        SHOP,
        gettext_lazy("Penalty %(number)s started on the shop"),
        gettext_lazy("The shop's points reached a penalty"),
    ),
    NoticeKind(
        "penalty_appealed",
        LEAD,
        gettext_lazy("Penalty %(number)s appealed"),
        gettext_lazy("The shop appealed a penalty"),
    ),
    NoticeKind(
        "penalty_upheld",
        SHOP,
        gettext_lazy("Penalty %(number)s: the appeal was rejected"),
        gettext_lazy("The platform upheld the penalty"),
    ),
    NoticeKind(
        "penalty_withdrawn",
        SHOP,
        gettext_lazy("Penalty %(number)s withdrawn on appeal"),
        gettext_lazy("The platform withdrew the penalty"),
    ),
    NoticeKind(
        "penalty_ended",
        SHOP,
        gettext_lazy("Penalty %(number)s has ended"),
        gettext_lazy("The penalty's time is over"),
    ),
    NoticeKind(
        "penalty_lifted",
        SHOP,
        gettext_lazy("Penalty %(number)s lifted"),
        gettext_lazy("A withdrawn violation took the points below the penalty's step"),
    ),
    NoticeKind(
        "penalty_escalated",
        LEAD,
        gettext_lazy("Penalty %(number)s could not end on its own"),
        gettext_lazy("The automatic end was refused: someone must look at it"),
    ),
)
