"""Opening a dispute, the first row of the table: the case's customer asks the platform to step
in, when the policy allows it (``policy.disputes``).

- A refund dispute (the case still under way): at once after the shop rejected it, for
  ``escalate_after_reject``; or from ``escalate_after_request`` after the request while the case
  is unresolved; or at once when the shop missed one of the case's deadlines (it was escalated).
- An after-sale dispute: within ``after_sale_days`` days of the trade's success, counted like the
  complaint window (from the day after the trade ended, to the end of the last day in the shop's
  time zone). The trade ends when the order is signed for or, when later, when its latest
  after-sales case ends.

Opening pauses the case's deadline (the case's ``dispute_pause`` move, on its record).
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aftersales.cases.choices import FINAL_STATES as CASE_FINAL_STATES
from aftersales.cases.choices import Action as CaseAction
from aftersales.cases.choices import CaseState
from aftersales.cases.models import Case
from aftersales.cases.moves.common import labelled, required_text
from aftersales.cases.trade import trade_ended_at
from aftersales.catalog.models import Order
from aftersales.core.errors import Conflict, Ineligible, NotFound
from aftersales.core.lifecycle import ActionInput, Context
from aftersales.core.models import Event
from aftersales.core.timeline import readable_time
from aftersales.disputes import rules
from aftersales.disputes.choices import FINAL_STATES, DisputeClass, DisputeKind
from aftersales.disputes.models import Dispute
from aftersales.policy.models import Policy
from aftersales.policy.services import policy_current


class DisputeOpenIn(ActionInput):
    """Ask the platform to step in on one of your after-sales cases."""

    case_number: required_text(32, gettext_noop("Case number"))
    kind: labelled(DisputeKind, gettext_noop("Kind of dispute"))
    dispute_class: labelled(DisputeClass, gettext_noop("What is it about?"))
    statement: required_text(5000, gettext_noop("Your statement"), widget="textarea")


# --- when a buyer may open one ------------------------------------------------------------------


def after_sale_window(order: Order, policy: Policy) -> tuple[dt.datetime, dt.datetime] | None:
    """``[trade end, window end)`` in UTC, or ``None`` while the trade goes on."""
    ended = trade_ended_at(order)
    if ended is None:
        return None
    days = rules.section(policy, "disputes")["after_sale_days"]
    zone = zoneinfo.ZoneInfo(order.shop.timezone)
    end_day = ended.astimezone(zone).date() + dt.timedelta(days=1 + days)
    end = dt.datetime.combine(end_day, dt.time.min, tzinfo=zone)
    return ended, end.astimezone(dt.UTC)


def rejected_at(case: Case) -> dt.datetime | None:
    return (
        Event.objects.filter(
            subject_type=ContentType.objects.get_for_model(Case),
            subject_id=case.pk,
            action=CaseAction.REJECT,
        )
        .order_by("-id")
        .values_list("at", flat=True)
        .first()
    )


def refund_dispute_opens_at(case: Case, policy: Policy) -> dt.datetime:
    """The first moment a refund dispute may be opened about ``case``."""
    moments = [case.created_at + rules.rule_duration(policy, "escalate_after_request")]
    if case.escalated_at is not None:
        moments.append(case.escalated_at)
    if case.state == CaseState.REJECTED:
        at = rejected_at(case)
        if at is not None:
            moments.append(at)
    return min(moments)


def check_refund_dispute(case: Case, policy: Policy, now: dt.datetime) -> None:
    zone = case.shop.timezone
    if case.state in CASE_FINAL_STATES:
        raise Ineligible(
            _("Case %(number)s has ended; open an after-sale dispute instead.")
            % {"number": case.number},
            code="case_ended",
            field="kind",
        )
    if case.state == CaseState.REJECTED:
        at = rejected_at(case)
        if at is not None:
            until = at + rules.rule_duration(policy, "escalate_after_reject")
            if now >= until:
                raise Ineligible(
                    _("The time to dispute the shop's rejection ended at %(end)s.")
                    % {"end": readable_time(until, zone)},
                    code="dispute_window_closed",
                    window_end=until.isoformat(),
                )
            return
    opens = refund_dispute_opens_at(case, policy)
    if now < opens:
        raise Ineligible(
            _(
                "The platform steps in once the shop rejected the request, missed a deadline, or "
                "left it unresolved until %(when)s."
            )
            % {"when": readable_time(opens, zone)},
            code="dispute_too_early",
            opens_at=opens.isoformat(),
        )


def check_after_sale_dispute(case: Case, policy: Policy, now: dt.datetime) -> None:
    window = after_sale_window(case.order, policy)
    if window is None:
        raise Ineligible(
            _("An after-sale dispute about order %(order)s can be opened once it is signed for.")
            % {"order": case.order.external_id},
            code="trade_not_ended",
            field="kind",
        )
    if now >= window[1]:
        raise Ineligible(
            _("The %(days)s-day after-sale dispute window of order %(order)s ended at %(end)s.")
            % {
                "days": rules.section(policy, "disputes")["after_sale_days"],
                "order": case.order.external_id,
                "end": readable_time(window[1], case.shop.timezone, ends_period=True),
            },
            code="after_sale_window_closed",
            window_end=window[1].isoformat(),
        )


# --- the effect ---------------------------------------------------------------------------------


def dispute_number(dispute: Dispute, now: dt.datetime) -> str:
    """``WQ`` + the shop's local date + the dispute id, e.g. ``WQ20261124000042``."""
    day = now.astimezone(zoneinfo.ZoneInfo(dispute.shop.timezone)).strftime("%Y%m%d")
    return f"WQ{day}{dispute.id:06d}"


def open_dispute(dispute: Dispute, ctx: Context) -> None:
    from aftersales.disputes import effects  # the case's moves, after the insert

    data: DisputeOpenIn = ctx.input
    spellings = list(dict.fromkeys([data.case_number, data.case_number.upper()]))
    case = (
        Case.objects.select_related("shop", "order__shop", "customer")
        .filter(number__in=spellings, customer_id=ctx.actor.customer_id)
        .first()
    )
    if case is None or ctx.actor.customer_id is None:
        raise NotFound(
            _("No case %(number)s.") % {"number": data.case_number}, code="case_not_found"
        )
    if Dispute.objects.filter(case=case).exclude(state__in=FINAL_STATES).exists():
        raise Conflict(
            _("A dispute about case %(number)s is under way already.") % {"number": case.number},
            code="dispute_under_way",
        )
    policy = policy_current(shop=case.shop)
    if data.kind == DisputeKind.REFUND:
        check_refund_dispute(case, policy, ctx.now)
    else:
        check_after_sale_dispute(case, policy, ctx.now)
    dispute.number = f"~{uuid.uuid4().hex[:30]}"  # replaced once the id exists
    dispute.shop, dispute.customer, dispute.case = case.shop, case.customer, case
    dispute.policy = policy
    dispute.kind = data.kind
    dispute.dispute_class = data.dispute_class
    dispute.statement = data.statement
    dispute.opened_by_id = ctx.actor.user_id
    dispute.case_paused = case.state not in CASE_FINAL_STATES

    def after_insert(dispute: Dispute) -> None:
        dispute.number = dispute_number(dispute, ctx.now)
        Dispute.objects.filter(pk=dispute.pk).update(
            number=dispute.number, case_paused=dispute.case_paused
        )
        if dispute.case_paused:
            effects.case_pause(dispute)

    ctx.after_insert.append(after_insert)
    ctx.event_data.update(case=case.number, kind=data.kind, dispute_class=data.dispute_class)
    ctx.notices.append("dispute_opened")
