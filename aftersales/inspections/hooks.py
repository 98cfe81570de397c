"""How the case learns of its inspections without knowing the inspections app (a higher layer):

- the inspection desk (``cases.moves.inspection.register_inspection_desk``): the number of the
  inspection under way about a case and the verdict being recorded on it;
- a precondition on the case's table (``core.lifecycle.register_precondition``): the shop's own
  inspection may not record the goods' authenticity while they are at the platform's center, nor
  change the center's verdict (the one proof a counterfeit claim has).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from aftersales.cases.choices import Action as CaseAction
from aftersales.cases.moves.inspection import CenterVerdict, register_inspection_desk
from aftersales.core.errors import Conflict
from aftersales.core.lifecycle import register_precondition
from aftersales.inspections.choices import FINAL_STATES, InspectionState
from aftersales.inspections.models import Inspection


class Desk:
    def inspection_of(self, case) -> str:
        return (
            Inspection.objects.filter(case_id=case.pk)
            .exclude(state__in=FINAL_STATES)
            .order_by("-id")
            .values_list("number", flat=True)
            .first()
            or ""
        )

    def verdict_for(self, case) -> CenterVerdict | None:
        # The verdict is written on the row before the case's move (``moves.verdict``), while the
        # inspection is still in its state before the verdict.
        found = (
            Inspection.objects.filter(case_id=case.pk)
            .exclude(state__in=FINAL_STATES)
            .exclude(verdict="")
            .order_by("-id")
            .first()
        )
        if found is None:
            return None
        return CenterVerdict(
            inspection=found.number, verdict=found.verdict, fee=found.fee, fee_payer=found.fee_payer
        )


DESK = Desk()


def authenticity_left_to_the_center(case, *, action, actor, input) -> None:
    if action != CaseAction.INSPECT or getattr(input, "authenticity", None) is None:
        return
    found = (
        Inspection.objects.filter(case_id=case.pk)
        .exclude(state__in=[InspectionState.LAPSED, InspectionState.CANCELLED])
        .order_by("-id")
        .values_list("number", "state")
        .first()
    )
    if found is None:
        return
    number, state = found
    if state == InspectionState.DECIDED:
        detail = _("The platform's inspection center gave its verdict (%(number)s): it stands.")
    else:
        detail = _("The goods are with the platform's inspection center (%(number)s).")
    raise Conflict(
        detail % {"number": number}, code="authenticity_at_the_center", field="authenticity"
    )


def install() -> None:
    register_inspection_desk(DESK)
    register_precondition("case", authenticity_left_to_the_center)
