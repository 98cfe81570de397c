"""Shipping insurance over HTTP: parse, authorise, call a service or selector, present. Every read
is scoped to the caller: another shop's or another customer's order answers 404."""

from __future__ import annotations

import dataclasses

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from aftersales.core.actors import Principal
from aftersales.core.schemas import ERROR_RESPONSES, Id, page_limit, refuse_unknown_parameters
from aftersales.insurance import selectors, services
from aftersales.insurance.choices import CoverAction, CoverState, FlagAction, FlagState
from aftersales.insurance.lifecycle import COVERS
from aftersales.insurance.models import AbuseFlag, Cover
from aftersales.insurance.moves import ActualPostageIn, ClaimIn, FlagReviewIn
from aftersales.insurance.schemas import (
    CoverOut,
    FlagOut,
    FlagPage,
    ScanOut,
)
from aftersales.insurance.timeline import cover_entries, flag_entries

router = Router(tags=["insurance"])


def present_cover(cover: Cover, principal: Principal) -> dict:
    staff = not principal.is_customer
    return {
        "order_id": cover.order_id,
        "order_external_id": cover.order.external_id,
        "shop": cover.shop.code,
        "customer": {"external_id": cover.customer.external_id, "name": cover.customer.name},
        "state": cover.state,
        "state_label": str(CoverState(cover.state).label),
        "premium": cover.premium,
        "policy_version": cover.policy.version,
        "quote": {
            "formula_version": cover.formula_version,
            "service_score": cover.service_score,
            "score_factor": cover.score_factor,
            "returns_counted": cover.returns_counted,
            "returns_factor": cover.returns_factor,
            "detail": cover.inputs,
        },
        "quoted_at": cover.quoted_at,
        "insured_at": cover.insured_at,
        "claims": [
            {
                "case_number": claim.case.number,
                "stated_postage": claim.stated_postage,
                "payout_cap": claim.payout_cap,
                "payout": claim.payout,
                "actual_postage": claim.actual_postage if staff else None,
                "sender_address": claim.sender_address,
                "created_at": claim.created_at,
            }
            for claim in cover.claims.all()
        ],
        "available_actions": COVERS.available(cover, principal.role_in(cover.shop_id)),
        "events": [dataclasses.asdict(e) for e in cover_entries(principal, cover.events.all())],
    }


def _cover(request: HttpRequest, order_id: int) -> dict:
    actor = request.auth
    return present_cover(selectors.cover_of_order(actor=actor, order_id=order_id), actor)


@router.post(
    "/insurance/orders/{order_id}/quote",
    response={200: CoverOut, 201: CoverOut, **ERROR_RESPONSES},
)
def quote_insurance(request: HttpRequest, order_id: Id):
    """Quote the order's shipping-insurance premium (201), or quote a quote again (200); the
    inputs are stored with it. 422 ``insurance_not_offered`` when the shop does not offer it."""
    actor = request.auth
    existed = selectors.cover_id_of_order(actor=actor, order_id=order_id) is not None
    services.cover_quote(actor=actor, order_id=order_id)
    return Status(200 if existed else 201, _cover(request, order_id))


@router.get("/insurance/orders/{order_id}", response={200: CoverOut, **ERROR_RESPONSES})
def get_insurance(request: HttpRequest, order_id: Id):
    """The order's shipping insurance: its quote and inputs, its claims and its timeline."""
    return _cover(request, order_id)


@router.post("/insurance/orders/{order_id}/insure", response={200: CoverOut, **ERROR_RESPONSES})
def insure_order(request: HttpRequest, order_id: Id):
    """Insure the order at its quoted premium (the shop must still offer it)."""
    services.cover_transition(actor=request.auth, order_id=order_id, action=CoverAction.INSURE)
    return _cover(request, order_id)


@router.post("/insurance/orders/{order_id}/claims", response={200: CoverOut, **ERROR_RESPONSES})
def claim_insurance(request: HttpRequest, order_id: Id, payload: ClaimIn):
    """Claim the return shipping of a return case of the order, once it has shipped back: pays
    min(postage, payout_cap), once per case."""
    services.cover_transition(
        actor=request.auth, order_id=order_id, action=CoverAction.CLAIM, data=payload
    )
    return _cover(request, order_id)


