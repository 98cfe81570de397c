"""The writes that change an inspection: its table (``inspections.lifecycle``) through the
kernel's one gate."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aftersales.core.actors import Principal
from aftersales.core.gate import open_subject, transition
from aftersales.inspections.lifecycle import INSPECTIONS
from aftersales.inspections.models import Inspection
from aftersales.inspections.moves import InspectionOpenIn


def inspection_open(*, actor: Principal, data: Mapping[str, Any] | InspectionOpenIn) -> Inspection:
    """Send a case's goods to the inspection center (the table's first row)."""
    return open_subject(INSPECTIONS, actor=actor, data=data)


def inspection_transition(
    *, inspection_id: int, action: str, actor: Principal, data: Mapping[str, Any] | None = None
) -> Inspection:
    return transition(INSPECTIONS, subject_id=inspection_id, action=action, actor=actor, data=data)
