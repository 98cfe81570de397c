"""Reads of cases, always scoped to the caller."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from aftersales.cases.choices import FINAL_STATES, CaseState
from aftersales.cases.models import Case, CaseLine, Compensation, Evidence
from aftersales.catalog.models import Customer, Order, Shop
from aftersales.core import clock
from aftersales.core.actors import Principal
from aftersales.core.compiled import Compiled, CompiledJoined, CompiledModels, ScopedCompiled
from aftersales.core.errors import Conflict, InvalidInput, NotFound
from aftersales.core.gate import known_related
from aftersales.core.models import Event
from aftersales.sla import selectors as sla_selectors


def cases_for(actor: Principal) -> QuerySet[Case]:
    return actor.scope(Case.objects.all())


# A case page's rows that need no join, by queries compiled once (``core.compiled``): building
# their SQL cost more than running it.
_EVENTS = CompiledModels(
    Event,
    lambda type_id, case_id: Event.objects.filter(
        subject_type_id=type_id, subject_id=case_id
    ).order_by("at", "id"),
    type_id=int,
    case_id=int,
)
_COMPENSATIONS = CompiledModels(
    Compensation,
    lambda case_id: Compensation.objects.filter(case_id=case_id).order_by("id"),
    case_id=int,
)
_EVIDENCE = CompiledModels(
    Evidence,
    lambda case_id: Evidence.objects.filter(case_id=case_id).order_by("id"),
    case_id=int,
)


def _case_with_relations(cases: QuerySet[Case]) -> QuerySet[Case]:
    """A case page's case: its shop, order, customer, policy and addresses in one join."""
    return cases.select_related(
        "shop", "order", "customer", "policy", "return_address", "service_center"
    ).annotate(
        # The owner's name alone, by a scalar subquery: one more joined table made PostgreSQL's
        # planner take twice as long over this eight-way join (11 ms instead of 5).
        assignee_username=Subquery(
            get_user_model().objects.filter(pk=OuterRef("assignee_id")).values("username")[:1]
        )
    )


def _case_lines(lines: QuerySet[CaseLine]) -> QuerySet[CaseLine]:
    return lines.select_related("order_line__sku", "replacement_sku").order_by("id")


# The case and its lines, compiled once per shape of the caller's scope: Django's compiler took
# longer over the eight-way join and the lines' prefetch than the database took to answer them.
_CASE = ScopedCompiled(
    CompiledJoined,
    lambda scope, number: _case_with_relations(cases_for(scope)).filter(number=number)[:1],
    number=str,
)
_LINES = CompiledJoined(
    lambda case_id: _case_lines(CaseLine.objects.filter(case_id=case_id)), case_id=int
)


def case_get_orm(*, actor: Principal, number: str) -> Case | None:
    """The case ``case_get`` reads, with its lines, by the ORM itself: the definition the
    compiled queries follow (``tests/test_compiled.py`` checks they agree), and the answer for
    the callers whose scope is not compiled."""
    return (
        _case_with_relations(cases_for(actor))
        .prefetch_related(Prefetch("lines", queryset=_case_lines(CaseLine.objects.all())))
        .filter(number=number)
        .order_by("pk")
        .first()
    )


def case_get(*, actor: Principal, number: str) -> Case:
    """One case with everything its page shows, in a fixed number of queries."""
    compiled = _CASE.for_caller(actor)
    if compiled is None:
        case = case_get_orm(actor=actor, number=number)
    else:
        query, scope = compiled
        found = query.instances(number=number, **scope)
        case = found[0] if found else None
        if case is not None:
            lines = _LINES.instances(case_id=case.id)
            for line in lines:
                line.case = case
            known_related(case, "lines", lines)
    if case is None:
        raise NotFound(_("No case %(number)s.") % {"number": number}, code="case_not_found")
    type_id = ContentType.objects.get_for_model(Case).id
    known_related(case, "events", _EVENTS.instances(type_id=type_id, case_id=case.id))
    known_related(case, "compensations", _COMPENSATIONS.instances(case_id=case.id))
    evidence = _EVIDENCE.instances(case_id=case.id)
    for item in evidence:
        item.case = case
    known_related(case, "evidence", evidence)
    return case


def case_as_opened(*, actor: Principal, case: Case) -> Case:
    """The case ``case_open`` just returned, ready for its page like ``case_get``'s, built from
    what the opening wrote: its lines and its one event are known, it has no compensation or
    evidence yet, and no owner unless one was set. ``tests/test_api.py`` checks that the answer
    equals a read of the case afterwards."""
    cached = getattr(case, "_prefetched_objects_cache", {})
    if "lines" not in cached or "events" not in cached or case.assignee_id is not None:
        return case_get(actor=actor, number=case.number)
    known_related(case, "compensations", [])
    known_related(case, "evidence", [])
    case.assignee_username = None
    return case


