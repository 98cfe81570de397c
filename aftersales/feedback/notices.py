"""The invitation to a satisfaction survey: its notice kind, and the e-mail (and the text
message's link) a sampled customer receives, in their language, with the login-free one-time link.

The link is not in the notice: the composer derives it at delivery time from the survey's salt
and the installation's secret key (``tokens.survey_token``), so the outbox holds no token."""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.cases.choices import CaseKind
from aftersales.cases.notices import Detail, local_datetime
from aftersales.core.models import Audience, Notice
from aftersales.core.notices import NoticeKind, notice_kind, notice_kinds, register_composer
from aftersales.feedback.models import Survey, SurveyStatus
from aftersales.feedback.tokens import survey_link

INVITE = "survey_invite"

notice_kinds(
    NoticeKind(
        INVITE,
        Audience.CUSTOMER,
        gettext_lazy("How did we do with after-sales case %(number)s?"),
        gettext_lazy("The customer was invited to the satisfaction survey"),
    )
)


def survey_email(notice: Notice, surveys: dict[int, Survey]):
    """The invitation's e-mail, or ``None`` when the customer has no address (or the survey is
    no longer waiting for an answer)."""
    survey = surveys.get(notice.subject_id)
    if survey is None or not survey.customer.email or survey.state != SurveyStatus.SENT:
        return None
    customer, shop, case = survey.customer, survey.shop, survey.case
    with translation.override(customer.language):
        language = translation.get_language()
        context = {
            "language": language,
            "subject": str(notice_kind(notice.kind).subject) % {"number": case.number},
            "greeting": _("Hello %(name)s,") % {"name": customer.name}
            if customer.name
            else _("Hello,"),
            "paragraphs": [
                _(
                    "Your after-sales case with %(shop)s has ended. Would you tell us how we did? "
                    "It takes a minute: one score from 1 to 5 and, if you like, a comment."
                )
                % {"shop": shop.name},
            ],
            "rows": [
                Detail(_("Case"), case.number),
                Detail(_("Kind"), str(CaseKind(case.kind).label)),
            ],
            "expires": _("The link works once, until %(when)s.")
            % {"when": local_datetime(survey.deadline_at, shop.timezone, language)},
            "link": survey_link(survey.token_salt),
            "signature": _("%(shop)s after-sales service") % {"shop": shop.name},
        }
        text = render_to_string("feedback/email.txt", context)
        html = render_to_string("feedback/email.html", context)
    plain = re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in text.strip().split("\n")))
    message = EmailMultiAlternatives(context["subject"], plain + "\n", to=[customer.email])
    message.attach_alternative(html, "text/html")
    return message


class SurveyComposer:
    """The e-mails (and the text messages' links) of notices about surveys."""

    def prepare(self, notices: Sequence[Notice]) -> dict[int, Survey]:
        ids = {notice.subject_id for notice in notices}
        return Survey.objects.select_related("shop", "customer", "case").in_bulk(ids)

    def email(self, notice: Notice, prepared: dict[int, Survey]):
        return survey_email(notice, prepared)

    def sms_link(self, notice: Notice) -> str:
        """The link a text message about this notice carries (``notify.channels.sms_message``)."""
        salt = Survey.objects.filter(pk=notice.subject_id).values_list("token_salt", flat=True)
        return survey_link(salt[0]) if salt else ""


register_composer(Survey, SurveyComposer())
