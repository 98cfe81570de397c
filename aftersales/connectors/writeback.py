"""A person's move on a marketplace's case goes to the platform first.

Registered with ``cases.services`` (``register_before_move``): before the move's own transaction,
a move the platform must know of (approve, reject, confirm receipt, refund, ship a replacement)
is checked against the case's table, recorded (``PlatformWrite``, committed before the call, so a
crash or a timeout leaves the record), and sent with the request's version token (a request kept
from a listing that gives none is read first). Only when the platform accepts it does the case
move here. Otherwise the move is refused in words:

- the request changed on the platform (a refused version, or a state the write does not fit): it
  is read again at once — the case follows the platform — and the agent is told what changed;
- no answer (a timeout): the outcome is unknown; the write is never sent again, the next read of
  the request settles it (``settle``), and no other write to the request is sent until then;
- the platform does not let an API handle the request (Douyin 11001): a person handles it in the
  platform's back office, by the link kept on the request;
- the store's writes are off, its keys rejected, the platform unreachable or refusing: said so.

Moves the platform has no part in (an inspection, a note, a flag) are the shop's own and go on.
The system's automatic actions on a platform's case (``case_due``) are carried out the same way,
within the store's cap on automatic refunds, or handed to a person.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.cases.choices import Action, CaseKind, CaseState, DeadlineAction
from aftersales.cases.lifecycle import CASES, DEADLINES
from aftersales.cases.models import Case
from aftersales.catalog.models import ReturnAddress as ShopAddress
from aftersales.connectors import keys
from aftersales.connectors.base import (
    ConnectorError,
    CredentialRejected,
    HandleOnPlatform,
    NotOffered,
    OutcomeUnknown,
    RateLimited,
    RemoteLine,
    RemoteRequest,
    ReturnAddress,
    StateRefused,
    Unreachable,
    VersionConflict,
    WriteResult,
)
from aftersales.connectors.cases import DESK, follow_now, platform_actor
from aftersales.connectors.models import PlatformRequest, PlatformWrite, Store, WriteStatus
from aftersales.core import clock
from aftersales.core.actors import SYSTEM, Principal
from aftersales.core.errors import ApplicationError, Conflict
from aftersales.core.gate import parse_input, transition

UNSETTLED = (WriteStatus.SENDING, WriteStatus.UNKNOWN)
# A write still "sending" this long after it was recorded lost its answer (the process died).
SENDING_LOST_AFTER = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Planned:
    """One write: the adapter's call and its arguments (beside the request), whether it moves
    money, and the amount."""

    call: str
    arguments: dict[str, Any] = field(default_factory=dict)
    money: bool = False
    amount: Decimal | None = None


def remote_of(row: PlatformRequest) -> RemoteRequest:
    """The request as last read, in the adapters' shape (its version token is what a write
    carries)."""
    payload = row.payload or {}
    return RemoteRequest(
        platform=str(payload.get("platform") or row.store.platform),
        request_id=row.request_id,
        order_id=row.order_id,
        status=row.status,
        kind=row.kind,
        version=row.version,
        created_at=row.platform_created_at,
        modified_at=row.modified_at,
        amount=row.amount,
        reason=row.reason,
        buyer_note=str(payload.get("buyer_note") or ""),
        handling=row.handling,
        deadline_at=row.deadline_at,
        tracking_number=str(payload.get("tracking_number") or ""),
        lines=tuple(
            RemoteLine(
                line_id=str(line.get("line_id") or ""),
                sku=str(line.get("sku") or ""),
                title=str(line.get("title") or ""),
                quantity=int(line.get("quantity") or 0),
                amount=Decimal(str(line.get("amount") or "0")),
            )
            for line in payload.get("lines") or ()
        ),
        raw=payload.get("raw") or {},
    )


# --- what each move sends -------------------------------------------------------------------------


def _address(case: Case, address_id: int | None, platform_address_id: str) -> ReturnAddress:
    found = ShopAddress.objects.filter(shop_id=case.shop_id)
    found = found.filter(pk=address_id) if address_id else found.filter(is_default=True)
    address = found.first()
    if address is None:
        raise Conflict(
            _("The shop has no return address; add one or pick one to approve a return."),
            code="return_address_required",
        )
    return ReturnAddress(
        name=address.name,
        phone=address.phone,
        address=address.address,
        platform_address_id=platform_address_id,
    )


# The platforms that agree a return with their own id of the shop's return address (JD takes
# the address itself).
ADDRESS_ID_NEEDED = frozenset({"taobao", "tmall", "pinduoduo", "douyin", "kuaishou"})


def _approve(case: Case, row: PlatformRequest, data) -> Planned:
    if case.kind == CaseKind.REFUND_ONLY:
        return Planned("agree_refund", {"amount": row.amount}, money=True, amount=row.amount)
    store = row.store
    if store.platform in ADDRESS_ID_NEEDED and not store.return_address_id:
        raise Conflict(
            _(
                "%(platform)s agrees a return with its own id of the shop's return address: set it "
                "on the store's page."
            )
            % {"platform": DESK.platform_name(store.platform)},
            code="platform_address_required",
        )
    address = _address(case, getattr(data, "return_address_id", None), store.return_address_id)
    return Planned("agree_return", {"address": address})


def _reject(case: Case, row: PlatformRequest, data) -> Planned:
    code = getattr(data, "platform_reason_code", "")
    if not code and row.store.platform != "pinduoduo":
        raise Conflict(
            _("%(platform)s needs one of its refusal reasons: enter its code.")
            % {"platform": DESK.platform_name(row.store.platform)},
            code="platform_reason_code_required",
            field="platform_reason_code",
        )
    return Planned("refuse", {"reason_code": code, "reason": data.reason})


def _receive(case: Case, row: PlatformRequest, data) -> Planned:
    # Some platforms agree the refund with the receipt (Pinduoduo): money, never sent twice.
    return Planned("confirm_receipt", money=case.kind == CaseKind.RETURN_REFUND, amount=row.amount)


def _refund(case: Case, row: PlatformRequest, data) -> Planned:
    return Planned("agree_refund", {"amount": row.amount}, money=True, amount=row.amount)


def _ship(case: Case, row: PlatformRequest, data) -> Planned:
    return Planned(
        "ship_exchange", {"carrier": data.carrier, "tracking_number": data.tracking_number}
    )


def _message(case: Case, row: PlatformRequest, data) -> Planned:
    return Planned("message", {"text": data.text})


PLANS: dict[str, Callable[[Case, PlatformRequest, Any], Planned]] = {
    Action.APPROVE: _approve,
    Action.REJECT: _reject,
    Action.RECEIVE: _receive,
    Action.REFUND: _refund,
    Action.SHIP_REPLACEMENT: _ship,
    # The shop's message to the buyer (``conversations``), not a move of the case.
    Action.MESSAGE: _message,
}

# The shop's automatic actions and the move that carries each out on the platform.
AUTOMATIC: dict[str, str] = {
    DeadlineAction.AUTO_APPROVE: Action.APPROVE,
    DeadlineAction.AUTO_REFUND: Action.REFUND,
}


# --- sending ----


def _refuse_unless_writable(row: PlatformRequest) -> None:
    store = row.store
    name = DESK.platform_name(store.platform)
    if row.handle_on_platform_url:
        raise Conflict(
            _(
                "%(platform)s does not let this request be handled here: handle it in its back "
                "office."
            )
            % {"platform": name},
            code="handle_on_platform",
            url=row.handle_on_platform_url,
        )
    if not store.api_access:
        raise Conflict(
            _("Store %(store)s has no API access: handle the request on %(platform)s.")
            % {"store": store.name, "platform": name},
            code="platform_no_api",
        )
    if not store.write_enabled:
        raise Conflict(
            _(
                "Writes to %(platform)s are off for store %(store)s: handle the request there, or "
                "turn writes on."
            )
            % {"store": store.name, "platform": name},
            code="platform_writes_off",
        )
    if store.paused:
        raise Conflict(_("Store %(store)s is paused.") % {"store": store.name}, code="store_paused")
    if row.writes.filter(status__in=UNSETTLED).exists():
        raise Conflict(
            _(
                "An earlier write to %(platform)s got no answer; the next read of the request "
                "settles it."
            )
            % {"platform": name},
            code="platform_outcome_unknown",
        )


def _finish(
    write: PlatformWrite, status: str, failure: ConnectorError | None = None, **more
) -> None:
    write.status = status
    write.finished_at = clock.now()
    if failure is not None:
        write.error = failure.code
        write.platform_code = str(failure.platform_code or "")[:60]
        write.detail = str(failure.detail or failure)[:2000]
    for name, value in more.items():
        setattr(write, name, value)
    write.save()


def _what_changed(before: PlatformRequest, after: PlatformRequest, platform: str) -> str:
    changes = []
    if after.mapped_state != before.mapped_state and after.mapped_state:
        changes.append(_("it is now “%(state)s”") % {"state": CaseState(after.mapped_state).label})
    if after.amount != before.amount:
        changes.append(_("the amount asked is now %(amount)s") % {"amount": after.amount})
    if after.handling and not before.handling:
        changes.append(_("its customer service is handling it"))
    words = "; ".join(str(change) for change in changes) or _("its details changed")
    return _(
        "The request changed on %(platform)s since it was read: %(changes)s. Look again before "
        "acting."
    ) % {
        "platform": platform,
        "changes": words,
    }


def _read_again(row: PlatformRequest, name: str) -> PlatformRequest:
    """The request as the platform has it now (the case follows it); a platform that cannot be
    read just now refuses the move as it would refuse the write."""
    from aftersales.connectors.sync import refresh  # sync imports the cases' follow

    try:
        return refresh(row.store, row.request_id).request
    except ConnectorError as error:
        raise _refusal(row, error, name) from None


def _with_version(row: PlatformRequest, name: str) -> PlatformRequest:
    """The request with the version token a write carries. A listing that gives none (Kuaishou's
    has no ``refundVersion``: only a read does) leaves the request without one: it is read first,
    and if it moved on the platform since it was read, nothing is sent and the agent is told what
    changed."""
    if row.version:
        return row
    after = _read_again(row, name)
    if (after.modified_at, after.status, after.amount) != (
        row.modified_at,
        row.status,
        row.amount,
    ):
        raise Conflict(_what_changed(row, after, name), code="platform_changed")
    return after


def _refusal(row: PlatformRequest, error: ConnectorError, name: str) -> Conflict:
    """A platform's refusal of a call (other than a refused version or a lost answer), in words,
    with what it means for the store or the request: rejected keys pause the store, a request
    the API may not handle keeps the back office's link."""
    store = row.store
    if isinstance(error, HandleOnPlatform):
        url = error.url or ""
        if error.platform_code:
            # The platform said so of the whole request (Douyin 11001, Taobao's refund_onweb):
            # every later write goes to the back office too.
            PlatformRequest.objects.filter(pk=row.pk).update(handle_on_platform_url=url[:500])
            return Conflict(
                _(
                    "%(platform)s does not let this request be handled here: handle it in its "
                    "back office."
                )
                % {"platform": name},
                code="handle_on_platform",
                url=url,
            )
        # Only this write has no API (a Pinduoduo refusal, a Taobao exchange's refusal): the
        # request's other writes still go through.
        return Conflict(
            _("%(platform)s offers no way to do this through its API: do it in its back office.")
            % {"platform": name},
            code="platform_not_offered",
            url=url,
        )
    if isinstance(error, NotOffered):
        return Conflict(
            _("%(platform)s offers no way to do this through its API: do it in its back office.")
            % {"platform": name},
            code="platform_not_offered",
        )
    if isinstance(error, CredentialRejected):
        Store.objects.filter(pk=store.pk).update(
            last_error=error.code,
            last_error_detail=str(error.detail)[:2000],
            last_error_at=clock.now(),
            paused=True,
        )
        return Conflict(
            _("%(platform)s refused the store's keys: renew them on the store's page.")
            % {"platform": name},
            code="platform_credentials",
        )
    if isinstance(error, RateLimited | Unreachable):
        return Conflict(
            _("%(platform)s cannot be reached just now; nothing was done there. Try again shortly.")
            % {"platform": name},
            code="platform_unreachable",
        )
    return Conflict(
        _("%(platform)s refused: %(words)s")
        % {"platform": name, "words": error.detail or error.platform_code},
        code="platform_refused",
        platform_code=str(error.platform_code or ""),
    )


