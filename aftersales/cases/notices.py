"""The notices a case sends (each kind with its e-mail subject and the team's wording), and the
e-mail a customer receives about their case: a subject, a plain-text body and an HTML body, in
the customer's language, telling what happened and where the case stands at delivery time."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.cases.choices import Action, CaseKind, CaseState, CompensationKind
from aftersales.cases.models import Case, Compensation
from aftersales.cases.wording import CUSTOMER_CONSEQUENCES, carrier_label, state_label
from aftersales.core.models import Audience, Event, Notice
from aftersales.core.notices import NoticeKind, notice_kind, notice_kinds, register_composer

# A date as people write it in each language; never ISO, never a bare code.
DATETIME_FORMATS = {"zh-hans": "Y年n月j日 H:i", "en": "j M Y, H:i"}


CUSTOMER, LEAD = Audience.CUSTOMER, Audience.LEAD
# Every notice a case queues: who reads it, the subject line of its e-mail, and the words the
# team reads for it.
notice_kinds(
    NoticeKind(
        "case_opened",
        CUSTOMER,
        gettext_lazy("After-sales case %(number)s received"),
        gettext_lazy("A new application"),
    ),
    NoticeKind(
        "case_approved",
        CUSTOMER,
        gettext_lazy("After-sales case %(number)s approved"),
        gettext_lazy("Approved"),
    ),
    NoticeKind(
        "case_auto_approved",
        CUSTOMER,
        gettext_lazy("After-sales case %(number)s approved automatically"),
        gettext_lazy("Approved automatically: the shop did not answer in time"),
    ),
    NoticeKind(
        "case_rejected",
        CUSTOMER,
        gettext_lazy("After-sales case %(number)s rejected"),
        gettext_lazy("Rejected"),
    ),
    NoticeKind(
        "case_refunded",
        CUSTOMER,
        gettext_lazy("After-sales case %(number)s refunded"),
        gettext_lazy("Refunded"),
    ),
    NoticeKind(
        "case_escalated",
        LEAD,
        gettext_lazy("After-sales case %(number)s is overdue"),
        gettext_lazy("Overdue: its deadline passed and it went to the team lead"),
    ),
    NoticeKind(
        "case_closed",
        CUSTOMER,
        gettext_lazy("After-sales case %(number)s closed"),
        gettext_lazy("Closed"),
    ),
    NoticeKind(
        "case_compensated",
        CUSTOMER,
        gettext_lazy("A coupon or store credit for after-sales case %(number)s"),
        gettext_lazy("Compensation given"),
    ),
    NoticeKind(
        "case_converted",
        CUSTOMER,
        gettext_lazy("After-sales case %(number)s: the resolution changed"),
        gettext_lazy("Resolution changed"),
    ),
    NoticeKind(
        "case_offer",
        CUSTOMER,
        gettext_lazy("After-sales case %(number)s: the shop offers an alternative"),
        gettext_lazy("An alternative was offered"),
    ),
    NoticeKind(
        "replacement_shipped",
        CUSTOMER,
        gettext_lazy("After-sales case %(number)s: your replacement is on its way"),
        gettext_lazy("Replacement shipped"),
    ),
    NoticeKind(
        "case_diagnosed",
        CUSTOMER,
        gettext_lazy("After-sales case %(number)s: diagnosis done"),
        gettext_lazy("Diagnosed"),
    ),
    NoticeKind(
        "case_quoted",
        CUSTOMER,
        gettext_lazy("After-sales case %(number)s: a repair quote awaits your answer"),
        gettext_lazy("Repair quote sent to the customer"),
    ),
    NoticeKind(
        "quote_reminder",
        CUSTOMER,
        gettext_lazy("Reminder: the repair quote of case %(number)s awaits your answer"),
        gettext_lazy("The customer was reminded of the quote"),
    ),
    NoticeKind(
        "quote_expired",
        CUSTOMER,
        gettext_lazy(
            "After-sales case %(number)s: the quote expired; your goods come back unrepaired"
        ),
        gettext_lazy("The quote expired: the goods go back unrepaired"),
    ),
    NoticeKind(
        "goods_shipped_back",
        CUSTOMER,
        gettext_lazy("After-sales case %(number)s: your goods are on their way back"),
        gettext_lazy("Goods shipped back"),
    ),
    NoticeKind(
        "case_completed",
        CUSTOMER,
        gettext_lazy("After-sales case %(number)s completed"),
        gettext_lazy("Completed"),
    ),
    NoticeKind(
        "case_message",
        CUSTOMER,
        gettext_lazy("After-sales case %(number)s: a message from the shop"),
        gettext_lazy("Message sent to the customer"),
    ),
    NoticeKind(
        "case_rated",
        LEAD,
        gettext_lazy("After-sales case %(number)s was rated"),
        gettext_lazy("The customer rated the service"),
    ),
)


def subject_of(notice: Notice) -> str:
    """The subject line in the active language."""
    number = notice.payload.get("number") or notice.payload.get("case_number", "")
    return str(notice_kind(notice.kind).subject) % {"number": number}


# --- what a batch needs beyond the case row ------------------------------------------------------


@dataclass
class BatchDetails:
    """What a batch of notices tells besides their notice rows, read once for the whole batch:
    the cases as they are now (with customer, order, shop and return address), and rows some
    kinds describe (newest first per case)."""

    cases: dict[int, Case] = field(default_factory=dict)
    compensations: dict[int, list[Compensation]] = field(default_factory=dict)
    offers: dict[int, list[Event]] = field(default_factory=dict)


def batch_details(notices: Sequence[Notice]) -> BatchDetails:
    """One query for the cases, and one per kind that needs more, only if the batch has one."""
    case_ids: dict[str, set[int]] = defaultdict(set)
    for notice in notices:
        case_ids[notice.kind].add(notice.subject_id)
    every = {notice.subject_id for notice in notices}
    details = BatchDetails(
        cases={
            case.id: case
            for case in Case.objects.filter(id__in=every).select_related(
                "shop", "customer", "order", "return_address"
            )
        }
    )
    if case_ids["case_compensated"]:
        compensations = Compensation.objects.filter(
            case_id__in=case_ids["case_compensated"]
        ).order_by("-created_at", "-id")
        details.compensations = _by_case(compensations, lambda row: row.case_id)
    if case_ids["case_offer"]:
        offers = Event.objects.filter(
            subject_type=ContentType.objects.get_for_model(Case),
            subject_id__in=case_ids["case_offer"],
            action=Action.OFFER,
        ).order_by("-at", "-id")
        details.offers = _by_case(offers, lambda row: row.subject_id)
    return details


def _by_case(rows, case_of: Callable) -> dict[int, list]:
    grouped: dict[int, list] = defaultdict(list)
    for row in rows:
        grouped[case_of(row)].append(row)
    return grouped


def _latest(rows: list, moment: dt.datetime, at: Callable) -> object | None:
    """The newest row written by the time the notification was (several notices of one kind on
    one case in a batch each describe their own row)."""
    return next((row for row in rows if at(row) <= moment), None)


# --- the words -----------------------------------------------------------------------------------


@dataclass
class Detail:
    label: str
    value: str

    @property
    def line(self) -> str:
        """The row as a line of plain text (Chinese puts a full-width colon here)."""
        return _("%(label)s: %(value)s") % {"label": self.label, "value": self.value}


@dataclass
class Story:
    """What happened, in sentences, with the facts that go with it."""

    paragraphs: list[str] = field(default_factory=list)
    details: list[Detail] = field(default_factory=list)
    quoted: str = ""


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount} {currency}"


def _return_address(case: Case, story: Story) -> None:
    # Only while the goods are still to be sent: a later e-mail must not ask for them again.
    if case.state != CaseState.AWAITING_RETURN or case.return_address is None:
        return
    address = case.return_address
    story.paragraphs.append(
        _(
            "Please send the goods to the address below and enter the tracking number on the "
            "case page."
        )
    )
    story.details.append(
        Detail(_("Send the goods to"), f"{address.address} · {address.name} · {address.phone}")
    )


def _shipment(case: Case, story: Story) -> None:
    if case.outbound_carrier:
        story.details.append(Detail(_("Carrier"), carrier_label(case.outbound_carrier)))
    if case.outbound_tracking_number:
        story.details.append(Detail(_("Tracking number"), case.outbound_tracking_number))


def _story(notice: Notice, case: Case, extra: BatchDetails) -> Story:
    currency = case.shop.currency
    kind = notice.kind
    story = Story()
    say = story.paragraphs.append
    if kind == "case_opened":
        say(
            _("We have received your after-sales application (%(kind)s); the shop will answer it.")
            % {"kind": CaseKind(case.kind).label}
        )
        if case.requested_amount:
            story.details.append(Detail(_("Amount"), _money(case.requested_amount, currency)))
    elif kind in ("case_approved", "case_auto_approved"):
        say(
            _("The shop has approved your application.")
            if kind == "case_approved"
            else _(
                "The shop did not answer in time, so your application was approved automatically."
            )
        )
        if case.approved_amount:
            story.details.append(
                Detail(_("Approved amount"), _money(case.approved_amount, currency))
            )
        _return_address(case, story)
    elif kind == "case_rejected":
        say(_("The shop has rejected your application."))
        if case.reject_reason:
            story.details.append(Detail(_("The shop's answer"), case.reject_reason))
        if case.state == CaseState.REJECTED:
            say(_("You can change your application and submit it again on the case page."))
    elif kind == "case_refunded":
        say(
            _("You have been refunded %(amount)s.")
            % {"amount": _money(case.refunded_amount, currency)}
        )
    elif kind == "case_closed":
        say(_("Your after-sales case is closed."))
    elif kind == "case_compensated":
        say(_("The shop has given you compensation for this case."))
        given = _latest(
            extra.compensations.get(case.id, []), notice.created_at, lambda c: c.created_at
        )
        if given is not None:
            story.details.append(
                Detail(str(CompensationKind(given.kind).label), _money(given.amount, currency))
            )
            story.details.append(Detail(_("Coupon or credit code"), given.code))
    elif kind == "case_converted":
        say(
            _("The shop has changed how your case is resolved; it is now: %(kind)s.")
            % {"kind": CaseKind(case.kind).label}
        )
    elif kind == "case_offer":
        say(
            _(
                "The replacement is out of stock, so the shop offers you an alternative. "
                "Please answer it on the case page."
            )
        )
        offer = _latest(extra.offers.get(case.id, []), notice.created_at, lambda e: e.at)
        if offer is not None:
            if offer.data.get("note"):
                story.details.append(Detail(_("The shop's offer"), offer.data["note"]))
            if offer.data.get("discount"):
                story.details.append(
                    Detail(_("Discount"), _money(Decimal(offer.data["discount"]), currency))
                )
    elif kind == "replacement_shipped":
        say(_("Your replacement is on its way."))
        _shipment(case, story)
    elif kind == "case_diagnosed":
        say(_("The shop has examined your goods."))
        if case.under_warranty:
            say(_("The repair is covered by the warranty and costs you nothing."))
        elif case.repairable is False:
            say(_("Unfortunately they cannot be repaired."))
    elif kind in ("case_quoted", "quote_reminder"):
        sentence = (
            _("The repair costs %(amount)s. Please accept or decline the quote on the case page.")
            if kind == "case_quoted"
            else _(
                "The repair quote of %(amount)s still awaits your answer. "
                "Please accept or decline it on the case page."
            )
        )
        say(sentence % {"amount": _money(case.quote_amount, currency)})
    elif kind == "quote_expired":
        say(_("You did not answer the repair quote in time, so your goods come back unrepaired."))
    elif kind == "goods_shipped_back":
        say(
            _("Your repaired goods are on their way back to you.")
            if case.repaired
            else _("Your goods are on their way back to you, unrepaired.")
        )
        _shipment(case, story)
    elif kind == "case_completed":
        say(_("Your after-sales case is completed. Thank you for your patience."))
    elif kind == "case_message":
        say(_("The shop has sent you a message:"))
        story.quoted = str(notice.payload.get("text", ""))
    else:
        say(_("Your after-sales case has been updated."))
    return story


def local_datetime(moment: dt.datetime, timezone: str, language: str) -> str:
    """``moment`` in the shop's time zone, written as people of ``language`` write dates."""
    local = moment.astimezone(zoneinfo.ZoneInfo(timezone))
    return dateformat.format(local, DATETIME_FORMATS.get(language, DATETIME_FORMATS["en"]))


