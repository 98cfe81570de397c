"""Cases are read-only here: every change goes through the state table (``case_transition``)."""

from django.contrib import admin

from aftersales.cases.models import Case, CaseEvent, CaseLine, Policy


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CaseLineInline(ReadOnlyInline):
    model = CaseLine


class CaseEventInline(ReadOnlyInline):
    model = CaseEvent


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ("number", "shop", "kind", "reason", "state", "deadline_at", "deadline_action")
    list_filter = ("shop", "state", "kind", "reason")
    search_fields = ("number", "order__external_id", "return_tracking_number", "customer__phone")
    inlines = [CaseLineInline, CaseEventInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = ("shop", "version", "preset", "created_at")
    list_filter = ("shop",)

    def has_change_permission(self, request, obj=None):
        return False  # a policy version is immutable; change it through the API (new version)
