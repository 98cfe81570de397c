"""Cases are read-only here: every change goes through the state table (``case_transition``)."""

from django.contrib import admin
from django.contrib.contenttypes.admin import GenericTabularInline

from aftersales.cases.models import Case, CaseLine
from aftersales.core.models import Event


class CaseLineInline(admin.TabularInline):
    model = CaseLine
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CaseEventInline(GenericTabularInline):
    model = Event
    ct_field = "subject_type"
    ct_fk_field = "subject_id"
    extra = 0
    can_delete = False
    exclude = ("shop_id",)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


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
