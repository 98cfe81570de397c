"""Teams of agents (售后小组): creating, renaming and deleting them over the API and on the desk,
putting an agent in a team and out of it, the refusals (which change nothing), and the exact
answers of the selectors the KPIs group by."""

from __future__ import annotations

import pytest
from django.test import Client

from aftersales.routing.models import AgentProfile, Team
from aftersales.routing.selectors import agent_teams, team_names, teams_for_shop
from aftersales.routing.services import routing_agent_set
from aftersales.routing.teams import team_create, team_delete, team_rename
from aftersales.team.models import Membership
from tests.conftest import make_shop, make_user


@pytest.fixture
def staff(shop):
    """Two agents and a lead of the shop, its administrator, its finance; an agent and the
    administrator of another shop."""
    make_shop("other")
    return {
        "ann": make_user("ann", "agent", shop="shop"),
        "bob": make_user("bob", "agent", shop="shop"),
        "lee": make_user("lee", "lead", shop="shop"),
        "boss": make_user("boss", "admin", shop="shop"),
        "fin": make_user("fin", "finance", shop="shop"),
        "oz": make_user("oz", "agent", shop="other"),
        "otherboss": make_user("otherboss", "admin", shop="other"),
    }


def teams_now() -> list[tuple[str, str]]:
    return sorted(Team.objects.values_list("shop__code", "name"))


def team_of(username: str, shop: str = "shop") -> str | None:
    profile = AgentProfile.objects.filter(user__username=username, shop__code=shop).first()
    return profile.team.name if profile and profile.team_id else None


# --- the API ----------------------------------------------------------------------------------


def test_create_rename_and_delete_over_the_api(staff):
    boss, lee = staff["boss"], staff["lee"]
    created = boss.post("/shops/shop/teams", {"name": "  退换货一组 "})
    assert created.status_code == 201, created.content
    assert created.json() == {"name": "退换货一组", "members": [], "member_count": 0}
    assert lee.post("/shops/shop/teams", {"name": "售前组"}).status_code == 201
    assert boss.put("/shops/shop/agents/ann", {"team": "退换货一组"}).json()["team"] == "退换货一组"
    assert boss.put("/shops/shop/agents/bob", {"team": "退换货一组"}).status_code == 200
    assert staff["ann"].get("/shops/shop/teams").json() == {
        "items": [
            {"name": "售前组", "members": [], "member_count": 0},
            {"name": "退换货一组", "members": ["ann", "bob"], "member_count": 2},
        ]
    }
    renamed = lee.patch("/shops/shop/teams/退换货一组", {"name": "Returns 1"})
    assert renamed.status_code == 200, renamed.content
    assert renamed.json() == {"name": "Returns 1", "members": ["ann", "bob"], "member_count": 2}
    assert (team_of("ann"), team_of("bob")) == ("Returns 1", "Returns 1")
    # renaming to its own name changes nothing and is no conflict
    assert lee.patch("/shops/shop/teams/Returns 1", {"name": "Returns 1"}).status_code == 200
    deleted = boss.delete("/shops/shop/teams/Returns 1")
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert teams_now() == [("shop", "售前组")]
    assert (team_of("ann"), team_of("bob")) == (None, None)
    assert boss.get("/shops/shop/agents").json()["items"][0]["team"] is None


def test_names_compare_as_written(staff):
    boss = staff["boss"]
    assert boss.post("/shops/shop/teams", {"name": "Repairs"}).status_code == 201
    assert boss.post("/shops/shop/teams", {"name": "repairs"}).status_code == 201
    assert teams_now() == [("shop", "Repairs"), ("shop", "repairs")]


@pytest.mark.parametrize(
    "name",
    [
        "",
        "   ",
        "x" * 61,
        "售前\n组",
        "售前\t组",
        "a\x07b",
        "zero\u200bwidth",
        "pre/sales",
        5,
        None,
    ],
)
def test_bad_names_are_refused_and_change_nothing(staff, name):
    boss = staff["boss"]
    boss.post("/shops/shop/teams", {"name": "售前组"})
    for response in (
        boss.post("/shops/shop/teams", {"name": name}),
        boss.patch("/shops/shop/teams/售前组", {"name": name}),
    ):
        assert response.status_code == 422, (name, response.content)
        code = response.json()["code"]
        assert code == ("validation_error" if not isinstance(name, str) else "invalid_team_name")
        assert response.json()["detail"]
    assert teams_now() == [("shop", "售前组")]


