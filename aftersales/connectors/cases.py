"""A marketplace request's case: opened when the request first lands, moved as the platform
moves it.

A read that changes a request marks it (``PlatformRequest.follow_pending``, by ``sync.land_page``
in the page's transaction); ``follow_pending`` then lets each marked request's case ``follow``
it, one request per transaction, oldest landed first (a push's read or an imported line, one
request at a time, follows at once: ``follow_now``):

- A request without a case gets one if the mapping table knows its status and kind: on the order
  the shop imported under the platform's order number, or else on an order built from what the
  request says (its lines and the amounts asked, enough for the ledger to bound the refunds). The
  case is opened by the system in the store's name (``cases.moves.opening.PlatformOpenIn``: the
  platform's rules admitted the request, the shop's windows are not asked again) and then taken
  to the state the platform gives.
- A request with a case moves it (``platform_update``) when the platform's state means another
  state here, or its deadline changed; its customer service stepping in or out pauses or resumes
  the case's deadline (``platform_pause`` / ``platform_resume``).
- What cannot be followed never guesses: an unknown code, a kind the cases do not model, a case
  that ended otherwise than the platform says, a kind the buyer changed — the request is flagged
  for a person with the reason (``PlatformRequest.link_error``), and the case stays as it is.

``ConnectorsDesk`` is what the cases app asks about a platform's case (it cannot import this
higher layer): what the platform says, the platform's name, and the work a deadline asks for.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _
from pydantic import ValidationError as PydanticValidationError

from aftersales.cases.choices import FINAL_STATES, Action, CaseKind, CaseState, Reason
from aftersales.cases.lifecycle import CASES
from aftersales.cases.models import Case
from aftersales.cases.moves.opening import PlatformOpenIn
from aftersales.cases.moves.platform import PlatformView
from aftersales.cases.moves.platform import deadline as platform_deadline
from aftersales.catalog.models import Order, OrderStatus
from aftersales.catalog.order_data import CustomerData, LineData, OrderData
from aftersales.catalog.orders import order_upsert
from aftersales.connectors.base import UNMODELLED
from aftersales.connectors.models import PlatformRequest, PlatformWrite, Store, StorePlatform
from aftersales.core.actors import SYSTEM_ROLE, Principal
from aftersales.core.errors import ApplicationError
from aftersales.core.gate import open_subject, transition
from aftersales.core.lifecycle import input_error

# The platforms' reasons, as their buyers choose them, in the product's words (the first pattern
# that matches decides; a reason none matches is "changed mind" and its words stay on the case).
REASON_WORDS: tuple[tuple[str, Reason], ...] = (
    (r"七天无理由|7天无理由|无理由", Reason.NO_REASON),
    (r"假货|假冒|仿冒|非正品", Reason.COUNTERFEIT),
    (r"未收到|没收到|未签收|丢件|物流.*(停|丢)", Reason.NOT_RECEIVED),
    (r"未发货|不发货|缺货|无货|延迟发货|发货慢", Reason.NOT_SHIPPED),
    (r"发错|错发|颜色.*不符|款式.*不符|型号.*不符", Reason.WRONG_ITEM),
    (r"少件|漏发|缺件|少发|配件.*(少|缺)", Reason.MISSING_ITEM),
    (r"破损|压坏|碎|运输.*损", Reason.DAMAGED_IN_TRANSIT),
    (r"描述不符|与描述|与商品描述|图片不符|材质不符|尺寸.*不符", Reason.NOT_AS_DESCRIBED),
    (r"质量|故障|坏了|不能用|无法使用|瑕疵|做工|开线|褪色|过期|变质|腐烂", Reason.QUALITY_ISSUE),
    (r"尺码|大小|不合身|偏大|偏小", Reason.WRONG_SIZE),
    (r"拍错|多拍|错拍|拍多|买错", Reason.BOUGHT_BY_MISTAKE),
)

# Where a platform's raw fields name the buyer (the customer a built order is for).
BUYER_FIELDS = (
    "buyer_nick",
    "buyer_open_uid",
    "buyer_id",
    "buyerOpenId",
    "buyerId",
    "customerPin",
    "pin",
    "open_id",
    "user_id",
)


def reason_of(words: str) -> Reason:
    for pattern, reason in REASON_WORDS:
        if re.search(pattern, words or ""):
            return reason
    return Reason.CHANGED_MIND


def platform_actor(store: Store) -> Principal:
    """The system, acting in the store's name (what the timeline shows as who did it)."""
    return Principal(
        user_id=None, username=store.name[:150] or store.platform, role=SYSTEM_ROLE, shop_ids=None
    )