def send(
    *,
    row: PlatformRequest,
    case: Case,
    action: str,
    data,
    actor: Principal,
    automatic: bool = False,
) -> WriteResult | None:
    """Carry ``action`` to the platform (``None``: the platform has no part in it). Recorded
    before the call; refusals raise ``Conflict`` in words."""
    plan_for = PLANS.get(action)
    if plan_for is None:
        return None
    _refuse_unless_writable(row)
    plan = plan_for(case, row, data)
    from aftersales.connectors.sync import adapter_for  # sync imports the cases' follow

    store = row.store
    name = DESK.platform_name(store.platform)
    try:
        adapter = adapter_for(store)
    except keys.KeysUnreadable:
        raise Conflict(
            _("The keys of store %(store)s cannot be read: enter them again.")
            % {"store": store.name},
            code="platform_credentials",
        ) from None
    row = _with_version(row, name)
    write = PlatformWrite.objects.create(
        store=store,
        request=row,
        case=case,
        action=action,
        call=plan.call,
        arguments={k: v for k, v in plan.arguments.items() if k != "address"}
        | ({"address": plan.arguments["address"].address} if "address" in plan.arguments else {}),
        version_sent=row.version,
        status_before=row.status,
        money=plan.money,
        amount=plan.amount,
        automatic=automatic,
        actor_id=actor.user_id,
        created_at=clock.now(),
    )
    try:
        result = getattr(adapter, plan.call)(remote_of(row), **plan.arguments)
    except (VersionConflict, StateRefused) as error:
        _finish(write, WriteStatus.REFUSED, error)
        after = _read_again(row, name)
        raise Conflict(_what_changed(row, after, name), code="platform_changed") from None
    except OutcomeUnknown as error:
        _finish(write, WriteStatus.UNKNOWN, error)
        raise Conflict(
            _(
                "%(platform)s did not answer: the write may or may not have happened. It is not "
                "sent again; the next read of the request settles it."
            )
            % {"platform": name},
            code="platform_outcome_unknown",
        ) from None
    except ConnectorError as error:
        _finish(write, WriteStatus.REFUSED, error)
        raise _refusal(row, error, name) from None
    except ValueError as error:  # the adapter refused the arguments before any call
        _finish(write, WriteStatus.REFUSED, error="invalid_write", detail=str(error)[:2000])
        raise Conflict(
            _("%(platform)s does not take this write: %(words)s")
            % {"platform": name, "words": str(error)},
            code="platform_refused",
        ) from None
    _finish(write, WriteStatus.DONE, version_after=result.version[:100])
    if result.version:
        PlatformRequest.objects.filter(pk=row.pk).update(version=result.version[:100])
        row.version = result.version[:100]
    return result