def test_the_longest_name_is_sixty_characters(staff):
    response = staff["boss"].post("/shops/shop/teams", {"name": "组" * 60})
    assert response.status_code == 201
    assert teams_now() == [("shop", "组" * 60)]


def test_duplicates_are_refused_and_change_nothing(staff):
    boss = staff["boss"]
    boss.post("/shops/shop/teams", {"name": "售前组"})
    boss.post("/shops/shop/teams", {"name": "维修组"})
    boss.put("/shops/shop/agents/ann", {"team": "维修组"})
    for response in (
        boss.post("/shops/shop/teams", {"name": " 售前组"}),
        boss.patch("/shops/shop/teams/维修组", {"name": "售前组"}),
    ):
        assert (response.status_code, response.json()["code"]) == (409, "team_exists")
        assert "售前组" in response.json()["detail"]
    assert teams_now() == [("shop", "售前组"), ("shop", "维修组")]
    assert team_of("ann") == "维修组"
    # the same name in another shop is another team
    assert staff["otherboss"].post("/shops/other/teams", {"name": "售前组"}).status_code == 201


def test_unknown_teams_are_404(staff):
    boss = staff["boss"]
    boss.post("/shops/shop/teams", {"name": "售前组"})
    for response in (
        boss.patch("/shops/shop/teams/nope", {"name": "x"}),
        boss.delete("/shops/shop/teams/nope"),
        boss.put("/shops/shop/agents/ann", {"team": "nope"}),
    ):
        assert (response.status_code, response.json()["code"]) == (404, "team_not_found")
    assert team_of("ann") is None
    assert teams_now() == [("shop", "售前组")]


def test_another_shops_team_is_404(staff):
    staff["otherboss"].post("/shops/other/teams", {"name": "外店组"})
    boss = staff["boss"]
    for response in (
        boss.get("/shops/other/teams"),
        boss.post("/shops/other/teams", {"name": "x"}),
        boss.patch("/shops/other/teams/外店组", {"name": "x"}),
        boss.delete("/shops/other/teams/外店组"),
    ):
        assert (response.status_code, response.json()["code"]) == (404, "shop_not_found")
    # nor may an agent of this shop join it through this shop
    refused = boss.put("/shops/shop/agents/ann", {"team": "外店组"})
    assert (refused.status_code, refused.json()["code"]) == (404, "team_not_found")
    assert teams_now() == [("other", "外店组")]


@pytest.mark.parametrize("role", ["ann", "fin"])
def test_agents_and_finance_cannot_manage_teams(staff, role):
    staff["boss"].post("/shops/shop/teams", {"name": "售前组"})
    api = staff[role]
    for response in (
        api.post("/shops/shop/teams", {"name": "x"}),
        api.patch("/shops/shop/teams/售前组", {"name": "x"}),
        api.delete("/shops/shop/teams/售前组"),
        api.put("/shops/shop/agents/bob", {"team": "售前组"}),
    ):
        assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    assert teams_now() == [("shop", "售前组")]
    assert team_of("bob") is None
    # the shop's staff read its teams
    assert api.get("/shops/shop/teams").status_code == 200


def test_a_customer_reads_no_teams(staff):
    buyer = make_user("buyer", "customer", shop="shop", customer="C1")
    response = buyer.get("/shops/shop/teams")
    assert (response.status_code, response.json()["code"]) == (403, "forbidden")


