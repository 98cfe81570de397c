from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConversationsConfig(AppConfig):
    name = "aftersales.conversations"
    label = "conversations"
    verbose_name = _("Messages and the bell")

    def ready(self) -> None:
        # The notice kinds of messages and deadlines join the kernel's registry.
        from aftersales.conversations import notices  # noqa: F401
