from django.contrib import admin

from aftersales.notify.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("kind", "audience", "case", "created_at", "delivered_at", "channel", "attempts")
    list_filter = ("kind", "audience", "channel")
