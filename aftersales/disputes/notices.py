"""The notices a dispute sends (each kind with its subject line and the team's wording), and the
short e-mail the customer receives for theirs (what happened, the decision in words when there is
one, the dispute's stage and a link), in the customer's language. Like a case's and a complaint's,
they go through the notify deliveries: the customer's e-mail and text message, the shop's bell
and webhooks (docs/notifications.md)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.cases.notices import Detail
from aftersales.core.models import Audience, Notice
from aftersales.core.notices import NoticeKind, notice_kind, notice_kinds, register_composer
from aftersales.disputes.choices import DisputeState, Outcome
from aftersales.disputes.models import Dispute
from aftersales.disputes.wording import explain

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


# The kinds whose e-mail tells the decision in force.
TELLS_THE_DECISION = frozenset({"dispute_decided", "dispute_final"})


def dispute_link(dispute: Dispute) -> str:
    return settings.AFTERSALES_BASE_URL + reverse(
        "disputes_portal:dispute", kwargs={"number": dispute.number}
    )


def dispute_email(notice: Notice, disputes: dict[int, Dispute]):
    """The e-mail of a customer notice about a dispute, telling it as it is at delivery time, or
    ``None`` when the customer has no address."""
    dispute = disputes.get(notice.subject_id)
    if dispute is None or not dispute.customer.email:
        return None
    customer, shop = dispute.customer, dispute.shop
    with translation.override(customer.language):
        language = translation.get_language()
        paragraphs = [str(notice_kind(notice.kind).summary)]
        details = []
        decision = dispute.decision
        if notice.kind in TELLS_THE_DECISION and decision is not None:
            details.append(Detail(_("Decision"), str(Outcome(decision.outcome).label)))
            details.append(Detail(_("Reason"), decision.reason))
            paragraphs.extend(explain(decision, shop.currency))
        rows = [
            *details,
            Detail(_("Dispute"), dispute.number),
            Detail(_("Case"), dispute.case.number),
            Detail(_("Stage"), str(DisputeState(dispute.state).label)),
        ]
        context = {
            "language": language,
            "subject": str(notice_kind(notice.kind).subject) % {"number": dispute.number},
            "greeting": _("Hello %(name)s,") % {"name": customer.name}
            if customer.name
            else _("Hello,"),
            "story": {"paragraphs": paragraphs},
            "rows": rows,
            "due": "",
            "link": dispute_link(dispute),
            "signature": _("%(shop)s after-sales service") % {"shop": shop.name},
        }
        text = render_to_string("disputes/email.txt", context)
        html = render_to_string("disputes/email.html", context)
    plain = re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in text.strip().split("\n")))
    message = EmailMultiAlternatives(context["subject"], plain + "\n", to=[customer.email])
    message.attach_alternative(html, "text/html")
    return message


class DisputeComposer:
    """The e-mails of notices about disputes (registered with the kernel's notices)."""

    def prepare(self, notices: Sequence[Notice]) -> dict[int, Dispute]:
        ids = {notice.subject_id for notice in notices}
        return Dispute.objects.select_related("shop", "customer", "case", "decision").in_bulk(ids)

    def email(self, notice: Notice, prepared: dict[int, Dispute]):
        return dispute_email(notice, prepared)


register_composer(Dispute, DisputeComposer())
