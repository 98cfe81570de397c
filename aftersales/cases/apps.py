from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "aftersales.cases"
    label = "cases"
    verbose_name = _("After-sales cases")

    def ready(self) -> None:
        # The case's table and its notices join the kernel's registries.
        from aftersales.cases import lifecycle, notices  # noqa: F401
