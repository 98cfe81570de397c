from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "aftersales.crm"
    label = "crm"
    verbose_name = _("Customers")

    def ready(self) -> None:
        # The retention item's table and the care notices' kinds and composer join the
        # kernel's; the deliveries of a care notice honour the customer's opt-outs.
        from aftersales.crm import care, lifecycle  # noqa: F401
        from aftersales.notify.deliveries import register_delivery_filter

        register_delivery_filter(care.care_withheld)