def test_an_agents_team_is_set_kept_and_cleared(staff):
    boss = staff["boss"]
    boss.post("/shops/shop/teams", {"name": "售前组"})
    boss.post("/shops/shop/teams", {"name": "维修组"})
    assert boss.put("/shops/shop/agents/ann", {"team": " 售前组 "}).json()["team"] == "售前组"
    # a body without "team" leaves it as it is
    kept = boss.put("/shops/shop/agents/ann", {"capacity": 3}).json()
    assert (kept["team"], kept["capacity"]) == ("售前组", 3)
    assert boss.put("/shops/shop/agents/ann", {"team": "维修组"}).json()["team"] == "维修组"
    cleared = boss.put("/shops/shop/agents/ann", {"team": None}).json()
    assert (cleared["team"], cleared["capacity"]) == (None, 3)
    assert team_of("ann") is None
    # a refusal of another field leaves the team as it was
    boss.put("/shops/shop/agents/ann", {"team": "维修组"})
    refused = boss.put(
        "/shops/shop/agents/ann", {"team": "售前组", "skills": {"languages": ["fr"]}}
    )
    assert refused.json()["code"] == "invalid_languages"
    assert team_of("ann") == "维修组"
    # only agents and team leads are put in a team
    for name in ("fin", "boss", "oz"):
        response = boss.put(f"/shops/shop/agents/{name}", {"team": "售前组"})
        assert (response.status_code, response.json()["code"]) == (404, "agent_not_found")


def test_a_team_lead_may_be_in_a_team(staff):
    lee = staff["lee"]
    lee.post("/shops/shop/teams", {"name": "维修组"})
    assert lee.put("/shops/shop/agents/lee", {"team": "维修组"}).json()["team"] == "维修组"


# --- the selectors ----------------------------------------------------------------------------


def test_the_selectors_answer_exactly(staff, django_assert_num_queries):
    shop = Membership.objects.get(user__username="ann").shop_roles.get().shop
    other = Membership.objects.get(user__username="oz").shop_roles.get().shop
    boss, otherboss = staff["boss"].principal, staff["otherboss"].principal
    returns = team_create(actor=boss, shop=shop, name="退换货一组")
    presales = team_create(actor=boss, shop=shop, name="售前组")
    empty = team_create(actor=boss, shop=shop, name="Empty")
    foreign = team_create(actor=otherboss, shop=other, name="外店组")
    for username, team in (("ann", "退换货一组"), ("bob", "售前组"), ("lee", "退换货一组")):
        routing_agent_set(actor=boss, shop=shop, username=username, team=team)
    routing_agent_set(actor=otherboss, shop=other, username="oz", team="外店组")
    routing_agent_set(actor=boss, shop=shop, username="lee", capacity=2)  # a profile, no change
    ids = {name: staff[name].principal.user_id for name in ("ann", "bob", "lee", "oz")}

    with django_assert_num_queries(1):
        mine = agent_teams([shop.id])
    assert mine == {
        (shop.id, ids["ann"]): returns.id,
        (shop.id, ids["bob"]): presales.id,
        (shop.id, ids["lee"]): returns.id,
    }
    assert agent_teams(None) == {**mine, (other.id, ids["oz"]): foreign.id}
    assert agent_teams([]) == {}
    with django_assert_num_queries(1):
        names = team_names([returns.id, foreign.id, empty.id, 10**9])
    assert names == {
        returns.id: (shop.id, "退换货一组"),
        foreign.id: (other.id, "外店组"),
        empty.id: (shop.id, "Empty"),
    }
    with django_assert_num_queries(0):
        assert team_names([]) == {}
    with django_assert_num_queries(2):
        rows = teams_for_shop(actor=staff["ann"].principal, shop=shop)
    assert [(r.name, r.members, r.member_count) for r in rows] == [
        ("Empty", [], 0),
        ("售前组", ["bob"], 1),
        ("退换货一组", ["ann", "lee"], 2),
    ]
    # after a rename and a delete
    team_rename(actor=boss, shop=shop, name="售前组", new_name="Pre-sales")
    assert team_delete(actor=boss, shop=shop, name="退换货一组") == 2
    assert agent_teams([shop.id]) == {(shop.id, ids["bob"]): presales.id}
    assert team_names([presales.id, returns.id]) == {presales.id: (shop.id, "Pre-sales")}


# --- the desk ---------------------------------------------------------------------------------


def desk_client(username):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username=username)
    user.set_password("pw-x-123456")
    user.save()
    client = Client()
    assert client.login(username=username, password="pw-x-123456")
    return client


