"""The KPI rollups against the raw rows: random streams of cases opened and moved through the
API (some of them a platform store's), the deadline and SLA sweeps, assignments, compensation,
repairs with their costs, goods scrapped, parcels the shop paid, contacts with their staff time
and complaints, with the feed run at random moments; every figure of
``kpis`` equals the same figure computed here from the cases, their events, the refund ledger,
the compensation and complaint rows, the repairs' costs and the platform requests; the
incremental rollups equal a rebuild."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections import defaultdict
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftersales.cases.choices import FINAL_STATES
from aftersales.cases.lifecycle import CASES
from aftersales.cases.models import Case, Compensation, RefundEntry
from aftersales.catalog.models import Product, Shop, Sku
from aftersales.complaints.models import Complaint
from aftersales.connectors.models import PlatformRequest, Store
from aftersales.core.actors import STAFF_ROLES, SYSTEM
from aftersales.core.models import Event
from aftersales.core.money import money
from aftersales.core.sweep import sweep_batch
from aftersales.disputes.models import Dispute
from aftersales.insights import selectors
from aftersales.insights.feed import rollup_advance, rollup_check
from aftersales.insights.models import PRODUCT_MEASURES
from aftersales.policy.models import Policy
from aftersales.policy.services import policy_update
from aftersales.routing.models import AgentProfile, Team
from aftersales.sla.clocks import response_actions
from aftersales.sla.hours import HoursIn
from aftersales.sla.refresh import calendars_for, sla_sweep
from aftersales.sla.schemas import TargetIn, TargetsIn
from aftersales.sla.services import business_hours_set, targets_set
from aftersales.team.models import ContactLog
from tests.conftest import NOW, make_order, make_user

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
SINCE, UNTIL = dt.date(2026, 11, 20), dt.date(2027, 11, 19)
SHIP = {"carrier": "中通", "tracking_number": "ZT1"}
GROUPS = ("shop", "kind", "agent", "team", "platform", "reason", "store", "day", "month")
CATEGORIES = {"SKU-1": "鞋", "SKU-2": "鞋", "SKU-3": ""}
DIAGNOSE = {"diagnosed_by": "shop", "fault_code": "不开机"}


@pytest.fixture
def world(shop, agent, finance, customer):
    make_user("agent2", "agent", shop="shop")
    stores = [
        Store.objects.create(
            shop=shop, platform=platform, name=f"{platform} 旗舰店", seller_id=f"S-{platform}"
        )
        for platform in ("taobao", "jd")
    ]
    # "agent" works in a team, "agent2" in none: the figures by team are the owners' teams now
    team = Team.objects.create(shop=shop, name="退换货一组", created_at=NOW)
    AgentProfile.objects.update_or_create(
        shop=shop, user=get_user_model().objects.get(username="agent"), defaults={"team": team}
    )
    return {
        "shop": shop,
        "team": team,
        "stores": stores,
        "agent": agent,
        "finance": finance,
        "customer": customer,
        "lead": make_user("lead", "lead", shop="shop"),
    }


# --- the next moves of a case, by its state ----------------------------------------------------


def moves_for(state: str) -> list[tuple[str, str, dict]]:
    key = uuid.uuid4().hex
    return {
        "awaiting_seller": [
            ("agent", "approve", {}),
            ("agent", "reject", {"reason": "照片看不清"}),
            ("customer", "cancel", {}),
        ],
        "rejected": [
            ("customer", "modify", {"reason": "not_as_described"}),
            ("customer", "cancel", {}),
        ],
        "awaiting_return": [("customer", "ship_return", SHIP), ("customer", "cancel", {})],
        "return_in_transit": [
            ("agent", "receive", {}),
            # refused when the customer pays the return shipping: no matter
            ("agent", "receive", {"shipping_cost": "6.00"}),
        ],
        "inspecting": [("agent", "inspect", {"result": "pass"})],
        "refund_pending": [
            ("finance", "refund", {"idempotency_key": key}),
            ("agent", "convert", {"kind": "exchange", "reason": "顾客改为换货"}),
        ],
        "replacement_pending": [
            ("agent", "ship_replacement", SHIP),
            ("agent", "ship_replacement", {**SHIP, "shipping_cost": "9.50"}),
        ],
        "shipped_to_customer": [("customer", "confirm_receipt", {})],
        "diagnosing": [
            ("agent", "diagnose", DIAGNOSE),
            ("agent", "diagnose", {**DIAGNOSE, "quote_parts": "80.00", "quote_labour": "40.00"}),
        ],
        "quote_pending": [("customer", "accept_quote", {}), ("customer", "decline_quote", {})],
        "repairing": [
            ("agent", "ship_back", {**SHIP, "parts_cost": "45.00", "labour_cost": "30.50"}),
            ("agent", "ship_back", {**SHIP, "labour_cost": "12.25", "shipping_cost": "7.00"}),
            ("agent", "ship_back", SHIP),
        ],
        "return_unrepaired": [("agent", "ship_back", {**SHIP, "labour_cost": "8.00"})],
    }.get(state, [])


def link_to_store(number: str, store: Store, clock) -> None:
    """The case answers a request of the platform store (as the connectors link it: in the
    transaction that opens it, before the feed reads it)."""
    PlatformRequest.objects.create(
        store=store,
        request_id=f"R-{number}",
        order_id=f"P-{number}",
        status="WAIT_SELLER_AGREE",
        platform_created_at=clock.now,
        modified_at=clock.now,
        amount=Decimal("100.00"),
        first_seen_at=clock.now,
        updated_at=clock.now,
        case=Case.objects.get(number=number),
    )


def run_stream(world, clock, data) -> None:
    """A random stream of what happens to a shop's cases, the feed run now and then."""
    shop = world["shop"]
    if data.draw(st.booleans(), label="business hours"):
        business_hours_set(
            actor=SYSTEM,
            shop=shop,
            hours=HoursIn(
                region="",
                windows={day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
            ),
        )
    if data.draw(st.booleans(), label="targets"):
        targets_set(
            actor=SYSTEM,
            shop=shop,
            data=TargetsIn(
                targets=[
                    TargetIn(
                        subject_type="case",
                        first_response=dt.timedelta(hours=2),
                        resolution=dt.timedelta(hours=30),
                    )
                ]
            ),
        )
    rate = data.draw(st.sampled_from(["0.00", "75.00"]), label="staff rate")
    policy_update(actor=SYSTEM, shop=shop, changes={"insights": {"staff_cost_per_hour": rate}})
    Sku.objects.update(stock=50)
    numbers: list[str] = []
    for index in range(data.draw(st.integers(1, 4), label="cases")):
        # one or two lines of three SKUs, two of them in a category (the figures by product)
        skus = data.draw(
            st.lists(st.sampled_from(list(CATEGORIES)), min_size=1, max_size=2, unique=True),
            label="skus",
        )
        order = make_order(
            external_id=f"O{index}",
            paid_at=clock.now - dt.timedelta(days=4),
            lines=[
                (f"L{n}", sku, 2, Decimal("100.00"), Decimal("180.00"))
                for n, sku in enumerate(skus)
            ],
        )
        for sku, category in CATEGORIES.items():
            Product.objects.filter(skus__code=sku).update(category=category)
        Sku.objects.update(stock=50)
        body = {
            "order_id": order.id,
            "kind": data.draw(
                st.sampled_from(["refund_only", "return_refund", "exchange", "repair"])
            ),
            "reason": data.draw(st.sampled_from(["quality_issue", "wrong_size", "wrong_item"])),
            "lines": [
                {"order_line_id": line.id, "quantity": data.draw(st.integers(1, 2))}
                for line in order.lines.order_by("id")
            ],
        }
        response = world["customer"].post("/cases", body)
        if response.status_code == 201:
            numbers.append(response.json()["number"])
            store = data.draw(st.sampled_from([None, *world["stores"]]), label="store")
            if store is not None:
                link_to_store(numbers[-1], store, clock)
        clock.shift(minutes=data.draw(st.integers(1, 300)))
    if not numbers:
        return
    for _ in range(data.draw(st.integers(0, 18), label="steps")):
        step = data.draw(
            st.sampled_from(
                [
                    "move",
                    "move",
                    "move",
                    "feed",
                    "wait",
                    "sweep",
                    "assign",
                    "compensate",
                    "complain",
                    "dispute",
                    "scrap",
                    "contact",
                ]
            )
        )
        number = data.draw(st.sampled_from(numbers))
        if step == "move":
            state = Case.objects.get(number=number).state
            options = moves_for(state)
            if options:
                role, action, body = data.draw(st.sampled_from(options))
                world[role].act(number, action, body)
        elif step == "feed":
            rollup_advance(batch_size=data.draw(st.integers(1, 7)))
        elif step == "wait":  # up to three weeks: the stream crosses months (monthly rollups)
            clock.shift(hours=data.draw(st.integers(1, 500)))
        elif step == "sweep":
            sweep_batch()
            sla_sweep()
        elif step == "assign":
            name = data.draw(st.sampled_from(["agent", "agent2", None]))
            world["agent"].put(f"/cases/{number}/assignee", {"assignee": name})
        elif step == "compensate":
            world["agent"].post(
                f"/cases/{number}/compensations",
                {"reason": "goodwill", "kind": "coupon", "amount": "5.00"},
            )
        elif step == "complain":
            order = Case.objects.get(number=number).order
            world["customer"].post(
                "/complaints",
                {"type": "not_as_described", "description": "与描述不符", "order_id": order.id},
            )
        elif step == "scrap":  # an inspection that scraps the goods (elsewhere refused)
            case = Case.objects.get(number=number)
            grades = [
                {"order_line_id": line.order_line_id, "condition": "intact", "disposition": "scrap"}
                for line in case.lines.all()
            ]
            world["agent"].act(number, "inspect", {"lines": grades})
        elif step == "contact":
            world["agent"].post(
                f"/cases/{number}/contacts",
                {"channel": "call", "summary": "回访", "minutes": data.draw(st.integers(1, 90))},
            )
        elif step == "dispute":  # opens on a rejected case (refused elsewhere: no matter)
            world["customer"].post(
                "/disputes",
                {
                    "case_number": number,
                    "kind": "refund",
                    "dispute_class": "product",
                    "statement": "商品有质量问题，卖家拒绝退款",
                },
            )
        # every step at its own moment: the raw rows below tell the order by time
        clock.shift(minutes=data.draw(st.integers(1, 90)))


# --- the same figures from the raw rows ----------------------------------------------------------


def local_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(SHANGHAI).date()


class Timeline:
    """A case's kind, owner and reason at a moment, read from its events; its platform and
    store."""

    def __init__(self, case: Case, events: list[Event], users: dict[str, int]):
        self.case, self.events, self.users = case, events, users
        request = PlatformRequest.objects.filter(case=case).first()
        self.store = request.store_id if request else None

    def at(self, moment: dt.datetime) -> tuple:
        kind, reason, agent = None, None, None
        for event in self.events:
            if event.at > moment:
                break
            if event.action == "open":
                kind, reason = event.data["kind"], event.data["reason"]
            elif event.action == "convert":
                kind = event.data["to_kind"]
            elif event.action == "modify" and event.data.get("reason"):
                reason = event.data["reason"]
            elif event.action == "assign":
                agent = self.users.get(event.data.get("assignee") or "")
        return kind, agent, self.case.platform, reason, self.store


def raw_contributions(shop: Shop) -> list[tuple[tuple, dict]]:
    calendar = calendars_for([shop])[shop.pk]
    rate = Decimal(
        Policy.objects.filter(shop=shop).latest("version").data["insights"]["staff_cost_per_hour"]
    )
    users = dict(get_user_model().objects.values_list("username", "id"))
    case_type = ContentType.objects.get_for_model(Case)
    found: list[tuple[tuple, dict]] = []

    def add(moment, keys, **values):
        found.append(((shop.pk, local_day(moment), *keys), values))

    for case in Case.objects.filter(shop=shop):
        events = list(
            Event.objects.filter(subject_type=case_type, subject_id=case.pk).order_by("id")
        )
        timeline = Timeline(case, events, users)
        opened = case.created_at
        add(opened, timeline.at(opened), opened=1)
        # the first response, by the service levels' rule: the first event of a member of staff
        # the customer sees while the case is open (a receipt after the clock's approval counts;
        # ``Case.first_response_at`` records only a person's decision, so it is not the oracle)
        end = next((e.id for e in events if e.to_state in FINAL_STATES), None)
        answered = next(
            (
                e.at
                for e in events
                if e.role in STAFF_ROLES
                and e.action in response_actions(CASES)
                and (end is None or e.id < end)
            ),
            None,
        )
        if answered is not None:
            add(
                answered,
                timeline.at(answered),
                first_responses=1,
                first_response_seconds=int((answered - opened).total_seconds()),
                first_response_business_seconds=int(
                    calendar.elapsed(opened, answered).total_seconds()
                ),
            )
        breached = any(e.action == "sla_breach" for e in events)
        if case.state in FINAL_STATES:
            ended = case.resolved_at
            add(
                ended,
                timeline.at(ended),
                ended=1,
                ended_refunded=int(case.state == "refunded"),
                ended_within_sla=int(not breached),
                ended_breached=int(breached),
                resolution_seconds=int((ended - opened).total_seconds()),
                resolution_business_seconds=int(calendar.elapsed(opened, ended).total_seconds()),
                returns=int(case.kind == "return_refund"),
                exchanges=int(case.kind == "exchange"),
                repairs=int(case.kind == "repair"),
            )
        rejections = [e for e in events if e.action == "reject"]
        if rejections:
            add(rejections[0].at, timeline.at(rejections[0].at), rejected=1)
        for event in events:
            if event.action == "sla_breach":
                add(event.at, timeline.at(event.at), sla_breaches=1)
        refunds: dict[str, list[RefundEntry]] = defaultdict(list)
        for entry in RefundEntry.objects.filter(case=case):
            refunds[entry.idempotency_key].append(entry)
        for entries in refunds.values():
            moment = entries[0].created_at
            add(
                moment,
                timeline.at(moment),
                refunds=1,
                refund_amount=sum(e.amount for e in entries),
            )
        for grant in Compensation.objects.filter(case=case):
            add(
                grant.created_at,
                timeline.at(grant.created_at),
                compensations=1,
                compensation_amount=grant.amount,
            )
        shipped_back = case.outbound_shipped_at
        if case.parts_cost or case.labour_cost:
            # the costs of a repair, recorded when its goods go back
            add(
                shipped_back,
                timeline.at(shipped_back),
                repair_parts_amount=case.parts_cost,
                repair_labour_amount=case.labour_cost,
            )
        scrapped = sum(
            (
                line.order_line.unit_price * line.received_quantity
                for line in case.lines.filter(disposition="scrap")
            ),
            Decimal("0.00"),
        )
        if scrapped:  # written off when inspected
            inspected = next(e.at for e in events if e.action == "inspect")
            add(inspected, timeline.at(inspected), written_off_amount=scrapped)
        if case.return_shipping_cost:
            add(
                case.received_at,
                timeline.at(case.received_at),
                shipping_amount=case.return_shipping_cost,
            )
        if case.outbound_shipping_cost:
            add(
                shipped_back,
                timeline.at(shipped_back),
                shipping_amount=case.outbound_shipping_cost,
            )
        contacts = ContactLog.objects.filter(subject_type=case_type, subject_id=case.pk)
        for entry in contacts.filter(minutes__isnull=False):
            add(
                entry.created_at,
                timeline.at(entry.created_at),
                staff_minutes=entry.minutes,
                staff_cost_amount=money(Decimal(entry.minutes) * rate / 60),
            )
        for dispute in Dispute.objects.filter(case=case):
            add(dispute.created_at, timeline.at(dispute.created_at), disputes=1)
    for complaint in Complaint.objects.filter(shop=shop):
        add(complaint.created_at, ("", None, "", "", None), complaints=1)
    return found


def expected_products(
    shop: Shop, group_by: str, since: dt.date = SINCE, until: dt.date = UNTIL
) -> dict[str, dict]:
    """The figures by SKU or category computed here from the cases, their lines and the refund
    ledger: each case counts under every SKU it names."""
    users = dict(get_user_model().objects.values_list("username", "id"))
    case_type = ContentType.objects.get_for_model(Case)
    sums: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    for case in Case.objects.filter(shop=shop):
        events = list(
            Event.objects.filter(subject_type=case_type, subject_id=case.pk).order_by("id")
        )
        timeline = Timeline(case, events, users)
        units: dict[tuple, int] = defaultdict(int)
        for line in case.lines.select_related("order_line__sku__product"):
            sku = line.order_line.sku
            key = str(sku.pk) if group_by == "sku" else (sku.product.category or "none")
            units[(key, sku.pk)] += line.quantity
        if since <= local_day(case.created_at) <= until:
            for (group, _sku), count in units.items():
                sums[group]["opened"] += 1
                sums[group]["units"] += count
        if case.state in FINAL_STATES:
            kind = timeline.at(case.resolved_at)[0]
            for group, _sku in units:
                if since <= local_day(case.resolved_at) <= until:
                    sums[group]["ended"] += 1
                    sums[group]["ended_refunded"] += int(case.state == "refunded")
                    sums[group]["ended_returns"] += int(kind == "return_refund")
                    sums[group]["ended_exchanges"] += int(kind == "exchange")
                    sums[group]["ended_repairs"] += int(kind == "repair")
        refunds: dict[str, list[RefundEntry]] = defaultdict(list)
        for entry in RefundEntry.objects.filter(case=case):
            refunds[entry.idempotency_key].append(entry)
        for entries in refunds.values():
            if since <= local_day(entries[0].created_at) <= until:
                for group, _sku in units:
                    sums[group]["refunds"] += 1
                    sums[group]["refund_amount"] += sum(e.amount for e in entries)
    result = {}
    for group, s in sums.items():
        if not any(s.values()):
            continue
        figures = selectors.product_figures({name: s.get(name, 0) for name in PRODUCT_MEASURES})
        result[group] = figures
    return result


def expected_rows(
    shop: Shop, group_by: str, since: dt.date = SINCE, until: dt.date = UNTIL
) -> dict[str, dict]:
    usernames = {v: k for k, v in get_user_model().objects.values_list("username", "id")}
    teams = {
        profile.user_id: str(profile.team_id)
        for profile in AgentProfile.objects.filter(shop=shop, team__isnull=False)
    }

    def group_of(key: tuple) -> str:
        _shop, day, kind, agent, platform, reason, store = key
        return {
            "shop": shop.code,
            "kind": kind or "none",
            "agent": usernames[agent] if agent else "none",
            "team": teams.get(agent, "none"),
            "platform": platform or "none",
            "reason": reason or "none",
            "store": str(store) if store else "none",
            "day": day.isoformat(),
            "month": f"{day:%Y-%m}",
            "all": "all",
        }[group_by]

    sums: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    for key, values in raw_contributions(shop):
        if not since <= key[1] <= until:
            continue
        for name, value in values.items():
            sums[group_of(key)][name] += value
    return {group: rates(values) for group, values in sums.items()}


def rates(s: dict) -> dict:
    """The figures of one group, divided as the documentation says."""

    def share(part, whole):
        return round(100 * part / whole, 2) if whole else None

    def hours(seconds, count):
        return round(seconds / count / 3600, 2) if count else None

    def money(amount):
        return Decimal(amount).quantize(Decimal("0.01"))

    cost = (
        s["compensation_amount"]
        + s["repair_parts_amount"]
        + s["repair_labour_amount"]
        + s["written_off_amount"]
        + s["shipping_amount"]
        + s["staff_cost_amount"]
    )
    return {
        "opened": s["opened"],
        "ended": s["ended"],
        "first_responses": s["first_responses"],
        "first_response_hours": hours(s["first_response_seconds"], s["first_responses"]),
        "first_response_business_hours": hours(
            s["first_response_business_seconds"], s["first_responses"]
        ),
        "resolution_hours": hours(s["resolution_seconds"], s["ended"]),
        "resolution_business_hours": hours(s["resolution_business_seconds"], s["ended"]),
        "sla_met": s["ended_within_sla"],
        "sla_breached": s["ended_breached"],
        "sla_met_percent": share(s["ended_within_sla"], s["ended"]),
        "refunded": s["ended_refunded"],
        "refund_rate": share(s["ended_refunded"], s["ended"]),
        "returns": s["returns"],
        "return_rate": share(s["returns"], s["ended"]),
        "exchanges": s["exchanges"],
        "exchange_share": share(s["exchanges"], s["ended"]),
        "repairs": s["repairs"],
        "repair_share": share(s["repairs"], s["ended"]),
        "rejected": s["rejected"],
        "rejection_rate": share(s["rejected"], s["opened"]),
        "refunds": s["refunds"],
        "refund_amount": Decimal(s["refund_amount"]).quantize(Decimal("0.01")),
        "compensations": s["compensations"],
        "compensation_amount": Decimal(s["compensation_amount"]).quantize(Decimal("0.01")),
        "sla_breaches": s["sla_breaches"],
        "complaints": s["complaints"],
        "complaints_per_100": share(s["complaints"], s["opened"]),
        "disputes": s["disputes"],
        "disputes_per_100": share(s["disputes"], s["opened"]),
        "repair_parts_amount": money(s["repair_parts_amount"]),
        "repair_labour_amount": money(s["repair_labour_amount"]),
        "written_off_amount": money(s["written_off_amount"]),
        "shipping_amount": money(s["shipping_amount"]),
        "staff_minutes": s["staff_minutes"],
        "staff_hours": hours(s["staff_minutes"] * 60, 1) if s["staff_minutes"] else None,
        "staff_cost_amount": money(s["staff_cost_amount"]),
        "cost_amount": money(cost),
        "cost_per_case": money(Decimal(cost) / s["ended"]) if s["ended"] else None,
    }


def feed_to_the_end() -> None:
    while rollup_advance(batch_size=50).consumed:
        pass


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_every_figure_equals_the_raw_rows(world, clock, data):
    clock.set(NOW)
    with transaction.atomic():
        # given a random stream of cases and what happens to them, the feed run now and then
        run_stream(world, clock, data)
        # when the feed has read the whole timeline
        feed_to_the_end()
        # then every figure of every grouping is the raw rows'
        lead = world["lead"].principal
        for group_by in GROUPS:
            rows = selectors.kpis(actor=lead, since=SINCE, until=UNTIL, group_by=group_by)
            got = {row.pop("key"): {k: v for k, v in row.items() if k != "label"} for row in rows}
            assert got == expected_rows(world["shop"], group_by), group_by
        # and so is every figure of any period (whole months read from the monthly rollups, the
        # days at its ends from the daily ones)
        since = SINCE + dt.timedelta(days=data.draw(st.integers(0, 70), label="since"))
        until = since + dt.timedelta(days=data.draw(st.integers(0, 120), label="days"))
        for group_by in ("kind", "month", "agent"):
            rows = selectors.kpis(actor=lead, since=since, until=until, group_by=group_by)
            got = {row.pop("key"): {k: v for k, v in row.items() if k != "label"} for row in rows}
            assert got == expected_rows(world["shop"], group_by, since, until), group_by
        for group_by in ("sku", "category"):
            for period in ((SINCE, UNTIL), (since, until)):
                rows = selectors.product_kpis(
                    actor=lead, since=period[0], until=period[1], group_by=group_by
                )
                got = {
                    row.pop("key"): {k: v for k, v in row.items() if k != "label"} for row in rows
                }
                assert got == expected_products(world["shop"], group_by, *period), group_by
        totals = selectors.kpi_totals(actor=lead, shop=None, since=since, until=until)
        expected = expected_rows(world["shop"], "all", since, until)
        assert totals == (expected.get("all") or rates(defaultdict(int)))
        # and the incremental rollups are what a rebuild gives
        assert rollup_check().differences == []
        transaction.set_rollback(True)
