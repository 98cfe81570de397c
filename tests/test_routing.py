"""Assignment of cases and complaints to agents: each strategy's exact picks, caps, skills,
duty and its redistribution, claiming, the worker's step, the API and the desk; a fairness
simulation over 10,000 cases; a race on PostgreSQL that never passes a cap."""

from __future__ import annotations

import random
import threading
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection
from django.test import Client

from aftersales.cases.models import Case
from aftersales.cases.services import case_open, case_transition
from aftersales.catalog.models import Customer, Product, Shop
from aftersales.complaints.models import Complaint
from aftersales.complaints.services import complaint_file
from aftersales.core.actors import SYSTEM
from aftersales.core.errors import ApplicationError
from aftersales.core.models import Event, Notice
from aftersales.routing.models import AgentProfile, DutyChange, RoutingSettings
from aftersales.routing.picking import Candidate, Need, Skills, pick
from aftersales.routing.services import (
    routing_agent_set,
    routing_assign,
    routing_claim,
    routing_duty_set,
    routing_settings_set,
)
from aftersales.routing.sweep import routing_sweep
from aftersales.team.services import token_create, user_create
from aftersales.team.workbench import assign
from tests.conftest import NOW, Api, make_order, make_shop, make_user

# --- the pure pick ---------------------------------------------------------------------------


def agent(user_id, load=0, capacity=10, turn=0, **skills):
    return Candidate(
        user_id=user_id,
        username=f"u{user_id}",
        load=load,
        capacity=capacity,
        last_turn=turn,
        skills=Skills(**{name: frozenset(values) for name, values in skills.items()}),
    )


@pytest.mark.parametrize(
    ("strategy", "pool", "need", "picked"),
    [
        # round robin: never given work first, then whoever waited longest; ties on the user id
        ("round_robin", [agent(1, turn=3), agent(2, turn=0), agent(3, turn=0)], None, 2),
        ("round_robin", [agent(1, turn=3), agent(2, turn=1), agent(3, turn=2)], None, 2),
        ("round_robin", [agent(1, turn=3, load=0), agent(2, turn=1, load=9)], None, 2),
        # ... skipping whoever is at their cap
        ("round_robin", [agent(1, turn=3), agent(2, turn=1, load=10)], None, 1),
        # least loaded, then who waited longest, then the user id
        ("least_loaded", [agent(1, load=2), agent(2, load=1), agent(3, load=4)], None, 2),
        ("least_loaded", [agent(1, load=1, turn=5), agent(2, load=1, turn=4)], None, 2),
        ("least_loaded", [agent(2, load=1), agent(1, load=1)], None, 1),
        ("least_loaded", [agent(1, load=0, capacity=0), agent(2, load=7, capacity=8)], None, 2),
        # skills: the language outweighs kind, reason and category together
        (
            "skills",
            [
                agent(1, kinds={"repair"}, reasons={"quality_issue"}, categories={"phones"}),
                agent(2, load=5, languages={"en"}),
            ],
            Need("repair", "quality_issue", frozenset({"phones"}), "en"),
            2,
        ),
        # the kind before the reason, the reason before a category
        (
            "skills",
            [
                agent(1, reasons={"quality_issue"}, categories={"phones"}),
                agent(2, kinds={"repair"}),
            ],
            Need("repair", "quality_issue", frozenset({"phones"}), "zh-hans"),
            2,
        ),
        (
            "skills",
            [agent(1, categories={"phones"}), agent(2, load=3, reasons={"quality_issue"})],
            Need("repair", "quality_issue", frozenset({"phones"}), "zh-hans"),
            2,
        ),
        # equally skilled: the least loaded of them; nobody skilled: the least loaded of all
        (
            "skills",
            [agent(1, load=3, languages={"en"}), agent(2, load=2, languages={"en"}), agent(3)],
            Need(language="en"),
            2,
        ),
        ("skills", [agent(1, load=3), agent(2, load=2)], Need(language="en"), 2),
        # the skilled one is full: somebody else
        (
            "skills",
            [agent(1, load=10, languages={"en"}), agent(2, load=4)],
            Need(language="en"),
            2,
        ),
    ],
)
def test_each_strategy_picks_exactly(strategy, pool, need, picked):
    assert pick(strategy, pool, need).user_id == picked


