from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpeningConfig(AppConfig):
    name = "openbid.opening"
    label = "opening"
    verbose_name = _("Opening")

    def ready(self) -> None:
        from openbid.opening import tasks  # noqa: F401  (registers the clock-loop handler)
