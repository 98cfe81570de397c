"""The notices a complaint sends (each kind with its e-mail subject and the team's wording), and
the short e-mail a customer receives: what happened, the complaint's stage in their words, the
shop's next due time and a link, in the customer's language."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.cases.notices import Detail, local_datetime
from aftersales.complaints.choices import Solution
from aftersales.complaints.models import Complaint
from aftersales.complaints.wording import CUSTOMER_DUE, customer_state_label, type_label
from aftersales.core.models import Audience, Notice
from aftersales.core.notices import NoticeKind, notice_kind, notice_kinds, register_composer

CUSTOMER, SHOP, LEAD = Audience.CUSTOMER, Audience.SHOP, Audience.LEAD

notice_kinds(
    NoticeKind(
        "complaint_filed",
        CUSTOMER,
        gettext_lazy("Complaint %(number)s received"),
        gettext_lazy("A new complaint"),
    ),
    NoticeKind(
        "complaint_acknowledged",
        CUSTOMER,
        gettext_lazy("Complaint %(number)s taken up"),
        gettext_lazy("Taken up: the customer was contacted"),
    ),
    NoticeKind(
        "complaint_solution",
        CUSTOMER,
        gettext_lazy("Complaint %(number)s: the shop's solution"),
        gettext_lazy("The solution was told to the customer"),
    ),
    NoticeKind(
        "complaint_executed",
        CUSTOMER,
        gettext_lazy("Complaint %(number)s: done; are you satisfied?"),
        gettext_lazy("Carried out: the customer was asked for an answer"),
    ),
    NoticeKind(
        "complaint_answered",
        LEAD,
        gettext_lazy("Complaint %(number)s: the customer answered the follow-up"),
        gettext_lazy("The customer answered the follow-up"),
    ),
    NoticeKind(
        "complaint_withdrawn",
        SHOP,
        gettext_lazy("Complaint %(number)s withdrawn"),
        gettext_lazy("Withdrawn by the customer"),
    ),
    NoticeKind(
        "complaint_assigned",
        SHOP,
        gettext_lazy("Complaint %(number)s is yours"),
        gettext_lazy("A new owner"),
    ),
    NoticeKind(
        "complaint_reminder",
        SHOP,
        gettext_lazy("Reminder: complaint %(number)s is due soon"),
        gettext_lazy("Half of the stage's time has passed: its owner was reminded"),
    ),
    NoticeKind(
        "complaint_reminder_lead",
        LEAD,
        gettext_lazy("Reminder: complaint %(number)s has no owner and is due soon"),
        gettext_lazy("Half of the stage's time has passed and nobody owns it: the lead was told"),
    ),
    NoticeKind(
        "complaint_escalated",
        LEAD,
        gettext_lazy("Complaint %(number)s is overdue"),
        gettext_lazy("Overdue: it went to the team lead"),
    ),
)


@dataclass
class Story:
    paragraphs: list[str] = field(default_factory=list)
    details: list[Detail] = field(default_factory=list)


def _story(notice: Notice, complaint: Complaint) -> Story:
    story = Story()
    say = story.paragraphs.append
    kind = notice.kind
    if kind == "complaint_filed":
        say(
            _("We have received your complaint (%(type)s); the shop will contact you.")
            % {"type": type_label(complaint.type)}
        )
    elif kind == "complaint_acknowledged":
        say(_("The shop has taken up your complaint and is finding its cause."))
    elif kind == "complaint_solution":
        say(_("The shop has decided how to put it right:"))
        if complaint.solution_kind:
            story.details.append(
                Detail(str(Solution(complaint.solution_kind).label), complaint.solution)
            )
    elif kind == "complaint_executed":
        say(_("The shop has carried out the solution."))
        story.details.append(Detail(_("What was done"), complaint.outcome))
        say(_("Please tell us on the complaint page whether you are satisfied."))
    else:
        say(_("Your complaint has been updated."))
    return story


def complaint_link(complaint: Complaint) -> str:
    return settings.AFTERSALES_BASE_URL + reverse(
        "complaints_portal:complaint", kwargs={"number": complaint.number}
    )


def complaint_email(notice: Notice, complaints: dict[int, Complaint]):
    """The e-mail of a customer notice, telling the complaint as it is at delivery time, or
    ``None`` when the customer has no address."""
    complaint = complaints.get(notice.subject_id)
    if complaint is None or not complaint.customer.email:
        return None
    customer, shop = complaint.customer, complaint.shop
    with translation.override(customer.language):
        language = translation.get_language()
        story = _story(notice, complaint)
        due = CUSTOMER_DUE.get(complaint.state)
        rows = [*story.details, Detail(_("Complaint"), complaint.number)]
        if complaint.order_id:
            rows.append(Detail(_("Order"), complaint.order.external_id))
        rows.append(Detail(_("Stage"), customer_state_label(complaint.state)))
        context = {
            "language": language,
            "subject": str(notice_kind(notice.kind).subject) % {"number": complaint.number},
            "greeting": _("Hello %(name)s,") % {"name": customer.name}
            if customer.name
            else _("Hello,"),
            "story": story,
            "rows": rows,
            "due": str(due) % {"when": local_datetime(complaint.due_at, shop.timezone, language)}
            if due is not None and complaint.due_at is not None
            else "",
            "link": complaint_link(complaint),
            "signature": _("%(shop)s after-sales service") % {"shop": shop.name},
        }
        text = render_to_string("complaints/email.txt", context)
        html = render_to_string("complaints/email.html", context)
    plain = re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in text.strip().split("\n")))
    message = EmailMultiAlternatives(context["subject"], plain + "\n", to=[customer.email])
    message.attach_alternative(html, "text/html")
    return message


class ComplaintComposer:
    """The e-mails of notices about complaints (registered with the kernel's notices)."""

    def prepare(self, notices: Sequence[Notice]) -> dict[int, Complaint]:
        ids = {notice.subject_id for notice in notices}
        return Complaint.objects.select_related("shop", "customer", "order").in_bulk(ids)

    def email(self, notice: Notice, prepared: dict[int, Complaint]):
        return complaint_email(notice, prepared)


register_composer(Complaint, ComplaintComposer())