@pytest.mark.parametrize("strategy", ["round_robin", "least_loaded", "skills"])
def test_nobody_with_room_means_no_pick(strategy):
    pool = [agent(1, load=2, capacity=2), agent(2, load=0, capacity=0)]
    assert pick(strategy, pool, Need(language="en")) is None
    assert pick(strategy, [], None) is None


# --- fairness over 10,000 simulated cases ---------------------------------------------------

CASES_SIMULATED = 10_000


def simulate(strategy, pool, *, close_chance, seed, need_of=lambda _rng: None, check=None):
    """Hand out 10,000 cases to ``pool``; after each, every open case may be closed with
    ``close_chance``-weighted luck (one random open case at a time). Returns cases per agent."""
    rng = random.Random(seed)
    given = dict.fromkeys((c.user_id for c in pool), 0)
    open_cases: list[int] = []
    for turn in range(1, CASES_SIMULATED + 1):
        need = need_of(rng)
        chosen = pick(strategy, pool, need)
        if check is not None:
            check(pool, need, chosen)
        if chosen is not None:
            chosen.took(turn)
            given[chosen.user_id] += 1
            open_cases.append(chosen.user_id)
        while open_cases and rng.random() < close_chance:
            holder = open_cases.pop(rng.randrange(len(open_cases)))
            next(c for c in pool if c.user_id == holder).load -= 1
        assert all(c.load <= c.capacity for c in pool)
    return given


def test_round_robin_gives_everyone_the_same_number_within_one():
    pool = [agent(i, capacity=CASES_SIMULATED) for i in range(1, 8)]
    given = simulate("round_robin", pool, close_chance=0.5, seed=1)
    assert sum(given.values()) == CASES_SIMULATED
    assert max(given.values()) - min(given.values()) <= 1


def test_round_robin_skips_the_full_and_stays_fair_among_the_rest():
    # one agent with a cap of 3 among six without: the six share the rest within one case
    pool = [agent(1, capacity=3), *(agent(i, capacity=CASES_SIMULATED) for i in range(2, 8))]
    given = simulate("round_robin", pool, close_chance=0.0, seed=2)
    assert given[1] == 3
    others = [given[i] for i in range(2, 8)]
    assert sum(others) == CASES_SIMULATED - 3
    assert max(others) - min(others) <= 1


def test_least_loaded_keeps_the_loads_within_one_of_each_other():
    spreads = []

    def check(pool, need, chosen):
        assert chosen.load == min(c.load for c in pool)
        spreads.append(max(c.load for c in pool) - min(c.load for c in pool))

    pool = [agent(i, capacity=CASES_SIMULATED) for i in range(1, 8)]
    # no case closes: loads are the cases given, which never differ by more than one
    given = simulate("least_loaded", pool, close_chance=0.0, seed=3, check=check)
    assert max(given.values()) - min(given.values()) <= 1
    assert max(spreads) <= 1


def test_least_loaded_under_closures_and_caps_never_widens_the_spread():
    refused = []

    def spread(loads):
        return max(loads) - min(loads)

    def check(pool, need, chosen):
        room = [c for c in pool if c.has_room]
        if chosen is None:
            assert room == []
            refused.append(1)
            return
        assert chosen.load == min(c.load for c in room)
        # closures pull the loads apart; an assignment never does (beyond one)
        before = [c.load for c in pool if c.capacity == 50]
        after = [c.load + (c is chosen) for c in pool if c.capacity == 50]
        assert spread(after) <= max(spread(before), 1)

    # two small caps fill up and are never passed; a case is refused only when all are full
    pool = [agent(1, capacity=4), agent(2, capacity=6), *(agent(i, capacity=50) for i in (3, 4))]
    given = simulate("least_loaded", pool, close_chance=0.5, seed=4, check=check)
    assert sum(given.values()) + len(refused) == CASES_SIMULATED
    assert len(refused) < CASES_SIMULATED // 100
    # the two with the same cap were given the same number of cases within 2 %
    assert abs(given[3] - given[4]) <= CASES_SIMULATED // 50


LANGUAGES, KINDS = ("zh-hans", "en"), ("refund_only", "return_refund", "exchange", "repair")


