"""The reads of violation points, always scoped to the caller: the shop's staff read their
shops' violations, penalties and standing (``violation.read``); a platform operator reads every
shop's. Another shop's record answers 404, as if it did not exist."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils.translation import gettext as _

from aftersales.catalog.models import Shop
from aftersales.core.actors import Principal
from aftersales.core.errors import InvalidInput, NotFound
from aftersales.core.permissions import require, shops_permitted
from aftersales.policy.services import policy_current
from aftersales.violations import rules
from aftersales.violations.choices import (
    PENALTY_HOLDING_STATES,
    PenaltyState,
    ViolationClass,
    ViolationState,
)
from aftersales.violations.models import Penalty, ServiceScore, ServiceScoreChange, Violation

READ = "violation.read"
SET_SCORE = "shop.service_score"
# A shop whose score the platform never set has the full score.
DEFAULT_SCORE = Decimal("5.00")


def _scoped(actor: Principal, queryset):
    require(actor, READ)
    shops = shops_permitted(actor, READ)
    return queryset if shops is None else queryset.filter(shop_id__in=shops)


def shop_for(*, actor: Principal, code: str | None) -> Shop:
    """The shop ``code`` names among those the caller reads; without a code, the caller's one
    shop (a member of several shops, or an operator, names it)."""
    require(actor, READ)
    permitted = shops_permitted(actor, READ)
    shops = Shop.objects.all() if permitted is None else Shop.objects.filter(id__in=permitted)
    if code:
        shop = shops.filter(code=code).first()
        if shop is None:
            raise NotFound(_("No shop %(code)s.") % {"code": code}, code="shop_not_found")
        return shop
    only = list(shops.order_by("id")[:2])
    if len(only) != 1:
        raise InvalidInput(
            _("%(field)s is required for this action.") % {"field": _("Shop")},
            code="shop_required",
            field="shop",
        )
    return only[0]


def violation_get(*, actor: Principal, number: str) -> Violation:
    violation = (
        _scoped(actor, Violation.objects.select_related("shop", "policy"))
        .filter(number=number)
        .prefetch_related("events", "penalties")
        .first()
    )
    if violation is None:
        raise NotFound(
            _("No violation %(number)s.") % {"number": number}, code="violation_not_found"
        )
    return violation


def penalty_get(*, actor: Principal, number: str) -> Penalty:
    penalty = (
        _scoped(actor, Penalty.objects.select_related("shop", "violation"))
        .filter(number=number)
        .prefetch_related("events")
        .first()
    )
    if penalty is None:
        raise NotFound(_("No penalty %(number)s.") % {"number": number}, code="penalty_not_found")
    return penalty


def violation_list(
    *,
    actor: Principal,
    shop: str | None = None,
    year: int | None = None,
    state: str | None = None,
    limit: int = 50,
) -> list[Violation]:
    """Newest first."""
    rows = _scoped(actor, Violation.objects.select_related("shop"))
    if shop:
        rows = rows.filter(shop__code=shop)
    if year is not None:
        rows = rows.filter(year=year)
    if state:
        rows = rows.filter(state=state)
    return list(rows.order_by("-id")[:limit])


def penalty_list(
    *,
    actor: Principal,
    shop: str | None = None,
    state: str | None = None,
    limit: int = 50,
) -> list[Penalty]:
    """Newest first."""
    rows = _scoped(actor, Penalty.objects.select_related("shop", "violation"))
    if shop:
        rows = rows.filter(shop__code=shop)
    if state:
        rows = rows.filter(state=state)
    return list(rows.order_by("-id")[:limit])


def appeals_pending(*, actor: Principal) -> tuple[list[Violation], list[Penalty]]:
    """What waits for the platform's decision, oldest appeal first."""
    violations = _scoped(actor, Violation.objects.select_related("shop")).filter(
        state=ViolationState.APPEALED
    )
    penalties = _scoped(actor, Penalty.objects.select_related("shop", "violation")).filter(
        state=PenaltyState.APPEALED
    )
    return list(violations.order_by("appealed_at", "id")), list(
        penalties.order_by("appealed_at", "id")
    )


def in_force(penalties, now: dt.datetime):
    """The penalties whose measures apply at ``now``: holding and not past their end."""
    return [
        p
        for p in penalties
        if p.state in PENALTY_HOLDING_STATES and (p.ends_at is None or p.ends_at > now)
    ]


def penalties_in_force(*, shop_ids, now: dt.datetime) -> list[Penalty]:
    """The penalties in force in some shops (``None``: every shop), soonest end first (the
    permanent ones last)."""
    rows = Penalty.objects.select_related("shop", "violation").filter(
        state__in=PENALTY_HOLDING_STATES
    )
    if shop_ids is not None:
        rows = rows.filter(shop_id__in=shop_ids)
    rows = rows.exclude(ends_at__lte=now)
    found = list(rows.order_by("ends_at", "id"))
    return sorted(found, key=lambda p: (p.ends_at is None, p.ends_at or now, p.id))


def standing(*, actor: Principal, shop: Shop, now: dt.datetime) -> dict:
    """The shop's standing: its service score and its latest changes, points this year per class
    (the platform's year), each class's steps and the next one, and the penalties in force."""
    require(actor, READ, shop)
    policy = policy_current(shop=shop)
    section = rules.violation_rules(policy)
    timezone = section["timezone"]
    year = rules.platform_year(now, timezone)
    classes = []
    for violation_class in ViolationClass.values:
        total = rules.class_total(shop_id=shop.pk, violation_class=violation_class, year=year)
        steps = [
            {
                "points": step["points"],
                "days": step["days"],
                "measures": list(step["measures"]),
                "measures_text": rules.measures_text(step["measures"]),
                "reached": total >= step["points"],
            }
            for step in section[violation_class]
        ]
        classes.append(
            {
                "violation_class": violation_class,
                "label": rules.class_label(violation_class),
                "points": total,
                "steps": steps,
                "next_step": next((step for step in steps if not step["reached"]), None),
            }
        )
    _start, resets_at = rules.year_bounds(year, timezone)
    return {
        "shop": shop.code,
        "service_score": service_score(shop.pk),
        "service_score_changes": service_score_changes(actor=actor, shop=shop, limit=20),
        "enabled": section["enabled"],
        "policy_version": policy.version,
        "timezone": timezone,
        "year": year,
        "resets_at": resets_at,
        "classes": classes,
        "penalties_in_force": penalties_in_force(shop_ids={shop.pk}, now=now),
        "violations": list(
            Violation.objects.filter(shop=shop, year=year).select_related("shop").order_by("-id")
        ),
    }


def service_score(shop_id: int) -> Decimal:
    """The shop's service score (5.00 until the platform sets one): what the disputes' autonomy
    and the shipping insurance's premium read. Not scoped: the callers act for the shop."""
    found = ServiceScore.objects.filter(shop_id=shop_id).values_list("score", flat=True).first()
    return DEFAULT_SCORE if found is None else found


def service_score_changes(*, actor: Principal, shop: Shop, limit: int = 50):
    """The latest settings of the shop's service score, newest first."""
    require(actor, READ, shop)
    return list(ServiceScoreChange.objects.filter(shop=shop).order_by("-changed_at", "-id")[:limit])
