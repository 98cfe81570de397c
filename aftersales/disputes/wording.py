"""A dispute in words: the decision's calculation as sentences both sides read, and the juror's
anonymised file."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from aftersales.cases.models import Evidence
from aftersales.cases.wording import money_text
from aftersales.core.models import Event
from aftersales.disputes.choices import Autonomy, EvidenceKind, Outcome, Side
from aftersales.disputes.jury import anonymise


def explain(decision, currency: str) -> list[str]:
    """Every number the decision rests on, in sentences."""
    found = decision.calculation or {}
    lines = []
    if "requested" in found:
        lines.append(
            _("Requested %(requested)s, refunded before %(before)s: %(left)s left to decide.")
            % {
                "requested": money_text(found["requested"], currency),
                "before": money_text(found["refunded_before"], currency),
                "left": money_text(found["refundable"], currency),
            }
        )
    outcome = found.get("outcome", decision.outcome)
    if outcome == Outcome.REFUND_FULL:
        lines.append(
            _("Refund in full: %(amount)s.") % {"amount": money_text(decision.amount, currency)}
        )
    elif outcome == Outcome.REFUND_PART:
        lines.append(
            _("Refund in part: %(amount)s of %(left)s.")
            % {
                "amount": money_text(decision.amount, currency),
                "left": money_text(found.get("refundable", decision.amount), currency),
            }
        )
    else:
        lines.append(_("The claim is rejected: nothing is refunded."))
    if found.get("service_score"):
        lines.append(
            _("Shop's service score %(score)s: %(band)s")
            % {
                "score": found["service_score"],
                "band": Autonomy(found.get("autonomy", Autonomy.PLATFORM)).label,
            }
        )
    votes = found.get("votes")
    if votes:
        lines.append(
            _("Jury: %(buyer)s votes for the buyer, %(shop)s for the shop.")
            % {"buyer": votes.get(Side.BUYER, 0), "shop": votes.get(Side.SHOP, 0)}
        )
    violation = found.get("violation")
    if violation:
        lines.append(
            _("Violation %(kind)s: %(points)s points (policy rule %(rule)s).")
            % {"kind": violation["kind"], "points": violation["points"], "rule": violation["rule"]}
        )
    return lines


def juror_evidence(dispute) -> list[dict]:
    """The evidence of both sides, anonymised: texts without names or numbers, a message's text,
    a photo by its caption (the picture itself is not shown to jurors)."""
    items = []
    messages = dict(
        Event.objects.filter(
            pk__in=[
                e.reference_id for e in dispute.evidence.all() if e.kind == EvidenceKind.MESSAGE
            ]
        ).values_list("pk", "data")
    )
    captions = dict(
        Evidence.objects.filter(
            pk__in=[e.reference_id for e in dispute.evidence.all() if e.kind == EvidenceKind.PHOTO]
        ).values_list("pk", "caption")
    )
    for item in dispute.evidence.all():
        if item.kind == EvidenceKind.CONTACT:
            text = _("The shop cites its contact log.")
        elif item.kind == EvidenceKind.MESSAGE:
            text = (messages.get(item.reference_id) or {}).get("text", "")
        elif item.kind == EvidenceKind.PHOTO:
            text = captions.get(item.reference_id) or _("A photo of the goods.")
        elif item.kind == EvidenceKind.TRACKING:
            text = _("A tracking number of the case's parcels.")
        else:
            text = item.text
        items.append(
            {
                "side": item.side,
                "side_label": str(Side(item.side).label),
                "kind": item.kind,
                "kind_label": str(EvidenceKind(item.kind).label),
                "text": anonymise(text, dispute),
            }
        )
    return items


def amount_text(amount: Decimal, currency: str) -> str:
    return money_text(amount, currency)