def test_skills_never_pass_over_a_skilled_agent_with_room():
    rng = random.Random(5)
    pool = [
        agent(
            i,
            capacity=rng.randint(2, 6),
            languages=set(rng.sample(LANGUAGES, rng.randint(0, 2))),
            kinds=set(rng.sample(KINDS, rng.randint(0, 2))),
            categories=set(rng.sample(["phones", "shoes", "toys"], rng.randint(0, 1))),
        )
        for i in range(1, 9)
    ]
    outcomes = {"language": 0, "kind": 0, "fallback": 0}

    def check(pool, need, chosen):
        room = [c for c in pool if c.has_room]
        if chosen is None:
            assert room == []
            return
        best = max(c.skills.fit(need) for c in room)
        assert chosen.skills.fit(need) == best
        if any(need.language in c.skills.languages for c in room):
            assert need.language in chosen.skills.languages
            outcomes["language"] += 1
        elif any(need.kind in c.skills.kinds for c in room):
            assert need.kind in chosen.skills.kinds
            outcomes["kind"] += 1
        elif best == 0 or not any(need.categories & c.skills.categories for c in room):
            outcomes["fallback"] += 1

    def need_of(rng):
        return Need(
            kind=rng.choice(KINDS),
            reason="quality_issue",
            categories=frozenset({rng.choice(["phones", "shoes", "toys", "bags"])}),
            language=rng.choice(LANGUAGES),
        )

    simulate("skills", pool, close_chance=0.6, seed=6, need_of=need_of, check=check)
    # the simulation went through every branch it checks
    assert all(count > 0 for count in outcomes.values()), outcomes


# --- the database: fixtures --------------------------------------------------------------------


@pytest.fixture
def team(shop):
    """Three agents of the shop, on duty, ann < bob < cat by user id; a shop administrator."""
    apis = {name: make_user(name, "agent", shop="shop") for name in ("ann", "bob", "cat")}
    apis["boss"] = make_user("boss", "admin", shop="shop")
    for name in ("ann", "bob", "cat"):
        routing_duty_set(actor=apis[name].principal, on_duty=True)
    return apis


@pytest.fixture
def buyer(shop):
    return make_user("buyer", "customer", shop="shop", customer="C1")


def new_case(buyer, number, kind="refund_only", reason="missing_item"):
    order = make_order(
        external_id=f"O{number}",
        lines=[("L1", f"SKU-{number % 3}", 1, Decimal("50.00"), Decimal("50.00"))],
    )
    return case_open(
        actor=buyer.principal,
        data={
            "order_id": order.id,
            "kind": kind,
            "reason": reason,
            "lines": [{"order_line_id": order.lines.get().id, "quantity": 1}],
        },
    )


def holders(cases) -> list[str | None]:
    found = dict(
        Case.objects.filter(id__in=[c.id for c in cases]).values_list("id", "assignee__username")
    )
    return [found[c.id] for c in cases]


def strategy(shop, name, **more):
    RoutingSettings.objects.update_or_create(shop=shop, defaults={"strategy": name, **more})


# --- each strategy on the database ------------------------------------------------------------


def test_round_robin_goes_round(shop, team, buyer):
    strategy(shop, "round_robin")
    cases = [new_case(buyer, i) for i in range(7)]
    picked = [routing_assign(subject=case, actor=SYSTEM) for case in cases]
    assert picked == ["ann", "bob", "cat", "ann", "bob", "cat", "ann"]
    assert holders(cases) == picked
    assert RoutingSettings.objects.get(shop=shop).turns == 7
    assert dict(AgentProfile.objects.values_list("user__username", "last_turn")) == {
        "ann": 7,
        "bob": 5,
        "cat": 6,
    }
    # each assignment is on the timeline as today's assignments are, by the system
    event = Event.objects.filter(action="assign", subject_id=cases[0].id).get()
    assert (event.data, event.actor_name, event.role) == ({"assignee": "ann"}, "system", "system")


def test_least_loaded_goes_to_the_lightest(shop, team, buyer):
    strategy(shop, "least_loaded")
    held = [new_case(buyer, i) for i in range(3)]
    for case, name in zip(held, ["ann", "ann", "bob"], strict=True):
        assign(
            actor=team["boss"].principal, subject_type="case", subject_ids=[case.id], username=name
        )
    fresh = [new_case(buyer, i) for i in range(3, 7)]
    picked = [routing_assign(subject=case, actor=team["boss"].principal) for case in fresh]
    # loads ann 2, bob 1, cat 0 → cat; then bob and cat at 1 (bob waited longer) → bob; ...
    assert picked == ["cat", "bob", "cat", "ann"]
    # finished cases no longer count: ann, down to one, is the lightest
    for case in held[:2]:
        case_transition(case_id=case.id, action="cancel", actor=buyer.principal)
    assert routing_assign(subject=new_case(buyer, 9), actor=SYSTEM) == "ann"


