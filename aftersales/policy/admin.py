from django.contrib import admin

from aftersales.policy.models import Policy


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = ("shop", "version", "preset", "created_at")
    list_filter = ("shop",)

    def has_change_permission(self, request, obj=None):
        return False  # a policy version is immutable; change it through the API (new version)
