"""The portal's rating form."""

from django.urls import path

from aftersales.feedback import views

app_name = "feedback"
urlpatterns = [path("cases/<str:number>/rate/", views.case_rate, name="rate")]
