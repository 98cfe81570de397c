"""The e-mail a customer receives about their case: a subject, a plain-text body and an HTML body,
in the customer's language, telling what happened and where the case stands at delivery time.

The words describe a case, so this module reads the case's vocabulary and the rows a case links
to; it is the one place where notify looks at cases, and it only reads.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.cases.choices import Action, CaseKind, CaseState, CompensationKind, DeadlineAction
from aftersales.cases.models import Case, CaseEvent, Compensation
from aftersales.cases.wording import carrier_label
from aftersales.notify.models import Notification

# A date as people write it in each language; never ISO, never a bare code.
DATETIME_FORMATS = {"zh-hans": "Y年n月j日 H:i", "en": "j M Y, H:i"}

# What happens when the deadline passes, in the customer's words (the portal says the same).
DEADLINE_CONSEQUENCES = {
    DeadlineAction.AUTO_APPROVE: gettext_lazy(
        "If the shop does not answer by %(when)s, your application is approved automatically."
    ),
    DeadlineAction.AUTO_CLOSE: gettext_lazy(
        "If nothing happens by %(when)s, the case closes automatically."
    ),
    DeadlineAction.AUTO_REFUND: gettext_lazy(
        "If the shop does not confirm receipt by %(when)s, you are refunded automatically."
    ),
    DeadlineAction.ESCALATE: gettext_lazy(
        "The shop must act by %(when)s; if it does not, a team lead takes over your case."
    ),
    DeadlineAction.REMIND: gettext_lazy(
        "Please answer the repair quote; we remind you on %(when)s."
    ),
    DeadlineAction.AUTO_DECLINE: gettext_lazy(
        "If you do not answer by %(when)s, your goods come back unrepaired."
    ),
    DeadlineAction.AUTO_CONFIRM: gettext_lazy("Receipt is confirmed automatically on %(when)s."),
}

SUBJECTS = {
    "case_opened": gettext_lazy("After-sales case %(number)s received"),
    "case_approved": gettext_lazy("After-sales case %(number)s approved"),
    "case_auto_approved": gettext_lazy("After-sales case %(number)s approved automatically"),
    "case_rejected": gettext_lazy("After-sales case %(number)s rejected"),
    "case_refunded": gettext_lazy("After-sales case %(number)s refunded"),
    "case_escalated": gettext_lazy("After-sales case %(number)s is overdue"),
    "case_closed": gettext_lazy("After-sales case %(number)s closed"),
    "case_compensated": gettext_lazy("A coupon or store credit for after-sales case %(number)s"),
    "case_converted": gettext_lazy("After-sales case %(number)s: the resolution changed"),
    "case_offer": gettext_lazy("After-sales case %(number)s: the shop offers an alternative"),
    "replacement_shipped": gettext_lazy(
        "After-sales case %(number)s: your replacement is on its way"
    ),
    "case_diagnosed": gettext_lazy("After-sales case %(number)s: diagnosis done"),
    "case_quoted": gettext_lazy("After-sales case %(number)s: a repair quote awaits your answer"),
    "quote_reminder": gettext_lazy(
        "Reminder: the repair quote of case %(number)s awaits your answer"
    ),
    "quote_expired": gettext_lazy(
        "After-sales case %(number)s: the quote expired; your goods come back unrepaired"
    ),
    "goods_shipped_back": gettext_lazy(
        "After-sales case %(number)s: your goods are on their way back"
    ),
    "case_completed": gettext_lazy("After-sales case %(number)s completed"),
    "case_message": gettext_lazy("After-sales case %(number)s: a message from the shop"),
}


def subject_of(notification: Notification) -> str:
    """The subject line in the active language."""
    template = SUBJECTS.get(notification.kind) or _("After-sales case %(number)s updated")
    return str(template) % {"number": notification.payload.get("case_number", "")}


# --- what a batch needs beyond the case row ------------------------------------------------------


@dataclass
class BatchDetails:
    """Rows some kinds describe besides the case itself, read once for a whole batch; newest
    first per case."""

    compensations: dict[int, list[Compensation]] = field(default_factory=dict)
    offers: dict[int, list[CaseEvent]] = field(default_factory=dict)


def batch_details(notifications: Iterable[Notification]) -> BatchDetails:
    """One query per kind that needs more than the case row, and only if the batch has one."""
    case_ids: dict[str, set[int]] = defaultdict(set)
    for notification in notifications:
        if notification.case_id:
            case_ids[notification.kind].add(notification.case_id)
    details = BatchDetails()
    if case_ids["case_compensated"]:
        compensations = Compensation.objects.filter(
            case_id__in=case_ids["case_compensated"]
        ).order_by("-created_at", "-id")
        details.compensations = _by_case(compensations)
    if case_ids["case_offer"]:
        offers = CaseEvent.objects.filter(
            case_id__in=case_ids["case_offer"], action=Action.OFFER
        ).order_by("-at", "-id")
        details.offers = _by_case(offers)
    return details


def _by_case(rows) -> dict[int, list]:
    grouped: dict[int, list] = defaultdict(list)
    for row in rows:
        grouped[row.case_id].append(row)
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


def _story(notification: Notification, case: Case, extra: BatchDetails) -> Story:
    currency = notification.shop.currency
    kind = notification.kind
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
            extra.compensations.get(case.id, []), notification.created_at, lambda c: c.created_at
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
        offer = _latest(extra.offers.get(case.id, []), notification.created_at, lambda e: e.at)
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
        story.quoted = str(notification.payload.get("text", ""))
    else:
        say(_("Your after-sales case has been updated."))
    return story


def local_datetime(moment: dt.datetime, timezone: str, language: str) -> str:
    """``moment`` in the shop's time zone, written as people of ``language`` write dates."""
    local = moment.astimezone(zoneinfo.ZoneInfo(timezone))
    return dateformat.format(local, DATETIME_FORMATS.get(language, DATETIME_FORMATS["en"]))


def _deadline(case: Case, timezone: str, language: str) -> str:
    sentence = DEADLINE_CONSEQUENCES.get(case.deadline_action)
    if case.deadline_at is None or sentence is None:
        return ""
    return str(sentence) % {"when": local_datetime(case.deadline_at, timezone, language)}


def case_link(case: Case) -> str:
    return settings.AFTERSALES_BASE_URL + reverse("portal:case", kwargs={"number": case.number})


def case_email(notification: Notification, extra: BatchDetails) -> EmailMultiAlternatives | None:
    """The e-mail for a customer notification, or ``None`` when the customer has no address.

    ``notification.case`` must come with its customer, order and return address, and
    ``notification.shop``, read at delivery time: the e-mail tells the case as it is now.
    """
    case = notification.case
    customer = case.customer
    if not customer.email:
        return None
    shop = notification.shop
    with translation.override(customer.language):
        language = translation.get_language()
        story = _story(notification, case, extra)
        context = {
            "language": language,
            "subject": subject_of(notification),
            "greeting": _("Hello %(name)s,") % {"name": customer.name}
            if customer.name
            else _("Hello,"),
            "story": story,
            "rows": [
                *story.details,
                Detail(_("Case"), case.number),
                Detail(_("Order"), case.order.external_id),
                Detail(_("State"), str(CaseState(case.state).label)),
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
