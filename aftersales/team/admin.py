from django.contrib import admin

from aftersales.team.models import ApiToken, Membership, ReplyTemplate


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "customer")
    list_filter = ("role",)
    filter_horizontal = ("shops",)
    raw_id_fields = ("customer",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "created_at", "revoked_at")
    readonly_fields = ("key_hash", "prefix")


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(admin.ModelAdmin):
    list_display = ("title", "shop", "language")
    list_filter = ("language", "shop")