def test_skills_match_kind_reason_category_and_language(shop, team, buyer):
    strategy(shop, "skills")
    phones, shoes, plain = new_case(buyer, 1), new_case(buyer, 2), new_case(buyer, 3)
    returned = new_case(buyer, 4, kind="return_refund", reason="quality_issue")
    Product.objects.filter(shop=shop, code="SKU-1").update(category="phones")
    Product.objects.filter(shop=shop, code="SKU-2").update(category="shoes")
    boss = team["boss"].principal
    routing_agent_set(actor=boss, shop=shop, username="ann", skills={"languages": ["en"]})
    routing_agent_set(actor=boss, shop=shop, username="bob", skills={"kinds": ["return_refund"]})
    routing_agent_set(actor=boss, shop=shop, username="cat", skills={"categories": ["shoes"]})
    assert routing_assign(subject=shoes, actor=SYSTEM) == "cat"
    assert routing_assign(subject=returned, actor=SYSTEM) == "bob"
    # nobody's skills fit: the least loaded (ann), ties broken by who waited longest
    assert routing_assign(subject=plain, actor=SYSTEM) == "ann"
    Customer.objects.filter(shop=shop, external_id="C1").update(language="en")
    assert routing_assign(subject=phones, actor=SYSTEM) == "ann"


def test_caps_are_respected(shop, team, buyer):
    strategy(shop, "round_robin", default_capacity=1)
    routing_agent_set(actor=team["boss"].principal, shop=shop, username="cat", capacity=2)
    cases = [new_case(buyer, i) for i in range(5)]
    picked = [routing_assign(subject=case, actor=SYSTEM) for case in cases[:4]]
    assert picked == ["ann", "bob", "cat", "cat"]
    with pytest.raises(ApplicationError) as refused:
        routing_assign(subject=cases[4], actor=SYSTEM)
    assert (refused.value.code, refused.value.status) == ("nobody_available", 409)
    assert holders(cases)[4] is None


def test_off_duty_agents_and_other_roles_are_never_picked(shop, team, buyer):
    make_user("money", "finance", shop="shop")
    make_user("elsewhere", "agent", shop=make_shop("other").code)
    routing_duty_set(actor=team["ann"].principal, on_duty=False)
    routing_duty_set(actor=team["cat"].principal, on_duty=False)
    picked = {routing_assign(subject=new_case(buyer, i), actor=SYSTEM) for i in range(3)}
    assert picked == {"bob"}


def test_routing_refuses_held_and_finished_work_and_customers(shop, team, buyer):
    case = new_case(buyer, 1)
    routing_claim(actor=team["ann"].principal, subject=case)
    with pytest.raises(ApplicationError) as held:
        routing_assign(subject=case, actor=SYSTEM)
    closed = new_case(buyer, 2)
    case_transition(case_id=closed.id, action="cancel", actor=buyer.principal)
    with pytest.raises(ApplicationError) as finished:
        routing_assign(subject=closed, actor=SYSTEM)
    with pytest.raises(ApplicationError) as customer:
        routing_assign(subject=new_case(buyer, 3), actor=buyer.principal)
    assert [e.value.code for e in (held, finished, customer)] == [
        "already_assigned",
        "subject_finished",
        "forbidden",
    ]


# --- duty ----------------------------------------------------------------------------------------