def case_number_for_code(*, actor: Principal, code: str) -> str:
    """The case a scanned or typed code names: its RMA number, or the tracking number of its
    return, in any letter case (a typed ``as2026…`` or ``sf123`` finds ``AS2026…``/``SF123``).
    Each spelling is looked up through the index: as given, then in capitals."""
    cases = cases_for(actor)
    spellings = list(dict.fromkeys([code, code.upper()]))
    number = cases.filter(number__in=spellings).values_list("number", flat=True).first()
    if number is not None:
        return number
    numbers = list(
        cases.filter(return_tracking_number__in=spellings)
        .order_by("-id")
        .values_list("number", flat=True)[:10]
    )
    if not numbers:
        raise NotFound(_("No case for %(code)s.") % {"code": code}, code="case_not_found")
    if len(numbers) > 1:
        raise Conflict(
            _("Several cases share tracking number %(code)s.") % {"code": code},
            code="ambiguous_code",
            numbers=numbers,
        )
    return numbers[0]


def case_id_for(*, actor: Principal, number: str) -> int:
    case_id = cases_for(actor).filter(number=number).values_list("id", flat=True).first()
    if case_id is None:
        raise NotFound(_("No case %(number)s.") % {"number": number}, code="case_not_found")
    return case_id


# What a queue row shows, read as plain rows: a page of 50 model instances with their shop, order
# and customer costs more than the query itself.
SUMMARY_FIELDS = (
    "id",
    "number",
    "kind",
    "reason",
    "fault",
    "return_shipping_payer",
    "state",
    "requested_amount",
    "approved_amount",
    "refunded_amount",
    "deadline_at",
    "deadline_action",
    "platform",
    "created_at",
    "updated_at",
    "order_id",
    "shop__code",
    "shop__currency",
    "order__external_id",
    "customer__external_id",
    "customer__name",
)


@dataclass(frozen=True)
class Cursor:
    deadline_at: dt.datetime | None
    id: int

    def encode(self) -> str:
        raw = json.dumps([self.deadline_at.isoformat() if self.deadline_at else None, self.id])
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            deadline, case_id = json.loads(raw)
            return cls(dt.datetime.fromisoformat(deadline) if deadline else None, int(case_id))
        except (ValueError, TypeError, binascii.Error, json.JSONDecodeError):
            raise InvalidInput(_("The cursor is not valid."), code="invalid_cursor") from None


@dataclass(frozen=True)
class CaseFilters:
    state: list[str] | None = None
    kind: str | None = None
    shop: str | None = None
    overdue: bool | None = None
    due_before: dt.datetime | None = None
    customer: str | None = None
    order: int | None = None
    reason: str | None = None
    flagged: bool | None = None  # a coloured flag or a dispute flag
    assignee_id: int | None = None
    # A case number, order number, return or outbound tracking number, or customer phone.
    search: str | None = None
    sla: str | None = None  # a service-level clock's state: running, warned, breached, met
    # A marketplace's cases: of one platform (``taobao``…), of one store (its id).
    platform: str | None = None
    store: int | None = None


OPEN_STATES = tuple(s for s in CaseState.values if s not in FINAL_STATES)


def _search(actor: Principal, cases: QuerySet[Case], text: str) -> QuerySet[Case]:
    """Each kind of code through its own index, then one filter on the ids found: a case,
    order, tracking number or phone as typed (codes also in capitals), or the start of a
    customer's name."""
    scoped = cases_for(actor)
    spellings = list(dict.fromkeys([text, text.upper()]))
    ids = set(scoped.filter(number__in=spellings).values_list("id", flat=True)[:50])
    ids |= set(
        scoped.filter(return_tracking_number__in=spellings).values_list("id", flat=True)[:50]
    )
    ids |= set(
        scoped.filter(outbound_tracking_number__in=spellings).values_list("id", flat=True)[:50]
    )
    orders = list(Order.objects.filter(external_id=text).values_list("id", flat=True)[:50])
    customers = Customer.objects.filter(Q(phone=text) | Q(name__startswith=text))
    if actor.shop_ids is not None:
        customers = customers.filter(shop_id__in=actor.shop_ids)
    customers = list(customers.values_list("id", flat=True)[:50])
    return cases.filter(Q(id__in=ids) | Q(order_id__in=orders) | Q(customer_id__in=customers))


