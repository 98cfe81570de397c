"""The desk's routing controls, under ``/desk/``."""

from django.urls import include, path

from aftersales.routing import views

desk_patterns = (
    [
        path("duty/", views.duty, name="duty"),
        path("cases/<str:number>/claim/", views.claim_case, name="claim_case"),
    ],
    "routing",
)

urlpatterns = [path("desk/", include(desk_patterns))]