def test_going_off_duty_hands_the_open_work_to_colleagues(shop, team, buyer):
    strategy(shop, "least_loaded", default_capacity=2)
    cases = [new_case(buyer, i) for i in range(5)]
    for case in cases[:4]:
        assign(
            actor=team["boss"].principal, subject_type="case", subject_ids=[case.id], username="ann"
        )
    case_transition(case_id=cases[3].id, action="cancel", actor=buyer.principal)
    routing_claim(actor=team["bob"].principal, subject=cases[4])  # bob holds 1 of his 2
    changes = routing_duty_set(actor=team["ann"].principal, on_duty=False)
    # ann's three open cases: cat takes two (her cap), bob one; the finished one stays hers
    assert holders(cases) == ["cat", "bob", "cat", "ann", "bob"]
    assert [(c.on_duty, c.reassigned, c.unassigned, c.by_name) for c in changes] == [
        (False, 3, 0, "ann")
    ]
    assert not Notice.objects.filter(kind="routing_unassigned").exists()
    event = Event.objects.filter(action="assign", subject_id=cases[0].id).last()
    assert (event.actor_name, event.data) == ("ann", {"assignee": "cat"})


def test_what_nobody_can_take_is_left_to_nobody_and_the_lead_told(shop, team, buyer):
    strategy(shop, "round_robin", default_capacity=1)
    routing_duty_set(actor=team["cat"].principal, on_duty=False)
    cases = [new_case(buyer, i) for i in range(3)]
    for case in cases:
        assign(
            actor=team["boss"].principal, subject_type="case", subject_ids=[case.id], username="ann"
        )
    (change,) = routing_duty_set(actor=team["ann"].principal, on_duty=False)
    assert holders(cases) == ["bob", None, None]
    assert (change.reassigned, change.unassigned) == (1, 2)
    notices = Notice.objects.filter(kind="routing_unassigned").order_by("subject_id")
    assert [(n.subject_id, n.audience, n.payload["agent"]) for n in notices] == [
        (cases[1].id, "lead", "ann"),
        (cases[2].id, "lead", "ann"),
    ]


def test_every_change_of_duty_is_recorded_once(shop, team, clock):
    ann = team["ann"].principal
    assert routing_duty_set(actor=ann, on_duty=True) == []  # already on duty: nothing happens
    clock.shift(hours=1)
    routing_duty_set(actor=ann, on_duty=False)
    rows = DutyChange.objects.filter(user__username="ann").order_by("id")
    assert [(r.on_duty, r.at, r.by_name) for r in rows] == [
        (True, NOW, "ann"),
        (False, clock.now, "ann"),
    ]


def test_only_agents_go_on_duty(shop, team, finance):
    for principal in (finance.principal, team["boss"].principal):
        with pytest.raises(ApplicationError) as refused:
            routing_duty_set(actor=principal, on_duty=True)
        assert (refused.value.code, refused.value.status) == ("not_an_agent", 403)


# --- claiming ------------------------------------------------------------------------------------


def test_claim_conflicts(shop, team, buyer):
    case = new_case(buyer, 1)
    routing_claim(actor=team["ann"].principal, subject=case)
    routing_claim(actor=team["ann"].principal, subject=case)  # hers already: nothing to do
    with pytest.raises(ApplicationError) as taken:
        routing_claim(actor=team["bob"].principal, subject=case)
    assert (taken.value.code, taken.value.status) == ("already_assigned", 409)
    assert holders([case]) == ["ann"]
    # the shop's administrator (a lead) takes it over
    routing_claim(actor=team["boss"].principal, subject=case)
    assert holders([case]) == ["boss"]
    assert Event.objects.filter(action="assign", subject_id=case.id).count() == 2


def test_an_agent_at_their_cap_claims_nothing_more(shop, team, buyer):
    routing_agent_set(actor=team["boss"].principal, shop=shop, username="bob", capacity=1)
    first, second = new_case(buyer, 1), new_case(buyer, 2)
    routing_claim(actor=team["bob"].principal, subject=first)
    with pytest.raises(ApplicationError) as full:
        routing_claim(actor=team["bob"].principal, subject=second)
    assert (full.value.code, full.value.status) == ("at_capacity", 409)


# --- the worker's step ---------------------------------------------------------------------------


def test_the_sweep_assigns_new_work_only_where_the_shop_wants_it(shop, team, buyer):
    cases = [new_case(buyer, i) for i in range(4)]
    assert routing_sweep() == 0  # automatic assignment is off by default
    routing_settings_set(actor=team["boss"].principal, shop=shop, auto_assign=True)
    routing_claim(actor=team["cat"].principal, subject=cases[0])
    assert routing_sweep(batch_size=2) == 2
    assert holders(cases) == ["cat", "ann", "bob", None]
    assert routing_sweep() == 1
    assert holders(cases)[3] == "cat"
    assert routing_sweep() == 0


