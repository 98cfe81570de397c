"""The notices an inspection sends (each kind with its subject line and the team's wording). They
reach the buyer's and the shop's bells and channels like every notice; the platform's operator
who sent the goods is told when they are on their way and when the center is overdue."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from aftersales.core.models import Audience
from aftersales.core.notices import NoticeKind, notice_kinds

CUSTOMER, SHOP, LEAD = Audience.CUSTOMER, Audience.SHOP, Audience.LEAD

notice_kinds(
    NoticeKind(
        "inspection_requested",
        CUSTOMER,
        gettext_lazy("Inspection %(number)s: the goods go to the platform's inspection center"),
        gettext_lazy("The platform sends the goods to its inspection center, with a label"),
    ),
    NoticeKind(
        "inspection_requested_shop",
        SHOP,
        gettext_lazy("Inspection %(number)s: the goods go to the platform's inspection center"),
        gettext_lazy("The platform sends the goods to its inspection center"),
    ),
    NoticeKind(
        "inspection_shipped",
        LEAD,
        gettext_lazy("Inspection %(number)s: the goods are on their way to the center"),
        gettext_lazy("The goods are on their way to the inspection center"),
    ),
    NoticeKind(
        "inspection_received",
        CUSTOMER,
        gettext_lazy("Inspection %(number)s: the center received the goods"),
        gettext_lazy("The inspection center received the goods and authenticates them"),
    ),
    NoticeKind(
        "inspection_received_shop",
        SHOP,
        gettext_lazy("Inspection %(number)s: the center received the goods"),
        gettext_lazy("The inspection center received the goods and authenticates them"),
    ),
    NoticeKind(
        "inspection_decided",
        CUSTOMER,
        gettext_lazy("Inspection %(number)s: the verdict"),
        gettext_lazy("The inspection center gave its verdict on the goods"),
    ),
    NoticeKind(
        "inspection_decided_shop",
        SHOP,
        gettext_lazy("Inspection %(number)s: the verdict"),
        gettext_lazy("The inspection center gave its verdict on the goods"),
    ),
    NoticeKind(
        "inspection_cancelled",
        CUSTOMER,
        gettext_lazy("Inspection %(number)s cancelled"),
        gettext_lazy("The platform cancelled the inspection: the case goes on"),
    ),
    NoticeKind(
        "inspection_cancelled_shop",
        SHOP,
        gettext_lazy("Inspection %(number)s cancelled"),
        gettext_lazy("The platform cancelled the inspection: the case goes on"),
    ),
    NoticeKind(
        "inspection_lapsed",
        CUSTOMER,
        gettext_lazy("Inspection %(number)s lapsed"),
        gettext_lazy("The goods were not sent in time: the inspection lapsed"),
    ),
    NoticeKind(
        "inspection_lapsed_shop",
        SHOP,
        gettext_lazy("Inspection %(number)s lapsed"),
        gettext_lazy("The goods were not sent in time: the inspection lapsed"),
    ),
    NoticeKind(
        "inspection_overdue",
        LEAD,
        gettext_lazy("Inspection %(number)s is overdue at the center"),
        gettext_lazy("The inspection center is overdue: the goods' receipt or the verdict"),
    ),
)
