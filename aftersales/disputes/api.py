"""Disputes over HTTP: parse, authorise, call a service or selector, present. Every read is
scoped to the caller (another shop's or another customer's dispute answers 404); a juror reads
only the anonymised file of a dispute they were drawn for."""

from __future__ import annotations

import dataclasses

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from aftersales.core import clock
from aftersales.core.actors import Principal
from aftersales.core.api import add_action_operations
from aftersales.core.schemas import ERROR_RESPONSES, refuse_unknown_parameters
from aftersales.disputes import jury, selectors, services
from aftersales.disputes.choices import DisputeState, Outcome
from aftersales.disputes.lifecycle import DISPUTES, available_actions
from aftersales.disputes.models import Decision, Dispute, Juror
from aftersales.disputes.moves.opening import DisputeOpenIn
from aftersales.disputes.schemas import (
    DisputeOut,
    DisputePage,
    JurorFileOut,
    JurySeatsOut,
    VoteIn,
)
from aftersales.disputes.timeline import events_for
from aftersales.disputes.wording import explain, juror_evidence

router = Router(tags=["disputes"])


def present_decision(decision: Decision, currency: str) -> dict:
    return {
        "outcome": decision.outcome,
        "outcome_label": str(Outcome(decision.outcome).label),
        "amount": decision.amount,
        "reason": decision.reason,
        "calculation": decision.calculation,
        "explanation": explain(decision, currency),
        "violation_kind": decision.violation_kind,
        "violation_points": decision.violation_points,
        "by_jury": decision.by_jury,
        "review_result": decision.review_result or None,
        "decided_at": decision.decided_at,
        "executed_at": decision.executed_at,
    }


def present_row(dispute: Dispute) -> dict:
    now = clock.now()
    return {
        "number": dispute.number,
        "shop": dispute.shop.code,
        "case_number": dispute.case.number,
        "kind": dispute.kind,
        "dispute_class": dispute.dispute_class,
        "state": dispute.state,
        "state_label": str(DisputeState(dispute.state).label),
        "deadline_at": dispute.deadline_at,
        "deadline_action": dispute.deadline_action or None,
        "is_overdue": dispute.deadline_at is not None and dispute.deadline_at < now,
        "created_at": dispute.created_at,
    }


def present_dispute(dispute: Dispute, principal: Principal) -> dict:
    currency = dispute.shop.currency
    evidence = list(dispute.evidence.all())
    if principal.is_customer:
        # The shop's contact log is its own; the buyer reads that it was cited, not what.
        evidence = [e for e in evidence if e.kind != "contact"]
    return {
        **present_row(dispute),
        "statement": dispute.statement,
        "case_paused": dispute.case_paused,
        "appeals": dispute.appeals,
        "appeal_reason": dispute.appeal_reason,
        "decision": present_decision(dispute.decision, currency) if dispute.decision else None,
        "decisions": [
            present_decision(d, currency)
            for d in sorted(dispute.decisions.all(), key=lambda d: d.id)
        ],
        "evidence": [
            {
                "id": e.id,
                "side": e.side,
                "kind": e.kind,
                "text": e.text,
                "reference_id": e.reference_id,
                "created_at": e.created_at,
            }
            for e in evidence
        ],
        "available_actions": available_actions(dispute, principal.role_in(dispute.shop_id)),
        "events": [
            dataclasses.asdict(entry) for entry in events_for(principal, dispute.events.all())
        ],
    }


@router.post("/disputes", response={201: DisputeOut, **ERROR_RESPONSES})
def open_dispute(request: HttpRequest, payload: DisputeOpenIn):
    """Ask the platform to step in on one of your cases (the case's customer)."""
    actor = request.auth
    dispute = services.dispute_open(actor=actor, data=payload)
    return Status(
        201, present_dispute(selectors.dispute_get(actor=actor, number=dispute.number), actor)
    )


class DisputeQuery(Schema):
    state: list[DisputeState] | None = None
    shop: str | None = None
    open: bool | None = None
    limit: int = 50


@router.get("/disputes", response={200: DisputePage, **ERROR_RESPONSES})
def list_disputes(request: HttpRequest, query: Query[DisputeQuery]):
    """The caller's disputes, soonest due first (ended ones last)."""
    refuse_unknown_parameters(request, DisputeQuery)
    rows = selectors.dispute_list(
        actor=request.auth,
        state=query.state,
        shop=query.shop,
        open_only=bool(query.open),
        limit=max(1, min(query.limit, 200)),
    )
    return {"items": [present_row(row) for row in rows]}


@router.get("/disputes/{number}", response={200: DisputeOut, **ERROR_RESPONSES})
def get_dispute(request: HttpRequest, number: str):
    actor = request.auth
    return present_dispute(selectors.dispute_get(actor=actor, number=number), actor)


def _take(request: HttpRequest, number: str, action: str, payload: dict | None):
    actor = request.auth
    dispute_id = selectors.dispute_id_for(actor=actor, number=number)
    services.dispute_transition(
        dispute_id=dispute_id, action=action, actor=actor, data=payload or {}
    )
    return present_dispute(selectors.dispute_get(actor=actor, number=number), actor)


add_action_operations(
    router,
    DISPUTES,
    path="/disputes/{number}/actions/",
    noun="dispute",
    take=_take,
    response=DisputeOut,
)


# --- the jury --------------------------------------------------------------------------------


def present_seat(seat: Juror) -> dict:
    dispute = seat.draw.dispute
    now = clock.now()
    return {
        "number": dispute.number,
        "dispute_class": dispute.dispute_class,
        "case_kind": dispute.case.kind,
        "requested_amount": dispute.case.requested_amount,
        "statement": jury.anonymise(dispute.statement, dispute),
        "evidence": juror_evidence(dispute),
        "due_at": seat.draw.due_at,
        "vote": seat.vote or None,
        "is_open": dispute.state == DisputeState.JURY
        and not seat.draw.result
        and now < seat.draw.due_at,
    }


@router.get("/jury/disputes", response={200: JurySeatsOut, **ERROR_RESPONSES})
def list_jury_seats(request: HttpRequest):
    """The disputes the caller was drawn to judge, newest first."""
    return {"items": [present_seat(seat) for seat in selectors.seats_of(request.auth)]}


@router.get("/jury/disputes/{number}", response={200: JurorFileOut, **ERROR_RESPONSES})
def get_jury_file(request: HttpRequest, number: str):
    """The anonymised file of a dispute the caller was drawn to judge."""
    return present_seat(selectors.seat_for(actor=request.auth, number=number))


@router.post("/jury/disputes/{number}/vote", response={200: JurorFileOut, **ERROR_RESPONSES})
def vote_on_dispute(request: HttpRequest, number: str, payload: VoteIn):
    """Vote for the buyer's side or the shop's, once, within the vote window."""
    services.juror_vote(actor=request.auth, number=number, side=payload.side)
    return present_seat(selectors.seat_for(actor=request.auth, number=number))