@pytest.mark.parametrize("name", ["round_robin", "least_loaded"])
def test_a_smaller_run_on_the_database_is_as_fair(shop, team, buyer, name):
    strategy(shop, name, auto_assign=True)
    cases = [new_case(buyer, i) for i in range(31)]
    # a third of the way, three of ann's four cases end: round robin goes on in turn (the cases
    # given stay within one), least loaded gives ann more until the open loads are even
    assert routing_sweep(batch_size=10) == 10
    for case in Case.objects.filter(assignee__username="ann").order_by("id")[:3]:
        case_transition(case_id=case.id, action="cancel", actor=buyer.principal)
    while routing_sweep(batch_size=10):
        pass
    given = dict.fromkeys(("ann", "bob", "cat"), 0)
    for holder in holders(cases):
        given[holder] += 1
    assert sum(given.values()) == 31
    expected = {
        "round_robin": {"ann": 11, "bob": 10, "cat": 10},
        "least_loaded": {"ann": 12, "bob": 10, "cat": 9},
    }
    assert given == expected[name]
    still_open = {
        who: Case.objects.filter(assignee__username=who).exclude(state="closed").count()
        for who in given
    }
    assert max(still_open.values()) - min(still_open.values()) == (
        2 if name == "round_robin" else 1
    )
    assigned = Event.objects.filter(action="assign").values_list("subject_id", flat=True)
    assert sorted(assigned) == sorted(c.id for c in cases)


def test_the_sweep_waits_when_nobody_is_on_duty(shop, team, buyer):
    strategy(shop, "round_robin", auto_assign=True)
    for name in ("ann", "bob", "cat"):
        routing_duty_set(actor=team[name].principal, on_duty=False)
    case = new_case(buyer, 1)
    assert routing_sweep() == 0
    routing_duty_set(actor=team["bob"].principal, on_duty=True)
    assert routing_sweep() == 1
    assert holders([case]) == ["bob"]


def test_complaints_are_routed_through_their_own_table(shop, team, buyer):
    strategy(shop, "round_robin", auto_assign=True)
    complaint = complaint_file(
        actor=buyer.principal, data={"type": "attitude", "description": "态度差"}
    )
    assert routing_sweep() == 1
    complaint.refresh_from_db()
    assert complaint.owner.username == "ann"
    event = Event.objects.get(action="assign", subject_id=complaint.id, role="system")
    assert event.data == {"owner": "ann", "previous_owner": ""}
    assert Notice.objects.filter(kind="complaint_assigned", subject_id=complaint.id).count() == 1
    # round robin goes on over cases and complaints alike
    assert routing_assign(subject=new_case(buyer, 1), actor=SYSTEM) == "bob"
    # going off duty hands it on through the table, by the agent
    routing_duty_set(actor=team["ann"].principal, on_duty=False)
    complaint.refresh_from_db()
    assert complaint.owner.username == "cat"
    assert Complaint.objects.get(pk=complaint.pk).state == "received"


# --- the API ---------------------------------------------------------------------------------


def test_the_shop_routing_settings_over_the_api(shop, team):
    boss, ann = team["boss"], team["ann"]
    assert boss.get("/shops/shop/routing").json() == {
        "shop": "shop",
        "strategy": "round_robin",
        "strategy_label": "Round robin",
        "default_capacity": 20,
        "auto_assign": False,
    }
    changed = boss.put("/shops/shop/routing", {"strategy": "skills", "auto_assign": True})
    assert changed.status_code == 200
    assert (changed.json()["strategy"], changed.json()["auto_assign"]) == ("skills", True)
    assert changed.json()["default_capacity"] == 20
    for response in (
        ann.get("/shops/shop/routing"),
        ann.put("/shops/shop/routing", {"strategy": "least_loaded"}),
    ):
        assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    for body in ({"strategy": "random"}, {"default_capacity": -1}, {"auto_assign": "yes"}):
        response = boss.put("/shops/shop/routing", body)
        assert response.status_code == 422, body
        assert set(response.json()) >= {"code", "detail"}
    assert RoutingSettings.objects.get(shop=shop).strategy == "skills"