# --- the order ----------------------------------------------------------------------------------


def _buyer(row: PlatformRequest) -> str:
    raw = (row.payload or {}).get("raw") or {}
    for name in BUYER_FIELDS:
        value = raw.get(name)
        if value not in (None, ""):
            return f"{row.store.platform}:{value}"[:100]
    return f"{row.store.platform}:order:{row.order_id}"[:100]


def _remote_lines(row: PlatformRequest) -> list[dict]:
    lines = list((row.payload or {}).get("lines") or [])
    if lines:
        return lines
    # A platform that gives no items: the whole request as one line.
    return [
        {
            "line_id": row.request_id,
            "sku": "",
            "title": _("Item of order %(order)s") % {"order": row.order_id},
            "quantity": 1,
            "amount": str(row.amount),
        }
    ]


def _sku_code(store: Store, line: dict) -> str:
    return str(line.get("sku") or f"{store.platform}:{line.get('line_id') or 'item'}")[:100]


def order_for(row: PlatformRequest) -> Order:
    """The order the request is about: the one the shop imported under the platform's order
    number, or one built from what the request says."""
    store = row.store
    order = (
        Order.objects.select_related("shop").filter(shop_id=store.shop_id, external_id=row.order_id)
    ).first()
    if order is not None:
        return order
    lines = _remote_lines(row)
    created = row.platform_created_at
    with_goods = row.mapped_kind in (CaseKind.RETURN_REFUND, CaseKind.EXCHANGE, CaseKind.REPAIR)
    data = OrderData(
        shop=store.shop.code,
        external_id=row.order_id[:100],
        customer=CustomerData(external_id=_buyer(row)),
        lines=[
            LineData(
                external_id=str(line.get("line_id") or index)[:100],
                sku=_sku_code(store, line),
                title=str(line.get("title") or _sku_code(store, line))[:300],
                quantity=max(int(line.get("quantity") or 1), 1),
                unit_price=(
                    Decimal(str(line.get("amount") or "0")) / max(int(line.get("quantity") or 1), 1)
                ).quantize(Decimal("0.01")),
                paid_amount=Decimal(str(line.get("amount") or "0")),
            )
            for index, line in enumerate(lines, start=1)
        ],
        paid_at=created,
        shipped_at=created if with_goods else None,
        status=OrderStatus.SHIPPED if with_goods else OrderStatus.PAID,
    )
    order, _created = order_upsert(actor=platform_actor(store), data=data)
    return order


def _asked(amount: Decimal, paid: Decimal) -> Decimal | None:
    """What a line asks, within what it was paid (nothing asked: the line's default)."""
    amount = min(amount, paid)
    return amount if amount > 0 else None


def _case_lines(row: PlatformRequest, order: Order) -> list[dict]:
    """The order lines the request asks about, matched by the platform's line id, then by SKU
    code; with the units and amounts it asks (within what each line was paid)."""
    order_lines = list(order.lines.select_related("sku").order_by("id"))
    by_external = {line.external_id: line for line in order_lines}
    by_sku = {line.sku.code: line for line in order_lines}
    wanted: list[dict] = []
    for line in _remote_lines(row):
        match = by_external.get(str(line.get("line_id") or "")) or by_sku.get(
            _sku_code(row.store, line)
        )
        if match is None:
            continue
        wanted.append(
            {
                "order_line_id": match.id,
                "quantity": min(max(int(line.get("quantity") or 1), 1), match.quantity),
                "amount": _asked(Decimal(str(line.get("amount") or "0")), match.paid_amount),
            }
        )
    if not wanted and len(order_lines) == 1:
        only = order_lines[0]
        wanted.append(
            {
                "order_line_id": only.id,
                "quantity": only.quantity,
                "amount": _asked(row.amount, only.paid_amount),
            }
        )
    return wanted


