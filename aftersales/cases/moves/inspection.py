"""The case's side of the platform's inspection center (鉴定中心, ``aftersales.inspections``): three
moves of the clock's kind (the inspection's own moves take them, with the actor ``system``), so
the case's record says what the inspection did to it.

- ``inspection_pause``: the goods went to the center. The case's deadline stops, the time it
  had left written on the event (as a dispute pauses it; a deadline a dispute stopped already
  stays stopped, and only what was running is restarted later).
- ``inspection_resume``: the inspection ended (a verdict, lapsed or cancelled): the deadline comes
  back with the time it had left, from now.
- ``center_verdict``: the center's verdict on the goods is the case's authenticity verdict, the
  one record ``compensation.counterfeit_proven`` reads: the proof a counterfeit claim (假一赔十)
  needs, or the claim sent back (genuine), or no proof (inconclusive). The authentication fee and
  who owes it are on the event, for both sides to read.

The case does not know the inspections app (a higher layer): the inspection's number and verdict
come from the desk that app registers at its start (``register_inspection_desk``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.utils.translation import gettext as _

from aftersales.cases.choices import Action
from aftersales.cases.moves.dispute import restart_deadline, stop_deadline
from aftersales.core.errors import Conflict
from aftersales.core.lifecycle import Context


@dataclass(frozen=True)
class CenterVerdict:
    """The inspection center's verdict on a case's goods: the inspection's number, the verdict
    (a ``choices.Authenticity``), the authentication fee and who owes it."""

    inspection: str
    verdict: str
    fee: Decimal
    fee_payer: str


class InspectionDesk(Protocol):
    def inspection_of(self, case) -> str:
        """The number of the inspection of ``case`` under way ("" for none)."""

    def verdict_for(self, case) -> CenterVerdict | None:
        """The verdict being recorded on ``case`` (``None``: none)."""


_DESKS: list[InspectionDesk] = []


def register_inspection_desk(desk: InspectionDesk) -> None:
    """Called once by the inspections app at its start."""
    if desk not in _DESKS:
        _DESKS.append(desk)


def _inspection_of(case) -> str:
    return next((number for desk in _DESKS if (number := desk.inspection_of(case))), "")


def pause(case, ctx: Context) -> None:
    ctx.event_data["inspection"] = _inspection_of(case)
    stop_deadline(case, ctx)


def resume(case, ctx: Context) -> None:
    ctx.event_data["inspection"] = _inspection_of(case)
    restart_deadline(case, ctx, Action.INSPECTION_PAUSE)


def record_verdict(case, ctx: Context) -> None:
    found = next((v for desk in _DESKS if (v := desk.verdict_for(case)) is not None), None)
    if found is None:
        raise Conflict(
            _("No inspection center's verdict was recorded on this case."),
            code="no_center_verdict",
        )
    case.authenticity_verdict = found.verdict
    ctx.event_data.update(
        inspection=found.inspection,
        authenticity=found.verdict,
        fee=str(found.fee),
        fee_payer=found.fee_payer,
    )
