"""The desk's customer pages."""

from django.urls import path

from aftersales.crm import views

app_name = "crm"
urlpatterns = [
    path("desk/customers/", views.customer_list, name="customers"),
    path("desk/customers/<int:customer_id>/", views.customer_page, name="customer"),
    path(
        "desk/customers/<int:customer_id>/preferences/",
        views.preferences_save,
        name="preferences",
    ),
    path("desk/retention/", views.retention_page, name="retention"),
    path("desk/retention/<int:item_id>/resolve/", views.retention_resolve, name="resolve"),
]