def test_agents_over_the_api(shop, team, buyer):
    new_case(buyer, 1)
    Product.objects.filter(shop=shop, code="SKU-1").update(category="phones")
    boss = team["boss"]
    routing_claim(actor=team["bob"].principal, subject=Case.objects.get())
    response = boss.put(
        "/shops/shop/agents/bob",
        {"capacity": 5, "skills": {"languages": ["en", "zh-hans"], "categories": ["phones"]}},
    )
    assert response.status_code == 200, response.content
    assert response.json() == {
        "username": "bob",
        "role": "agent",
        "on_duty": True,
        "load": 1,
        "capacity": 5,
        "capacity_is_default": False,
        "kinds": [],
        "reasons": [],
        "categories": ["phones"],
        "languages": ["zh-hans", "en"],
        "last_assigned_at": "2026-11-24T02:00:00Z",
        "team": None,
    }
    listed = team["ann"].get("/shops/shop/agents").json()["items"]
    assert [(a["username"], a["load"], a["capacity"]) for a in listed] == [
        ("ann", 0, 20),
        ("bob", 1, 5),
        ("cat", 0, 20),
    ]
    back = boss.put("/shops/shop/agents/bob", {"capacity": None}).json()
    assert (back["capacity"], back["capacity_is_default"], back["languages"]) == (
        20,
        True,
        ["zh-hans", "en"],
    )


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"skills": {"languages": ["fr"]}}, 422, "invalid_languages"),
        ({"skills": {"kinds": ["swap"]}}, 422, "invalid_kinds"),
        ({"skills": {"reasons": ["bored"]}}, 422, "invalid_reasons"),
        ({"skills": {"categories": ["cars"]}}, 422, "invalid_categories"),
        ({"capacity": 1001}, 422, "validation_error"),
        ({"capacity": "3"}, 422, "validation_error"),
        ({"skills": {"languages": "en"}}, 422, "validation_error"),
    ],
)
def test_bad_agent_settings_are_refused_and_change_nothing(shop, team, body, status, code):
    response = team["boss"].put("/shops/shop/agents/ann", body)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert AgentProfile.objects.get(user__username="ann").languages == []


def test_agent_settings_name_an_agent_of_the_shop(shop, team, finance):
    for name in ("nobody", "finance", "boss"):
        response = team["boss"].put(f"/shops/shop/agents/{name}", {"capacity": 1})
        assert (response.status_code, response.json()["code"]) == (404, "agent_not_found")
    refused = team["ann"].put("/shops/shop/agents/bob", {"capacity": 1})
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")


def test_duty_over_the_api(shop, team, buyer):
    make_shop("second")
    user_create(username="multi", role="agent", shop_codes=["shop", "second"])
    multi = Api(token_create(username="multi"))
    on = multi.put("/me/duty", {"on_duty": True})
    assert on.status_code == 200
    assert on.json() == {
        "on_duty": True,
        "changes": [
            {"shop": "shop", "on_duty": True, "reassigned": 0, "unassigned": 0},
            {"shop": "second", "on_duty": True, "reassigned": 0, "unassigned": 0},
        ],
    }
    case = new_case(buyer, 1)
    routing_claim(actor=multi.principal, subject=case)
    off = multi.put("/me/duty", {"on_duty": False, "shops": ["shop"]})
    assert off.json()["changes"] == [
        {"shop": "shop", "on_duty": False, "reassigned": 1, "unassigned": 0}
    ]
    assert holders([case]) == ["ann"]
    assert AgentProfile.objects.get(user__username="multi", shop__code="second").on_duty
    for body, code in [
        ({"on_duty": False, "shops": ["other"]}, "shop_not_found"),
        ({"on_duty": 1}, "validation_error"),
        ({}, "validation_error"),
    ]:
        response = multi.put("/me/duty", body)
        assert response.json()["code"] == code
    assert buyer.put("/me/duty", {"on_duty": True}).json()["code"] == "not_an_agent"


def test_claiming_over_the_api(shop, team, buyer):
    number = new_case(buyer, 1).number
    assert team["ann"].post(f"/cases/{number}/claim").json() == {
        "number": number,
        "assignee": "ann",
    }
    refused = team["bob"].post(f"/cases/{number}/claim")
    assert (refused.status_code, refused.json()["code"]) == (409, "already_assigned")
    assert "ann" in refused.json()["detail"]
    assert team["boss"].post(f"/cases/{number}/claim").json()["assignee"] == "boss"
    assert buyer.post(f"/cases/{number}/claim").status_code == 403
    missing = team["ann"].post("/cases/NOPE/claim")
    assert (missing.status_code, missing.json()["code"]) == (404, "case_not_found")
    complaint = complaint_file(actor=buyer.principal, data={"type": "attitude", "description": "x"})
    claimed = team["cat"].post(f"/complaints/{complaint.number}/claim")
    assert claimed.json() == {"number": complaint.number, "assignee": "cat"}


