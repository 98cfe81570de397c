from django.contrib import admin

from aftersales.sla.models import BusinessHours, Clock, Holiday, Target


@admin.register(BusinessHours)
class BusinessHoursAdmin(admin.ModelAdmin):
    list_display = ("shop", "region", "updated_at")


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    list_display = ("shop", "subject_type", "kind", "priority", "first_response", "resolution")
    list_filter = ("subject_type",)


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ("country", "date", "name")
    list_filter = ("country",)


@admin.register(Clock)
class ClockAdmin(admin.ModelAdmin):
    """Clocks are derived from the timelines: read them here, never edit them."""

    list_display = ("subject_type", "subject_id", "metric", "state", "due_at", "met_at")
    list_filter = ("metric", "state")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
