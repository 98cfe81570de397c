from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewsConfig(AppConfig):
    name = "aftersales.reviews"
    label = "reviews"
    verbose_name = _("Reviews")

    def ready(self) -> None:
        # The review's table and its notices join the kernel's registries.
        from aftersales.reviews import lifecycle, notices  # noqa: F401
