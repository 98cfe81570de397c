from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlaybooksConfig(AppConfig):
    name = "aftersales.playbooks"
    label = "playbooks"
    verbose_name = _("Playbooks")

    def ready(self) -> None:
        # The case's gate asks the checklist before a person's move (never the sweep's).
        from aftersales.core.lifecycle import register_precondition
        from aftersales.playbooks.guard import steps_done_before

        register_precondition("case", steps_done_before)
