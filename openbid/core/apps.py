from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "openbid.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from openbid.core import tasks  # noqa: F401  (registers the clock-loop handlers)
