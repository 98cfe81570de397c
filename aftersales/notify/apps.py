from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "aftersales.notify"
    label = "notify"
    verbose_name = _("Notifications")

    def ready(self):
        # Deliveries start when notices are written (core.notices.on_notices_written).
        from aftersales.notify import deliveries  # noqa: F401
