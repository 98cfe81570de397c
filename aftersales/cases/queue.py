"""The desk's queue: its tabs by state group with their counts (as 千牛 shows 待处理 / 待退货 /
待收货), sorting, the staff's saved views, and the CSV export of the view on screen.

A view of the queue is its query parameters (``QUEUE_PARAMETERS``): the page, the export, the API
and a saved view read the same ones through ``queue_parameters``, so an export is exactly the
rows on screen, in the same order. Paging is by keyset on (sort value, id) for every sort, so a
deep page costs what the first one does.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
import zoneinfo
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.cases import selectors
from aftersales.cases.choices import CaseKind, CaseState, Reason
from aftersales.cases.models import Case, SavedView
from aftersales.cases.timeline import readable_time
from aftersales.cases.wording import state_label
from aftersales.catalog.models import Shop
from aftersales.core import clock
from aftersales.core.actors import Principal
from aftersales.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from aftersales.sla.selectors import FILTER_STATES

S = CaseState


@dataclass(frozen=True)
class Tab:
    code: str
    label: object
    states: tuple[str, ...] | None  # None: every open state
    overdue: bool = False


TABS = (
    Tab("pending", gettext_lazy("Pending decision"), (S.AWAITING_SELLER,)),
    Tab("to_return", gettext_lazy("Awaiting return"), (S.AWAITING_RETURN,)),
    Tab("receiving", gettext_lazy("Receiving"), (S.RETURN_IN_TRANSIT, S.INSPECTING)),
    Tab("to_refund", gettext_lazy("To refund"), (S.REFUND_PENDING,)),
    Tab("overdue", gettext_lazy("Past deadline"), None, overdue=True),
    Tab("all", gettext_lazy("All"), None),
)
TAB_CODES = tuple(tab.code for tab in TABS)
DEFAULT_TAB = "all"

# sort code → column; a leading "-" reads newest / largest first.
SORT_COLUMNS = {
    "deadline": "deadline_at",
    "created": "created_at",
    "amount": "requested_amount",
    "updated": "updated_at",
}
SORTS = tuple(code for name in SORT_COLUMNS for code in (name, f"-{name}"))
DEFAULT_SORT = "deadline"
SORT_LABELS = {
    "deadline": gettext_lazy("Deadline, soonest first"),
    "-deadline": gettext_lazy("Deadline, latest first"),
    "created": gettext_lazy("Opened, oldest first"),
    "-created": gettext_lazy("Opened, newest first"),
    "amount": gettext_lazy("Amount, smallest first"),
    "-amount": gettext_lazy("Amount, largest first"),
    "updated": gettext_lazy("Updated, oldest first"),
    "-updated": gettext_lazy("Updated, newest first"),
}
QUEUE_PARAMETERS = (
    "tab",
    "sort",
    "state",
    "kind",
    "reason",
    "shop",
    "due",
    "flagged",
    "mine",
    "sla",
    "store",
    "q",
)
DUE_CHOICES = ("today", "overdue")


@dataclass(frozen=True)
class QueueView:
    """A view of the queue: the filters without its tab, the tab, the sort, and the parameters
    as chosen (for the form, the links and a saved view)."""

    filters: selectors.CaseFilters
    tab: str
    sort: str
    chosen: dict


def _one(params: Mapping, name: str) -> str:
    value = params.get(name, "")
    if isinstance(value, bool):  # a saved view's JSON: true / false
        return "1" if value else ""
    if isinstance(value, list):
        value = value[-1] if value else ""
    return str(value) if value is not None else ""


def _many(params: Mapping, name: str) -> list[str]:
    if hasattr(params, "getlist"):
        return params.getlist(name)
    value = params.get(name) or []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def queue_parameters(params: Mapping, actor: Principal) -> QueueView:
    """The queue's view from query parameters; a word outside its list is ignored (a form's
    select can only send listed words; a hand-written one falls back to the default)."""
    states = [s for s in _many(params, "state") if s in CaseState.values]
    due = _one(params, "due")
    due_before = None
    if due == "today":
        zone = zoneinfo.ZoneInfo("Asia/Shanghai")
        tomorrow = clock.now().astimezone(zone).date() + dt.timedelta(days=1)
        due_before = dt.datetime.combine(tomorrow, dt.time.min, tzinfo=zone)
    tab = _one(params, "tab")
    sort = _one(params, "sort")
    chosen = {
        "tab": tab if tab in TAB_CODES else DEFAULT_TAB,
        "sort": sort if sort in SORTS else DEFAULT_SORT,
        "state": states,
        "kind": _one(params, "kind") if _one(params, "kind") in CaseKind.values else "",
        "reason": _one(params, "reason") if _one(params, "reason") in Reason.values else "",
        "shop": _one(params, "shop")[:40],
        "due": due if due in DUE_CHOICES else "",
        "flagged": _one(params, "flagged") in ("1", "true"),
        "mine": _one(params, "mine") in ("1", "true"),
        "sla": _one(params, "sla") if _one(params, "sla") in FILTER_STATES else "",
        "store": _one(params, "store")
        if re.fullmatch(r"[0-9]{1,11}", _one(params, "store"))
        else "",
        "q": _one(params, "q").strip()[:100],
    }
    filters = selectors.CaseFilters(
        state=states or list(selectors.OPEN_STATES),
        kind=chosen["kind"] or None,
        reason=chosen["reason"] or None,
        shop=chosen["shop"] or None,
        overdue=True if chosen["due"] == "overdue" else None,
        due_before=due_before,
        flagged=chosen["flagged"] or None,
        assignee_id=actor.user_id if chosen["mine"] and actor.user_id else None,
        search=chosen["q"] or None,
        sla=chosen["sla"] or None,
        store=int(chosen["store"]) if chosen["store"] else None,
    )
    return QueueView(filters=filters, tab=chosen["tab"], sort=chosen["sort"], chosen=chosen)


def query_of(chosen: dict) -> dict:
    """The parameters that differ from the defaults, for a link or a saved view."""
    query: dict = {}
    for name in QUEUE_PARAMETERS:
        value = chosen.get(name)
        if (name == "tab" and value == DEFAULT_TAB) or (name == "sort" and value == DEFAULT_SORT):
            continue
        if value is True:
            query[name] = "1"
        elif value:
            query[name] = value
    return query


def _with_tab(filters: selectors.CaseFilters, tab_code: str) -> selectors.CaseFilters | None:
    """The filters of one tab; ``None`` when the chosen states and the tab's have nothing in
    common (the tab is empty)."""
    tab = next(t for t in TABS if t.code == tab_code)
    if tab.overdue:
        return replace(filters, overdue=True)
    if tab.states is None:
        return filters
    states = [s for s in filters.state or tab.states if s in tab.states]
    return replace(filters, state=states) if states else None


def tab_counts(*, actor: Principal, view: QueueView) -> dict[str, int]:
    """How many cases each tab holds under the view's other filters, in one query."""
    now = clock.now()
    counts = {}
    for tab in TABS:
        if tab.overdue:
            condition = Q(deadline_at__lt=now)
        elif tab.states is not None:
            condition = Q(state__in=tab.states)
        else:
            condition = Q()
        counts[tab.code] = Count("id", filter=condition) if condition else Count("id")
    return selectors.case_queryset(actor, view.filters).aggregate(**counts)