# --- the desk ------------------------------------------------------------------------------------


def desk_client(username):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username=username)
    user.set_password("pw-x-123456")
    user.save()
    client = Client()
    assert client.login(username=username, password="pw-x-123456")
    return client


def test_the_desk_duty_toggle(shop, team, buyer):
    case = new_case(buyer, 1)
    routing_claim(actor=team["ann"].principal, subject=case)
    client = desk_client("ann")
    page = client.get("/desk/").content.decode()
    assert 'data-duty="on"' in page
    gone = client.post("/desk/duty/", {"on_duty": "0", "next": "/desk/?mine=1"}, follow=True)
    assert gone.redirect_chain == [("/desk/?mine=1", 302)]
    html = gone.content.decode()
    assert 'data-duty="off"' in html
    assert "1 of your open cases went to colleagues" in html
    assert holders([case]) == ["bob"]
    back = client.post("/desk/duty/", {"on_duty": "1", "next": "https://evil.example/"})
    assert back["Location"] == "/desk/"
    assert AgentProfile.objects.get(user__username="ann", shop=shop).on_duty
    # no toggle for an administrator, who is not routed work
    assert "data-duty" not in desk_client("boss").get("/desk/").content.decode()


def test_the_claim_button_on_the_case_page(shop, team, buyer):
    number = new_case(buyer, 1).number
    ann, bob, boss = desk_client("ann"), desk_client("bob"), desk_client("boss")
    assert 'data-claim="claim"' in bob.get(f"/desk/cases/{number}/").content.decode()
    claimed = ann.post(f"/desk/cases/{number}/claim/", follow=True)
    assert "The case is yours." in claimed.content.decode()
    assert "data-claim" not in claimed.content.decode()
    assert "data-claim" not in bob.get(f"/desk/cases/{number}/").content.decode()
    refused = bob.post(f"/desk/cases/{number}/claim/", follow=True).content.decode()
    assert "ann works on it already" in refused
    assert 'data-claim="take_over"' in boss.get(f"/desk/cases/{number}/").content.decode()
    assert holders([Case.objects.get(number=number)]) == ["ann"]


# --- a race on PostgreSQL --------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_sweeps_and_claims_never_pass_a_cap(clock):
    make_shop()
    buyer = make_user("buyer", "customer", shop="shop", customer="C1")
    agents = {name: make_user(name, "agent", shop="shop") for name in ("ann", "bob", "cat")}
    for name in ("ann", "bob"):
        routing_duty_set(actor=agents[name].principal, on_duty=True)
    shop = Shop.objects.get(code="shop")
    RoutingSettings.objects.filter(shop=shop).update(default_capacity=3, auto_assign=True)
    routing_agent_set(
        actor=make_user("boss", "admin", shop="shop").principal,
        shop=shop,
        username="cat",
        capacity=2,
    )
    cases = [new_case(buyer, i) for i in range(12)]
    barrier = threading.Barrier(8)
    errors, lock = [], threading.Lock()

    def run(index):
        try:
            barrier.wait()
            if index < 4:
                routing_sweep(batch_size=5)
            else:
                for case in cases[index - 4 :: 4]:
                    try:
                        routing_claim(actor=agents["cat"].principal, subject=case)
                    except ApplicationError as error:
                        with lock:
                            errors.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    close_old_connections()
    load = {
        name: Case.objects.filter(assignee__username=name).count() for name in ("ann", "bob", "cat")
    }
    assert load["ann"] <= 3 and load["bob"] <= 3 and load["cat"] <= 2
    assert load["cat"] == 2  # cat claims until her cap; the sweeps fill ann's and bob's
    assert set(errors) <= {"at_capacity", "already_assigned"}
    # every assignment is one event: nothing assigned twice
    assigned = Event.objects.filter(action="assign").values_list("subject_id", flat=True)
    assert len(assigned) == len(set(assigned)) == sum(load.values())
