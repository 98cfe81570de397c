"""Cases over HTTP: parse, authorise, call a service or selector, present."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import FileResponse, HttpRequest, HttpResponse
from ninja import File, Form, Query, Router, Schema, Status, UploadedFile

from aftersales.cases import labels, progress, selectors, services
from aftersales.cases.choices import CaseKind, CaseState
from aftersales.cases.compensation import compensation_grant
from aftersales.cases.evidence import evidence_add
from aftersales.cases.lifecycle import CASES, available_actions
from aftersales.cases.models import Case
from aftersales.cases.moves.opening import OpenIn
from aftersales.cases.schemas import (
    CaseOut,
    CasePage,
    CompensationIn,
    CompensationOut,
    EvidenceOut,
    EvidencePurpose,
    LabelVariant,
)
from aftersales.cases.selectors import SUMMARY_FIELDS
from aftersales.cases.timeline import events_for
from aftersales.cases.wording import state_label
from aftersales.core import clock
from aftersales.core.actors import Principal
from aftersales.core.api import add_action_operations
from aftersales.core.permissions import narrowed
from aftersales.core.schemas import (
    ERROR_RESPONSES,
    Id,
    Timestamp,
    page_limit,
    refuse_unknown_parameters,
)

router = Router(tags=["cases"])


def present_row(row: dict, now: dt.datetime, state_labels: dict | None = None) -> dict:
    """A queue row (``selectors.SUMMARY_FIELDS``) as the API shows it; ``state_labels`` keeps
    the words of each (state, kind) for the rows of one page (a page repeats a few)."""
    deadline = row["deadline_at"]
    if state_labels is None:
        label = state_label(row["state"], row["kind"])
    else:
        label = state_labels.get((row["state"], row["kind"]))
        if label is None:
            label = state_labels[row["state"], row["kind"]] = state_label(row["state"], row["kind"])
    return {
        "number": row["number"],
        "shop": row["shop__code"],
        "order_id": row["order_id"],
        "order_external_id": row["order__external_id"],
        "customer": {"external_id": row["customer__external_id"], "name": row["customer__name"]},
        "kind": row["kind"],
        "reason": row["reason"],
        "fault": row["fault"],
        "return_shipping_payer": row["return_shipping_payer"],
        "state": row["state"],
        "state_label": label,
        "requested_amount": row["requested_amount"],
        "approved_amount": row["approved_amount"],
        "refunded_amount": row["refunded_amount"],
        "currency": row["shop__currency"],
        "deadline_at": deadline,
        "deadline_action": row["deadline_action"] or None,
        "is_overdue": deadline is not None and deadline < now,
        "platform": row["platform"] or None,
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def present_summary(case: Case, now: dt.datetime) -> dict:
    row = {name: getattr(case, name) for name in SUMMARY_FIELDS if "__" not in name}
    row |= {
        "shop__code": case.shop.code,
        "shop__currency": case.shop.currency,
        "order__external_id": case.order.external_id,
        "customer__external_id": case.customer.external_id,
        "customer__name": case.customer.name,
    }
    return present_row(row, now)


def present_evidence(item) -> dict:
    base = f"/api/v1/cases/{item.case.number}/evidence/{item.id}"
    return {
        "id": item.id,
        "kind": item.kind,
        "purpose": item.purpose,
        "content_type": item.content_type,
        "size": item.size,
        "width": item.width,
        "height": item.height,
        "caption": item.caption,
        "role": item.role,
        "created_at": item.created_at,
        "url": base,
        "thumbnail_url": f"{base}?thumbnail=true" if item.thumbnail else None,
    }


def present_repair(case: Case, principal: Principal) -> dict | None:
    if case.kind != CaseKind.REPAIR and case.converted_from != CaseKind.REPAIR:
        return None
    return {
        "diagnosed_by": case.diagnosed_by,
        "service_center": case.service_center,
        "fault_code": case.fault_code,
        "diagnosis_note": case.diagnosis_note,
        "diagnosed_at": case.diagnosed_at,
        "repairable": case.repairable,
        "under_warranty": case.under_warranty,
        "warranty_entitlement": case.warranty_entitlement,
        "quote_amount": case.quote_amount,
        "quoted_at": case.quoted_at,
        "quote_reminded_at": case.quote_reminded_at,
        "quote_decision": case.quote_decision,
        "repaired": case.repaired,
        # what the repair cost the shop is its cost reports', as the timeline keeps it
        "parts_cost": case.parts_cost if principal.is_staff else None,
        "labour_cost": case.labour_cost if principal.is_staff else None,
    }


def present_case(case: Case, principal: Principal) -> dict:
    """The case as ``principal`` may see it (the timeline through ``timeline.events_for``)."""
    return {
        **present_summary(case, clock.now()),
        "description": case.description,
        "policy_version": case.policy.version,
        "shipping_deduction": case.shipping_deduction,
        "inspection_deduction": case.inspection_deduction,
        "return_address": case.return_address,
        "return_carrier": case.return_carrier,
        "return_tracking_number": case.return_tracking_number,
        "reject_reason": case.reject_reason,
        "inspection_result": case.inspection_result,
        "suggested_deduction": case.suggested_deduction,
        "dispute_flag": bool(case.dispute_signals),
        "dispute_reason": ",".join(case.dispute_signals),
        "dispute_signals": case.dispute_signals,
        "priority": case.priority if principal.is_staff else None,
        "assignee": getattr(case, "assignee_username", None) if principal.is_staff else None,
        "flag": case.flag if principal.is_staff else None,
        "first_response_at": case.first_response_at,
        "resolved_at": case.resolved_at,
        "escalated_at": case.escalated_at,
        "converted_from": case.converted_from,
        "outbound_carrier": case.outbound_carrier,
        "outbound_tracking_number": case.outbound_tracking_number,
        "outbound_shipped_at": case.outbound_shipped_at,
        "price_difference": case.price_difference,
        "payment_reference": case.payment_reference,
        "return_shipping_cost": case.return_shipping_cost if principal.is_staff else None,
        "outbound_shipping_cost": case.outbound_shipping_cost if principal.is_staff else None,
        "confirmed_at": case.confirmed_at,
        "repair": present_repair(case, principal),
        "steps": progress.steps(case),
        "available_actions": available_actions(case, principal.role_in(case.shop_id)),
        "compensations": list(case.compensations.all()),
        "evidence": [present_evidence(item) for item in case.evidence.all()],
        "lines": [
            {
                "id": line.id,
                "order_line_id": line.order_line_id,
                "external_id": line.order_line.external_id,
                "sku": line.order_line.sku.code,
                "title": line.order_line.title,
                "quantity": line.quantity,
                "requested_amount": line.requested_amount,
                "approved_amount": line.approved_amount,
                "refunded_amount": line.refunded_amount,
                "received_quantity": line.received_quantity,
                "condition": line.condition,
                "disposition": line.disposition,
                "replacement_sku": line.replacement_sku.code if line.replacement_sku else None,
            }
            for line in case.lines.all()
        ],
        "events": [entry.as_dict() for entry in events_for(principal, case.events.all())],
    }


@router.post("/cases", response={201: CaseOut, **ERROR_RESPONSES})
def open_case(request: HttpRequest, payload: OpenIn):
    actor = request.auth
    case = services.case_open(actor=actor, data=payload)
    return Status(201, present_case(selectors.case_as_opened(actor=actor, case=case), actor))


class CaseQuery(Schema):
    state: list[CaseState] | None = None
    kind: CaseKind | None = None
    shop: str | None = None
    overdue: bool | None = None
    due_before: Timestamp | None = None
    customer: str | None = None
    order: Id | None = None
    # Cases with a service-level clock on time, due soon, overdue or met.
    sla: Literal["running", "warned", "breached", "met"] | None = None
    # A marketplace's cases: of one platform, or of one store (its id).
    platform: Literal["taobao", "tmall", "jd", "pinduoduo", "douyin", "kuaishou"] | None = None
    store: Id | None = None
    cursor: str | None = None
    limit: int = 50


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    """A filter time without an offset (a plain date, say) is read as UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment


