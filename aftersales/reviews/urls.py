"""URLs of the reviews' pages: the desk's under ``/desk/reviews/``, the portal's under
``/reviews/``."""

from django.urls import include, path

from aftersales.reviews import views

desk_patterns = (
    [
        path("", views.followup_list, name="list"),
        path("<str:number>/", views.review_page, name="review"),
        path("<str:number>/act/<str:action>/", views.desk_review_act, name="act"),
    ],
    "reviews_desk",
)

portal_patterns = (
    [
        path("order/<int:order_id>/", views.order_review, name="order"),
        path("<str:number>/act/<str:action>/", views.portal_review_act, name="act"),
    ],
    "reviews_portal",
)

urlpatterns = [
    path("desk/reviews/", include(desk_patterns)),
    path("reviews/", include(portal_patterns)),
]
