from django.contrib import admin

from aftersales.routing.models import AgentProfile, DutyChange, RoutingSettings, Team


@admin.register(RoutingSettings)
class RoutingSettingsAdmin(admin.ModelAdmin):
    list_display = ("shop", "strategy", "default_capacity", "auto_assign")


@admin.register(AgentProfile)
class AgentProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "shop", "team", "on_duty", "capacity", "last_assigned_at")
    list_filter = ("on_duty",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "shop", "created_at")


@admin.register(DutyChange)
class DutyChangeAdmin(admin.ModelAdmin):
    list_display = ("user", "shop", "on_duty", "by_name", "reassigned", "unassigned", "at")
    list_filter = ("on_duty",)

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # the record of duty is not rewritten