@router.get("/cases", response={200: CasePage, **ERROR_RESPONSES})
def list_cases(request: HttpRequest, query: Query[CaseQuery]):
    refuse_unknown_parameters(request, CaseQuery)
    rows, next_cursor = selectors.case_list(
        actor=request.auth,
        filters=selectors.CaseFilters(
            state=query.state,
            kind=query.kind,
            shop=query.shop,
            overdue=query.overdue,
            due_before=_aware(query.due_before),
            customer=query.customer,
            order=query.order,
            sla=query.sla,
            platform=query.platform,
            store=query.store,
        ),
        cursor=query.cursor,
        limit=page_limit(query.limit),
    )
    now, labels = clock.now(), {}
    return {"items": [present_row(row, now, labels) for row in rows], "next_cursor": next_cursor}


@router.get("/cases/lookup", response={200: CaseOut, **ERROR_RESPONSES})
def lookup_case(request: HttpRequest, code: str = Query(..., min_length=1, max_length=100)):
    """The receiving desk: a scanned RMA number or return tracking number → the case."""
    actor = narrowed(request.auth, "case.receiving_desk")
    number = selectors.case_number_for_code(actor=actor, code=code.strip())
    return present_case(selectors.case_get(actor=actor, number=number), actor)


PDF_ANSWER = {
    "responses": {
        200: {
            "description": "A PDF document (A6)",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}


@router.get(
    "/cases/{number}/label.pdf",
    response={200: None, **ERROR_RESPONSES},
    openapi_extra=PDF_ANSWER,
)
def case_label(request: HttpRequest, number: str, variant: LabelVariant = "label"):
    """The return label (``variant=label``) or the packing slip (``variant=packing_slip``)."""
    case = selectors.case_get(actor=request.auth, number=number)
    document = (
        labels.packing_slip_pdf(case) if variant == "packing_slip" else labels.label_pdf(case)
    )
    response = HttpResponse(document, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{case.number}-{variant}.pdf"'
    return response


@router.get("/cases/{number}", response={200: CaseOut, **ERROR_RESPONSES})
def get_case(request: HttpRequest, number: str):
    actor = request.auth
    return present_case(selectors.case_get(actor=actor, number=number), actor)


# --- the actions: one operation each, its body the action's typed input --------------------------


def _take(request: HttpRequest, number: str, action: str, payload: dict | None):
    """Take an action on the case: the table decides whether the caller may, now, and the action's
    typed input judges the body (its refusals name the field: ``reason_required``, …)."""
    actor = request.auth
    case_id = selectors.case_id_for(actor=actor, number=number)
    services.case_transition(case_id=case_id, action=action, actor=actor, data=payload or {})
    return present_case(selectors.case_get(actor=actor, number=number), actor)


add_action_operations(
    router,
    CASES,
    path="/cases/{number}/actions/",
    noun="case",
    take=_take,
    response=CaseOut,
)


@router.post("/cases/{number}/compensations", response={201: CompensationOut, **ERROR_RESPONSES})
def compensate(request: HttpRequest, number: str, payload: CompensationIn):
    """A coupon or store credit on the case, within the shop policy's limits (not a refund)."""
    actor = request.auth
    granted = compensation_grant(
        actor=actor,
        case_id=selectors.case_id_for(actor=actor, number=number),
        reason=payload.reason,
        kind=payload.kind,
        amount=payload.amount,
        note=payload.note,
        idempotency_key=payload.idempotency_key,
    )
    return Status(201, granted)


@router.post("/cases/{number}/evidence", response={201: EvidenceOut, **ERROR_RESPONSES})
def add_evidence(
    request: HttpRequest,
    number: str,
    file: File[UploadedFile],
    caption: Form[str] = "",
    purpose: Form[EvidencePurpose] = "application",
):
    """Attach a photo (JPEG, PNG, WebP; ≤ 10 MB) or a short video (MP4, MOV, WebM; ≤ 50 MB)."""
    actor = request.auth
    item = evidence_add(
        actor=actor,
        case_id=selectors.case_id_for(actor=actor, number=number),
        upload=file,
        caption=caption,
        purpose=purpose,
    )
    return Status(201, present_evidence(item))


# Photos are stored re-encoded as JPEG (thumbnails too); videos keep their container.
EVIDENCE_MEDIA_TYPES = ("image/jpeg", "video/mp4", "video/quicktime", "video/webm")
EVIDENCE_ANSWER = {
    "responses": {
        200: {
            "description": "The photo (JPEG), its thumbnail (JPEG) or the video",
            "content": {
                media_type: {"schema": {"type": "string", "format": "binary"}}
                for media_type in EVIDENCE_MEDIA_TYPES
            },
        }
    }
}


@router.get(
    "/cases/{number}/evidence/{evidence_id}",
    response={200: None, **ERROR_RESPONSES},
    openapi_extra=EVIDENCE_ANSWER,
)
def get_evidence(request: HttpRequest, number: str, evidence_id: Id, thumbnail: bool = False):
    """The file itself, for those who may see the case."""
    item = selectors.evidence_get(actor=request.auth, number=number, evidence_id=evidence_id)
    stored = item.thumbnail if thumbnail and item.thumbnail else item.file
    response = FileResponse(
        stored.open("rb"),
        content_type="image/jpeg" if stored is item.thumbnail else item.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    return response
