"""URLs of shipping insurance's pages: the desk's under ``/desk/insurance/``, the buyer's
portal page under ``/insurance/``."""

from django.urls import include, path

from aftersales.insurance import portal, views

desk_patterns = (
    [
        path("flags/", views.flag_list, name="flags"),
        path("flags/scan/", views.flag_scan, name="scan"),
        path("flags/<int:flag_id>/", views.flag_page, name="flag"),
        path("flags/<int:flag_id>/<str:action>/", views.flag_review, name="review"),
        path("orders/<int:order_id>/", views.order_insurance, name="order"),
        path(
            "orders/<int:order_id>/claims/<str:case_number>/postage/",
            views.order_record_postage,
            name="postage",
        ),
    ],
    "insurance_desk",
)

portal_patterns = (
    [
        path("orders/<int:order_id>/", portal.order_page, name="order"),
        path("orders/<int:order_id>/act/<str:action>/", portal.order_act, name="act"),
    ],
    "insurance_portal",
)

urlpatterns = [
    path("desk/insurance/", include(desk_patterns)),
    path("insurance/", include(portal_patterns)),
]
