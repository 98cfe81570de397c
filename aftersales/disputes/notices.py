"""The notices a dispute sends (each kind with its subject line and the team's wording). They
reach the customer's and the shop's bells and channels like every notice; a dispute has no
e-mail composer of its own yet (the customer reads the dispute's page)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from aftersales.core.models import Audience
from aftersales.core.notices import NoticeKind, notice_kinds

CUSTOMER, SHOP, LEAD = Audience.CUSTOMER, Audience.SHOP, Audience.LEAD

notice_kinds(
    NoticeKind(
        "dispute_opened",
        SHOP,
        gettext_lazy("Dispute %(number)s: the buyer asked the platform to step in"),
        gettext_lazy("A dispute was opened: the case's deadline is paused; add your evidence"),
    ),
    NoticeKind(
        "dispute_evidence_buyer",
        SHOP,
        gettext_lazy("Dispute %(number)s: the buyer added evidence"),
        gettext_lazy("The buyer added evidence"),
    ),
    NoticeKind(
        "dispute_evidence_shop",
        CUSTOMER,
        gettext_lazy("Dispute %(number)s: the shop added evidence"),
        gettext_lazy("The shop added evidence"),
    ),
    NoticeKind(
        "dispute_jury",
        CUSTOMER,
        gettext_lazy("Dispute %(number)s goes to a jury"),
        gettext_lazy("The platform sent the dispute to a jury"),
    ),
    NoticeKind(
        "dispute_jury_shop",
        SHOP,
        gettext_lazy("Dispute %(number)s goes to a jury"),
        gettext_lazy("The platform sent the dispute to a jury"),
    ),
    NoticeKind(
        "dispute_decided",
        CUSTOMER,
        gettext_lazy("Dispute %(number)s: the platform's decision"),
        gettext_lazy("The platform decided; the shop may still appeal"),
    ),
    NoticeKind(
        "dispute_decided_shop",
        SHOP,
        gettext_lazy("Dispute %(number)s: the platform's decision"),
        gettext_lazy("The platform decided: accept it or appeal it once"),
    ),
    NoticeKind(
        "dispute_appealed",
        CUSTOMER,
        gettext_lazy("Dispute %(number)s: the shop appealed"),
        gettext_lazy("The shop appealed the decision; the platform reviews it"),
    ),
    NoticeKind(
        "dispute_final",
        CUSTOMER,
        gettext_lazy("Dispute %(number)s: the decision is final"),
        gettext_lazy("The decision is final and was carried out"),
    ),
    NoticeKind(
        "dispute_final_shop",
        SHOP,
        gettext_lazy("Dispute %(number)s: the decision is final"),
        gettext_lazy("The decision is final and was carried out"),
    ),
    NoticeKind(
        "dispute_withdrawn",
        SHOP,
        gettext_lazy("Dispute %(number)s withdrawn"),
        gettext_lazy("The buyer withdrew the dispute: the case's deadline runs again"),
    ),
    NoticeKind(
        "dispute_escalated",
        LEAD,
        gettext_lazy("Dispute %(number)s is overdue at the platform"),
        gettext_lazy("The platform's decision is overdue"),
    ),
)
