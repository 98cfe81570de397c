from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PolicyConfig(AppConfig):
    name = "aftersales.policy"
    label = "policy"
    verbose_name = _("Shop policies")

    def ready(self) -> None:
        # The contact log (a layer below) costs staff time at the shop's rate.
        from aftersales.policy.services import staff_rate_of
        from aftersales.team.workbench import register_staff_rate

        register_staff_rate(staff_rate_of)