def _deadline(case: Case, timezone: str, language: str) -> str:
    sentence = CUSTOMER_CONSEQUENCES.get(case.deadline_action)
    if case.deadline_at is None or sentence is None:
        return ""
    return str(sentence) % {"when": local_datetime(case.deadline_at, timezone, language)}


def case_link(case: Case) -> str:
    return settings.AFTERSALES_BASE_URL + reverse("portal:case", kwargs={"number": case.number})


def case_email(notice: Notice, extra: BatchDetails) -> EmailMultiAlternatives | None:
    """The e-mail for a customer notice, or ``None`` when the customer has no address. It tells
    the case as it is at delivery time (``extra.cases``)."""
    case = extra.cases.get(notice.subject_id)
    if case is None:
        return None
    customer = case.customer
    if not customer.email:
        return None
    shop = case.shop
    with translation.override(customer.language):
        language = translation.get_language()
        story = _story(notice, case, extra)
        context = {
            "language": language,
            "subject": subject_of(notice),
            "greeting": _("Hello %(name)s,") % {"name": customer.name}
            if customer.name
            else _("Hello,"),
            "story": story,
            "rows": [
                *story.details,
                Detail(_("Case"), case.number),
                Detail(_("Order"), case.order.external_id),
                Detail(_("State"), state_label(case.state, case.kind)),
            ],
            "deadline": _deadline(case, shop.timezone, language),
            "link": case_link(case),
            "signature": _("%(shop)s after-sales service") % {"shop": shop.name},
        }
        text = render_to_string("notify/email/case.txt", context)
        html = render_to_string("notify/email/case.html", context)
    message = EmailMultiAlternatives(context["subject"], _tidy(text), to=[customer.email])
    message.attach_alternative(html, "text/html")
    return message


def _tidy(text: str) -> str:
    """Template tags leave blank lines behind; a plain-text e-mail keeps at most one in a row."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


class CaseComposer:
    """The e-mails of notices about cases (registered with the kernel's notices)."""

    def prepare(self, notices: Sequence[Notice]) -> BatchDetails:
        return batch_details(notices)

    def email(self, notice: Notice, prepared: BatchDetails) -> EmailMultiAlternatives | None:
        return case_email(notice, prepared)


register_composer(Case, CaseComposer())