def _outside_transactions() -> None:
    """A write's record must be committed before its call: inside another transaction it would
    not be (and would vanish with it), so a hook called inside one refuses."""
    if transaction.get_connection().in_atomic_block:
        raise Conflict(
            _("A marketplace's case is acted on one at a time."),
            code="platform_write_in_transaction",
        )


def before_move(*, case_id: int, action: str, actor: Principal, data) -> None:
    """The ``cases.services`` hook: a person's move on a platform's case goes there first."""
    if action not in PLANS:
        return
    row = PlatformRequest.objects.select_related("store").filter(case_id=case_id).first()
    if row is None:
        return
    _outside_transactions()
    if row.follow_pending:
        # The platform's latest read has not reached the case yet: it does now, and the agent
        # looks again before acting (the move was chosen on the case as it was).
        before = Case.objects.only("state", "deadline_at").get(pk=case_id)
        after = follow_now(row).case
        if after is not None and (after.state, after.deadline_at) != (
            before.state,
            before.deadline_at,
        ):
            raise Conflict(
                _(
                    "The request changed on %(platform)s since the case was shown: look again "
                    "before acting."
                )
                % {"platform": DESK.platform_name(row.store.platform)},
                code="platform_changed",
            )
    case = Case.objects.select_related("shop").get(pk=case_id)
    move = CASES.check(case, action, actor)  # nothing is sent for a move the table refuses
    send(row=row, case=case, action=action, data=parse_input(move, data), actor=actor)


