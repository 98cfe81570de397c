"""The caller a process keeps for a token or a session (``team.selectors.PrincipalCache``): every
change that concerns it takes effect on the very next request, in the process that kept it (its
cache is not told) as in a new one (its cache is empty)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aftersales.team.models import ApiToken, Membership
from aftersales.team.selectors import (
    PrincipalCache,
    principal_cache_clear,
    principal_for_token,
    principal_for_user,
)
from aftersales.team.services import hash_token, token_create, token_revoke
from tests.conftest import Api, make_shop, make_user


@pytest.fixture
def team(db):
    make_shop("shop")
    make_shop("second")
    return {
        "boss": make_user("boss", "admin", shop="second"),
        "agent": make_user("agent", "agent", shop="shop"),
    }


def resolved_in_both_processes(token: str):
    """The caller as the process that kept it sees it, and as a new process does: the same."""
    kept = principal_for_token(token)
    principal_cache_clear()
    fresh = principal_for_token(token)
    assert kept == fresh
    return kept


def test_a_kept_caller_costs_one_query_and_a_new_one_one(team):
    token = team["agent"].token
    principal_cache_clear()
    # given a process that has not resolved the token yet
    with CaptureQueriesContext(connection) as first:
        principal = principal_for_token(token)
    # when it resolves it again
    with CaptureQueriesContext(connection) as again:
        kept = principal_for_token(token)
    # then each is one query: the resolution, then the check of what was kept
    assert (len(first), len(again)) == (1, 1)
    assert kept is principal
    assert "shop_roles" not in again[0]["sql"].lower() and "shoprole" not in again[0]["sql"]


def test_a_revoked_token_is_refused_on_the_next_request(team):
    agent = team["agent"]
    # given a process that served the token (and keeps its caller)
    assert agent.get("/shops/shop").status_code == 200
    # when it is revoked (by another process: this one's cache is not told)
    token_revoke(token=agent.token)
    # then the very next request is refused
    response = agent.get("/shops/shop")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    assert principal_for_token(agent.token) is None


def test_a_deleted_token_and_a_deactivated_user_are_refused_on_the_next_request(team):
    agent = team["agent"]
    second = Api(token_create(username="agent"))
    assert agent.get("/shops/shop").status_code == 200
    assert second.get("/shops/shop").status_code == 200
    # when one token is deleted (the Django admin deletes rows, no service is called)
    ApiToken.objects.get(key_hash=hash_token(agent.token)).delete()
    # then it is refused; the other still works, until its user is deactivated
    assert agent.get("/shops/shop").status_code == 401
    assert second.get("/shops/shop").status_code == 200
    user = get_user_model().objects.get(username="agent")
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert second.get("/shops/shop").status_code == 401
    assert principal_for_user(user.pk) is None


def test_a_role_given_in_another_shop_is_held_on_the_next_request(team):
    boss, agent = team["boss"], team["agent"]
    # given an agent of "shop" whose caller this process keeps, who may not see second's team
    assert agent.get("/shops/second/team").status_code in (403, 404)
    # when the boss of "second" makes them its team lead
    assert boss.put("/shops/second/team/agent", {"role": "lead"}).status_code == 200
    # then their very next request holds the role there
    assert agent.get("/shops/second/team").status_code == 200
    principal = resolved_in_both_processes(agent.token)
    assert sorted(principal.shop_roles.values()) == ["agent", "lead"]


def test_a_changed_role_and_a_role_taken_back_are_seen_on_the_next_request(team):
    boss, agent = team["boss"], team["agent"]
    assert boss.put("/shops/second/team/agent", {"role": "lead"}).status_code == 200
    assert agent.get("/shops/second/team").status_code == 200
    # when the role is changed to one that may not manage the team
    assert boss.put("/shops/second/team/agent", {"role": "agent"}).status_code == 200
    assert agent.get("/shops/second/team").status_code in (403, 404)
    assert set(resolved_in_both_processes(agent.token).shop_roles.values()) == {"agent"}
    # and when they are taken off the team, the shop is no longer theirs
    assert boss.delete("/shops/second/team/agent").status_code == 204
    principal = resolved_in_both_processes(agent.token)
    assert len(principal.shop_ids) == 1
    assert agent.get("/shops/second").status_code in (403, 404)


def test_every_change_of_the_team_changes_the_members_auth_version(team):
    boss = team["boss"]

    def version() -> int:
        return Membership.objects.get(user__username="agent").auth_version

    versions = [version()]
    for call in (
        lambda: boss.put("/shops/second/team/agent", {"role": "lead"}),
        lambda: boss.put("/shops/second/team/agent", {"role": "agent"}),
        lambda: boss.delete("/shops/second/team/agent"),
    ):
        assert call().status_code in (200, 204)
        versions.append(version())
    assert len(set(versions)) == len(versions)
    # a refused change (the agent may not manage a team) changes nothing
    assert team["agent"].put("/shops/shop/team/boss", {"role": "agent"}).status_code in (403, 404)
    assert version() == versions[-1]


def test_the_django_admin_s_changes_of_a_user_are_seen_on_the_next_request(team):
    agent = team["agent"]
    before = principal_for_token(agent.token)
    user = get_user_model().objects.get(username="agent")
    user.username = "agent-renamed"
    user.save(update_fields=["username"])
    after = principal_for_token(agent.token)
    assert (before.username, after.username) == ("agent", "agent-renamed")


def test_a_signed_in_user_is_kept_and_checked_the_same_way(team):
    boss, agent = team["boss"], team["agent"]
    user = get_user_model().objects.get(username="agent")
    principal = principal_for_user(user.pk)
    with CaptureQueriesContext(connection) as again:
        assert principal_for_user(user.pk) is principal
    assert len(again) == 1
    assert boss.put("/shops/second/team/agent", {"role": "lead"}).status_code == 200
    assert principal_for_user(user.pk) == principal_for_token(agent.token)
    assert "lead" in principal_for_user(user.pk).shop_roles.values()


def test_an_entry_past_its_time_is_resolved_again(team):
    cache = PrincipalCache(ttl=-1)
    principal = principal_for_token(team["agent"].token)
    cache.put("key", ("stamp",), principal)
    assert cache.get("key", lambda: ("stamp",)) is None
    cache = PrincipalCache(ttl=60, size=1)
    cache.put("one", ("stamp",), principal)
    cache.put("two", ("stamp",), principal)
    assert cache.get("one", lambda: ("stamp",)) is None
    assert cache.get("two", lambda: ("stamp",)) is principal
    assert cache.get("two", lambda: ("other",)) is None
