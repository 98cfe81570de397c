"""URLs of shipping insurance's desk pages, under ``/desk/insurance/``."""

from django.urls import include, path

from aftersales.insurance import views

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

urlpatterns = [path("desk/insurance/", include(desk_patterns))]
