"""The case a member of staff writes to beside the state table: scoped to their shops, then
locked by the one helper that locks a case (``services.case_lock``)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from aftersales.cases.models import Case
from aftersales.cases.services import case_lock
from aftersales.core.actors import Principal
from aftersales.core.errors import NotFound, PermissionDenied
from aftersales.core.permissions import permitted


def staff_case(actor: Principal, case_id: int, action: str) -> Case:
    """The case, locked until the end of the caller's transaction, if the caller may take
    ``action`` (a row of ``core.permissions``) in its shop (call inside a transaction)."""
    if not permitted(actor, action):
        raise PermissionDenied(_("Only the shop's staff may do this."), code="forbidden")
    # A case never changes shop, so the scope checked before the lock still holds under it.
    if not actor.scope(Case.objects.filter(pk=case_id)).exists():
        raise NotFound(_("No such case."), code="case_not_found")
    case = case_lock(case_id)
    if not permitted(actor, action, case):
        raise PermissionDenied(_("Only the shop's staff may do this."), code="forbidden")
    return case
