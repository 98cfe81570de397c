"""The desk's KPI pages: the dashboard, the cases behind a number, the exports."""

from django.urls import path

from aftersales.insights import views

app_name = "insights"
urlpatterns = [
    path("desk/insights/", views.dashboard_page, name="dashboard"),
    path("desk/insights/cases/", views.cases_page, name="cases"),
    path("desk/insights/cases.<str:file_format>", views.export, name="export"),
]
