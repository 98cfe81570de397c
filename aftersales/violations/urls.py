"""URLs of violation points on the desk: the shop's standing and the platform operator's page."""

from django.urls import include, path

from aftersales.violations.views import desk

desk_patterns = (
    [
        path("standing/", desk.standing_page, name="standing"),
        path("standing/score/", desk.set_score, name="set_score"),
        path("violations/", desk.operator_page, name="operator"),
        path("violations/record/", desk.record, name="record"),
        path("violations/<str:number>/act/<str:action>/", desk.violation_act, name="violation_act"),
        path("penalties/<str:number>/act/<str:action>/", desk.penalty_act, name="penalty_act"),
    ],
    "violations_desk",
)

urlpatterns = [path("desk/", include(desk_patterns))]
