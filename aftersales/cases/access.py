"""The case a member of staff writes to beside the state table: scoped to their shops, then
locked by the one helper that locks a case (``services.case_lock``)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from aftersales.cases.models import Case
from aftersales.cases.services import case_lock
from aftersales.core.actors import Principal
from aftersales.core.errors import NotFound, PermissionDenied


def staff_case(actor: Principal, case_id: int) -> Case:
    """The case, locked until the end of the caller's transaction, if the caller is staff of its
    shop (call inside a transaction)."""
    if not actor.is_staff:
        raise PermissionDenied(_("Only the shop's staff may do this."), code="forbidden")
    # A case never changes shop, so the scope checked before the lock still holds under it.
    if not actor.scope(Case.objects.filter(pk=case_id)).exists():
        raise NotFound(_("No such case."), code="case_not_found")
    return case_lock(case_id)
