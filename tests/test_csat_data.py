"""Ended cases for the satisfaction tests (no tests here: the helpers of test_csat*.py), made in
bulk from one real case (opened through the API and cancelled) with their customer, kind, agent
and end moved where the test wants them."""

from __future__ import annotations

import datetime as dt
import itertools

from django.contrib.auth import get_user_model

from aftersales.cases.models import Case
from aftersales.catalog.models import Customer

# Inside October 2026 in Shanghai (NOW is 24 Nov 2026: October has ended).
IN_OCTOBER = dt.datetime(2026, 10, 15, 4, 0, tzinfo=dt.UTC)
MONTH = "2026-10"
_numbers = itertools.count(1)


def user(username: str):
    return get_user_model().objects.get(username=username)


def customer_of(shop, external_id: str, *, email: str = "", phone: str = "", language="en"):
    customer, _created = Customer.objects.update_or_create(
        shop=shop,
        external_id=external_id,
        defaults={
            "name": f"Buyer {external_id}",
            "email": email,
            "phone": phone,
            "language": language,
        },
    )
    return customer


def ended_case(
    template: Case,
    customer,
    *,
    kind: str = "return_refund",
    agent=None,
    ended_at: dt.datetime = IN_OCTOBER,
    state: str = "closed",
    reason: str = "quality_issue",
) -> Case:
    """A copy of ``template`` for ``customer`` that ended at ``ended_at``."""
    case = Case.objects.get(pk=template.pk)
    case.pk = case.id = None
    case.number = f"T{next(_numbers):06d}"
    case.customer = customer
    case.kind = kind
    case.reason = reason
    case.assignee = agent
    case.state = state
    case.resolved_at = ended_at
    case.save()
    return case


def population(template: Case, shop, strata: dict[tuple[str, object], int], **contact) -> list:
    """``strata[(kind, agent or None)] = n`` cases, each of its own customer (with an e-mail
    address unless told otherwise)."""
    cases = []
    for (kind, agent), size in strata.items():
        for _ in range(size):
            index = next(_numbers)
            customer = customer_of(
                shop, f"P{index}", **(contact or {"email": f"p{index}@example.com"})
            )
            cases.append(ended_case(template, customer, kind=kind, agent=agent))
    return cases
