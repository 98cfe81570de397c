"""URLs of the inspection pages: the desk's under ``/desk/inspections/``, the portal's under
``/inspections/``."""

from django.urls import include, path

from aftersales.inspections import views

desk_patterns = (
    [
        path("", views.desk_list, name="list"),
        path("<str:number>/", views.desk_page, name="inspection"),
        path("<str:number>/act/<str:action>/", views.desk_act, name="act"),
    ],
    "inspections_desk",
)

portal_patterns = (
    [
        path("<str:number>/", views.portal_page, name="inspection"),
        path("<str:number>/act/<str:action>/", views.portal_act, name="act"),
    ],
    "inspections_portal",
)

urlpatterns = [
    path("desk/inspections/", include(desk_patterns)),
    path("inspections/", include(portal_patterns)),
]
