from django.contrib import admin
from django.urls import path

from aftersales.core import views as core_views
from aftersales.core.ratelimit import rate_limited_login
from config.api import api

admin.site.login = rate_limited_login(admin.site.login)

urlpatterns = [
    path("", core_views.home, name="home"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]

handler404 = "aftersales.core.views.not_found"
handler500 = "aftersales.core.views.server_error"
