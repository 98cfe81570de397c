"""How the case learns of its inspections without knowing the inspections app (a higher layer):
the inspection desk (``cases.moves.inspection.register_inspection_desk``) gives the number of the
inspection under way about a case and the verdict being recorded on it."""

from __future__ import annotations

from aftersales.cases.moves.inspection import CenterVerdict, register_inspection_desk
from aftersales.inspections.choices import FINAL_STATES
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


def install() -> None:
    register_inspection_desk(DESK)