@dataclass(frozen=True)
class _Text:
    text: str


def before_shop_message(*, actor: Principal, subject_type: str, subject, text: str) -> None:
    """The ``conversations`` hook: the shop's message on a marketplace's case is left on the
    platform's request too, where the buyer reads it — when the store writes to the platform and
    the platform has a message call. Otherwise it goes by the product's own channels alone; a
    platform's refusal refuses the message (the agent learns it did not reach the buyer there)."""
    if subject_type != "case":
        return
    row = PlatformRequest.objects.select_related("store").filter(case_id=subject.pk).first()
    if row is None or not (row.store.api_access and row.store.write_enabled) or row.store.paused:
        return
    _outside_transactions()
    try:
        send(row=row, case=subject, action=Action.MESSAGE, data=_Text(text), actor=actor)
    except Conflict as refused:
        if refused.code != "platform_not_offered":  # no message call (JD, Pinduoduo): ours only
            raise


# --- settling and the deadlines -------------------------------------------------------------------


def settle(row: PlatformRequest, *, changed: bool) -> None:
    """A read after a write with no answer says whether it happened: the request moved on the
    platform (done) or it is as it was (not done). A read that carries no version token (Kuaishou's
    listing) says it by the status alone."""
    now = clock.now()
    for write in row.writes.filter(status__in=UNSETTLED):
        if write.status == WriteStatus.SENDING and write.created_at > now - SENDING_LOST_AFTER:
            continue  # still in flight
        happened = changed and (
            row.status != write.status_before
            or (bool(row.version) and row.version != write.version_sent)
        )
        write.status = WriteStatus.SETTLED_DONE if happened else WriteStatus.SETTLED_NOT_DONE
        write.finished_at = now
        write.save(update_fields=["status", "finished_at"])


