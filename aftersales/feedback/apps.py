from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "aftersales.feedback"
    label = "feedback"
    verbose_name = _("Customer feedback")

    def ready(self) -> None:
        # The survey's invitation joins the kernel's notice kinds and composers.
        from aftersales.feedback import notices  # noqa: F401
