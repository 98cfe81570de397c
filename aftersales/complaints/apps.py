from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    name = "aftersales.complaints"
    label = "complaints"
    verbose_name = _("Complaints")

    def ready(self) -> None:
        # The complaint's table and its notices join the kernel's registries.
        from aftersales.complaints import lifecycle, notices  # noqa: F401
