"""The writes that change a complaint: its table (``complaints.lifecycle``) through the kernel's
one gate (``core.gate``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aftersales.complaints.lifecycle import COMPLAINTS
from aftersales.complaints.models import Complaint
from aftersales.complaints.moves.filing import FileIn
from aftersales.core.actors import Principal
from aftersales.core.gate import open_subject, transition


def complaint_file(*, actor: Principal, data: Mapping[str, Any] | FileIn) -> Complaint:
    """File a complaint (the table's first row)."""
    return open_subject(COMPLAINTS, actor=actor, data=data)


def complaint_transition(
    *,
    complaint_id: int,
    action: str,
    actor: Principal,
    data: Mapping[str, Any] | None = None,
) -> Complaint:
    """Take ``action`` on a complaint through the gate (see ``core.gate.transition``)."""
    return transition(COMPLAINTS, subject_id=complaint_id, action=action, actor=actor, data=data)
