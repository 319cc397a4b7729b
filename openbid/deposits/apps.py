from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DepositsConfig(AppConfig):
    name = "openbid.deposits"
    label = "deposits"
    verbose_name = _("Deposits and guarantees")

    def ready(self) -> None:
        from openbid.deposits import signals, tasks  # noqa: F401  (clock-loop handlers, hooks)
