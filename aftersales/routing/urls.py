"""The desk's routing controls and its teams page, under ``/desk/``."""

from django.urls import include, path

from aftersales.routing import team_views, views

desk_patterns = (
    [
        path("duty/", views.duty, name="duty"),
        path("cases/<str:number>/claim/", views.claim_case, name="claim_case"),
        path("teams/", team_views.teams_page, name="teams"),
        path("teams/add/", team_views.team_add, name="team_add"),
        path("teams/rename/", team_views.team_rename, name="team_rename"),
        path("teams/delete/", team_views.team_delete, name="team_delete"),
        path("teams/agent/", team_views.agent_team, name="agent_team"),
    ],
    "routing",
)

urlpatterns = [path("desk/", include(desk_patterns))]
