"""The writes of shipping insurance: the cover through its table (``lifecycle.COVERS``), the
abuse flags through theirs (``lifecycle.FLAGS``). The shop's service score the premium reads is
the violations app's (``violations.services.service_score_set``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.cases.models import Case
from aftersales.catalog.models import Customer, Shop
from aftersales.core import clock
from aftersales.core.actors import SYSTEM, Principal
from aftersales.core.errors import Conflict, NotFound
from aftersales.core.gate import open_subject, transition
from aftersales.core.permissions import require
from aftersales.insurance.choices import RETURN_KINDS, CoverAction, CoverState, FlagState
from aftersales.insurance.lifecycle import COVERS, FLAGS
from aftersales.insurance.models import AbuseFlag, Claim, Cover
from aftersales.insurance.moves import insurance_rules
from aftersales.insurance.pricing import lookback_start
from aftersales.insurance.selectors import cover_id_of_order
from aftersales.insurance.signals import buyer_signals, signature_of
from aftersales.policy.services import policy_current

# The actions after which the buyer's signals are computed again.
SIGNAL_ACTIONS = frozenset({CoverAction.CLAIM, CoverAction.RECORD_POSTAGE})


@transaction.atomic
def cover_quote(*, actor: Principal, order_id: int) -> Cover:
    """Quote the order's premium (stored with its inputs); a quote not yet insured is priced
    again; an insured order is refused."""
    cover_id = cover_id_of_order(actor=actor, order_id=order_id)
    if cover_id is None:
        return open_subject(COVERS, actor=actor, data={"order_id": order_id})
    state = Cover.objects.filter(pk=cover_id).values_list("state", flat=True).first()
    if state == CoverState.INSURED:
        raise Conflict(_("This order is insured already."), code="already_insured")
    return transition(COVERS, subject_id=cover_id, action=CoverAction.REQUOTE, actor=actor)


@transaction.atomic
def cover_transition(
    *, actor: Principal, order_id: int, action: str, data: Mapping[str, Any] | None = None
) -> Cover:
    """Take ``action`` on the order's cover through the gate; a claim and a real postage
    compute the buyer's abuse signals again in the same transaction."""
    cover_id = cover_id_of_order(actor=actor, order_id=order_id)
    if cover_id is None:
        raise NotFound(_("This order has no shipping insurance."), code="cover_not_found")
    cover = transition(COVERS, subject_id=cover_id, action=action, actor=actor, data=data)
    if action in SIGNAL_ACTIONS:
        flags_evaluate(customer_id=cover.customer_id)
    return cover


def flags_evaluate(*, customer_id: int) -> AbuseFlag | None:
    """Compute a buyer's signals now and raise a flag for review, or give the open one the new
    signals. A reviewed flag is not raised again on the same signals (same signature); new
    evidence (another return, another claim, another account) raises a new one."""
    customer = Customer.objects.select_for_update().filter(pk=customer_id).first()
    if customer is None:
        return None
    rules = insurance_rules(policy_current(shop=Shop.objects.get(pk=customer.shop_id)))
    reasons = buyer_signals(customer=customer, rules=rules, now=clock.now())
    signature = signature_of(reasons)
    open_flag = AbuseFlag.objects.filter(customer_id=customer_id, state=FlagState.OPEN).first()
    if open_flag is not None:
        if reasons and signature != open_flag.signature:
            return transition(
                FLAGS,
                subject_id=open_flag.pk,
                action="refresh",
                actor=SYSTEM,
                data={"reasons": reasons, "signature": signature},
            )
        return open_flag
    if not reasons:
        return None
    last = AbuseFlag.objects.filter(customer_id=customer_id).order_by("-id").first()
    if last is not None and last.signature == signature:
        return None
    return open_subject(
        FLAGS,
        actor=SYSTEM,
        data={"customer_id": customer_id, "reasons": reasons, "signature": signature},
    )


def flags_scan(*, actor: Principal, shop: str | None = None) -> int:
    """The worker's step (or an operator's): compute the signals of every buyer with a return
    or a claim in the look-back; the number of flags raised or given new signals."""
    require(actor, "insurance_flag.scan")
    shops = actor.scope(Shop.objects.all()) if not actor.is_customer else Shop.objects.none()
    if shop:
        shops = shops.filter(code=shop)
    touched = 0
    now = clock.now()
    for each in shops.order_by("id"):
        lookback = insurance_rules(policy_current(shop=each))["lookback_days"]
        since = lookback_start(now, lookback)
        buyers = set(
            Case.objects.filter(shop=each, kind__in=RETURN_KINDS, created_at__gt=since).values_list(
                "customer_id", flat=True
            )
        ) | set(Claim.objects.filter(shop=each).values_list("customer_id", flat=True))
        for customer_id in sorted(buyers):
            with transaction.atomic():
                before = AbuseFlag.objects.filter(customer_id=customer_id).values_list(
                    "id", "signature"
                )
                before = set(before)
                flags_evaluate(customer_id=customer_id)
                after = set(
                    AbuseFlag.objects.filter(customer_id=customer_id).values_list("id", "signature")
                )
                touched += len(after - before)
    return touched


def flag_review(*, actor: Principal, flag_id: int, action: str, reason: str | None) -> AbuseFlag:
    """Clear the flag or confirm the abuse, with a written reason (a platform operator)."""
    require(actor, "insurance_flag.read")
    if not actor.scope(AbuseFlag.objects.filter(pk=flag_id)).exists():
        raise NotFound(_("No flag %(id)s.") % {"id": flag_id}, code="flag_not_found")
    return transition(
        FLAGS, subject_id=flag_id, action=action, actor=actor, data={"reason": reason}
    )
