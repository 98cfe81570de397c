"""URLs of conversations and the bell: the desk's under ``/desk/``, the portal's at the root, at
the addresses of the subject they are about (``/desk/cases/<number>/message/`` is the desk's
message form, as it always was)."""

from django.urls import path

from aftersales.conversations import views

app_name = "conversations"

CASE, COMPLAINT = {"subject_type": "case"}, {"subject_type": "complaint"}

urlpatterns = [
    path("desk/cases/<str:number>/message/", views.desk_message, CASE, name="desk_case_message"),
    path("desk/cases/<str:number>/messages/read/", views.desk_read, CASE, name="desk_case_read"),
    path(
        "desk/complaints/<str:number>/message/",
        views.desk_message,
        COMPLAINT,
        name="desk_complaint_message",
    ),
    path(
        "desk/complaints/<str:number>/messages/read/",
        views.desk_read,
        COMPLAINT,
        name="desk_complaint_read",
    ),
    path("desk/message-photos/<int:photo_id>/", views.desk_photo, name="desk_photo"),
    path("desk/bell/", views.bell_badge, name="bell"),
    path("desk/notices/", views.notices_page, name="notices"),
    path("desk/notices/read/", views.notices_read, name="notices_read"),
    path("cases/<str:number>/message/", views.portal_message, CASE, name="portal_case_message"),
    path("cases/<str:number>/messages/read/", views.portal_read, CASE, name="portal_case_read"),
    path(
        "complaints/<str:number>/message/",
        views.portal_message,
        COMPLAINT,
        name="portal_complaint_message",
    ),
    path(
        "complaints/<str:number>/messages/read/",
        views.portal_read,
        COMPLAINT,
        name="portal_complaint_read",
    ),
    path("message-photos/<int:photo_id>/", views.portal_photo, name="portal_photo"),
]
