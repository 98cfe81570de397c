from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperationsConfig(AppConfig):
    """The commands that run the product over every app: the worker, the sweep, the demo data.
    This app sits above all the others, so it may import any of them."""

    name = "aftersales.operations"
    label = "operations"
    verbose_name = _("Operations")