@router.put(
    "/insurance/orders/{order_id}/claims/{case_number}/postage",
    response={200: CoverOut, **ERROR_RESPONSES},
)
def record_claim_postage(
    request: HttpRequest, order_id: Id, case_number: str, payload: ActualPostageIn
):
    """Record the postage on the carrier's bill for a claimed return (the shop)."""
    services.cover_transition(
        actor=request.auth,
        order_id=order_id,
        action=CoverAction.RECORD_POSTAGE,
        data={"case_number": case_number, "actual_postage": payload.actual_postage},
    )
    return _cover(request, order_id)


# --- abuse flags (platform operators) ----------------------------------------------------------


def present_flag(flag: AbuseFlag, principal: Principal, *, events: bool = True) -> dict:
    return {
        "id": flag.pk,
        "shop": flag.shop.code,
        "customer": {"external_id": flag.customer.external_id, "name": flag.customer.name},
        "state": flag.state,
        "state_label": str(FlagState(flag.state).label),
        "reasons": flag.reasons,
        "review_reason": flag.review_reason,
        "reviewed_by": flag.reviewed_by,
        "reviewed_at": flag.reviewed_at,
        "created_at": flag.created_at,
        "events": [dataclasses.asdict(e) for e in flag_entries(principal, flag.events.all())]
        if events
        else [],
    }


class FlagQuery(Schema):
    state: FlagState | None = None
    shop: str | None = None
    cursor: Id | None = None
    limit: int = 50


@router.get("/insurance/flags", response={200: FlagPage, **ERROR_RESPONSES})
def list_insurance_flags(request: HttpRequest, query: Query[FlagQuery]):
    """Buyers flagged for review, newest first (``events`` left out; read one flag for them)."""
    refuse_unknown_parameters(request, FlagQuery)
    limit = page_limit(query.limit)
    flags = selectors.flag_list(
        actor=request.auth, state=query.state, shop=query.shop, limit=limit, after_id=query.cursor
    )
    return {
        "items": [present_flag(flag, request.auth, events=False) for flag in flags],
        "next_cursor": str(flags[-1].pk) if len(flags) == limit else None,
    }


@router.post("/insurance/flags/scan", response={200: ScanOut, **ERROR_RESPONSES})
def scan_insurance_flags(request: HttpRequest, shop: str | None = None):
    """Compute every buyer's abuse signals now (the worker's step); the flags raised or given new
    signals."""
    return {"flags": services.flags_scan(actor=request.auth, shop=shop)}


@router.get("/insurance/flags/{flag_id}", response={200: FlagOut, **ERROR_RESPONSES})
def get_insurance_flag(request: HttpRequest, flag_id: Id):
    return present_flag(selectors.flag_get(actor=request.auth, flag_id=flag_id), request.auth)


def _review(request: HttpRequest, flag_id: int, action: str, payload: FlagReviewIn) -> dict:
    services.flag_review(actor=request.auth, flag_id=flag_id, action=action, reason=payload.reason)
    return present_flag(selectors.flag_get(actor=request.auth, flag_id=flag_id), request.auth)


@router.post("/insurance/flags/{flag_id}/clear", response={200: FlagOut, **ERROR_RESPONSES})
def clear_insurance_flag(request: HttpRequest, flag_id: Id, payload: FlagReviewIn):
    """Clear the flag: no abuse (a written reason)."""
    return _review(request, flag_id, FlagAction.CLEAR, payload)


@router.post("/insurance/flags/{flag_id}/confirm", response={200: FlagOut, **ERROR_RESPONSES})
def confirm_insurance_flag(request: HttpRequest, flag_id: Id, payload: FlagReviewIn):
    """Confirm the abuse (a written reason); the shop's lead is told."""
    return _review(request, flag_id, FlagAction.CONFIRM, payload)
