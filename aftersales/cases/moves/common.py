"""What the moves of every sub-domain share: the input types of their fields, and small steps
(recording the first answer, spreading an amount over the lines, flagging a dispute signal,
paying through the ledger)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from pydantic import Field, StringConstraints

from aftersales.cases import ledger
from aftersales.cases.choices import Disposition
from aftersales.catalog.invoices import credit_note_issue
from aftersales.core import batch
from aftersales.core.errors import InvalidInput
from aftersales.core.lifecycle import ActionInput, Context
from aftersales.core.money import split_proportionally
from aftersales.core.schemas import Amount, WholeId, whole_number
from aftersales.policy.choices import Condition


def text(limit: int, label: str, *, widget: str = "text"):
    """Free text of at most ``limit`` characters, trimmed; ``label`` is the form's (marked for
    translation with ``gettext_noop``)."""
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, max_length=limit),
        Field(title=label, json_schema_extra={"widget": widget}),
    ]


def required_text(limit: int, label: str, *, widget: str = "text"):
    """Text that must say something (blank is refused as missing)."""
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=limit),
        Field(title=label, json_schema_extra={"widget": widget}),
    ]


def labelled(type_, label: str, widget: str | None = None):
    extra = {"widget": widget} if widget else None
    return Annotated[type_, Field(title=label, json_schema_extra=extra)]


Carrier = required_text(100, gettext_noop("Carrier"), widget="carrier")
TrackingNumber = required_text(100, gettext_noop("Tracking number"))
Note = text(2000, gettext_noop("Note"), widget="textarea")
# What a parcel the shop pays for cost it (an internal cost, for the cost reports).
ShippingCost = labelled(Amount | None, gettext_noop("Shipping cost (paid by the shop)"))


class LineEntry(ActionInput):
    """One of the case's lines in an action that works line by line."""

    order_line_id: labelled(WholeId, gettext_noop("Order line"))


class ReceivedLine(LineEntry):
    quantity: labelled(whole_number(0, 1_000_000) | None, gettext_noop("Received")) = None


class GradedLine(LineEntry):
    condition: labelled(Condition | None, gettext_noop("Condition")) = None
    disposition: labelled(Disposition | None, gettext_noop("Disposition")) = None
    note: text(2000, gettext_noop("Note")) = ""


class ReplacementLine(LineEntry):
    sku: text(100, gettext_noop("Replacement")) = ""


def lines_of(type_):
    return Annotated[
        list[type_], Field(max_length=200, title=gettext_noop("Lines"), json_schema_extra={})
    ]


def line_entries(case, entries) -> dict:
    """The action's per-line entries by order line id, each naming a line of the case once."""
    mine = {line.order_line_id for line in case.lines.all()}
    found: dict = {}
    for entry in entries:
        if entry.order_line_id not in mine:
            raise InvalidInput(
                _("Line %(id)s is not part of this case.") % {"id": entry.order_line_id},
                code="line_not_in_case",
                field="lines",
            )
        if entry.order_line_id in found:
            raise InvalidInput(
                _("Order line %(id)s is listed twice.") % {"id": entry.order_line_id},
                code="duplicate_line",
                field="lines",
            )
        found[entry.order_line_id] = entry
    return found


def respond(case, ctx: Context) -> None:
    """The shop's first answer to the customer (a person's, not the clock's)."""
    if case.first_response_at is None and not ctx.actor.is_system:
        case.first_response_at = ctx.now


def spread(case, total: Decimal, attribute: str, weights_from: str) -> None:
    lines = list(case.lines.all())
    shares = split_proportionally(total, [getattr(line, weights_from) for line in lines])
    for line, share in zip(lines, shares, strict=True):
        setattr(line, attribute, share)
        batch.save_fields(line, [attribute])  # at the end of a sweep's batch, with the others


def signal_dispute(case, signal: str) -> None:
    """A sign that the customer and the shop may disagree (a short parcel, a wrong item, an empty
    box), kept on the case for the team and, later, a dispute."""
    if signal not in case.dispute_signals:
        case.dispute_signals = [*case.dispute_signals, signal]


def pay(case, ctx: Context, key: str) -> None:
    """Refund what the case approved and has not refunded, through the ledger, with its credit
    note; idempotent by ``key``."""
    ctx.event_data["idempotency_key"] = key
    paid = ledger.refund_post(case=case, idempotency_key=key, now=ctx.now)
    ctx.event_data["refunded"] = str(paid)
    note = credit_note_issue(case=case, amount=paid, now=ctx.now)
    if note is not None:
        ctx.event_data["credit_note"] = note.number
    ctx.notices.append("case_refunded")
