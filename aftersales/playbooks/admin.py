from django.contrib import admin

from aftersales.playbooks.models import Playbook, Step, StepDone


class StepInline(admin.TabularInline):
    model = Step
    extra = 0


@admin.register(Playbook)
class PlaybookAdmin(admin.ModelAdmin):
    list_display = ("key", "shop", "kind", "reason", "category", "version", "enforced")
    list_filter = ("enforced", "is_starter")
    search_fields = ("key", "title")
    inlines = [StepInline]


@admin.register(StepDone)
class StepDoneAdmin(admin.ModelAdmin):
    list_display = ("case", "step_key", "playbook_key", "done_by_name", "done_at")
    search_fields = ("case__number", "step_key")

    def has_change_permission(self, request, obj=None):
        # A tick is an event on the case's timeline: written on the desk or the API only.
        return False

    def has_add_permission(self, request):
        return False
