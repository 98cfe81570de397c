"""The portal's rating form, the customer's login-free survey, and the desk's satisfaction page."""

from django.urls import path

from aftersales.feedback import survey_views, views

app_name = "feedback"
urlpatterns = [
    path("cases/<str:number>/rate/", views.case_rate, name="rate"),
    path("survey/<str:token>", survey_views.survey_page, name="survey"),
    path("desk/satisfaction/", survey_views.satisfaction_page, name="satisfaction"),
    path("desk/satisfaction/rounds/", survey_views.round_run, name="round_run"),
    path("desk/satisfaction/calls/<int:survey_id>/", survey_views.call_record, name="call"),
]
