"""Writes of the agent workbench and the portal beside the state table: internal notes, coloured
flags, assignment, the contact log, messages from reply templates (话术), bulk approval, and the
customer's rating. None of these changes a case's state; those that the timeline should show
write a timeline event through the kernel (``core.gate.event_for``)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.cases.choices import (
    FINAL_STATES,
    Action,
    CaseKind,
    CaseState,
    ContactChannel,
    FlagColor,
    RatingReason,
)
from aftersales.cases.models import Case, CaseNote, CaseRating, ContactLog
from aftersales.cases.services import case_transition
from aftersales.cases.timeline import readable_time
from aftersales.core import clock
from aftersales.core.actors import Principal
from aftersales.core.errors import (
    ApplicationError,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from aftersales.core.gate import event_for
from aftersales.core.models import Event
from aftersales.core.notices import notice_build
from aftersales.team.models import ReplyTemplate


def _staff_case(actor: Principal, case_id: int) -> Case:
    if not actor.is_staff:
        raise PermissionDenied(_("Only the shop's staff may do this."), code="forbidden")
    case = (
        actor.scope(Case.objects.select_for_update(of=("self",)))
        .select_related("shop", "customer", "return_address")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise NotFound(_("No such case."), code="case_not_found")
    return case


def _text(value: str, field: str, limit: int = 5000) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(
            _("%(field)s is required.") % {"field": field}, code=f"{field}_required", field=field
        )
    if len(value) > limit:
        raise InvalidInput(
            _("%(field)s must be at most %(limit)s characters.") % {"field": field, "limit": limit},
            code="invalid_input",
            field=field,
        )
    return value


@transaction.atomic
def note_add(*, actor: Principal, case_id: int, text: str) -> CaseNote:
    case = _staff_case(actor, case_id)
    return CaseNote.objects.create(
        case=case,
        author_id=actor.user_id,
        author_name=actor.username,
        text=_text(text, "text"),
        created_at=clock.now(),
    )


@transaction.atomic
def flag_set(*, actor: Principal, case_id: int, color: str) -> Case:
    case = _staff_case(actor, case_id)
    if color and color not in FlagColor.values:
        raise InvalidInput(_("Unknown flag colour."), code="invalid_flag", field="flag")
    case.flag = color
    case.save(update_fields=["flag", "updated_at"])
    return case


def _unknown_assignee(username: str) -> InvalidInput:
    # One answer whether the name is unknown, a customer, or staff of another shop: the form
    # must not tell who works where.
    return InvalidInput(
        _("No colleague called %(name)s works for this shop.") % {"name": username},
        code="unknown_assignee",
        field="assignee",
    )


@transaction.atomic
def assign(*, actor: Principal, case_ids: list[int], username: str | None) -> int:
    """Give cases to a member of staff of their shop (``None``: to nobody)."""
    if not actor.is_staff:
        raise PermissionDenied(_("Only the shop's staff may do this."), code="forbidden")
    user, shop_ids = None, None
    if username:
        user = (
            get_user_model()
            .objects.filter(username=username, is_active=True, membership__isnull=False)
            .select_related("membership")
            .first()
        )
        if user is None or user.membership.role == "customer":
            raise _unknown_assignee(username)
        shop_ids = set(user.membership.shops.values_list("id", flat=True))
    cases = list(actor.scope(Case.objects.select_for_update(of=("self",))).filter(id__in=case_ids))
    now = clock.now()
    events = []
    for case in cases:
        # staff tied to no shop (an installation admin) may take any case
        if shop_ids and case.shop_id not in shop_ids:
            raise _unknown_assignee(username)
        case.assignee = user
        case.updated_at = now
        events.append(
            event_for(
                case,
                actor=actor,
                action=Action.ASSIGN,
                from_state=case.state,
                data={"assignee": username or ""},
                now=now,
            )
        )
    Case.objects.bulk_update(cases, ["assignee", "updated_at"])
    Event.objects.bulk_create(events)
    return len(cases)


@transaction.atomic
def contact_log_add(
    *,
    actor: Principal,
    case_id: int,
    channel: str,
    summary: str,
    follow_up_on: dt.date | None = None,
) -> ContactLog:
    """Record a call, chat or e-mail with the customer; a follow-up date shows in the queue."""
    case = _staff_case(actor, case_id)
    if channel not in ContactChannel.values:
        raise InvalidInput(_("Unknown channel."), code="invalid_channel", field="channel")
    now = clock.now()
    entry = ContactLog.objects.create(
        case=case,
        channel=channel,
        summary=_text(summary, "summary"),
        follow_up_on=follow_up_on,
        by_id=actor.user_id,
        by_name=actor.username,
        created_at=now,
    )
    case.follow_up_on = follow_up_on
    case.save(update_fields=["follow_up_on", "updated_at"])
    event_for(
        case,
        actor=actor,
        action=Action.CONTACT,
        from_state=case.state,
        data={
            "channel": channel,
            "summary": entry.summary,
            "follow_up_on": follow_up_on.isoformat() if follow_up_on else None,
        },
        now=now,
    ).save()
    return entry


# --- reply templates (话术) ---------------------------------------------------------------------


# The variables a reply template may use, in words (a template that cannot be filled names them).
TEMPLATE_VARIABLES = {
    "customer_name": gettext_lazy("the customer's name"),
    "case_number": gettext_lazy("the case number"),
    "order_number": gettext_lazy("the order number"),
    "deadline": gettext_lazy("the deadline"),
    "return_address": gettext_lazy("the return address (known once the case is approved)"),
    "shop_name": gettext_lazy("the shop's name"),
    "amount": gettext_lazy("the amount"),
}
VARIABLE = re.compile(r"\{(\w+)\}")


def template_variables(case: Case) -> dict[str, str]:
    deadline = readable_time(case.deadline_at, case.shop.timezone) if case.deadline_at else ""
    address = case.return_address
    return {
        "customer_name": case.customer.name or case.customer.external_id,
        "case_number": case.number,
        "order_number": case.order.external_id,
        "deadline": deadline,
        "return_address": f"{address.address} {address.name} {address.phone}" if address else "",
        "shop_name": case.shop.name,
        "amount": str(case.approved_amount or case.requested_amount),
    }


def template_missing(body: str, case: Case) -> list[str]:
    """The variables ``body`` uses that this case cannot fill now, in words."""
    values = template_variables(case)
    used = dict.fromkeys(VARIABLE.findall(body))
    return [str(TEMPLATE_VARIABLES[name]) for name in used if name in values and not values[name]]


def template_render(body: str, case: Case) -> str:
    """Fill ``{variable}``s; unknown ones are left as written (never an error, never code)."""
    values = template_variables(case)
    return VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), body)


def templates_for(case: Case, *, language: str) -> list[ReplyTemplate]:
    """The shop's reply templates in a language, each with what this case still lacks for it
    (``missing``: empty when it can be sent now)."""
    templates = list(
        ReplyTemplate.objects.filter(shop=case.shop, language=language).order_by("title")
    )
    for template in templates:
        template.missing = template_missing(template.body, case)
    return templates


@transaction.atomic
def message_send(*, actor: Principal, case_id: int, text: str, template_id: int | None = None):
    """Send a message to the customer: on the timeline (the customer sees it) and as a
    notification. A message from a reply template is refused while the case cannot fill the
    template's variables (the customer would read a blank where a value belongs)."""
    case = _staff_case(actor, case_id)
    text = _text(text, "text")
    if template_id:
        template = ReplyTemplate.objects.filter(shop_id=case.shop_id, pk=template_id).first()
        if template is None:
            raise InvalidInput(_("No such reply template."), code="template_not_found")
        missing = template_missing(template.body, case)
        if missing:
            raise InvalidInput(
                _("This reply needs %(missing)s, which this case does not have yet.")
                % {"missing": ", ".join(missing)},
                code="template_variables_missing",
                field="text",
                missing=missing,
            )
    now = clock.now()
    data = {"text": text}
    if template_id:
        data["template_id"] = template_id
    event_for(
        case, actor=actor, action=Action.MESSAGE, from_state=case.state, data=data, now=now
    ).save()
    notice_build(case, "case_message", {"text": text}).save()
    case.save(update_fields=["updated_at"])


