"""Reads of inspections, always scoped to the caller: a customer their own, staff their shops',
the platform's operator every shop's."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from aftersales.core.actors import Principal
from aftersales.core.errors import NotFound
from aftersales.core.models import Event
from aftersales.core.permissions import permitted, require
from aftersales.inspections.choices import FINAL_STATES
from aftersales.inspections.models import Inspection


def inspections_for(actor: Principal) -> QuerySet[Inspection]:
    require(actor, "inspection.read")
    return actor.scope(Inspection.objects.all())


def _not_found(number: str) -> NotFound:
    return NotFound(
        _("No inspection %(number)s.") % {"number": number}, code="inspection_not_found"
    )


def inspection_get(*, actor: Principal, number: str) -> Inspection:
    inspection = (
        inspections_for(actor)
        .select_related("shop", "customer", "case__order", "dispute", "policy")
        .prefetch_related(Prefetch("events", queryset=Event.objects.order_by("at", "id")))
        .filter(number=number)
        .first()
    )
    if inspection is None:
        raise _not_found(number)
    return inspection


def inspection_id_for(*, actor: Principal, number: str) -> int:
    found = inspections_for(actor).filter(number=number).values_list("id", flat=True).first()
    if found is None:
        raise _not_found(number)
    return found


def inspection_list(
    *,
    actor: Principal,
    state=None,
    shop: str | None = None,
    case: str | None = None,
    verdict=None,
    open_only: bool = False,
    limit: int = 50,
) -> list[Inspection]:
    """The caller's inspections, soonest due first (ended ones last)."""
    query = inspections_for(actor).select_related("shop", "case", "dispute")
    if state:
        query = query.filter(state__in=list(state))
    if shop:
        query = query.filter(shop__code=shop)
    if case:
        query = query.filter(case__number=case)
    if verdict:
        query = query.filter(verdict__in=list(verdict))
    if open_only:
        query = query.exclude(state__in=FINAL_STATES)
    return list(query.order_by("resolved_at", "deadline_at", "id")[:limit])


def inspections_of_case(*, actor: Principal, case) -> list[Inspection]:
    """The inspections of a case the caller reads (none for one who may not read them)."""
    if not permitted(actor, "inspection.read", case):
        return []
    return list(
        actor.scope(Inspection.objects.filter(case_id=case.pk))
        .select_related("shop")
        .order_by("-id")
    )
