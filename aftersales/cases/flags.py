"""The workbench's marks on a case: a coloured flag (each shop gives each colour its meaning) and
the priority (it chooses the case's service-level targets)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.cases.access import staff_case
from aftersales.cases.choices import Action, FlagColor
from aftersales.cases.models import Case
from aftersales.core import clock
from aftersales.core.actors import Principal
from aftersales.core.errors import InvalidInput
from aftersales.core.gate import event_for
from aftersales.sla.choices import Priority


@transaction.atomic
def flag_set(*, actor: Principal, case_id: int, color: str) -> Case:
    """Flag a case with a colour (an empty colour: no flag)."""
    case = staff_case(actor, case_id, "case.flag")
    if color and color not in FlagColor.values:
        raise InvalidInput(_("Unknown flag colour."), code="invalid_flag", field="flag")
    case.flag = color
    case.save(update_fields=["flag", "updated_at"])
    return case


@transaction.atomic
def priority_set(*, actor: Principal, case_id: int, priority: str) -> Case:
    """Give a case another priority. A staff-only timeline entry records it (from → to), and
    the service-level clocks, which read the timeline, are recomputed with the new priority's
    targets on the worker's next pass. The same priority again changes nothing."""
    if priority not in Priority.values:
        raise InvalidInput(
            _("Priority must be one of: %(choices)s.")
            % {"choices": " / ".join(str(label) for _value, label in Priority.choices)},
            code="invalid_priority",
            field="priority",
        )
    case = staff_case(actor, case_id, "case.priority")
    if case.priority == priority:
        return case
    before, now = case.priority, clock.now()
    case.priority, case.updated_at = priority, now
    case.save(update_fields=["priority", "updated_at"])
    event_for(
        case,
        actor=actor,
        action=Action.PRIORITIZE,
        from_state=case.state,
        data={"from": before, "to": priority},
        now=now,
    ).save()
    return case
