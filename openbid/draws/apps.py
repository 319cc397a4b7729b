from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DrawsConfig(AppConfig):
    name = "openbid.draws"
    label = "draws"
    verbose_name = _("Verifiable draws")

    def ready(self) -> None:
        from openbid.draws import tasks  # noqa: F401  (registers the clock-loop handler)
