from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConnectorsConfig(AppConfig):
    name = "aftersales.connectors"
    label = "connectors"
    verbose_name = _("Marketplace connectors")

    def ready(self) -> None:
        from aftersales.cases.messages import register_before_shop_message
        from aftersales.cases.moves.platform import register_platform_desk
        from aftersales.cases.services import register_before_move
        from aftersales.connectors.cases import DESK
        from aftersales.connectors.writeback import before_move, before_shop_message

        register_platform_desk(DESK)
        register_before_move(before_move)
        register_before_shop_message(before_shop_message)