# --- following the platform -----------------------------------------------------------------------


def _flag(row: PlatformRequest, problem: str) -> None:
    row.needs_person = True
    row.link_error = problem[:300]
    PlatformRequest.objects.filter(pk=row.pk).update(needs_person=True, link_error=row.link_error)


def _clear(row: PlatformRequest) -> None:
    if row.link_error:
        row.link_error = ""
        PlatformRequest.objects.filter(pk=row.pk).update(link_error="")


def _open(row: PlatformRequest) -> Case | None:
    order = order_for(row)
    lines = _case_lines(row, order)
    if not lines:
        _flag(
            row,
            _("None of the request's items is on order %(order)s.") % {"order": order.external_id},
        )
        return None
    words = " ".join(part for part in (row.reason, row.payload.get("buyer_note", "")) if part)
    try:
        data = PlatformOpenIn.model_validate(
            {
                "order_id": order.id,
                "kind": row.mapped_kind,
                "reason": reason_of(words),
                "description": words[:5000],
                "lines": lines,
                "platform": row.store.platform,
            }
        )
    except PydanticValidationError as error:
        raise input_error(error, PlatformOpenIn) from None
    case = open_subject(CASES, actor=platform_actor(row.store), data=data)
    row.case = case
    PlatformRequest.objects.filter(pk=row.pk).update(case=case)
    # Opened, its deadline was the shop's alone (the request was not linked yet): in the same
    # transaction, the platform's clock has its say.
    at, action = platform_deadline(case, case.deadline_at, case.deadline_action)
    if (at, action) != (case.deadline_at, case.deadline_action):
        Case.objects.filter(pk=case.pk).update(deadline_at=at, deadline_action=action)
    return case


def _take(row: PlatformRequest, case: Case, action: str) -> Case:
    return transition(CASES, subject_id=case.pk, action=action, actor=platform_actor(row.store))


def follow(row: PlatformRequest) -> Case | None:
    """Open or move the case of a request a read just changed (see the module's words). Refusals
    flag the request for a person; they never undo the read."""
    if not row.mapped_state or row.mapped_kind == UNMODELLED:
        return row.case  # a person decides (needs_person is set by the landing)
    try:
        with transaction.atomic():
            return _follow(row)
    except ApplicationError as error:
        _flag(row, str(error.detail if hasattr(error, "detail") else error))
        return row.case


def _follow(row: PlatformRequest) -> Case | None:
    case_id = row.case_id
    if case_id is None:
        opened = _open(row)
        if opened is None:
            return None
        case_id = opened.pk
    case = Case.objects.get(pk=case_id)
    if case.kind != row.mapped_kind:
        _flag(
            row,
            _("On the platform the request is now “%(platform)s”; the case is “%(case)s”.")
            % {
                "platform": CaseKind(row.mapped_kind).label,
                "case": CaseKind(case.kind).label,
            },
        )
        return case
    if row.handling != row.case_paused:
        case = _take(row, case, Action.PLATFORM_PAUSE if row.handling else Action.PLATFORM_RESUME)
        row.case_paused = row.handling
        PlatformRequest.objects.filter(pk=row.pk).update(case_paused=row.handling)
    if case.state in FINAL_STATES:
        if row.mapped_state != case.state:
            _flag(
                row,
                _("On the platform the request is “%(platform)s”; the case ended “%(case)s”.")
                % {
                    "platform": CaseState(row.mapped_state).label,
                    "case": CaseState(case.state).label,
                },
            )
        else:
            _clear(row)
        return case
    if row.mapped_state != case.state or _deadline_moved(row, case):
        case = _take(row, case, Action.PLATFORM_UPDATE)
    _clear(row)
    return case


# Requests taken from the pending list at a time (each then followed in its own transaction).
FOLLOW_BATCH = 200


