"""Both sides add evidence while the evidence window is open (``disputes.evidence_window``): a
statement, or a reference to what the case holds — a photo or video of the case, a message of its
conversation, an entry of the shop's contact log (the shop's side only: the buyer never reads
it), a tracking number of its parcels."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aftersales.cases.choices import Action as CaseAction
from aftersales.cases.models import Case, Evidence
from aftersales.cases.moves.common import labelled
from aftersales.cases.moves.common import text as free_text
from aftersales.core.errors import InvalidInput, NotFound, PermissionDenied
from aftersales.core.lifecycle import ActionInput, Context
from aftersales.core.models import Event
from aftersales.core.schemas import WholeId
from aftersales.disputes.choices import EvidenceKind, Side
from aftersales.disputes.models import DisputeEvidence
from aftersales.team.models import ContactLog

MESSAGE_ACTIONS = (CaseAction.MESSAGE, CaseAction.CUSTOMER_MESSAGE)


class AddEvidenceIn(ActionInput):
    """Add one piece of evidence: a statement (``text``), or a reference (``reference_id``) to a
    photo, a message or a contact log entry of the case, or one of its tracking numbers
    (``text``)."""

    kind: labelled(EvidenceKind, gettext_noop("Kind of evidence"))
    text: free_text(5000, gettext_noop("Statement or tracking number"), widget="textarea") = ""
    reference_id: labelled(WholeId | None, gettext_noop("Reference")) = None


def side_of(actor) -> str:
    return Side.BUYER if actor.is_customer else Side.SHOP


def _missing(what: str, reference) -> NotFound:
    return NotFound(
        _("No %(what)s %(id)s on this case.") % {"what": what, "id": reference},
        code="evidence_not_found",
        field="reference_id",
    )


def _required(field: str, label: str) -> InvalidInput:
    return InvalidInput(
        _("%(field)s is required for this action.") % {"field": label},
        code=f"{field}_required",
        field=field,
    )


def check_reference(case: Case, kind: str, side: str, data: AddEvidenceIn) -> None:
    """Refuse a reference to anything that is not this case's (or not this side's to show)."""
    if kind == EvidenceKind.TEXT:
        if not data.text:
            raise _required("text", _("Statement or tracking number"))
        return
    if kind == EvidenceKind.TRACKING:
        numbers = {case.return_tracking_number, case.outbound_tracking_number} - {""}
        if not data.text:
            raise _required("text", _("Statement or tracking number"))
        if data.text not in numbers:
            raise InvalidInput(
                _("%(number)s is not a tracking number of this case.") % {"number": data.text},
                code="unknown_tracking_number",
                field="text",
            )
        return
    if data.reference_id is None:
        raise _required("reference_id", _("Reference"))
    case_type = ContentType.objects.get_for_model(Case)
    if kind == EvidenceKind.PHOTO:
        if not Evidence.objects.filter(case=case, pk=data.reference_id).exists():
            raise _missing(_("photo"), data.reference_id)
    elif kind == EvidenceKind.MESSAGE:
        found = Event.objects.filter(
            subject_type=case_type,
            subject_id=case.pk,
            pk=data.reference_id,
            action__in=MESSAGE_ACTIONS,
        ).exists()
        if not found:
            raise _missing(_("message"), data.reference_id)
    elif kind == EvidenceKind.CONTACT:
        if side != Side.SHOP:
            raise PermissionDenied(
                _("The contact log is the shop's; the buyer cannot cite it."),
                code="contact_log_is_the_shops",
                field="kind",
            )
        found = ContactLog.objects.filter(
            subject_type=case_type, subject_id=case.pk, pk=data.reference_id
        ).exists()
        if not found:
            raise _missing(_("contact log entry"), data.reference_id)


def add_evidence(dispute, ctx: Context) -> None:
    data: AddEvidenceIn = ctx.input
    side = side_of(ctx.actor)
    check_reference(dispute.case, data.kind, side, data)
    item = DisputeEvidence.objects.create(
        dispute=dispute,
        side=side,
        kind=data.kind,
        text=data.text,
        reference_id=data.reference_id
        if data.kind not in (EvidenceKind.TEXT, "tracking")
        else None,
        added_by_id=ctx.actor.user_id,
        created_at=ctx.now,
    )
    ctx.event_data.update(side=side, kind=data.kind, evidence_id=item.pk)
    ctx.notices.append("dispute_evidence_buyer" if side == Side.BUYER else "dispute_evidence_shop")


def sides_heard(dispute) -> set[str]:
    return set(DisputeEvidence.objects.filter(dispute=dispute).values_list("side", flat=True))
