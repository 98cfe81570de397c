"""What the workbench and the portal share: who is asking, how a deadline reads, and the forms of
the state table's actions (built from the table, so a page never offers what it refuses)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

from django.http import FileResponse, HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.cases import selectors, services
from aftersales.cases.choices import (
    Action,
    Authenticity,
    CaseKind,
    Condition,
    DeadlineAction,
    DiagnosedBy,
    Disposition,
    InspectionResult,
)
from aftersales.cases.effects import _line_deductions as suggested_deductions
from aftersales.cases.transitions import available_actions
from aftersales.cases.wording import Carrier
from aftersales.catalog.models import ServiceCenter, Sku
from aftersales.core import clock
from aftersales.core.errors import ApplicationError
from aftersales.core.money import ZERO
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
    # A select's one empty option (optional selects, or a required one with nothing chosen yet);
    # ``initial`` is what the form shows chosen.
    empty_label: str = "—"
    initial: str = ""


def _choices(enum) -> list[tuple[str, str]]:
    """A ``TextChoices``' options in the language of the request (never at import time: the
    labels are lazy and must be read per request)."""
    return [(value, str(label)) for value, label in enum.choices]


def _carrier_fields() -> list[Field]:
    return [
        Field(
            "carrier",
            _("Carrier"),
            "select",
            True,
            _choices(Carrier),
            empty_label=_("Choose the carrier"),
        ),
        Field("carrier_other", _("Carrier name (when “Other carrier”)")),
        Field("tracking_number", _("Tracking number"), required=True),
    ]


def action_fields(action: str, case) -> list[Field]:
    """The fields of an action's form (``lines`` are drawn per case line by the template)."""
    addresses = [(str(a.id), f"{a.name} · {a.address}") for a in case.shop_addresses]
    forms = {
        "approve": [
            Field(
                "return_address_id",
                _("Return address"),
                "select",
                choices=addresses,
                empty_label=_("The shop's default address"),
                # the only address needs no choosing
                initial=addresses[0][0] if len(addresses) == 1 else "",
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
        "ship_return": _carrier_fields(),
        "receive": [Field("note", _("Note"), "textarea")],
        "inspect": [
            Field(
                "result",
                _("Result"),
                "select",
                choices=_choices(InspectionResult),
                empty_label=_("Suggested from the grades"),
            ),
            Field("deduction", _("Deduction"), "number"),
            Field("reason", _("Reason for a different deduction"), "textarea"),
            Field(
                "authenticity",
                _("Authenticity"),
                "select",
                choices=_choices(Authenticity),
                empty_label=_("Not checked"),
            ),
        ],
        "refund": [],
        "convert": [
            Field(
                "kind",
                _("New resolution"),
                "select",
                True,
                [(v, label) for v, label in _choices(CaseKind) if v != case.kind],
                empty_label=_("Choose the new resolution"),
            ),
            Field("reason", _("Reason"), "textarea", True),
        ],
        "ship_replacement": [
            *_carrier_fields(),
            Field("price_difference", _("Price difference (negative: refunded)"), "number"),
            Field("discount", _("Discount"), "number"),
            Field("payment_reference", _("Payment reference of the difference")),
        ],
        "offer": [
            Field("note", _("Offer to the customer"), "textarea", True),
            Field(
                "sku",
                _("Another variant"),
                "select",
                choices=variant_choices(case),
                empty_label=_("None"),
            ),
            Field("discount", _("Discount"), "number"),
        ],
        "diagnose": [
            Field(
                "diagnosed_by",
                _("Diagnosed by"),
                "select",
                True,
                _choices(DiagnosedBy),
                empty_label=_("Choose who diagnosed"),
            ),
            Field(
                "service_center_id",
                _("Service center"),
                "select",
                choices=[(str(c.id), c.name) for c in case.shop_service_centers],
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
            *_carrier_fields(),
            Field("parts_cost", _("Parts cost"), "number"),
            Field("labour_cost", _("Labour cost"), "number"),
            Field("note", _("Note"), "textarea"),
        ],
        "confirm_receipt": [],
    }
    return forms.get(action, [])


def variant_choices(case) -> list[tuple[str, str]]:
    """The variants of the case's products, with their stock, for an exchange's replacement."""
    in_stock = _("%(code)s (%(stock)s in stock)")
    return [
        (sku.code, in_stock % {"code": sku.code, "stock": max(sku.stock, 0)})
        for sku in case.variants
    ]


# Per-line fields of an action's form: ``line-<order line id>-<name>``.
LINE_FIELDS = {
    "receive": ("quantity",),
    "inspect": ("condition", "disposition"),
    "ship_replacement": ("sku",),
}


def conditions() -> list[tuple[str, str]]:
    return _choices(Condition)


def dispositions() -> list[tuple[str, str]]:
    return _choices(Disposition)


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
    if data.get("carrier") == Carrier.OTHER:
        # "Other carrier" is a choice of the form, not a carrier: the name typed beside it is.
        data.pop("carrier")
        if data.get("carrier_other"):
            data["carrier"] = data["carrier_other"]
    data.pop("carrier_other", None)
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
    for action in available_actions(case, principal.role):
        fields = action_fields(action, case)
        error = (form_errors or {}).get(action)
        if error:
            error = {**error, "field_shown": error.get("field") in {f.name for f in fields}}
        forms.append(
            {
                "name": action,
                "label": Action(action).label,
                "fields": fields,
                "line_fields": LINE_FIELDS.get(action, ()) if principal.is_staff else (),
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
