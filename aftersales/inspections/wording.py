"""An inspection in words: its verdict and what followed it, as sentences both sides read (the
desk, the portal and the API's ``explanation``)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from aftersales.cases.choices import Authenticity, FeePayer
from aftersales.cases.wording import money_text
from aftersales.inspections.choices import InspectionState
from aftersales.inspections.models import Inspection


def verdict_label(inspection: Inspection) -> str:
    return str(Authenticity(inspection.verdict).label) if inspection.verdict else ""


def fee_sentence(inspection: Inspection) -> str:
    if not inspection.fee_payer:
        return ""
    if not inspection.fee:
        return _("No authentication fee is charged.")
    return _("Authentication fee %(amount)s, paid by: %(payer)s") % {
        "amount": money_text(inspection.fee, inspection.shop.currency),
        "payer": FeePayer(inspection.fee_payer).label,
    }


def explain(inspection: Inspection) -> list[str]:
    """The verdict's consequences in sentences (nothing before the verdict)."""
    if inspection.state != InspectionState.DECIDED:
        return []
    currency = inspection.shop.currency
    lines = []
    if inspection.verdict == Authenticity.GENUINE:
        lines.append(
            _("The goods are genuine: the counterfeit claim is sent back, the case goes on.")
        )
    elif inspection.verdict == Authenticity.COUNTERFEIT:
        lines.append(_("The goods are counterfeit: this is the proof of the counterfeit claim."))
        if inspection.compensation_code:
            lines.append(
                _("Ten-fold compensation: %(amount)s (%(code)s).")
                % {
                    "amount": money_text(inspection.compensation_amount, currency),
                    "code": inspection.compensation_code,
                }
            )
        if inspection.violation_number:
            lines.append(
                _("A counterfeit violation was recorded on the shop (%(number)s).")
                % {"number": inspection.violation_number}
            )
    else:
        lines.append(
            _("The center could not tell: there is no proof either way; the case goes on.")
        )
    fee = fee_sentence(inspection)
    if fee:
        lines.append(fee)
    return lines
