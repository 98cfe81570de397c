"""The notices a review sends to the shop's team: a neutral or negative review to follow up
within its hold, the buyer's change or deletion, and an automatic step a rule refused. They reach
the desk's bell (and the shop's channels); the buyer's own page shows the rest."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from aftersales.core.models import Audience
from aftersales.core.notices import NoticeKind, notice_kinds

SHOP, LEAD = Audience.SHOP, Audience.LEAD

notice_kinds(
    NoticeKind(
        "review_held",
        SHOP,
        gettext_lazy("Review %(number)s: a neutral or negative review to follow up"),
        gettext_lazy("A neutral or negative review is held: reach the buyer before it is shown"),
    ),
    NoticeKind(
        "review_changed",
        SHOP,
        gettext_lazy("Review %(number)s changed to positive"),
        gettext_lazy("The buyer changed the review to positive"),
    ),
    NoticeKind(
        "review_deleted",
        SHOP,
        gettext_lazy("Review %(number)s deleted"),
        gettext_lazy("The buyer deleted the review"),
    ),
    NoticeKind(
        "review_escalated",
        LEAD,
        gettext_lazy("Review %(number)s: the automatic step was refused"),
        gettext_lazy("An automatic step of the review was refused: it went to the team lead"),
    ),
)