# --- bulk approval ------------------------------------------------------------------------------


@dataclass
class BulkResult:
    done: list[str]
    refused: dict[str, str]


def bulk_approve(*, actor: Principal, case_ids: list[int]) -> BulkResult:
    """Approve the selected refund-only cases, each through the state table in its own
    transaction; cases the table refuses (or of another kind) are reported, not forced."""
    result = BulkResult(done=[], refused={})
    rows = actor.scope(Case.objects.filter(id__in=case_ids[:200])).values_list(
        "id", "number", "kind", "state"
    )
    for case_id, number, kind, state in rows:
        if kind != CaseKind.REFUND_ONLY:
            result.refused[number] = _("only refund-only cases are approved in bulk")
            continue
        if state != CaseState.AWAITING_SELLER:
            result.refused[number] = str(CaseState(state).label)
            continue
        try:
            case_transition(case_id=case_id, action=Action.APPROVE, actor=actor)
            result.done.append(number)
        except ApplicationError as error:
            result.refused[number] = str(error.detail)
    return result


# --- the customer's rating ----------------------------------------------------------------------


@transaction.atomic
def rating_add(
    *, actor: Principal, case_id: int, score: int, reasons: list[str], comment: str = ""
) -> CaseRating:
    case = actor.scope(Case.objects.select_for_update(of=("self",))).filter(pk=case_id).first()
    if case is None or not actor.is_customer:
        raise PermissionDenied(_("Only the customer rates their case."), code="forbidden")
    if case.state not in FINAL_STATES:
        raise Conflict(_("A case is rated once it has ended."), code="case_not_ended")
    if hasattr(case, "rating"):
        raise Conflict(_("This case has been rated already."), code="already_rated")
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise InvalidInput(_("Give 1 to 5 stars."), code="invalid_score", field="score")
    unknown = set(reasons) - set(RatingReason.values)
    if unknown:
        raise InvalidInput(_("Unknown reason."), code="invalid_reason", field="reasons")
    if len(comment) > 2000:
        raise InvalidInput(_("The comment is too long."), code="invalid_input", field="comment")
    now = clock.now()
    rating = CaseRating.objects.create(
        case=case,
        score=score,
        reasons=sorted(set(reasons)),
        comment=comment.strip(),
        created_at=now,
    )
    event_for(
        case,
        actor=actor,
        action=Action.RATE,
        from_state=case.state,
        data={"score": score, "reasons": rating.reasons},
        now=now,
    ).save()
    notice_build(case, "case_rated", {"score": score}).save()
    return rating
