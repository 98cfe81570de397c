"""URLs of the complaints' pages: the desk's under ``/desk/complaints/``, the portal's under
``/complaints/``."""

from django.urls import include, path

from aftersales.complaints.views import desk, portal

desk_patterns = (
    [
        path("", desk.complaint_list, name="list"),
        path("<str:number>/", desk.complaint_page, name="complaint"),
        path("<str:number>/act/<str:action>/", desk.complaint_act, name="act"),
    ],
    "complaints_desk",
)

portal_patterns = (
    [
        path("file/<int:order_id>/", portal.file_complaint, name="file"),
        path("<str:number>/", portal.complaint_page, name="complaint"),
        path("<str:number>/act/<str:action>/", portal.complaint_act, name="act"),
    ],
    "complaints_portal",
)

urlpatterns = [
    path("desk/complaints/", include(desk_patterns)),
    path("complaints/", include(portal_patterns)),
]