# --- a page in any order ------------------------------------------------------------------------


def _encode(value, case_id: int) -> str:
    if isinstance(value, dt.datetime):
        value = value.isoformat()
    elif isinstance(value, Decimal):
        value = str(value)
    raw = json.dumps([value, case_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, column: str):
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, case_id = json.loads(raw)
        case_id = int(case_id)
        if not 0 < case_id < 2**63:
            raise ValueError(case_id)
        if value is not None and column == "requested_amount":
            value = Decimal(str(value))
            if not value.is_finite():
                raise ValueError(value)
        elif value is not None:
            value = dt.datetime.fromisoformat(value)
            if value.tzinfo is None:
                raise ValueError(value)
        return value, case_id
    except (ValueError, TypeError, binascii.Error, InvalidOperation, OverflowError):
        raise InvalidInput(_("The cursor is not valid."), code="invalid_cursor") from None


def _sorted_page(cases: QuerySet[Case], sort: str, cursor: str | None, size: int) -> list[dict]:
    """Rows in (column, id) order, ascending or descending; rows without a value (a case with
    no deadline) come last either way."""
    descending = sort.startswith("-")
    column = SORT_COLUMNS[sort.lstrip("-")]
    after = _decode(cursor, column) if cursor else None
    ordering = (f"-{column}", "-id") if descending else (column, "id")
    beyond = "lt" if descending else "gt"
    valued = cases.exclude(**{column: None}).order_by(*ordering)
    empty = cases.filter(**{column: None}).order_by(ordering[1])
    if after is not None and after[0] is None:
        return list(
            empty.filter(**{f"id__{beyond}": after[1]}).values(*selectors.SUMMARY_FIELDS)[:size]
        )
    if after is not None:
        value, last_id = after
        valued = valued.filter(
            Q(**{f"{column}__{beyond}": value}) | Q(**{column: value, f"id__{beyond}": last_id})
        )
    rows = list(valued.values(*selectors.SUMMARY_FIELDS)[:size])
    if len(rows) < size:
        rows += list(empty.values(*selectors.SUMMARY_FIELDS)[: size - len(rows)])
    return rows


def queue_page(
    *, actor: Principal, view: QueueView, cursor: str | None = None, limit: int = 50
) -> tuple[list[dict], str | None]:
    """A page of the view's tab (rows as ``selectors.SUMMARY_FIELDS``) and the next cursor."""
    filters = _with_tab(view.filters, view.tab)
    if filters is None:
        return [], None
    if view.sort == DEFAULT_SORT:
        return selectors.case_list(actor=actor, filters=filters, cursor=cursor, limit=limit)
    cases = selectors.case_queryset(actor, filters)
    rows = _sorted_page(cases, view.sort, cursor, limit + 1)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        column = SORT_COLUMNS[view.sort.lstrip("-")]
        next_cursor = _encode(rows[-1][column], rows[-1]["id"])
    return rows, next_cursor


EXPORT_LIMIT = 10_000


def queue_rows(*, actor: Principal, view: QueueView, limit: int = EXPORT_LIMIT) -> Iterator[dict]:
    """Every row of the view's tab in its order, page by page, up to ``limit`` rows."""
    cursor, given = None, 0
    while given < limit:
        rows, cursor = queue_page(actor=actor, view=view, cursor=cursor, limit=min(500, limit))
        yield from rows[: limit - given]
        given += len(rows)
        if cursor is None:
            return


def export_table(*, actor: Principal, view: QueueView) -> tuple[list[str], Iterator[list]]:
    """The view's rows for a spreadsheet: translated headers, words instead of codes, times as
    people read them in each shop's time zone; the assignee for the staff only."""
    staff = actor.is_staff
    header = [
        _("Case"),
        _("Order"),
        _("Customer"),
        _("Kind"),
        _("Reason"),
        _("State"),
        _("Amount"),
        _("Currency"),
        _("Deadline"),
        _("Opened"),
        _("Updated"),
    ]
    if staff:
        header.append(_("Assignee"))
    zones = dict(Shop.objects.values_list("code", "timezone"))

    def when(moment, shop: str) -> str:
        return readable_time(moment, zones.get(shop, "UTC")) if moment else ""

    def rows() -> Iterator[list]:
        page: list[dict] = []
        for row in queue_rows(actor=actor, view=view):
            page.append(row)
            if len(page) == 500:
                yield from _present(page)
                page = []
        yield from _present(page)

    def _present(page: list[dict]) -> Iterator[list]:
        assignees = selectors.queue_extras([row["id"] for row in page]) if staff and page else {}
        for row in page:
            shop = row["shop__code"]
            line = [
                row["number"],
                row["order__external_id"],
                row["customer__name"] or row["customer__external_id"],
                CaseKind(row["kind"]).label,
                Reason(row["reason"]).label,
                state_label(row["state"], row["kind"]),
                row["requested_amount"],
                row["shop__currency"],
                when(row["deadline_at"], shop),
                when(row["created_at"], shop),
                when(row["updated_at"], shop),
            ]
            if staff:
                line.append(assignees.get(row["id"], {}).get("assignee__username") or "")
            yield line

    return [str(name) for name in header], rows()


# --- saved views --------------------------------------------------------------------------------

MAX_SAVED_VIEWS = 20


def saved_views_for(actor: Principal) -> list[SavedView]:
    if not actor.is_staff or actor.user_id is None:
        return []
    return list(SavedView.objects.filter(user_id=actor.user_id).order_by("name", "id"))


@transaction.atomic
def saved_view_create(*, actor: Principal, name: str, query: Mapping) -> SavedView:
    """Save the caller's view of the queue under a name (staff only). The parameters are read as
    the queue reads them; a shop the caller cannot see is refused."""
    if not actor.is_staff or actor.user_id is None:
        raise PermissionDenied(_("Only the shop's staff may do this."), code="forbidden")
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise InvalidInput(
            _("Give the view a name of at most 60 characters."), code="name_required", field="name"
        )
    unknown = sorted(set(query) - set(QUEUE_PARAMETERS))
    if unknown:
        raise InvalidInput(
            _("Unknown parameters: %(names)s.") % {"names": ", ".join(unknown)},
            code="unknown_parameter",
        )
    view = queue_parameters(query, actor)
    if view.chosen["shop"]:
        shops = Shop.objects.filter(code=view.chosen["shop"])
        if actor.shop_ids is not None:
            shops = shops.filter(id__in=actor.shop_ids)
        if not shops.exists():
            raise NotFound(
                _("No shop %(code)s.") % {"code": view.chosen["shop"]}, code="shop_not_found"
            )
    views = SavedView.objects.select_for_update().filter(user_id=actor.user_id)
    existing = list(views.values_list("name", flat=True))
    if name in existing:
        raise Conflict(_("You have a view called %(name)s.") % {"name": name}, code="view_exists")
    if len(existing) >= MAX_SAVED_VIEWS:
        raise Conflict(
            _("You may keep at most %(count)s views.") % {"count": MAX_SAVED_VIEWS},
            code="too_many_views",
        )
    return SavedView.objects.create(
        user_id=actor.user_id, name=name, query=query_of(view.chosen), created_at=clock.now()
    )


@transaction.atomic
def saved_view_delete(*, actor: Principal, view_id: int) -> None:
    """Delete one of the caller's saved views (another's is not found)."""
    deleted = 0
    if actor.user_id is not None:
        deleted, _rows = SavedView.objects.filter(pk=view_id, user_id=actor.user_id).delete()
    if not deleted:
        raise NotFound(_("No such view."), code="view_not_found")
