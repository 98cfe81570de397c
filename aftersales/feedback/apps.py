from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "aftersales.feedback"
    label = "feedback"
    verbose_name = _("Customer feedback")

    def ready(self) -> None:
        # The survey's table, its invitation's notice kind and composer join the kernel's
        # registries.
        from aftersales.feedback import lifecycle, notices  # noqa: F401
