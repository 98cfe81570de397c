"""Reads of shipping insurance, always scoped to the caller: a customer their own covers, staff
their shops', the platform's operators every flag."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from aftersales.cases.models import Case
from aftersales.catalog.models import Order, Shop
from aftersales.core.actors import Principal
from aftersales.core.errors import NotFound
from aftersales.core.models import Event
from aftersales.core.permissions import require
from aftersales.insurance.choices import RETURN_KINDS, CoverState
from aftersales.insurance.models import AbuseFlag, Claim, Cover
from aftersales.insurance.moves import insurance_rules
from aftersales.policy.services import policy_current


def covers_for(actor: Principal) -> QuerySet[Cover]:
    return actor.scope(Cover.objects.all())


def order_for(*, actor: Principal, order_id: int) -> Order:
    order = actor.scope(Order.objects.select_related("shop")).filter(pk=order_id).first()
    if order is None:
        raise NotFound(_("No such order."), code="order_not_found")
    return order


def cover_of_order(*, actor: Principal, order_id: int) -> Cover:
    """The order's cover with its claims and timeline (404 when the order has none)."""
    order = order_for(actor=actor, order_id=order_id)
    require(actor, "insurance_cover.read", order)
    cover = (
        covers_for(actor)
        .select_related("shop", "order", "customer", "policy")
        .prefetch_related(
            Prefetch("claims", queryset=Claim.objects.select_related("case").order_by("id")),
            Prefetch("events", queryset=Event.objects.order_by("at", "id")),
        )
        .filter(order_id=order.pk)
        .first()
    )
    if cover is None:
        raise NotFound(_("This order has no shipping insurance."), code="cover_not_found")
    return cover


def cover_or_none(*, actor: Principal, order: Order, with_history: bool = True) -> Cover | None:
    """The cover of an order the caller may read (``order_for``), with its claims and timeline
    (``with_history``); ``None`` while it has none (the buyer's page offers a quote then)."""
    require(actor, "insurance_cover.read", order)
    covers = covers_for(actor).select_related("shop", "policy")
    if with_history:
        covers = covers.prefetch_related(
            Prefetch("claims", queryset=Claim.objects.select_related("case").order_by("id")),
            Prefetch("events", queryset=Event.objects.order_by("at", "id")),
        )
    return covers.filter(order_id=order.pk).first()


def cover_lapsed(cover: Cover, now: dt.datetime) -> bool:
    """Lapsed, or past its validity and not yet lapsed by the sweep: it can no longer be
    insured either way (``moves.insure`` refuses it)."""
    if cover.state == CoverState.LAPSED:
        return True
    return (
        cover.state == CoverState.QUOTED
        and cover.deadline_at is not None
        and cover.deadline_at <= now
    )


def claim_of_case(*, actor: Principal, case: Case) -> Claim | None:
    return actor.scope(Claim.objects.filter(case_id=case.pk)).first()


def insurance_offered(shop: Shop) -> bool:
    """Whether the shop offers shipping insurance now (its current policy's choice)."""
    return bool(insurance_rules(policy_current(shop=shop))["offered"])


def return_cases_of_order(*, actor: Principal, order: Order) -> list[Case]:
    """The caller's cases of the order that send goods back (a claim's cases), oldest first."""
    return list(
        actor.scope(Case.objects.filter(order_id=order.pk, kind__in=RETURN_KINDS)).order_by("id")
    )


def cover_id_of_order(*, actor: Principal, order_id: int) -> int | None:
    order = order_for(actor=actor, order_id=order_id)
    return covers_for(actor).filter(order_id=order.pk).values_list("id", flat=True).first()


def flags_for(actor: Principal) -> QuerySet[AbuseFlag]:
    require(actor, "insurance_flag.read")
    return actor.scope(AbuseFlag.objects.all())


def flag_list(
    *,
    actor: Principal,
    state: str | None = None,
    shop: str | None = None,
    limit: int = 50,
    after_id: int | None = None,
) -> list[AbuseFlag]:
    """Flags, newest first, open ones by default order of id; ``after_id`` pages on."""
    flags = flags_for(actor).select_related("shop", "customer").order_by("-id")
    if state:
        flags = flags.filter(state=state)
    if shop:
        flags = flags.filter(shop__code=shop)
    if after_id:
        flags = flags.filter(id__lt=after_id)
    return list(flags[:limit])


def flag_get(*, actor: Principal, flag_id: int) -> AbuseFlag:
    flag = (
        flags_for(actor)
        .select_related("shop", "customer")
        .prefetch_related(Prefetch("events", queryset=Event.objects.order_by("at", "id")))
        .filter(pk=flag_id)
        .first()
    )
    if flag is None:
        raise NotFound(_("No flag %(id)s.") % {"id": flag_id}, code="flag_not_found")
    return flag
