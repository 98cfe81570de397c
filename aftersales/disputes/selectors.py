"""Reads of disputes, always scoped to the caller: a customer their own, staff their shops', the
platform's operator every shop's; a juror reads only the anonymised file of a dispute they were
drawn for."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from aftersales.core.actors import Principal
from aftersales.core.errors import NotFound
from aftersales.core.models import Event
from aftersales.core.permissions import require
from aftersales.disputes.choices import FINAL_STATES
from aftersales.disputes.models import Dispute, Juror


def disputes_for(actor: Principal) -> QuerySet[Dispute]:
    require(actor, "dispute.read")
    return actor.scope(Dispute.objects.all())


def _not_found(number: str) -> NotFound:
    return NotFound(_("No dispute %(number)s.") % {"number": number}, code="dispute_not_found")


def dispute_get(*, actor: Principal, number: str) -> Dispute:
    dispute = (
        disputes_for(actor)
        .select_related("shop", "customer", "case__order", "policy", "decision")
        .prefetch_related(
            Prefetch("events", queryset=Event.objects.order_by("at", "id")),
            "evidence",
            "decisions",
        )
        .filter(number=number)
        .first()
    )
    if dispute is None:
        raise _not_found(number)
    return dispute


def dispute_id_for(*, actor: Principal, number: str) -> int:
    found = disputes_for(actor).filter(number=number).values_list("id", flat=True).first()
    if found is None:
        raise _not_found(number)
    return found


def dispute_list(
    *, actor: Principal, state=None, shop: str | None = None, open_only=False, limit=50
):
    """The caller's disputes, soonest due first (ended ones last)."""
    query = disputes_for(actor).select_related("shop", "case", "customer")
    if state:
        query = query.filter(state__in=list(state))
    if shop:
        query = query.filter(shop__code=shop)
    if open_only:
        query = query.exclude(state__in=FINAL_STATES)
    return list(query.order_by("resolved_at", "deadline_at", "id")[:limit])


def disputes_of_case(*, actor: Principal, case_id: int) -> list[Dispute]:
    return list(disputes_for(actor).filter(case_id=case_id).order_by("-id"))


def seat_for(*, actor: Principal, number: str) -> Juror:
    """The caller's seat on the latest jury of a dispute (404 for anyone not drawn)."""
    seat = (
        Juror.objects.select_related("draw__dispute__shop", "draw__dispute__customer")
        .filter(user_id=actor.user_id, draw__dispute__number=number)
        .order_by("-draw_id")
        .first()
    )
    if seat is None or actor.user_id is None:
        raise _not_found(number)
    return seat


def seats_of(actor: Principal) -> list[Juror]:
    return list(
        Juror.objects.select_related("draw__dispute")
        .filter(user_id=actor.user_id)
        .order_by("-id")[:100]
    )
