from django.contrib import admin

from aftersales.team.models import ApiToken, AuditEntry, Membership, ReplyTemplate, ShopRole


class ReadOnly:
    """Roles change through the team's services only, so that each change is on the audit log:
    the admin shows them and changes nothing (``aftersales user create``, the team API)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ShopRoleInline(ReadOnly, admin.TabularInline):
    model = ShopRole
    fields = ("shop", "role")
    extra = 0


@admin.register(Membership)
class MembershipAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("user", "role", "customer")
    list_filter = ("role",)
    raw_id_fields = ("customer",)
    inlines = (ShopRoleInline,)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnly, admin.ModelAdmin):
    list_display = (
        "at",
        "shop",
        "member_name",
        "change",
        "role_before",
        "role_after",
        "actor_name",
    )
    list_filter = ("change", "shop")
    search_fields = ("member_name", "actor_name")
    date_hierarchy = "at"


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "created_at", "revoked_at")
    readonly_fields = ("key_hash", "prefix")


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(admin.ModelAdmin):
    list_display = ("title", "shop", "language")
    list_filter = ("language", "shop")
