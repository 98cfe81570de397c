from django.contrib import admin
from django.urls import path

from aftersales.core import views as core_views
from config.api import api

urlpatterns = [
    path("", core_views.home, name="home"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]

handler404 = "aftersales.core.views.not_found"
handler500 = "aftersales.core.views.server_error"
