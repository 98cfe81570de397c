"""The desk's customer pages."""

from django.urls import path

from aftersales.crm import care_views, tier_views, views

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
    path("desk/care/", care_views.care_list, name="care"),
    path("desk/care/new/", care_views.care_new, name="care_new"),
    path("desk/care/<int:campaign_id>/", care_views.care_edit, name="care_edit"),
    path("desk/care/<int:campaign_id>/active/", care_views.care_active, name="care_active"),
    path("desk/care/<int:campaign_id>/delete/", care_views.care_delete, name="care_delete"),
    path("desk/care/<int:campaign_id>/sends/", care_views.care_sends, name="care_sends"),
    path("desk/tiers/", tier_views.tiers_page, name="tiers"),
    path("desk/tiers/new/", tier_views.tier_save, name="tier_new"),
    path("desk/tiers/<int:tier_id>/", tier_views.tier_save, name="tier_edit"),
    path("desk/tiers/<int:tier_id>/delete/", tier_views.tier_delete, name="tier_delete"),
]