def case_due(case_id: int, action: str) -> str:
    """A platform's case's deadline ran out (``platform_due``: read it again; ``platform_auto``:
    the shop's automatic action, carried out on the platform within the store's cap). What was
    done, in a word (for the task's result)."""
    from aftersales.connectors.sync import refresh

    row = PlatformRequest.objects.select_related("store", "case").filter(case_id=case_id).first()
    if row is None or row.case is None:
        return "no_request"
    store = row.store
    if action == DeadlineAction.PLATFORM_DUE or not store.api_access:
        if store.api_access and not store.paused:
            refresh(store, row.request_id)
            return "read"
        return "nothing"
    case = row.case
    rule = DEADLINES.get(case.state)
    automatic = AUTOMATIC.get(rule.action_for(case)) if rule else None
    if automatic is None:
        # The platform closes what the buyer let lapse by its own rules: read it again.
        if not store.paused:
            refresh(store, row.request_id)
        return "read"
    name = DESK.platform_name(store.platform)
    try:
        plan = PLANS[automatic](case, row, None)
    except ApplicationError as error:
        _to_person(row, str(error.detail))
        return error.code
    if plan.money and plan.amount is not None and plan.amount > store.auto_refund_cap:
        amount = plan.amount
        _to_person(
            row,
            _(
                "The automatic refund of %(amount)s is above store %(store)s's cap (%(cap)s): a "
                "person decides."
            )
            % {"amount": amount, "store": store.name, "cap": store.auto_refund_cap},
        )
        return "above_cap"
    try:
        send(row=row, case=case, action=automatic, data=None, actor=SYSTEM, automatic=True)
    except ApplicationError as error:
        _to_person(row, str(error.detail))
        return error.code
    system_move = {Action.APPROVE: Action.AUTO_APPROVE, Action.REFUND: Action.AUTO_REFUND}[
        automatic
    ]
    transition(CASES, subject_id=case.pk, action=system_move, actor=platform_actor(store))
    return f"sent to {name}"


def _to_person(row: PlatformRequest, problem: str) -> None:
    PlatformRequest.objects.filter(pk=row.pk).update(needs_person=True, link_error=problem[:300])
