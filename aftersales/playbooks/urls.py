"""The checklist's page endpoints, beside the desk's case page."""

from django.urls import path

from aftersales.playbooks import views

app_name = "playbooks"

urlpatterns = [
    path("desk/cases/<str:number>/playbook/<str:key>/", views.step_tick, name="tick"),
]
