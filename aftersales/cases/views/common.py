"""What the workbench and the portal share: who is asking, how a deadline reads, and the forms of
the state table's actions (built from the table, so a page never offers what it refuses)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.cases import selectors, services
from aftersales.cases.choices import (
    CaseKind,
    Condition,
    DeadlineAction,
    DiagnosedBy,
    Disposition,
)
from aftersales.catalog.models import ServiceCenter
from aftersales.core import clock
from aftersales.core.errors import ApplicationError
from aftersales.team.principal import Principal
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


# What happens when a deadline passes, in the customer's words.
CUSTOMER_CONSEQUENCES = {
    DeadlineAction.AUTO_APPROVE: gettext_lazy(
        "If the shop does not answer by %(when)s, your application is approved automatically."
    ),
    DeadlineAction.AUTO_CLOSE: gettext_lazy(
        "If nothing happens by %(when)s, the case closes automatically."
    ),
    DeadlineAction.AUTO_REFUND: gettext_lazy(
        "If the shop does not confirm receipt by %(when)s, you are refunded automatically."
    ),
    DeadlineAction.ESCALATE: gettext_lazy(
        "The shop must act by %(when)s; if it does not, a team lead takes over your case."
    ),
    DeadlineAction.REMIND: gettext_lazy(
        "Please answer the repair quote; we remind you on %(when)s."
    ),
    DeadlineAction.AUTO_DECLINE: gettext_lazy(
        "If you do not answer by %(when)s, your goods come back unrepaired."
    ),
    DeadlineAction.AUTO_CONFIRM: gettext_lazy("Receipt is confirmed automatically on %(when)s."),
}


def consequence(deadline: Deadline | None) -> str:
    if deadline is None or not deadline.action:
        return ""
    text = CUSTOMER_CONSEQUENCES.get(deadline.action)
    return str(text) % {"when": deadline.local} if text else ""


# --- the forms of the actions -------------------------------------------------------------------


@dataclass
class Field:
    name: str
    label: str
    kind: str = "text"  # text | textarea | number | select | checkbox | date
    required: bool = False
    choices: list[tuple[str, str]] = field(default_factory=list)


def _choices(enum) -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in enum.choices]


def action_fields(action: str, case) -> list[Field]:
    """The fields of an action's form (``lines`` are drawn per case line by the template)."""
    carrier = [
        Field("carrier", _("Carrier"), required=True),
        Field("tracking_number", _("Tracking number"), required=True),
    ]
    forms = {
        "approve": [
            Field(
                "return_address_id",
                _("Return address"),
                "select",
                choices=[(str(a.id), f"{a.name} · {a.address}") for a in case.shop_addresses],
            )
        ]
        if case.kind != CaseKind.REFUND_ONLY
        else [],
        "reject": [Field("reason", _("Reason (the customer reads it)"), "textarea", True)],
        "cancel": [Field("reason", _("Reason"), "textarea")],
        "modify": [
            Field("description", _("Description"), "textarea"),
            Field("amount", _("Amount"), "number"),
        ],
        "ship_return": carrier,
        "receive": [Field("note", _("Note"), "textarea")],
        "inspect": [
            Field(
                "result",
                _("Result"),
                "select",
                choices=[
                    ("", _("Suggested from the grades")),
                    ("pass", _("Pass")),
                    ("deduct", _("Deduct")),
                ],
            ),
            Field("deduction", _("Deduction"), "number"),
            Field("reason", _("Reason for a different deduction"), "textarea"),
        ],
        "refund": [],
        "convert": [
            Field("kind", _("New resolution"), "select", True, _choices(CaseKind)),
            Field("reason", _("Reason"), "textarea", True),
        ],
        "ship_replacement": [
            *carrier,
            Field("sku", _("Replacement SKU (another variant)")),
            Field("price_difference", _("Price difference (negative: refunded)"), "number"),
            Field("discount", _("Discount"), "number"),
            Field("payment_reference", _("Payment reference of the difference")),
        ],
        "offer": [
            Field("note", _("Offer to the customer"), "textarea", True),
            Field("sku", _("Alternative SKU")),
            Field("discount", _("Discount"), "number"),
        ],
        "diagnose": [
            Field("diagnosed_by", _("Diagnosed by"), "select", True, _choices(DiagnosedBy)),
            Field(
                "service_center_id",
                _("Service center"),
                "select",
                choices=[("", "—")] + [(str(c.id), c.name) for c in case.shop_service_centers],
            ),
            Field("fault_code", _("Fault"), required=True),
            Field("note", _("Diagnosis"), "textarea"),
            Field("repairable", _("Can be repaired"), "checkbox"),
            Field("quote_parts", _("Quote: parts"), "number"),
            Field("quote_labour", _("Quote: labour"), "number"),
        ],
        "accept_quote": [],
        "decline_quote": [Field("reason", _("Reason"), "textarea")],
        "ship_back": [
            *carrier,
            Field("parts_cost", _("Parts cost"), "number"),
            Field("labour_cost", _("Labour cost"), "number"),
            Field("note", _("Note"), "textarea"),
        ],
        "confirm_receipt": [],
    }
    return forms.get(action, [])


LINE_FIELDS = {
    "receive": ("quantity",),
    "inspect": ("condition", "disposition"),
}
CONDITIONS = _choices(Condition)
DISPOSITIONS = _choices(Disposition)


def action_data(action: str, case, post) -> dict:
    """Read an action's form into the dict the state table's effects take."""
    data: dict = {}
    for spec in action_fields(action, case):
        if spec.kind == "checkbox":
            data[spec.name] = post.get(spec.name) == "on"
            continue
        value = (post.get(spec.name) or "").strip()
        if value == "":
            continue
        if spec.name.endswith("_id"):
            value = int(value) if value.isdigit() else value
        data[spec.name] = value
    if action == "refund":
        data["idempotency_key"] = post.get("idempotency_key") or f"desk:{case.number}"
    if action == "receive" and case.kind == CaseKind.REPAIR:
        data["invoice_enclosed"] = post.get("invoice_enclosed") == "on"
    if action in LINE_FIELDS:
        lines = []
        for line in case.lines.all():
            entry = {"order_line_id": line.order_line_id}
            for name in LINE_FIELDS[action]:
                value = post.get(f"line-{line.order_line_id}-{name}", "").strip()
                if value:
                    entry[name] = int(value) if name == "quantity" and value.isdigit() else value
            if len(entry) > 1:
                lines.append(entry)
        if lines:
            data["lines"] = lines
    return data


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
    return case


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
