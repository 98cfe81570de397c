from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from aftersales.core.actors import SYSTEM
from aftersales.core.errors import ApplicationError
from aftersales.core.models import Notice
from aftersales.notify.models import Delivery, WebhookEndpoint
from aftersales.notify.services import (
    delivery_replay,
    event_kinds_check,
    webhook_endpoint_create,
)
from aftersales.notify.webhooks import webhook_url_check


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    list_display = ("kind", "audience", "subject_type", "subject_id", "created_at", "delivered_at")
    list_filter = ("kind", "audience", "channel")
    readonly_fields = [f.name for f in Notice._meta.fields]


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")

    class Meta:
        model = WebhookEndpoint
        fields = ("shop", "url", "event_kinds", "description", "is_active")

    def _checked(self, check, value):
        try:
            return check(value)
        except ApplicationError as refusal:
            raise forms.ValidationError(str(refusal.detail)) from None

    def clean_url(self):
        return self._checked(webhook_url_check, self.cleaned_data["url"])

    def clean_event_kinds(self):
        kinds = self.cleaned_data.get("event_kinds") or []
        if not isinstance(kinds, list) or not all(isinstance(kind, str) for kind in kinds):
            raise forms.ValidationError(_('A list of event types, e.g. ["case_opened"].'))
        return self._checked(event_kinds_check, kinds)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ("url", "shop", "is_active", "created_at")
    list_filter = ("is_active", "shop")
    # The secret is shown once, when the endpoint is added; never in a form.
    fields = ("shop", "url", "event_kinds", "description", "is_active")

    def get_readonly_fields(self, request, obj=None):
        return ("shop",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
            return
        created = webhook_endpoint_create(
            actor=SYSTEM,
            shop=obj.shop,
            url=obj.url,
            event_kinds=obj.event_kinds or [],
            description=obj.description,
        )
        obj.pk, obj.secret, obj.created_at = created.pk, created.secret, created.created_at
        self.message_user(
            request,
            _("The webhook's signing secret (shown only now): %(secret)s")
            % {"secret": created.secret},
            messages.WARNING,
        )


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("id", "channel", "status", "attempts", "next_attempt_at", "shop_id")
    list_filter = ("status", "channel")
    readonly_fields = [f.name for f in Delivery._meta.fields]
    actions = ["replay"]

    @admin.action(description=gettext_lazy("Replay the selected deliveries"))
    def replay(self, request, queryset):
        replayed = 0
        for delivery_id in queryset.values_list("pk", flat=True):
            try:
                delivery_replay(actor=SYSTEM, delivery_id=delivery_id, channel=None)
                replayed += 1
            except ApplicationError as refusal:
                self.message_user(request, f"#{delivery_id}: {refusal.detail}", messages.ERROR)
        self.message_user(
            request,
            ngettext(
                "%(count)d delivery will be sent again.",
                "%(count)d deliveries will be sent again.",
                replayed,
            )
            % {"count": replayed},
        )
