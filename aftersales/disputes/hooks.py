"""How the case learns of its disputes without knowing the disputes app (a higher layer):

- the dispute desk (``cases.moves.dispute.register_dispute_desk``): the number of the dispute
  under way about a case, and the refund the decision being carried out grants;
- a precondition on the case's table (``core.lifecycle.register_precondition``): while a
  dispute runs, the case is the platform's, and a person's move on it is refused
  (``case_under_dispute``); the dispute's own moves on the case are the system's.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from aftersales.cases.moves.dispute import Award, register_dispute_desk
from aftersales.core.errors import Conflict
from aftersales.core.lifecycle import register_precondition
from aftersales.disputes.choices import FINAL_STATES, REFUND_OUTCOMES, DisputeState
from aftersales.disputes.models import Decision, Dispute


class Desk:
    def dispute_of(self, case) -> str:
        return (
            Dispute.objects.filter(case_id=case.pk)
            .exclude(state__in=FINAL_STATES)
            .order_by("-id")
            .values_list("number", flat=True)
            .first()
            or ""
        )

    def award_for(self, case) -> Award | None:
        decision = (
            Decision.objects.select_related("dispute")
            .filter(
                dispute__case_id=case.pk,
                dispute__state__in=[DisputeState.DECIDED, DisputeState.APPEALED],
                executed_at__isnull=True,
                outcome__in=list(REFUND_OUTCOMES),
            )
            .order_by("-id")
            .first()
        )
        if decision is None:
            return None
        number = decision.dispute.number
        return Award(dispute=number, amount=decision.amount, key=f"dispute:{number}")


DESK = Desk()


def case_not_under_dispute(case, *, action, actor, input) -> None:
    if actor.is_system:
        return
    number = DESK.dispute_of(case)
    if number:
        raise Conflict(
            _("Case %(case)s is with the platform (dispute %(dispute)s) until it is decided.")
            % {"case": case.number, "dispute": number},
            code="case_under_dispute",
        )


def install() -> None:
    register_dispute_desk(DESK)
    register_precondition("case", case_not_under_dispute)
