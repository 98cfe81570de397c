"""URLs of the dispute pages: the desk's under ``/desk/disputes/``, the portal's under
``/disputes/``."""

from django.urls import include, path

from aftersales.disputes.views import pages

desk_patterns = (
    [
        path("", pages.desk_list, name="list"),
        path("<str:number>/", pages.desk_page, name="dispute"),
        path("<str:number>/act/<str:action>/", pages.desk_act, name="act"),
    ],
    "disputes_desk",
)

portal_patterns = (
    [
        path("open/<str:case_number>/", pages.portal_open, name="open"),
        path("jury/<str:number>/", pages.juror_page, name="jury"),
        path("<str:number>/", pages.portal_page, name="dispute"),
        path("<str:number>/act/<str:action>/", pages.portal_act, name="act"),
    ],
    "disputes_portal",
)

urlpatterns = [
    path("desk/disputes/", include(desk_patterns)),
    path("disputes/", include(portal_patterns)),
]