def _follow_locked(row: PlatformRequest) -> Case | None:
    case = follow(row)
    row.follow_pending = False
    PlatformRequest.objects.filter(pk=row.pk).update(follow_pending=False)
    return case


def follow_now(row: PlatformRequest) -> PlatformRequest:
    """Let the case of a request just landed follow it now, in a transaction of its own; the
    request as it is then (another worker may have followed it already)."""
    with transaction.atomic():
        fresh = PlatformRequest.objects.select_for_update().select_related("store").get(pk=row.pk)
        if fresh.follow_pending:
            _follow_locked(fresh)
    return fresh


def follow_pending(store: Store, *, limit: int | None = None) -> int:
    """Let the cases of the store's requests that a read changed follow them, oldest landed
    first, each in a transaction of its own (a request another worker is following is left to
    it); how many followed. A crash leaves the rest marked: the next call goes on."""
    followed, after = 0, 0
    while limit is None or followed < limit:
        batch = list(
            PlatformRequest.objects.filter(store=store, follow_pending=True, pk__gt=after)
            .order_by("pk")
            .values_list("pk", flat=True)[:FOLLOW_BATCH]
        )
        if not batch:
            break
        for pk in batch:
            after = pk
            with transaction.atomic():
                row = (
                    PlatformRequest.objects.select_for_update(skip_locked=True)
                    .filter(pk=pk, follow_pending=True)
                    .first()
                )
                if row is None:
                    continue
                row.store = store
                _follow_locked(row)
            followed += 1
            if limit is not None and followed >= limit:
                break
    return followed


def _deadline_moved(row: PlatformRequest, case: Case) -> bool:
    if row.handling:
        return False
    if case.deadline_action == "platform_due":
        return case.deadline_at != row.deadline_at
    return row.deadline_at is not None and (
        case.deadline_at is None or row.deadline_at < case.deadline_at
    )


# --- what the cases app asks ----------------------------------------------------------------------


class ConnectorsDesk:
    """Registered with ``cases.moves.platform`` at the app's start."""

    def platform_of(self, case) -> PlatformView | None:
        cached = case.__dict__.get("_platform_view")
        if cached is not None:
            return cached
        row = (
            PlatformRequest.objects.select_related("store")
            .filter(case_id=case.pk)
            .only(
                "request_id",
                "status",
                "kind",
                "mapped_state",
                "money_out",
                "amount",
                "handling",
                "deadline_at",
                "needs_person",
                "handle_on_platform_url",
                "link_error",
                "store__name",
                "store__platform",
            )
            .first()
        )
        if row is None:
            return None
        view = PlatformView(
            store=row.store.name,
            platform=row.store.platform,
            platform_name=self.platform_name(row.store.platform),
            request_id=row.request_id,
            status=row.status,
            kind=row.kind,
            state=row.mapped_state,
            money_out=row.money_out,
            amount=row.amount,
            handling=row.handling,
            deadline_at=row.deadline_at,
            needs_person=row.needs_person,
            handle_url=row.handle_on_platform_url,
            problem=row.link_error,
            write_pending=PlatformWrite.objects.filter(
                request_id=row.pk, status__in=("sending", "unknown")
            ).exists(),
        )
        case.__dict__["_platform_view"] = view
        return view

    def stores_for(self, shop_ids: frozenset[int] | None) -> list[tuple[int, str]]:
        stores = Store.objects.order_by("name", "id")
        if shop_ids is not None:
            stores = stores.filter(shop_id__in=shop_ids)
        return [
            (store_id, f"{name} · {self.platform_name(platform)}")
            for store_id, name, platform in stores.values_list("id", "name", "platform")
        ]

    def platform_name(self, platform: str) -> str:
        try:
            return str(StorePlatform(platform).label)
        except ValueError:
            return ""

    def due(self, case, action: str) -> None:
        from aftersales.connectors import tasks  # the tasks import the sync, which imports this

        tasks.enqueue(tasks.case_due, case.pk, action)


DESK = ConnectorsDesk()
