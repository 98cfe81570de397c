"""The workbench's coloured flags on a case (each shop gives each colour its meaning)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.cases.access import staff_case
from aftersales.cases.choices import FlagColor
from aftersales.cases.models import Case
from aftersales.core.actors import Principal
from aftersales.core.errors import InvalidInput


@transaction.atomic
def flag_set(*, actor: Principal, case_id: int, color: str) -> Case:
    """Flag a case with a colour (an empty colour: no flag)."""
    case = staff_case(actor, case_id, "case.flag")
    if color and color not in FlagColor.values:
        raise InvalidInput(_("Unknown flag colour."), code="invalid_flag", field="flag")
    case.flag = color
    case.save(update_fields=["flag", "updated_at"])
    return case
