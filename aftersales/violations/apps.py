from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ViolationsConfig(AppConfig):
    name = "aftersales.violations"
    label = "violations"
    verbose_name = _("Violation points")

    def ready(self) -> None:
        # The violation's and the penalty's tables and their notices join the kernel's registries.
        from aftersales.violations import lifecycle, notices  # noqa: F401
