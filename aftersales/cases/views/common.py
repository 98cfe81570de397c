"""What the workbench and the portal share: who is asking, how a deadline reads, and the forms of
the state table's actions (built from the table, so a page never offers what it refuses)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.http import FileResponse, HttpRequest

from aftersales.cases import selectors, services
from aftersales.cases.choices import Action, CaseKind
from aftersales.cases.lifecycle import available_actions
from aftersales.cases.moves.refund import suggested_deductions
from aftersales.cases.views.forms import action_data, action_fields, line_fields
from aftersales.cases.wording import CUSTOMER_CONSEQUENCES
from aftersales.catalog.models import ServiceCenter, Sku
from aftersales.core import clock
from aftersales.core.actors import Principal
from aftersales.core.errors import ApplicationError
from aftersales.core.money import ZERO
from aftersales.policy.choices import Condition
from aftersales.team.selectors import principal_for_user

PORTAL_SESSION_KEY = "portal"


def signed_in_principal(request: HttpRequest) -> Principal | None:
    if not request.user.is_authenticated:
        return None
    return principal_for_user(request.user.pk)


def portal_principal(request: HttpRequest) -> Principal | None:
    """A signed-in customer, or one who found their order by number and phone (this session)."""
    principal = signed_in_principal(request)
    if principal is not None and principal.is_customer:
        return principal
    grant = request.session.get(PORTAL_SESSION_KEY)
    if not grant:
        return None
    return Principal(
        user_id=None,
        username=grant["name"],
        role="customer",
        shop_ids=frozenset({grant["shop_id"]}),
        customer_id=grant["customer_id"],
    )


@dataclass
class Deadline:
    at: dt.datetime
    local: str
    iso: str
    action: str
    overdue: bool
    urgent: bool


def deadline_of(deadline_at: dt.datetime | None, action: str | None, timezone: str):
    if deadline_at is None:
        return None
    now = clock.now()
    local = deadline_at.astimezone(zoneinfo.ZoneInfo(timezone))
    return Deadline(
        at=deadline_at,
        local=local.strftime("%Y-%m-%d %H:%M"),
        iso=deadline_at.isoformat(),
        action=action or "",
        overdue=deadline_at < now,
        urgent=deadline_at - now < dt.timedelta(hours=12),
    )


def consequence(deadline: Deadline | None) -> str:
    if deadline is None or not deadline.action:
        return ""
    text = CUSTOMER_CONSEQUENCES.get(deadline.action)
    return str(text) % {"when": deadline.local} if text else ""


# --- the forms of the actions -------------------------------------------------------------------


# --- taking an action from a page -------------------------------------------------------------


def case_for_forms(actor: Principal, number: str):
    """The case with what its action forms offer: the shop's return addresses and service
    centers (staff forms only; a customer's forms never show them)."""
    case = selectors.case_get(actor=actor, number=number)
    staff = actor.is_staff
    case.shop_addresses = (
        list(case.shop.return_addresses.order_by("-is_default", "id")) if staff else []
    )
    case.shop_service_centers = (
        list(ServiceCenter.objects.filter(shop=case.shop).order_by("id")) if staff else []
    )
    products = {line.order_line.sku.product_id for line in case.lines.all()}
    case.variants = (
        list(Sku.objects.filter(shop_id=case.shop_id, product_id__in=products).order_by("code"))
        if staff and case.kind == CaseKind.EXCHANGE
        else []
    )
    return case


def action_forms(case, principal: Principal, form_errors: dict | None = None) -> list[dict]:
    """The forms of the actions ``principal`` may take on ``case`` now, from the state table;
    a refused form's error shows once: under its field, or above the form when it names none."""
    forms = []
    for action in available_actions(case, principal.role_in(case.shop_id)):
        fields = action_fields(action, case)
        error = (form_errors or {}).get(action)
        if error:
            error = {**error, "field_shown": error.get("field") in {f.name for f in fields}}
        forms.append(
            {
                "name": action,
                "label": Action(action).label,
                "fields": fields,
                "line_fields": line_fields(action) if principal.is_staff else (),
                "error": error,
            }
        )
    return forms


def form_error(error: ApplicationError) -> dict:
    return {"detail": str(error.detail), "field": error.extra.get("field")}


def form_transition(request: HttpRequest, number: str, action: str) -> dict | None:
    """Take ``action`` with the posted form through the state table; ``None`` when done, else
    the form's errors (``{action: {detail, field}}``) to show in place."""
    actor = request.principal
    case = case_for_forms(actor, number)
    try:
        services.case_transition(
            case_id=case.id,
            action=action,
            actor=actor,
            data=action_data(action, case, request.POST),
        )
    except ApplicationError as error:
        return {action: form_error(error)}
    return None


def evidence_response(item, *, thumbnail: bool) -> FileResponse:
    """An evidence file (or its thumbnail) as the pages serve it to those who may see the case."""
    stored = item.thumbnail if thumbnail and item.thumbnail else item.file
    response = FileResponse(
        stored.open("rb"),
        content_type="image/jpeg" if stored is item.thumbnail else item.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    return response


def inspection_preview(case, post=None) -> dict:
    """The deduction the policy suggests for the grades chosen in the inspection form (or those
    recorded so far) and the refund after it, computed without writing anything."""
    entries = {}
    if post is not None:
        for line in case.lines.all():
            grade = post.get(f"line-{line.order_line_id}-condition", "")
            if grade in Condition.values:
                entries[line.id] = grade
    for line in case.lines.all():  # the prefetched rows, in memory only
        if line.id in entries:
            line.condition = entries[line.id]
    deduction = sum(suggested_deductions(case).values(), ZERO)
    return {
        "deduction": deduction,
        "refund": max(case.approved_amount - deduction, ZERO),
        "currency": case.shop.currency,
    }
