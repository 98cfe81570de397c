"""What each timeline event contributes to the KPIs: the facts of one batch of events.

The table (``docs/insights.md`` has it in words):

| event (``core.Event``)                                      | fact                            |
| ----------------------------------------------------------- | ------------------------------- |
| a case's ``open``                                           | opened                          |
| a case's first staff event the customer sees (a message, a  | first response (calendar and    |
| person's move: approve, reject, …) while it is open — the   | business seconds since opening) |
| service levels' own rule (``sla.clocks.response_actions``)  |                                 |
| a case's first move into a final state (refunded,           | ended (its final state, the     |
| completed, closed)                                          | seconds since opening, and      |
|                                                             | whether no breach was told)     |
| a case's event whose data records ``refunded`` > 0 (refund, | refund (the amount)             |
| auto-refund, auto-approve of a refund only, the platform's  |                                 |
| or a dispute's refund, an exchange's price difference)      |                                 |
| a case's first ``reject``                                   | rejected                        |
| a case's ``compensate`` (coupon or store credit)            | compensation (the amount)       |
| a case's ``sla_breach`` (any metric)                        | SLA breach; the case's end, if  |
|                                                             | any, turns from met to breached |
| a dispute's ``open``                                        | dispute (under its case's keys) |
| a complaint's ``file``                                      | complaint (shop and day only)   |
| a case's ``ship_back`` (a repair's goods back to the        | repair parts, repair labour     |
| customer; once a case) with ``parts_cost``, ``labour_cost`` | (each amount above 0)          |
| a case's ``inspect`` with ``written_off`` (the scrapped     | written off (the amount)        |
| lines' unit price × units received)                         |                                 |
| a case's ``receive`` / ``ship_replacement`` / ``ship_back`` | shipping (the amount)           |
| with ``shipping_cost`` (what the parcel cost the shop)      |                                 |
| a case's ``contact`` (the contact log) with ``minutes``     | staff time (the minutes, as     |
| and ``staff_cost`` (at the shop's rate when logged)         | seconds, and the cost)          |
| a case's ``assign`` / ``convert`` / ``modify`` (reason)     | no fact: the case's owner, kind |
|                                                             | or reason for the facts after   |
| any event of another subject (a review, a survey, a         | no fact                         |
| retention item…)                                            |                                 |

Keys: the shop, the shop's local date of the event, and the case's kind, owner, platform and
reason as the timeline has them at that event, and the platform store whose request the case
answers (``connectors.PlatformRequest.case``; none for the shop's own cases and complaints).

Costs: a case's cost is what the timeline records as money the shop spends on it: compensation,
a repair's parts and labour, the goods it scraps, the parcels it pays and the staff time of its
contact log, each written on its event when it happened (so a rebuild counts the same).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType

from aftersales.cases.choices import FINAL_STATES, Action, CaseKind, CaseState
from aftersales.cases.lifecycle import CASES
from aftersales.cases.models import Case, CaseLine
from aftersales.catalog.models import Shop
from aftersales.complaints.choices import Action as ComplaintAction
from aftersales.complaints.models import Complaint
from aftersales.connectors.models import PlatformRequest
from aftersales.core.actors import STAFF_ROLES
from aftersales.core.bulk import bulk_insert_rows, bulk_update_rows
from aftersales.core.models import Event
from aftersales.disputes.choices import Action as DisputeAction
from aftersales.disputes.models import Dispute
from aftersales.insights.models import (
    CaseProduct,
    CaseTrack,
    DailyRollup,
    Fact,
    Measure,
    ProductDailyRollup,
)
from aftersales.sla.clocks import response_actions
from aftersales.sla.refresh import calendars_for
from aftersales.team.workbench import CONTACT

KEY_FIELDS = DailyRollup.KEY
RESPONSES = response_actions(CASES)
BREACH = "sla_breach"  # the service levels' breach event (``sla.choices.SLA_ACTIONS``)
# The moves that record what a parcel cost the shop: the customer's return (when the shop pays
# it) and the parcel back to the customer.
SHIPPING_ACTIONS = (Action.RECEIVE, Action.SHIP_REPLACEMENT, Action.SHIP_BACK)


def key_of(row) -> tuple:
    return tuple(getattr(row, name) for name in KEY_FIELDS)


def contribution(fact: Fact) -> dict[str, object]:
    """The rollup columns one fact adds to."""
    measure = fact.measure
    if measure == Measure.OPENED:
        return {"opened": 1}
    if measure == Measure.ENDED:
        return {
            "ended": 1,
            "ended_refunded": int(fact.outcome == CaseState.REFUNDED),
            "ended_within_sla": int(bool(fact.within_sla)),
            "ended_breached": int(not fact.within_sla),
            "resolution_seconds": fact.seconds,
            "resolution_business_seconds": fact.business_seconds,
        }
    if measure == Measure.FIRST_RESPONSE:
        return {
            "first_responses": 1,
            "first_response_seconds": fact.seconds,
            "first_response_business_seconds": fact.business_seconds,
        }
    if measure == Measure.REFUND:
        return {"refunds": 1, "refund_amount": fact.amount}
    if measure == Measure.REJECTED:
        return {"rejected": 1}
    if measure == Measure.COMPENSATION:
        return {"compensations": 1, "compensation_amount": fact.amount}
    if measure == Measure.SLA_BREACH:
        return {"sla_breaches": 1}
    if measure == Measure.DISPUTE:
        return {"disputes": 1}
    if measure == Measure.COMPLAINT:
        return {"complaints": 1}
    if measure == Measure.REPAIR_PARTS:
        return {"repair_parts_amount": fact.amount}
    if measure == Measure.REPAIR_LABOUR:
        return {"repair_labour_amount": fact.amount}
    if measure == Measure.WRITTEN_OFF:
        return {"written_off_amount": fact.amount}
    if measure == Measure.SHIPPING:
        return {"shipping_amount": fact.amount}
    if measure == Measure.STAFF_TIME:  # the minutes, as the fact's seconds
        return {"staff_minutes": fact.seconds // 60, "staff_cost_amount": fact.amount}
    raise ValueError(measure)


def product_contribution(fact: Fact, units: int) -> dict[str, object]:
    """The product rollup columns one fact of a case adds to, for each SKU the case names."""
    measure = fact.measure
    if measure == Measure.OPENED:
        return {"opened": 1, "units": units}
    if measure == Measure.ENDED:
        return {
            "ended": 1,
            "ended_refunded": int(fact.outcome == CaseState.REFUNDED),
            "ended_returns": int(fact.kind == CaseKind.RETURN_REFUND),
            "ended_exchanges": int(fact.kind == CaseKind.EXCHANGE),
            "ended_repairs": int(fact.kind == CaseKind.REPAIR),
        }
    if measure == Measure.REFUND:
        return {"refunds": 1, "refund_amount": fact.amount}
    return {}


def _amount(value) -> Decimal:
    try:
        return Decimal(str(value or "0"))
    except InvalidOperation:
        return Decimal("0")


def _minutes(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _seconds(delta: dt.timedelta) -> int:
    return max(int(delta.total_seconds()), 0)


# The facts that count by product: a case opened, ended, refunded.
PRODUCT_FACTS = frozenset({Measure.OPENED, Measure.ENDED, Measure.REFUND})
PRODUCT_KEY_FIELDS = ProductDailyRollup.KEY


def _products(
    tracks: dict[int, CaseTrack], new_tracks: set[int]
) -> tuple[dict[int, list[CaseProduct]], list[CaseProduct]]:
    """The SKUs of the batch's cases: those the feed recorded when it first met a case (kept by
    a rebuild, so a product's category is the one it had then), and for the cases it meets for
    the first time, their lines' SKUs with the product's category and the units claimed (a
    case's lines do not change once it is open)."""
    found: dict[int, list[CaseProduct]] = defaultdict(list)
    if tracks:
        for product in CaseProduct.objects.filter(case_id__in=list(tracks)):
            found[product.case_id].append(product)
    created: list[CaseProduct] = []
    first_met = [case_id for case_id in new_tracks if case_id not in found]
    if first_met:
        units: dict[tuple[int, int], list] = {}
        lines = CaseLine.objects.filter(case_id__in=first_met).values_list(
            "case_id", "order_line__sku_id", "order_line__sku__product__category", "quantity"
        )
        for case_id, sku_id, category, quantity in lines:
            entry = units.setdefault((case_id, sku_id), [category or "", 0])
            entry[1] += quantity
        for (case_id, sku_id), (category, quantity) in sorted(units.items()):
            product = CaseProduct(
                case_id=case_id,
                shop_id=tracks[case_id].shop_id,
                sku_id=sku_id,
                category=category,
                units=quantity,
            )
            found[case_id].append(product)
            created.append(product)
    return found, created


@dataclass
class Batch:
    """One batch of events, with everything its facts need read in a few queries up front (the
    tracks of its cases, the cases it meets first, its disputes' cases, the owners it names,
    its shops' time zones and calendars)."""

    tracks: dict[int, CaseTrack]
    new_tracks: set[int]
    dispute_cases: dict[int, int]
    agents: dict[str, int]
    zones: dict[int, zoneinfo.ZoneInfo]
    calendars: dict[int, object]
    ended: dict[int, Fact]  # the end facts already written of the batch's cases, by fact id
    types: dict[str, int]
    facts: list[Fact] = field(default_factory=list)
    flipped: dict[int, Fact] = field(default_factory=dict)
    dirty: set[int] = field(default_factory=set)
    end_of: dict[int, Fact] = field(default_factory=dict)  # case id → its end fact, this batch
    deltas: dict[tuple, dict[str, object]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    # The SKUs each case names (its ``CaseProduct`` rows), the new ones to write, and the
    # product rollups' deltas (key: ``ProductDailyRollup.KEY``).
    products: dict[int, list[CaseProduct]] = field(default_factory=dict)
    new_products: list[CaseProduct] = field(default_factory=list)
    product_deltas: dict[tuple, dict[str, object]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )

    @classmethod
    def load(cls, events: list[Event]) -> Batch:
        types = {
            "case": ContentType.objects.get_for_model(Case).id,
            "complaint": ContentType.objects.get_for_model(Complaint).id,
            "dispute": ContentType.objects.get_for_model(Dispute).id,
        }
        case_ids = {e.subject_id for e in events if e.subject_type_id == types["case"]}
        dispute_ids = {
            e.subject_id
            for e in events
            if e.subject_type_id == types["dispute"] and e.action == DisputeAction.OPEN
        }
        dispute_cases = (
            dict(Dispute.objects.filter(id__in=dispute_ids).values_list("id", "case_id"))
            if dispute_ids
            else {}
        )
        case_ids |= set(dispute_cases.values())
        tracks = CaseTrack.objects.in_bulk(case_ids) if case_ids else {}
        new_tracks = set()
        missing = case_ids - set(tracks)
        if missing:
            for row in Case.objects.filter(id__in=missing).values(
                "id", "shop_id", "kind", "reason", "platform"
            ):
                tracks[row["id"]] = CaseTrack(
                    case_id=row["id"],
                    shop_id=row["shop_id"],
                    kind=row["kind"],
                    reason=row["reason"],
                    platform=row["platform"],
                )
                new_tracks.add(row["id"])
            # The store of a marketplace case: linked in the transaction that opened it, so
            # known by the time its first event is read (one query for the batch's new cases).
            for case_id, store_id in PlatformRequest.objects.filter(
                case_id__in=missing
            ).values_list("case_id", "store_id"):
                tracks[case_id].store_id = store_id
        products, new_products = _products(tracks, new_tracks)
        names = {
            (e.data or {}).get("assignee") or (e.data or {}).get("owner") or ""
            for e in events
            if e.action == Action.ASSIGN and e.subject_type_id == types["case"]
        } - {""}
        agents = (
            dict(get_user_model().objects.filter(username__in=names).values_list("username", "id"))
            if names
            else {}
        )
        shops = list(Shop.objects.filter(id__in={e.shop_id for e in events}))
        breached = {
            e.subject_id
            for e in events
            if e.action == BREACH and e.subject_type_id == types["case"]
        }
        ended_ids = [
            t.ended_fact for i, t in tracks.items() if i in breached and t.ended_fact is not None
        ]
        return cls(
            tracks=tracks,
            new_tracks=new_tracks,
            dispute_cases=dispute_cases,
            agents=agents,
            zones={s.pk: zoneinfo.ZoneInfo(s.timezone) for s in shops},
            calendars=calendars_for(shops),
            ended=Fact.objects.in_bulk(ended_ids) if ended_ids else {},
            types=types,
            products=products,
            new_products=new_products,
        )

    # --- one event -------------------------------------------------------------------------------

    def take(self, event: Event) -> None:
        if event.shop_id not in self.zones:
            return  # a shop deleted since
        if event.subject_type_id == self.types["case"]:
            track = self.tracks.get(event.subject_id)
            if track is not None:
                self._case_event(event, track)
        elif event.subject_type_id == self.types["complaint"]:
            if event.action == ComplaintAction.FILE:
                self._add(event, Measure.COMPLAINT, None, complaint_id=event.subject_id)
        elif event.subject_type_id == self.types["dispute"] and event.action == DisputeAction.OPEN:
            track = self.tracks.get(self.dispute_cases.get(event.subject_id, 0))
            if track is not None:
                self._add(event, Measure.DISPUTE, track)

    def _case_event(self, event: Event, track: CaseTrack) -> None:
        data = event.data or {}
        action = event.action
        if action == Action.OPEN:
            track.kind = data.get("kind") or track.kind
            track.reason = data.get("reason") or track.reason
            track.opened_at = event.at
            self._touch(track)
            self._add(event, Measure.OPENED, track)
            return
        if action == Action.ASSIGN:
            name = data.get("assignee") or data.get("owner") or ""
            track.agent_id = self.agents.get(name) if name else None
            self._touch(track)
        elif action == Action.CONVERT and data.get("to_kind"):
            track.kind = data["to_kind"]
            self._touch(track)
        elif action == Action.MODIFY and data.get("reason"):
            track.reason = data["reason"]
            self._touch(track)
        elif action == BREACH:
            self._add(event, Measure.SLA_BREACH, track)
            if not track.breached:
                track.breached = True
                self._touch(track)
                self._flip_end(track)
        if action == Action.REJECT and not track.rejected:
            track.rejected = True
            self._touch(track)
            self._add(event, Measure.REJECTED, track)
        if (
            track.first_response_at is None
            and track.ended_at is None
            and track.opened_at is not None
            and event.role in STAFF_ROLES
            and action in RESPONSES
        ):
            track.first_response_at = event.at
            self._touch(track)
            self._add(event, Measure.FIRST_RESPONSE, track, since=track.opened_at)
        refunded = _amount(data.get("refunded"))
        if refunded > 0:
            self._add(event, Measure.REFUND, track, amount=refunded)
        if action == Action.COMPENSATE:
            self._add(event, Measure.COMPENSATION, track, amount=_amount(data.get("amount")))
        if action == Action.SHIP_BACK:  # the repair's costs, as the person sending it back gave
            for measure, name in (
                (Measure.REPAIR_PARTS, "parts_cost"),
                (Measure.REPAIR_LABOUR, "labour_cost"),
            ):
                cost = _amount(data.get(name))
                if cost > 0:
                    self._add(event, measure, track, amount=cost)
        if action == Action.INSPECT:  # the scrapped goods' value
            written_off = _amount(data.get("written_off"))
            if written_off > 0:
                self._add(event, Measure.WRITTEN_OFF, track, amount=written_off)
        if action in SHIPPING_ACTIONS:  # what the parcel cost the shop
            shipping = _amount(data.get("shipping_cost"))
            if shipping > 0:
                self._add(event, Measure.SHIPPING, track, amount=shipping)
        if action == CONTACT and _minutes(data.get("minutes")):
            self._add(
                event,
                Measure.STAFF_TIME,
                track,
                amount=_amount(data.get("staff_cost")),
                seconds=_minutes(data.get("minutes")) * 60,
            )
        if (
            track.ended_at is None
            and event.to_state in FINAL_STATES
            and event.from_state not in FINAL_STATES
        ):
            track.ended_at = event.at
            self._touch(track)
            self.end_of[track.case_id] = self._add(
                event,
                Measure.ENDED,
                track,
                since=track.opened_at,
                outcome=event.to_state,
                within_sla=not track.breached,
            )

    def _touch(self, track: CaseTrack) -> None:
        self.dirty.add(track.case_id)

    def _add(
        self,
        event: Event,
        measure: str,
        track: CaseTrack | None,
        *,
        since: dt.datetime | None = None,
        amount: Decimal = Decimal("0.00"),
        complaint_id: int | None = None,
        outcome: str = "",
        within_sla: bool | None = None,
        seconds: int = 0,
    ) -> Fact:
        fact = Fact(
            event_id=event.id,
            measure=measure,
            shop_id=event.shop_id,
            day=event.at.astimezone(self.zones[event.shop_id]).date(),
            kind=track.kind if track else "",
            agent_id=track.agent_id if track else None,
            platform=track.platform if track else "",
            reason=track.reason if track else "",
            store_id=track.store_id if track else None,
            case_id=track.case_id if track else None,
            complaint_id=complaint_id,
            amount=amount,
            outcome=outcome,
            within_sla=within_sla,
            seconds=seconds,
        )
        if since is not None:
            fact.seconds = _seconds(event.at - since)
            fact.business_seconds = _seconds(self.calendars[event.shop_id].elapsed(since, event.at))
        self.facts.append(fact)
        sums = self.deltas[key_of(fact)]
        for name, value in contribution(fact).items():
            sums[name] += value
        if track is not None and measure in PRODUCT_FACTS:
            for product in self.products.get(track.case_id, ()):
                key = (fact.shop_id, fact.day, product.sku_id, product.category)
                sums = self.product_deltas[(*key, fact.kind, fact.reason)]
                for name, value in product_contribution(fact, product.units).items():
                    sums[name] += value
        return fact

    def _flip_end(self, track: CaseTrack) -> None:
        """A breach told after the case ended: its end counts as breached, not met."""
        fact = self.end_of.get(track.case_id) or self.ended.get(track.ended_fact or 0)
        if fact is None or not fact.within_sla:
            return
        fact.within_sla = False
        sums = self.deltas[key_of(fact)]
        sums["ended_within_sla"] -= 1
        sums["ended_breached"] += 1
        if fact.pk is not None:
            self.flipped[fact.pk] = fact

    # --- writing ---------------------------------------------------------------------------------

    def save(self) -> None:
        # COPY and one ``UPDATE … FROM (VALUES …)`` on PostgreSQL (``core.bulk``): a rebuild
        # writes millions of these rows, and Django's own bulk writes cost more than the SQL.
        bulk_insert_rows(Fact, self.facts, with_ids=True)
        bulk_insert_rows(CaseProduct, self.new_products)
        if self.flipped:
            bulk_update_rows(Fact, list(self.flipped.values()), ["within_sla"])
        for case_id, fact in self.end_of.items():
            self.tracks[case_id].ended_fact = fact.pk
        created = [self.tracks[i] for i in self.new_tracks]
        changed = [self.tracks[i] for i in self.dirty - self.new_tracks]
        bulk_insert_rows(CaseTrack, created, [f.name for f in CaseTrack._meta.concrete_fields])
        bulk_update_rows(
            CaseTrack,
            changed,
            [
                "kind",
                "reason",
                "agent_id",
                "opened_at",
                "first_response_at",
                "ended_at",
                "ended_fact",
                "rejected",
                "breached",
            ],
        )
