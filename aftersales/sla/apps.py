from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "aftersales.sla"
    label = "sla"
    verbose_name = _("Service levels")

    def ready(self) -> None:
        # The warning and breach notices join the kernel's registry.
        from aftersales.core.timeline import register_event_labels
        from aftersales.sla import notices  # noqa: F401

        register_event_labels(
            {"sla_warning": _("Service level: due soon"), "sla_breach": _("Service level missed")}
        )
