from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionsConfig(AppConfig):
    name = "aftersales.inspections"
    label = "inspections"
    verbose_name = _("Inspection center")

    def ready(self) -> None:
        # The inspection's table and its notices join the kernel's registries; the case learns of
        # its inspections through their desk (``inspections.hooks``).
        from aftersales.inspections import hooks, lifecycle, notices  # noqa: F401

        hooks.install()
