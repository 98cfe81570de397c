"""URLs of the pages: the workbench under ``/desk/``, the portal at the root."""

from django.urls import include, path

from aftersales.cases.views import desk, portal, queue

desk_patterns = (
    [
        path("", queue.queue_page, name="queue"),
        path("export.csv", queue.queue_export, name="export"),
        path("views/", queue.saved_view_create, name="view_create"),
        path("views/<int:view_id>/delete/", queue.saved_view_delete, name="view_delete"),
        path("login/", desk.login, name="login"),
        path("receiving/", desk.receiving, name="receiving"),
        path("bulk/", desk.bulk, name="bulk"),
        path("cases/<str:number>/", desk.case_page, name="case"),
        path("cases/<str:number>/act/<str:action>/", desk.case_act, name="act"),
        path("cases/<str:number>/note/", desk.case_note, name="note"),
        path("cases/<str:number>/flag/", desk.case_flag, name="flag"),
        path("cases/<str:number>/priority/", desk.case_priority, name="priority"),
        path("cases/<str:number>/assign/", desk.case_assign, name="assign"),
        path("cases/<str:number>/contact/", desk.case_contact, name="contact"),
        path("cases/<str:number>/template/", desk.template_fill, name="template"),
        path("cases/<str:number>/label.pdf", desk.case_label, name="label"),
        path(
            "cases/<str:number>/inspection-preview/",
            desk.case_inspection_preview,
            name="inspection_preview",
        ),
        path(
            "cases/<str:number>/evidence/<int:evidence_id>/",
            desk.case_evidence,
            name="evidence",
        ),
    ],
    "desk",
)

portal_patterns = (
    [
        path("", portal.home, name="home"),
        path("my/", portal.my_cases, name="my_cases"),
        path("leave/", portal.leave, name="leave"),
        path("orders/<int:order_id>/", portal.order_page, name="order"),
        path("orders/<int:order_id>/apply/", portal.apply, name="apply"),
        path("cases/<str:number>/", portal.case_page, name="case"),
        path("cases/<str:number>/label.pdf", portal.case_label, name="label"),
        path("cases/<str:number>/act/<str:action>/", portal.case_act, name="act"),
    ],
    "portal",
)

urlpatterns = [
    path("desk/", include(desk_patterns)),
    path("", include(portal_patterns)),
]
