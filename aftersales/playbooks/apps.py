from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlaybooksConfig(AppConfig):
    name = "aftersales.playbooks"
    label = "playbooks"
    verbose_name = _("Playbooks")

    def ready(self) -> None:
        # The case's gate asks the checklist before a person's move (never the sweep's).
        from aftersales.core.lifecycle import register_precondition
        from aftersales.core.timeline import register_event_labels
        from aftersales.playbooks.choices import STEP_DONE, STEP_UNDONE
        from aftersales.playbooks.guard import steps_done_before

        register_event_labels(
            {STEP_DONE: _("Playbook step done"), STEP_UNDONE: _("Playbook step undone")}
        )
        register_precondition("case", steps_done_before)
