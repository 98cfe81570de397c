"""The effects of the inspection's table: the platform sends a case's goods to its center (with a
label), the buyer or the shop ships them, the center confirms their receipt by the label and gives
its verdict with a written report; the platform may cancel before the verdict, and the clock lets
an unsent request lapse and reminds the platform of an overdue receipt or verdict.

The verdict, in the effect's one savepoint:

- it is the case's authenticity verdict (the case's ``center_verdict`` move, on its timeline);
- counterfeit: a ``counterfeit`` violation on the shop (when the policy keeps points and
  ``inspection.counterfeit_points`` is above 0), and, on a counterfeit claim, the ten-fold
  compensation granted by the system as the verdict's consequence (``compensation_grant``, once
  per case: a case compensated already keeps its one grant);
- genuine: the buyer's counterfeit claim is sent back (the shop may reject it on the case);
- inconclusive: no proof; the platform decides in the dispute, the case goes on;
- the authentication fee is owed by the policy's payer for the verdict (``rules.fee_for``),
  recorded on the inspection and on the case's event for both sides to read.

Opening pauses the case's deadline while the goods are away; the end of the inspection (a verdict,
a lapse, a cancellation) restarts it with the time it had left.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
import zoneinfo
from typing import ClassVar

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aftersales.cases.choices import FINAL_STATES as CASE_FINAL_STATES
from aftersales.cases.choices import Action as CaseAction
from aftersales.cases.choices import Authenticity, CompensationKind, Reason
from aftersales.cases.compensation import compensation_grant
from aftersales.cases.models import Case, Compensation
from aftersales.cases.moves.common import Carrier, TrackingNumber, labelled, required_text, text
from aftersales.cases.services import case_transition
from aftersales.core.actors import SYSTEM
from aftersales.core.errors import Conflict, Ineligible, InvalidInput, NotFound, PermissionDenied
from aftersales.core.lifecycle import ActionInput, Context
from aftersales.disputes.models import Dispute
from aftersales.inspections import rules
from aftersales.inspections.choices import FINAL_STATES, Sender
from aftersales.inspections.models import Inspection
from aftersales.policy.choices import CompensationReason
from aftersales.policy.services import policy_current
from aftersales.violations.services import violation_record

# --- the inputs ---------------------------------------------------------------------------------


class InspectionOpenIn(ActionInput):
    """Send a case's goods to the platform's inspection center (the platform's operator)."""

    error_codes: ClassVar[dict[str, str]] = {"sender": "invalid_sender"}

    case_number: required_text(32, gettext_noop("Case number"))
    reason: required_text(2000, gettext_noop("What is to be authenticated"), widget="textarea")
    sender: labelled(Sender, gettext_noop("Who sends the goods")) = Sender.BUYER
    dispute_number: text(32, gettext_noop("Dispute number (optional)")) = ""


class InspectionShipIn(ActionInput):
    """Record the shipment of the goods to the center, with the label on the parcel."""

    carrier: Carrier
    tracking_number: TrackingNumber


class InspectionReceiveIn(ActionInput):
    """Confirm the goods arrived at the center: the code on their label must match."""

    label: required_text(40, gettext_noop("Code on the label"))
    note: text(2000, gettext_noop("Note"), widget="textarea") = ""


class InspectionVerdictIn(ActionInput):
    """Record the center's verdict with its written report (both sides read it)."""

    error_codes: ClassVar[dict[str, str]] = {
        "verdict": "invalid_verdict",
        "compensation_kind": "invalid_compensation_kind",
    }

    verdict: labelled(Authenticity, gettext_noop("Verdict"))
    report: required_text(5000, gettext_noop("Report (both sides read it)"), widget="textarea")
    compensation_kind: labelled(CompensationKind, gettext_noop("Ten-fold compensation paid as")) = (
        CompensationKind.COUPON
    )


class InspectionCancelIn(ActionInput):
    """Cancel the inspection before its verdict, with the reason both sides read."""

    reason: required_text(2000, gettext_noop("Reason"), widget="textarea")


# --- opening ------------------------------------------------------------------------------------


def inspection_number(inspection: Inspection, now: dt.datetime) -> str:
    """``JD`` (鉴定) + the shop's local date + the id, e.g. ``JD20261124000042``."""
    day = now.astimezone(zoneinfo.ZoneInfo(inspection.shop.timezone)).strftime("%Y%m%d")
    return f"JD{day}{inspection.id:06d}"


def _case_for(ctx: Context, number: str) -> Case:
    spellings = list(dict.fromkeys([number, number.upper()]))
    case = (
        ctx.actor.scope(Case.objects.all())
        .select_related("shop", "order", "customer")
        .filter(number__in=spellings)
        .first()
    )
    if case is None:
        raise NotFound(
            _("No case %(number)s.") % {"number": number},
            code="case_not_found",
            field="case_number",
        )
    return case


def _dispute_for(case: Case, number: str) -> Dispute | None:
    if not number:
        return None
    dispute = Dispute.objects.filter(number__in={number, number.upper()}, case=case).first()
    if dispute is None:
        raise NotFound(
            _("No dispute %(dispute)s about case %(case)s.")
            % {"dispute": number, "case": case.number},
            code="dispute_not_found",
            field="dispute_number",
        )
    return dispute


def open_inspection(inspection: Inspection, ctx: Context) -> None:
    data: InspectionOpenIn = ctx.input
    case = _case_for(ctx, data.case_number)
    if Inspection.objects.filter(case=case).exclude(state__in=FINAL_STATES).exists():
        raise Conflict(
            _("An inspection of case %(number)s is under way already.") % {"number": case.number},
            code="inspection_under_way",
        )
    if case.order.shipped_at is None:
        raise Ineligible(
            _("Order %(order)s was never shipped: there are no goods to inspect.")
            % {"order": case.order.external_id},
            code="goods_not_delivered",
        )
    dispute = _dispute_for(case, data.dispute_number)
    inspection.number = f"~{uuid.uuid4().hex[:30]}"  # replaced once the id exists
    inspection.label = f"~{uuid.uuid4().hex[:30]}"
    inspection.shop, inspection.customer, inspection.case = case.shop, case.customer, case
    inspection.dispute = dispute
    inspection.policy = policy_current(shop=case.shop)
    inspection.reason = data.reason
    inspection.sender = data.sender
    inspection.opened_by_id = ctx.actor.user_id
    # A deadline a dispute stopped already stays stopped: only a running one is paused here.
    inspection.case_paused = case.state not in CASE_FINAL_STATES and case.deadline_at is not None

    def after_insert(inspection: Inspection) -> None:
        inspection.number = inspection_number(inspection, ctx.now)
        # The label's code: the number and four characters no one can guess from it.
        inspection.label = f"{inspection.number}-{secrets.token_hex(2).upper()}"
        Inspection.objects.filter(pk=inspection.pk).update(
            number=inspection.number, label=inspection.label
        )
        if inspection.case_paused:
            case_transition(case_id=case.pk, action=CaseAction.INSPECTION_PAUSE, actor=SYSTEM)

    ctx.after_insert.append(after_insert)
    ctx.event_data.update(case=case.number, sender=data.sender, reason=data.reason)
    if dispute is not None:
        ctx.event_data["dispute"] = dispute.number
    ctx.notices.extend(("inspection_requested", "inspection_requested_shop"))


# --- the goods' way to the center ---------------------------------------------------------------


def ship(inspection: Inspection, ctx: Context) -> None:
    data: InspectionShipIn = ctx.input
    by_buyer = ctx.actor.is_customer
    if by_buyer != (inspection.sender == Sender.BUYER):
        raise PermissionDenied(
            _("%(sender)s sends the goods of this inspection.")
            % {"sender": Sender(inspection.sender).label},
            code="not_the_sender",
        )
    inspection.carrier = data.carrier
    inspection.tracking_number = data.tracking_number
    inspection.shipped_at = ctx.now
    ctx.event_data.update(carrier=data.carrier, tracking_number=data.tracking_number)
    ctx.notify("inspection_shipped", recipient_id=inspection.opened_by_id)


def receive(inspection: Inspection, ctx: Context) -> None:
    data: InspectionReceiveIn = ctx.input
    if data.label.upper() != inspection.label.upper():
        raise InvalidInput(
            _("The label's code does not match this inspection's label: check the parcel."),
            code="label_mismatch",
            field="label",
        )
    inspection.received_at = ctx.now
    if data.note:
        ctx.event_data["note"] = data.note
    ctx.notices.extend(("inspection_received", "inspection_received_shop"))


# --- the end of an inspection -------------------------------------------------------------------


def case_resume(inspection: Inspection) -> None:
    if inspection.case_paused:
        case_transition(
            case_id=inspection.case_id, action=CaseAction.INSPECTION_RESUME, actor=SYSTEM
        )


def _violation(inspection: Inspection, report: str) -> dict:
    """The counterfeit's violation on the shop, when its rules keep points."""
    policy = inspection.policy
    if rules.counterfeit_points(policy) <= 0:
        return {"violation_skipped": "no_points"}
    if not rules.violations_enabled(policy):
        return {"violation_skipped": "violations_disabled"}
    violation = violation_record(
        shop=inspection.shop,
        kind="counterfeit",
        reason=_("Inspection %(number)s: counterfeit. %(report)s")
        % {"number": inspection.number, "report": report},
        source_type="inspection",
        source_id=inspection.id,
        actor=SYSTEM,
    )
    inspection.violation_number = violation.number
    return {"violation": violation.number, "violation_points": violation.points}


def _compensation(inspection: Inspection, kind: str) -> dict:
    """The ten-fold compensation of a counterfeit claim, granted once per case."""
    case = inspection.case
    if case.reason != Reason.COUNTERFEIT:
        return {"compensation_skipped": "not_a_counterfeit_case"}
    given = Compensation.objects.filter(
        case_id=case.pk, reason=CompensationReason.COUNTERFEIT
    ).first()
    if given is None:
        given = compensation_grant(
            actor=SYSTEM,
            case_id=case.pk,
            reason=CompensationReason.COUNTERFEIT,
            kind=kind,
            note=_("Inspection %(number)s: counterfeit") % {"number": inspection.number},
            idempotency_key=f"inspection:{inspection.number}",
        )
    inspection.compensation_code = given.code
    inspection.compensation_amount = given.amount
    return {"compensation": given.code, "compensation_amount": str(given.amount)}


def verdict(inspection: Inspection, ctx: Context) -> None:
    data: InspectionVerdictIn = ctx.input
    fee, payer = rules.fee_for(inspection.policy, data.verdict)
    inspection.verdict = data.verdict
    inspection.report = data.report
    inspection.decided_at = ctx.now
    inspection.decided_by_name = ctx.actor.username
    inspection.fee, inspection.fee_payer = fee, payer
    # The case's move reads the verdict through the desk: it is in the row before the move.
    Inspection.objects.filter(pk=inspection.pk).update(
        verdict=inspection.verdict, fee=fee, fee_payer=payer
    )
    case_transition(case_id=inspection.case_id, action=CaseAction.CENTER_VERDICT, actor=SYSTEM)
    ctx.event_data.update(
        verdict=data.verdict, report=data.report, fee=str(fee), fee_payer=str(payer)
    )
    if data.verdict == Authenticity.COUNTERFEIT:
        ctx.event_data.update(_violation(inspection, data.report))
        ctx.event_data.update(_compensation(inspection, data.compensation_kind))
    case_resume(inspection)
    ctx.notices.extend(("inspection_decided", "inspection_decided_shop"))


def cancel(inspection: Inspection, ctx: Context) -> None:
    case_resume(inspection)
    ctx.event_data["reason"] = ctx.input.reason
    ctx.notices.extend(("inspection_cancelled", "inspection_cancelled_shop"))


def lapse(inspection: Inspection, ctx: Context) -> None:
    case_resume(inspection)
    ctx.notices.extend(("inspection_lapsed", "inspection_lapsed_shop"))


def escalate(inspection: Inspection, ctx: Context) -> None:
    inspection.escalated_at = ctx.now
    ctx.event_data["overdue_since"] = (
        inspection.deadline_at.isoformat() if inspection.deadline_at else None
    )
    ctx.notify("inspection_overdue", recipient_id=inspection.opened_by_id)
