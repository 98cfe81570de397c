from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "aftersales.notify"
    label = "notify"
    verbose_name = _("Notifications")

    def ready(self):
        # The composers of the notices' messages and the channels register on import.
        from aftersales.notify import deliveries  # noqa: F401