def queue_extras(case_ids: list[int]) -> dict[int, dict]:
    """What the workbench's queue shows beside the API's row: flag, assignee, follow-up, phone."""
    rows = Case.objects.filter(id__in=case_ids).values(
        "id", "flag", "dispute_signals", "follow_up_on", "assignee__username", "customer__phone"
    )
    return {row.pop("id"): row for row in rows}


def shops_of(actor: Principal) -> list[tuple[str, str]]:
    shops = (
        Shop.objects.all() if actor.shop_ids is None else Shop.objects.filter(id__in=actor.shop_ids)
    )
    return list(shops.order_by("code").values_list("code", "name"))


def _keyset_page(cases: QuerySet[Case], after: Cursor | None, size: int) -> list[dict]:
    """Rows after the cursor in (deadline, id) order, cases without a deadline last.

    Written so that the index on (…, deadline_at, id) can seek instead of scan: a range on the
    deadline minus the rows at the cursor's own deadline up to its id; the rows without a deadline
    are a second seek, made only when the page is not full yet.
    """
    by_deadline = cases.exclude(deadline_at=None).order_by("deadline_at", "id")
    without = cases.filter(deadline_at=None).order_by("id")
    if after is not None and after.deadline_at is None:
        return list(without.filter(id__gt=after.id).values(*SUMMARY_FIELDS)[:size])
    if after is not None:
        by_deadline = by_deadline.filter(deadline_at__gte=after.deadline_at).exclude(
            deadline_at=after.deadline_at, id__lte=after.id
        )
    rows = list(by_deadline.values(*SUMMARY_FIELDS)[:size])
    if len(rows) < size:
        rows += list(without.values(*SUMMARY_FIELDS)[: size - len(rows)])
    return rows


def case_queryset(actor: Principal, filters: CaseFilters) -> QuerySet[Case]:
    """The cases the caller may see that match ``filters`` (unordered)."""
    # A constant shop id (not a join on the code) lets the planner walk the queue index in
    # deadline order and stop after one page, instead of sorting every case of the state.
    shop_id = _shop_id(filters.shop) if filters.shop else None
    return _narrowed(actor, cases_for(actor), filters, shop_id)


def _shop_id(code: str) -> int | None:
    found = _SHOP_ID.tuples(code=code)
    return found[0][0] if found else None


_SHOP_ID = Compiled(lambda code: Shop.objects.filter(code=code).values("id")[:1], ["id"], code=str)


def _narrowed(
    actor: Principal, cases: QuerySet[Case], filters: CaseFilters, shop_id: int | None
) -> QuerySet[Case]:
    if filters.state:
        cases = cases.filter(state__in=filters.state)
    if filters.kind:
        cases = cases.filter(kind=filters.kind)
    if filters.shop:
        cases = cases.filter(shop_id=shop_id)
    if filters.customer:
        cases = cases.filter(customer__external_id=filters.customer)
    if filters.order:
        cases = cases.filter(order_id=filters.order)
    if filters.overdue is not None:
        overdue = Q(deadline_at__lt=clock.now())
        cases = cases.filter(overdue if filters.overdue else ~overdue | Q(deadline_at=None))
    if filters.due_before:
        cases = cases.filter(deadline_at__lt=filters.due_before)
    if filters.reason:
        cases = cases.filter(reason=filters.reason)
    if filters.flagged:
        cases = cases.filter(~Q(flag="") | ~Q(dispute_signals=[]))
    if filters.assignee_id:
        cases = cases.filter(assignee_id=filters.assignee_id)
    if filters.search:
        cases = _search(actor, cases, filters.search)
    if filters.sla:
        cases = cases.filter(id__in=sla_selectors.filter_ids("case", filters.sla))
    if filters.platform:
        cases = cases.filter(platform=filters.platform)
    if filters.store:
        # The request a case was opened for is the connectors' (a higher layer): joined by the
        # relation's name, never imported.
        cases = cases.filter(platform_request__store_id=filters.store)
    return cases


# The queue's pages of the usual filters (plain values: states, kind, shop, customer, order,
# reason, flagged, owner, platform, store) compiled once per shape: which filters, how many states,
# the caller's scope, where the page starts and its size. Building the SQL cost more than running
# it. A search, a service-level filter or a time filter takes the ORM.
_COMPILED_FILTERS = ("kind", "customer", "order", "reason", "assignee_id", "platform", "store")
_VALUE_KINDS = {"order": int, "assignee_id": int, "store": int}
_PAGES: dict[tuple, ScopedCompiled] = {}
MAX_PAGE_SHAPES = 256


