"""The notices of conversations and of the bell: a customer's reply (to the assignee, or the
shop's staff when nobody has the subject), a deadline about to act (the same), and a shop's
message on a complaint (the customer's e-mail; a case's is the case's own ``case_message``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from aftersales.core.models import Audience
from aftersales.core.notices import NoticeKind, notice_kinds

CUSTOMER_REPLIED = "customer_replied"
DEADLINE_SOON = "deadline_soon"
SHOP_MESSAGE = "shop_message"

notice_kinds(
    NoticeKind(
        CUSTOMER_REPLIED,
        Audience.SHOP,
        gettext_lazy("%(number)s: the customer replied"),
        gettext_lazy("The customer replied"),
    ),
    NoticeKind(
        DEADLINE_SOON,
        Audience.SHOP,
        gettext_lazy("%(number)s: its deadline acts soon"),
        gettext_lazy("Its deadline acts soon"),
    ),
    NoticeKind(
        SHOP_MESSAGE,
        Audience.CUSTOMER,
        gettext_lazy("Complaint %(number)s: a message from the shop"),
        gettext_lazy("Message sent to the customer"),
    ),
)
