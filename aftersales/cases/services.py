"""The writes that change a case's state: its table (``cases.lifecycle``) through the kernel's one
gate (``core.gate``), and the eligibility preview, which writes nothing."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from aftersales.cases.evidence import evidence_attach, evidence_discard, evidence_prepare
from aftersales.cases.lifecycle import CASES
from aftersales.cases.models import Case
from aftersales.cases.moves.opening import OpenIn, opening_plan
from aftersales.catalog.services import customer_language_set
from aftersales.core import clock
from aftersales.core.actors import Principal
from aftersales.core.gate import open_subject, parse_input, transition


def case_open(*, actor: Principal, data: Mapping[str, Any] | OpenIn) -> Case:
    """Open a case on an order for some of its lines (the table's first row)."""
    return open_subject(CASES, actor=actor, data=data)


# Work a higher app does before a person's move on a case, outside the move's transaction: a
# marketplace's case carries the move to the platform first (``connectors.writeback``), and a
# refusal there refuses the move. Called with ``case_id``, ``action``, ``actor`` and ``data``.
BeforeMove = Callable[..., None]
_BEFORE_MOVE: list[BeforeMove] = []


def register_before_move(hook: BeforeMove) -> BeforeMove:
    """Called once by a higher app at its start."""
    if hook not in _BEFORE_MOVE:
        _BEFORE_MOVE.append(hook)
    return hook


def case_transition(
    *,
    case_id: int,
    action: str,
    actor: Principal,
    data: Mapping[str, Any] | None = None,
) -> Case:
    """Take ``action`` on a case through the gate (see ``core.gate.transition``); a person's
    move first passes the registered ``register_before_move`` hooks."""
    if not actor.is_system:
        for hook in _BEFORE_MOVE:
            hook(case_id=case_id, action=action, actor=actor, data=data)
    return transition(CASES, subject_id=case_id, action=action, actor=actor, data=data)


def case_lock(case_id: int) -> Case:
    """The case, locked until the end of the caller's transaction (the one way to lock one)."""
    return CASES.lock(case_id)


def case_preview(*, actor: Principal, data: Mapping[str, Any] | OpenIn) -> dict:
    """Whether ``case_open`` would accept this application, and what it would mean: who pays the
    return shipping and the refund to expect. The very checks of opening, as a pure evaluation:
    nothing is locked or written; refusals raise as they would on opening."""
    CASES.check_opening(actor)
    application = parse_input(CASES.opening, data)
    plan = opening_plan(actor=actor, data=application, now=clock.now(), lock=False)
    CASES.check_opening(actor, plan.order)  # the role held in the order's shop
    return {
        "eligible": True,
        "kind": plan.kind,
        "fault": plan.fault,
        "return_shipping_payer": plan.return_shipping_payer,
        "requested_amount": plan.requested_amount,
        "expected_refund": plan.expected_refund,
        "currency": plan.order.shop.currency,
    }


def case_apply(
    *,
    actor: Principal,
    data: Mapping[str, Any] | OpenIn,
    uploads: Sequence[UploadedFile] = (),
    language: str | None = None,
) -> Case:
    """A customer's application with its photos, all or nothing: the photos are checked and
    decoded first, outside any lock, then the case is opened and they are attached in one
    transaction (a refused photo opens no case; a refused case keeps no photo). The customer is
    written to in ``language`` from then on."""
    prepared = [evidence_prepare(actor=actor, upload=upload) for upload in uploads]
    try:
        with transaction.atomic():
            case = case_open(actor=actor, data=data)
            if language is not None and actor.customer_id is not None:
                customer_language_set(customer_id=actor.customer_id, language=language)
            for item in prepared:
                evidence_attach(case_id=case.id, evidence=item)
    except Exception:
        for item in prepared:
            evidence_discard(item)
        raise
    return case
