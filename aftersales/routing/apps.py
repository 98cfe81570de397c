from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    name = "aftersales.routing"
    label = "routing"
    verbose_name = _("Assignment to agents")

    def ready(self) -> None:
        # The notice kind the routing queues (a subject left with nobody to work it).
        from aftersales.routing import notices  # noqa: F401
