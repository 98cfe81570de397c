from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    name = "aftersales.insights"
    label = "insights"
    verbose_name = _("Insights")

    def ready(self) -> None:
        # The export log lives apart from the rollups' models (``insights.models`` holds only
        # what the timeline rebuilds).
        from aftersales.insights import export_log  # noqa: F401
