from django.contrib import admin

from aftersales.core.models import Notice


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    list_display = ("kind", "audience", "subject_type", "subject_id", "created_at", "delivered_at")
    list_filter = ("kind", "audience", "channel")
    readonly_fields = [f.name for f in Notice._meta.fields]
