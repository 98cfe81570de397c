"""Reads of complaints, always scoped to the caller: a customer their own, staff their shops'."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from aftersales.cases.selectors import Cursor
from aftersales.catalog.models import Shop
from aftersales.complaints.choices import OPEN_STATES
from aftersales.complaints.models import Complaint
from aftersales.complaints.moves.handling import shop_staff
from aftersales.core import clock
from aftersales.core.actors import Principal
from aftersales.core.errors import NotFound
from aftersales.core.models import Event
from aftersales.sla import selectors as sla_selectors


def complaints_for(actor: Principal) -> QuerySet[Complaint]:
    return actor.scope(Complaint.objects.all())


def _not_found(number: str) -> NotFound:
    return NotFound(_("No complaint %(number)s.") % {"number": number}, code="complaint_not_found")


def complaint_get(*, actor: Principal, number: str) -> Complaint:
    """One complaint with everything its page shows, in a fixed number of queries."""
    complaint = (
        complaints_for(actor)
        .select_related("shop", "customer", "order", "owner", "policy")
        .prefetch_related(
            Prefetch("events", queryset=Event.objects.order_by("at", "id")),
            "linked_cases",
            "linked_orders",
        )
        .filter(number=number)
        .first()
    )
    if complaint is None:
        raise _not_found(number)
    return complaint


def complaint_id_for(*, actor: Principal, number: str) -> int:
    found = complaints_for(actor).filter(number=number).values_list("id", flat=True).first()
    if found is None:
        raise _not_found(number)
    return found


def complaints_of_order(*, actor: Principal, order_id: int) -> list[Complaint]:
    return list(complaints_for(actor).filter(order_id=order_id).order_by("-id"))


def staff_names(shop_id: int) -> list[str]:
    """The user names of a shop's staff, for choosing a complaint's owner."""
    return list(shop_staff(shop_id).order_by("username").values_list("username", flat=True))


# What a list row shows, read as plain rows.
SUMMARY_FIELDS = (
    "id",
    "number",
    "type",
    "state",
    "due_at",
    "deadline_at",
    "deadline_action",
    "stage_started_at",
    "escalated_at",
    "created_at",
    "updated_at",
    "shop__code",
    "shop__timezone",
    "order__external_id",
    "customer__external_id",
    "customer__name",
    "owner__username",
)


@dataclass(frozen=True)
class ComplaintFilters:
    state: list[str] | None = None
    type: str | None = None
    shop: str | None = None
    overdue: bool | None = None
    sla: str | None = None  # a service-level clock's state: running, warned, breached, met


def _keyset_page(complaints: QuerySet[Complaint], after: Cursor | None, size: int) -> list[dict]:
    """Rows after the cursor in (due time, id) order, those without a due time (ended) last."""
    by_due = complaints.exclude(due_at=None).order_by("due_at", "id")
    without = complaints.filter(due_at=None).order_by("id")
    if after is not None and after.deadline_at is None:
        return list(without.filter(id__gt=after.id).values(*SUMMARY_FIELDS)[:size])
    if after is not None:
        by_due = by_due.filter(due_at__gte=after.deadline_at).exclude(
            due_at=after.deadline_at, id__lte=after.id
        )
    rows = list(by_due.values(*SUMMARY_FIELDS)[:size])
    if len(rows) < size:
        rows += list(without.values(*SUMMARY_FIELDS)[: size - len(rows)])
    return rows


def complaint_list(
    *, actor: Principal, filters: ComplaintFilters, cursor: str | None = None, limit: int = 50
) -> tuple[list[dict], str | None]:
    """A page of complaint rows (``SUMMARY_FIELDS``), soonest due first, then id; the cursor is
    the last row's (due time, id)."""
    complaints = complaints_for(actor)
    if filters.state:
        complaints = complaints.filter(state__in=filters.state)
    if filters.type:
        complaints = complaints.filter(type=filters.type)
    if filters.shop:
        shop_id = Shop.objects.filter(code=filters.shop).values_list("id", flat=True).first()
        complaints = complaints.filter(shop_id=shop_id)
    if filters.overdue is not None:
        overdue = Q(due_at__lt=clock.now())
        complaints = complaints.filter(overdue if filters.overdue else ~overdue | Q(due_at=None))
    if filters.sla:
        complaints = complaints.filter(id__in=sla_selectors.filter_ids("complaint", filters.sla))
    rows = _keyset_page(complaints, Cursor.decode(cursor) if cursor else None, limit + 1)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = Cursor(rows[-1]["due_at"], rows[-1]["id"]).encode()
    return rows, next_cursor


def open_states() -> list[str]:
    return [str(state) for state in OPEN_STATES]
