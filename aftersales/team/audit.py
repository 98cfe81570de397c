"""The audit log of roles and teams: one row per change (a role given, changed or taken back),
written by the services that make the change, in its transaction (never by a signal), and read
per shop by its administrators and leads."""

from __future__ import annotations

from django.db.models import QuerySet

from aftersales.core import clock
from aftersales.core.actors import Principal
from aftersales.team.models import AuditEntry


def audit_record(
    *, actor: Principal, member, shop, change: str, before: str = "", after: str = ""
) -> AuditEntry:
    """Write one change of ``member``'s role in ``shop`` (``None``: a role tied to no shop)."""
    return AuditEntry.objects.create(
        shop=shop,
        member=member,
        member_name=member.username,
        actor_id=actor.user_id,
        actor_name=actor.username,
        change=change,
        role_before=before,
        role_after=after,
        at=clock.now(),
    )


def audit_for_shop(*, shop_id: int, after_id: int | None = None) -> QuerySet[AuditEntry]:
    """A shop's audit log, oldest first (keyset by id); the caller has checked who may read it."""
    entries = AuditEntry.objects.filter(shop_id=shop_id)
    if after_id:
        entries = entries.filter(id__gt=after_id)
    return entries.order_by("id")
