"""The figures by team: the cases' owners grouped by the team they are in now, the cases behind
a team's number, the dashboard's grouping by team; another shop's team is not named."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model

from aftersales.insights import selectors
from aftersales.insights.feed import rollup_advance
from aftersales.routing.models import AgentProfile, Team
from aftersales.team.services import token_create
from tests.conftest import NOW, Api, make_order, make_user, open_case

SINCE, UNTIL = dt.date(2026, 11, 1), dt.date(2026, 11, 30)


@pytest.fixture
def lead(shop):
    return make_user("lead", "lead", shop="shop")


@pytest.fixture
def owned(shop, customer, agent):
    """Three cases refused: one owned by agent (team 退换货一组), one by agent2 (no team), one by
    nobody (a figure counts under the owner at its event: the refusal, after the assignment)."""
    make_user("agent2", "agent", shop="shop")
    team = Team.objects.create(shop=shop, name="退换货一组", created_at=NOW)
    user = get_user_model().objects.get(username="agent")
    AgentProfile.objects.update_or_create(shop=shop, user=user, defaults={"team": team})
    numbers = []
    for index, owner in enumerate(("agent", "agent2", None)):
        number = open_case(customer, make_order(external_id=f"T{index}"))["number"]
        if owner:
            assert agent.put(f"/cases/{number}/assignee", {"assignee": owner}).status_code == 200
        assert agent.act(number, "reject", {"reason": "照片看不清"}).status_code == 200
        numbers.append(number)
    rollup_advance()
    return team, numbers


def test_the_cases_by_team(lead, owned):
    team, _numbers = owned
    rows = selectors.kpis(actor=lead.principal, since=SINCE, until=UNTIL, group_by="team")
    assert [(row["key"], row["label"], row["rejected"]) for row in rows] == [
        (str(team.pk), "退换货一组", 1),
        ("none", "No team", 2),
    ]


def test_the_cases_behind_a_teams_number(lead, owned):
    team, numbers = owned
    api = Api(token_create(username="lead"))
    base = f"/insights/kpis/cases?measure=rejected&since={SINCE}&until={UNTIL}"
    mine = api.get(f"{base}&team={team.pk}").json()
    assert [item["number"] for item in mine["items"]] == [numbers[0]]
    rest = api.get(f"{base}&team=none").json()
    assert sorted(item["number"] for item in rest["items"]) == sorted(numbers[1:])
    assert api.get(f"{base}&team=999999").json()["total"] == 0
    # the export of that number takes the same key
    exported = api.get(
        f"/insights/cases.csv?since={SINCE}&until={UNTIL}&measure=rejected&team={team.pk}"
    )
    assert exported.status_code == 200
    assert numbers[0] in exported.content.decode() and numbers[1] not in exported.content.decode()
    by_team = api.get(f"/insights/kpis?since={SINCE}&until={UNTIL}&group_by=team")
    assert by_team.status_code == 200
    assert {row["key"] for row in by_team.json()["rows"]} == {str(team.pk), "none"}


def test_the_dashboard_groups_by_team(owned):
    from django.test import Client

    from aftersales.team.services import user_create

    team, _numbers = owned
    user_create(username="lead3", role="lead", shop_codes=["shop"], password="pw-lead-12345")
    client = Client()
    assert client.login(username="lead3", password="pw-lead-12345")
    page = client.get("/desk/insights/", {"since": SINCE, "until": UNTIL, "group_by": "team"})
    assert page.status_code == 200, page.content.decode()[-3000:]
    html = page.content.decode()
    assert "退换货一组" in html and f'data-group="{team.pk}"' in html
    drill = client.get(
        "/desk/insights/cases/",
        {"since": SINCE, "until": UNTIL, "measure": "rejected", "team": team.pk},
    )
    assert drill.status_code == 200, drill.content.decode()[-3000:]
    assert "退换货一组" in drill.content.decode()
