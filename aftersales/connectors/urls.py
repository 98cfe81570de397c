"""URLs of the stores: the desk's pages under ``/desk/stores/``, and the endpoint the platforms
(or the relays of their long-connection messages) post push messages to."""

from django.urls import include, path

from aftersales.connectors import views

desk_patterns = (
    [
        path("", views.desk_list, name="list"),
        path("add/", views.desk_add, name="add"),
        path("<int:store_id>/", views.desk_store, name="store"),
        path("<int:store_id>/remove/", views.desk_remove, name="remove"),
        path("<int:store_id>/import/", views.desk_import, name="import"),
        path("<int:store_id>/<str:step>/", views.desk_step, name="step"),
    ],
    "connectors_desk",
)

urlpatterns = [
    path("desk/stores/", include(desk_patterns)),
    path("connectors/push/<str:platform>/<int:store_id>", views.push, name="connectors_push"),
]
