from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisputesConfig(AppConfig):
    name = "aftersales.disputes"
    label = "disputes"
    verbose_name = _("Disputes")

    def ready(self) -> None:
        # The dispute's table and its notices join the kernel's registries; the case learns of
        # disputes through its desk and its precondition (``disputes.hooks``).
        from aftersales.disputes import hooks, lifecycle, notices  # noqa: F401

        hooks.install()