def test_the_desk_teams_page(staff):
    client = desk_client("lee")
    menu = client.get("/desk/").content.decode()
    assert 'data-nav="teams"' in menu
    page = client.get("/desk/teams/")
    assert page.status_code == 200
    assert "The shop has no team yet." in page.content.decode()

    added = client.post("/desk/teams/add/", {"shop": "shop", "name": " 售前组 "}, follow=True)
    assert added.redirect_chain == [("/desk/teams/?shop=shop", 302)]
    assert "Team 售前组 added." in added.content.decode()
    client.post("/desk/teams/add/", {"shop": "shop", "name": "维修组"})
    moved = client.post(
        "/desk/teams/agent/", {"shop": "shop", "username": "ann", "team": "售前组"}, follow=True
    )
    assert "ann is in team 售前组 now." in moved.content.decode()
    html = moved.content.decode()
    assert 'data-team="售前组"' in html
    assert "1 member: ann" in html
    assert '<option value="售前组" selected>' in html

    renamed = client.post(
        "/desk/teams/rename/",
        {"shop": "shop", "name": "售前组", "new_name": "Pre-sales"},
        follow=True,
    )
    assert "The team is called Pre-sales now." in renamed.content.decode()
    assert team_of("ann") == "Pre-sales"

    cleared = client.post(
        "/desk/teams/agent/", {"shop": "shop", "username": "ann", "team": ""}, follow=True
    )
    assert "ann is in no team now." in cleared.content.decode()
    assert team_of("ann") is None
    client.post("/desk/teams/agent/", {"shop": "shop", "username": "bob", "team": "维修组"})

    # deleting wants the box ticked; without it nothing changes
    unticked = client.post("/desk/teams/delete/", {"shop": "shop", "name": "维修组"}, follow=True)
    assert "Tick the box to confirm the removal." in unticked.content.decode()
    assert teams_now() == [("shop", "Pre-sales"), ("shop", "维修组")]
    deleted = client.post(
        "/desk/teams/delete/", {"shop": "shop", "name": "维修组", "confirm": "yes"}, follow=True
    )
    assert "Team 维修组 deleted; its members are in no team now." in deleted.content.decode()
    assert teams_now() == [("shop", "Pre-sales")]
    assert team_of("bob") is None


def test_the_desk_refuses_bad_input_in_words(staff):
    client = desk_client("boss")
    client.post("/desk/teams/add/", {"shop": "shop", "name": "售前组"})
    for url, body, words in [
        ("/desk/teams/add/", {"name": "售前组"}, "The shop has a team called 售前组 already."),
        ("/desk/teams/add/", {"name": "   "}, "A team&#x27;s name has 1 to 60 characters"),
        (
            "/desk/teams/rename/",
            {"name": "nope", "new_name": "x"},
            "The shop has no team called nope.",
        ),
        (
            "/desk/teams/agent/",
            {"username": "ann", "team": "nope"},
            "The shop has no team called nope.",
        ),
        ("/desk/teams/agent/", {"username": "fin", "team": "售前组"}, "No agent called fin"),
    ]:
        response = client.post(url, {"shop": "shop", **body}, follow=True)
        assert response.status_code == 200
        html = response.content.decode()
        assert words in html, (url, body)
        assert "team_exists" not in html and "invalid_team_name" not in html
    assert teams_now() == [("shop", "售前组")]
    assert team_of("ann") is None
    # a shop the caller does not manage
    foreign = client.post("/desk/teams/add/", {"shop": "other", "name": "x"})
    assert foreign.status_code == 404
    assert client.get("/desk/teams/?shop=other").status_code == 404
    assert teams_now() == [("shop", "售前组")]


@pytest.mark.parametrize("username", ["ann", "fin"])
def test_the_desk_teams_page_is_refused_to_others(staff, username):
    client = desk_client(username)
    assert 'data-nav="teams"' not in client.get("/desk/").content.decode()
    page = client.get("/desk/teams/")
    assert page.status_code == 403
    assert "Your role does not include the teams" in page.content.decode()
    posted = client.post("/desk/teams/add/", {"shop": "shop", "name": "x"})
    assert posted.status_code == 403
    assert teams_now() == []


def test_the_desk_pages_need_a_csrf_token(staff):
    client = desk_client("boss")
    client.handler.enforce_csrf_checks = True
    response = client.post("/desk/teams/add/", {"shop": "shop", "name": "x"})
    assert response.status_code == 403
    assert teams_now() == []
