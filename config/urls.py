from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language

from aftersales.core import views as core_views
from aftersales.core.health import health
from aftersales.core.ratelimit import rate_limited_login
from config.api import api

admin.site.login = rate_limited_login(admin.site.login)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("about/", core_views.home, name="about"),
    path("health", health, name="health"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("aftersales.conversations.urls")),
    path("", include("aftersales.complaints.urls")),
    path("", include("aftersales.reviews.urls")),
    path("", include("aftersales.disputes.urls")),
    path("", include("aftersales.feedback.urls")),
    path("", include("aftersales.crm.urls")),
    path("", include("aftersales.insights.urls")),
    path("", include("aftersales.routing.urls")),
    path("", include("aftersales.playbooks.urls")),
    path("", include("aftersales.violations.urls")),
    path("", include("aftersales.insurance.urls")),
    path("", include("aftersales.inspections.urls")),
    path("", include("aftersales.connectors.urls")),
    path("", include("aftersales.cases.urls")),
]

handler404 = "aftersales.core.views.not_found"
handler500 = "aftersales.core.views.server_error"
