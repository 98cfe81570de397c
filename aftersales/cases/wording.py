"""The words people read about a case, beside its codes: carriers, the state in the words of the
case's kind, who acts next, what a deadline does, and each timeline entry in sentences.

Codes (``return_refund``, ``quality_issue``, ``SF``) and machine formats (ISO times) stay in the
API; the pages and e-mails read them through here, in the reader's language and the shop's time.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from aftersales.cases.choices import (
    Action,
    Authenticity,
    CaseKind,
    CaseState,
    CompensationKind,
    DeadlineAction,
    DiagnosedBy,
    FeePayer,
    InspectionResult,
    RatingReason,
    Reason,
)
from aftersales.cases.moves.platform import platform_label
from aftersales.cases.timeline import readable_time
from aftersales.policy.choices import CompensationReason, Condition
from aftersales.sla.choices import Priority
from aftersales.team.models import ContactChannel


class Carrier(models.TextChoices):
    """The parcel carriers a shop in China ships with, by the codes the marketplaces use."""

    SF = "SF", gettext_lazy("SF Express")
    ZTO = "ZTO", gettext_lazy("ZTO Express")
    YTO = "YTO", gettext_lazy("YTO Express")
    STO = "STO", gettext_lazy("STO Express")
    YUNDA = "YUNDA", gettext_lazy("Yunda Express")
    JD = "JD", gettext_lazy("JD Logistics")
    EMS = "EMS", gettext_lazy("China Post EMS")
    JT = "JT", gettext_lazy("J&T Express")
    DEPPON = "DEPPON", gettext_lazy("Deppon Express")
    OTHER = "OTHER", gettext_lazy("Other carrier")


def carrier_label(value: str) -> str:
    """A carrier code in words; a name typed by hand (the API takes any) as it was typed."""
    if value in Carrier.values and value != Carrier.OTHER:
        return str(Carrier(value).label)
    return value


# The platforms word the waiting states of a return; an exchange or a repair waits for the same
# parcel, but nothing was agreed about a refund.
_KIND_STATE_LABELS = {
    (CaseKind.EXCHANGE, CaseState.AWAITING_RETURN): gettext_lazy(
        "Exchange agreed: awaiting the buyer's parcel"
    ),
    (CaseKind.REPAIR, CaseState.AWAITING_RETURN): gettext_lazy(
        "Repair agreed: awaiting the buyer's parcel"
    ),
    (CaseKind.EXCHANGE, CaseState.RETURN_IN_TRANSIT): gettext_lazy(
        "The buyer has sent the goods: awaiting receipt"
    ),
    (CaseKind.REPAIR, CaseState.RETURN_IN_TRANSIT): gettext_lazy(
        "The buyer has sent the goods: awaiting receipt"
    ),
}


def state_label(state: str, kind: str) -> str:
    return str(_KIND_STATE_LABELS.get((kind, state)) or CaseState(state).label)


def money_text(amount, currency: str) -> str:
    return f"{amount} {currency}"


def waiting_on(case) -> str:
    """Who acts next, in a sentence for the team."""
    amount = money_text(case.approved_amount - case.refunded_amount, case.shop.currency)
    quote = money_text(case.quote_amount, case.shop.currency)
    sentences = {
        CaseState.AWAITING_SELLER: _("The shop answers the application: approve or reject."),
        CaseState.REJECTED: _("Waiting for the customer to change the application or cancel it."),
        CaseState.AWAITING_RETURN: _("Waiting for the customer to send the goods."),
        CaseState.RETURN_IN_TRANSIT: _("Waiting for the parcel at the receiving desk."),
        CaseState.INSPECTING: _("The goods are in: inspect them."),
        CaseState.REFUND_PENDING: _("Waiting for finance to pay the refund of %(amount)s.")
        % {"amount": amount},
        CaseState.REPLACEMENT_PENDING: _("Ship the replacement."),
        CaseState.DIAGNOSING: _("Diagnose the goods."),
        CaseState.QUOTE_PENDING: _(
            "Waiting for the customer to accept or decline the quote of %(amount)s."
        )
        % {"amount": quote},
        CaseState.REPAIRING: _("Repair the goods and send them back."),
        CaseState.RETURN_UNREPAIRED: _("Send the goods back unrepaired."),
        CaseState.SHIPPED_TO_CUSTOMER: _("Waiting for the customer to confirm receipt."),
    }
    return sentences.get(case.state, _("This case has ended."))


def dispute_reasons(case) -> list[str]:
    """Why the case is flagged for a dispute, in words (stored as codes)."""
    words = {"short_delivery": _("Fewer units arrived than expected"), **dict(Condition.choices)}
    return [str(words.get(code, code)) for code in case.dispute_signals]


# What happens when a deadline passes, in the customer's words.
CUSTOMER_CONSEQUENCES = {
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
    # A marketplace's request: the platform's own rules act at its deadline (or the shop's).
    DeadlineAction.PLATFORM_DUE: gettext_lazy(
        "The platform's time for this step ends on %(when)s; then its rules decide."
    ),
    DeadlineAction.PLATFORM_AUTO: gettext_lazy(
        "If the shop does not answer by %(when)s, it answers on the platform automatically."
    ),
}


def deadline_action_label(action: str) -> str:
    """What the deadline does; a deadline whose action was taken already (an escalation) says
    that it went to the team lead."""
    if not action:
        return _("Escalated to the team lead")
    return str(DeadlineAction(action).label)


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def _lines(data: dict, key: str, titles: dict[str, str], word) -> list[str]:
    return [
        f"{titles.get(str(line_id), line_id)}: {word(value)}"
        for line_id, value in (data.get(key) or {}).items()
    ]


def describe(event, case) -> list[str]:
    """A timeline entry's details in sentences (``event`` is a ``core.models.Event`` or a
    ``timeline.TimelineEntry`` whose data a customer may see)."""
    data = event.data or {}
    currency = case.shop.currency
    zone = case.shop.timezone
    titles = {str(line.order_line_id): line.order_line.title for line in case.lines.all()}
    action = event.action
    parts: list[str] = []

    def amount(key, text):
        if data.get(key) not in (None, "", "0.00"):
            parts.append(text % {"amount": money_text(data[key], currency)})

    if action == Action.OPEN:
        parts.append(f"{_label(CaseKind, data.get('kind'))} · {_label(Reason, data.get('reason'))}")
        amount("requested_amount", _("Requested: %(amount)s"))
    elif action == Action.MODIFY:
        if data.get("reason"):
            parts.append(_("Reason: %(reason)s") % {"reason": _label(Reason, data["reason"])})
        amount("amount", _("Requested: %(amount)s"))
        if data.get("description"):
            parts.append(data["description"])
    elif action in (Action.APPROVE, Action.AUTO_APPROVE):
        amount("approved_amount", _("Approved: %(amount)s"))
        amount("shipping_deduction", _("Return shipping deducted: %(amount)s"))
    elif action == Action.RECEIVE:
        parts += _lines(data, "received", titles, lambda n: _("%(count)s received") % {"count": n})
        parts += _lines(data, "short", titles, lambda n: _("%(count)s missing") % {"count": n})
        amount("shipping_cost", _("Return shipping cost: %(amount)s"))
    elif action == Action.INSPECT:
        parts.append(_label(InspectionResult, data.get("result")))
        parts += _lines(
            data, "lines", titles, lambda grade: _label(Condition, grade.get("condition"))
        )
        amount("deduction", _("Deducted: %(amount)s"))
        amount("approved_amount", _("To refund: %(amount)s"))
        if data.get("authenticity"):
            parts.append(
                _("Authenticity: %(verdict)s")
                % {"verdict": _label(Authenticity, data["authenticity"])}
            )
        amount("written_off", _("Written off (scrapped goods): %(amount)s"))
    elif action == Action.ESCALATE:
        if data.get("failed_action"):
            parts.append(
                _("The automatic step “%(action)s” was refused: %(detail)s")
                % {
                    "action": _label(DeadlineAction, data["failed_action"]),
                    "detail": data.get("detail", ""),
                }
            )
        elif case.deadline_at:
            parts.append(
                _("Overdue since %(when)s") % {"when": readable_time(case.deadline_at, zone)}
            )
    elif action == Action.COMPENSATE:
        parts.append(
            f"{_label(CompensationKind, data.get('kind'))} · "
            f"{_label(CompensationReason, data.get('reason'))} · "
            f"{money_text(data.get('amount'), currency)}"
        )
    elif action == Action.CONTACT:
        parts.append(f"{_label(ContactChannel, data.get('channel'))}: {data.get('summary', '')}")
        if data.get("minutes"):
            spent = duration_text(dt.timedelta(minutes=int(data["minutes"])))
            parts.append(_("Time spent: %(time)s") % {"time": spent})
        amount("staff_cost", _("Staff cost: %(amount)s"))
    elif action == Action.ASSIGN:
        parts.append(data.get("assignee") or _("Nobody"))
    elif action == Action.PRIORITIZE:
        parts.append(
            _("%(from)s → %(to)s")
            % {"from": _label(Priority, data.get("from")), "to": _label(Priority, data.get("to"))}
        )
    elif action == Action.RATE:
        reasons = ", ".join(_label(RatingReason, r) for r in data.get("reasons") or [])
        parts.append(_("%(score)s of 5 stars") % {"score": data.get("score")})
        if reasons:
            parts.append(reasons)
    elif action == Action.CONVERT:
        kinds = {
            "from": _label(CaseKind, data.get("from_kind")),
            "to": _label(CaseKind, data.get("to_kind")),
        }
        parts.append(_("%(from)s → %(to)s") % kinds)
    elif action == Action.DIAGNOSE:
        parts.append(_label(DiagnosedBy, data.get("diagnosed_by")))
        if data.get("service_center"):
            parts.append(data["service_center"])
        if data.get("fault_code"):
            parts.append(_("Fault: %(fault)s") % {"fault": data["fault_code"]})
        if data.get("repairable") is False:
            parts.append(_("Cannot be repaired"))
        if data.get("under_warranty"):
            parts.append(_("Under warranty: free of charge"))
        amount("quote", _("Quote: %(amount)s"))
    elif action in (Action.ACCEPT_QUOTE, Action.AUTO_DECLINE):
        amount("quote", _("Quote: %(amount)s"))
    elif action == Action.REMIND:
        parts.append(_("Please accept or decline the repair quote."))
        if data.get("expires_at"):
            expires = dt.datetime.fromisoformat(data["expires_at"])
            parts.append(
                _("Unanswered, the goods come back unrepaired on %(when)s.")
                % {"when": readable_time(expires, zone)}
            )
    elif action == Action.OFFER:
        parts.append(data.get("note", ""))
        if data.get("sku"):
            parts.append(_("Variant: %(sku)s") % {"sku": data["sku"]})
        amount("discount", _("Discount: %(amount)s"))
    elif action in (Action.DISPUTE_PAUSE, Action.DISPUTE_RESUME):
        if data.get("dispute"):
            parts.append(_("Dispute %(number)s") % {"number": data["dispute"]})
        if data.get("remaining_seconds") is not None:
            remaining = dt.timedelta(seconds=int(data["remaining_seconds"]))
            parts.append(_("Time left: %(left)s") % {"left": duration_text(remaining)})
        if action == Action.DISPUTE_RESUME and data.get("deadline_at"):
            due = dt.datetime.fromisoformat(data["deadline_at"])
            parts.append(_("Due again on %(when)s") % {"when": readable_time(due, zone)})
    elif action == Action.DISPUTE_REFUND and data.get("dispute"):
        parts.append(_("Dispute %(number)s") % {"number": data["dispute"]})
    elif action in (Action.INSPECTION_PAUSE, Action.INSPECTION_RESUME, Action.CENTER_VERDICT):
        if data.get("inspection"):
            parts.append(_("Inspection %(number)s") % {"number": data["inspection"]})
        if data.get("authenticity"):
            parts.append(
                _("Verdict: %(verdict)s") % {"verdict": _label(Authenticity, data["authenticity"])}
            )
        if data.get("fee_payer") and data.get("fee") not in (None, "", "0.00"):
            parts.append(
                _("Authentication fee %(amount)s, paid by: %(payer)s")
                % {
                    "amount": money_text(data["fee"], currency),
                    "payer": _label(FeePayer, data["fee_payer"]),
                }
            )
        if data.get("remaining_seconds") is not None:
            remaining = dt.timedelta(seconds=int(data["remaining_seconds"]))
            parts.append(_("Time left: %(left)s") % {"left": duration_text(remaining)})
        if action == Action.INSPECTION_RESUME and data.get("deadline_at"):
            due = dt.datetime.fromisoformat(data["deadline_at"])
            parts.append(_("Due again on %(when)s") % {"when": readable_time(due, zone)})
    elif action in (
        Action.PLATFORM_UPDATE,
        Action.PLATFORM_PAUSE,
        Action.PLATFORM_RESUME,
        Action.PLATFORM_DUE,
        Action.PLATFORM_AUTO,
    ) and data.get("platform"):
        name = platform_label(data["platform"])
        parts.append(
            {
                Action.PLATFORM_UPDATE: _("Read from %(platform)s"),
                Action.PLATFORM_PAUSE: _("%(platform)s's customer service is handling it"),
                Action.PLATFORM_RESUME: _("%(platform)s's customer service stepped back"),
                Action.PLATFORM_DUE: _("%(platform)s's time for this step is up"),
                Action.PLATFORM_AUTO: _("The automatic action goes to %(platform)s"),
            }[action]
            % {"platform": name}
        )
        if data.get("platform_deadline") and action == Action.PLATFORM_UPDATE:
            due = dt.datetime.fromisoformat(data["platform_deadline"])
            parts.append(
                _("%(platform)s's deadline: %(when)s")
                % {"platform": name, "when": readable_time(due, zone)}
            )
        if data.get("remaining_seconds") is not None:
            remaining = dt.timedelta(seconds=int(data["remaining_seconds"]))
            parts.append(_("Time left: %(left)s") % {"left": duration_text(remaining)})
    if action in (Action.SHIP_RETURN, Action.SHIP_REPLACEMENT, Action.SHIP_BACK) and data.get(
        "tracking_number"
    ):
        parts.append(f"{carrier_label(data.get('carrier', ''))} {data['tracking_number']}".strip())
    if action == Action.SHIP_REPLACEMENT:
        amount("price_difference", _("Price difference: %(amount)s"))
        amount("discount", _("Discount: %(amount)s"))
    if action in (Action.SHIP_REPLACEMENT, Action.SHIP_BACK):
        amount("shipping_cost", _("Shipping cost: %(amount)s"))
    if action in (
        Action.REFUND,
        Action.AUTO_REFUND,
        Action.AUTO_APPROVE,
        Action.SHIP_REPLACEMENT,
        Action.DISPUTE_REFUND,
        Action.PLATFORM_UPDATE,
    ):
        amount("refunded", _("%(amount)s refunded"))
    # Free text people wrote: a rejection, a cancellation, a conversion, a declined quote, a
    # message, and the inspector's or receiving desk's note (kept from customers by the timeline).
    if action not in (Action.OPEN, Action.MODIFY) and data.get("reason"):
        parts.append(data["reason"])
    if action != Action.OFFER and data.get("note"):
        parts.append(data["note"])
    if data.get("text"):
        parts.append(data["text"])
    return [str(part) for part in parts if part]


def duration_text(remaining: dt.timedelta) -> str:
    """A span of time as people say it: ``2 days 3 hours``, ``45 minutes`` (never negative)."""
    seconds = max(int(remaining.total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = []
    if days:
        parts.append(ngettext("%(count)s day", "%(count)s days", days) % {"count": days})
    if hours:
        parts.append(ngettext("%(count)s hour", "%(count)s hours", hours) % {"count": hours})
    if minutes or not parts:
        parts.append(
            ngettext("%(count)s minute", "%(count)s minutes", minutes) % {"count": minutes}
        )
    return " ".join(parts)