def _compiled_page(
    actor: Principal, filters: CaseFilters, after: Cursor | None, size: int
) -> list[dict] | None:
    """``_keyset_page(case_queryset(actor, filters), after, size)``'s rows by compiled queries;
    ``None`` where the ORM must answer."""
    if filters.search or filters.sla or filters.overdue is not None or filters.due_before:
        return None
    given = {name: getattr(filters, name) for name in _COMPILED_FILTERS}
    given = {name: value for name, value in given.items() if value}
    states = list(filters.state or [])
    shop_id = None
    if filters.shop:
        shop_id = _shop_id(filters.shop)
        if shop_id is None:
            return []  # no such shop: no case has it
    start = "first" if after is None else "after" if after.deadline_at is not None else "undated"
    values = {**given, **{f"state_{i}": str(state) for i, state in enumerate(states)}}
    if shop_id is not None:
        values["shop_id"] = shop_id
    if start != "first":
        values["after_id"] = after.id
    if start == "after":
        values["after_deadline"] = after.deadline_at

    def page(part: str, begin: str, limit: int) -> list[dict] | None:
        used = values
        if begin == "first":
            used = {k: v for k, v in values.items() if k not in ("after_id", "after_deadline")}
        shape = (part, begin, size, len(states), bool(filters.flagged), *sorted(used))
        query = _PAGES.get(shape)
        if query is None:
            if len(_PAGES) >= MAX_PAGE_SHAPES:
                return None
            query = _PAGES[shape] = _page_query(part, begin, size, len(states), filters, used)
        compiled = query.for_caller(actor)
        if compiled is None:
            return None
        plan, scope = compiled
        return plan.rows(**used, **scope)[:limit]

    if start == "undated":
        return page("undated", "undated", size)
    rows = page("dated", start, size)
    if rows is not None and len(rows) < size:
        # the cases without a deadline come last, all of them after any dated page
        more = page("undated", "first", size - len(rows))
        rows = None if more is None else rows + more
    return rows


def _page_query(
    part: str, start: str, size: int, state_count: int, filters: CaseFilters, values: dict
) -> ScopedCompiled:
    """The compiled query of one shape of page (``_compiled_page``)."""
    kinds = {name: _VALUE_KINDS.get(name, str) for name in values}
    kinds |= {"shop_id": int, "after_id": int, "after_deadline": dt.datetime}
    kinds = {name: kind for name, kind in kinds.items() if name in values}

    def build(scope: Principal, **given) -> QuerySet:
        shaped = CaseFilters(
            state=[given[f"state_{i}"] for i in range(state_count)] or None,
            flagged=filters.flagged,
            **{name: given[name] for name in _COMPILED_FILTERS if name in given},
        )
        cases = _narrowed(scope, cases_for(scope), shaped, given.get("shop_id"))
        if "shop_id" in given and not shaped.shop:
            cases = cases.filter(shop_id=given["shop_id"])
        if part == "undated":
            cases = cases.filter(deadline_at=None).order_by("id")
            if start == "undated":
                cases = cases.filter(id__gt=given["after_id"])
        else:
            cases = cases.exclude(deadline_at=None).order_by("deadline_at", "id")
            if start == "after":
                cases = cases.filter(deadline_at__gte=given["after_deadline"]).exclude(
                    deadline_at=given["after_deadline"], id__lte=given["after_id"]
                )
        return cases.values(*SUMMARY_FIELDS)[:size]

    return ScopedCompiled(
        lambda scoped, **value_kinds: Compiled(scoped, SUMMARY_FIELDS, **value_kinds),
        build,
        **kinds,
    )


def case_list(
    *, actor: Principal, filters: CaseFilters, cursor: str | None = None, limit: int = 50
) -> tuple[list[dict], str | None]:
    """A page of case rows (``SUMMARY_FIELDS``) ordered by deadline (soonest first, cases
    without one last), then id.

    Keyset pagination: the cursor is the last row's (deadline, id), so a deep page costs what the
    first one does.
    """
    after = Cursor.decode(cursor) if cursor else None
    rows = _compiled_page(actor, filters, after, limit + 1)
    if rows is None:
        rows = _keyset_page(case_queryset(actor, filters), after, limit + 1)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = Cursor(rows[-1]["deadline_at"], rows[-1]["id"]).encode()
    return rows, next_cursor


def evidence_get(*, actor: Principal, number: str, evidence_id: int) -> Evidence:
    evidence = (
        Evidence.objects.filter(case__in=cases_for(actor), case__number=number, pk=evidence_id)
        .select_related("case")
        .first()
    )
    if evidence is None:
        raise NotFound(_("No such file."), code="evidence_not_found")
    return evidence
