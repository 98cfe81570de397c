from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsuranceConfig(AppConfig):
    name = "aftersales.insurance"
    label = "insurance"
    verbose_name = _("Shipping insurance")

    def ready(self) -> None:
        # The cover's and the flag's tables and their notices join the kernel's registries.
        from aftersales.insurance import lifecycle, notices  # noqa: F401
