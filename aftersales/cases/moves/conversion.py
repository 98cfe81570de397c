"""Changing a case's resolution after inspection or diagnosis: a return becomes an exchange or a
repair, an exchange out of stock becomes a refund, an irreparable repair a return or an exchange.
The number, the lines, the approved amounts and the ledger stay; the next state is the new
kind's."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aftersales.cases.choices import CONVERSIONS, CaseKind, CaseState
from aftersales.cases.moves.common import labelled, required_text, respond
from aftersales.core.errors import Conflict
from aftersales.core.lifecycle import ActionInput, Context

STATE_AFTER_CONVERSION = {
    CaseKind.RETURN_REFUND: CaseState.REFUND_PENDING,
    CaseKind.EXCHANGE: CaseState.REPLACEMENT_PENDING,
    CaseKind.REPAIR: CaseState.DIAGNOSING,
}


class ConvertIn(ActionInput):
    kind: labelled(CaseKind, gettext_noop("New resolution"), widget="conversion")
    reason: required_text(2000, gettext_noop("Reason"), widget="textarea")


def after_conversion(case) -> str:
    return STATE_AFTER_CONVERSION[case.kind]


def convert(case, ctx: Context) -> None:
    target = ctx.input.kind
    states = CONVERSIONS.get((case.kind, target))
    if states is None or case.state not in states:
        raise Conflict(
            _("A %(from)s case cannot become %(to)s while it is “%(state)s”.")
            % {
                "from": CaseKind(case.kind).label,
                "to": CaseKind(target).label,
                "state": CaseState(case.state).label,
            },
            code="conversion_not_allowed",
            state=case.state,
        )
    ctx.event_data.update(from_kind=case.kind, to_kind=target, reason=ctx.input.reason)
    if not case.converted_from:
        case.converted_from = case.kind
    case.kind = target
    respond(case, ctx)
    ctx.notices.append("case_converted")
