from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TenderingConfig(AppConfig):
    name = "openbid.tendering"
    label = "tendering"
    verbose_name = _("Tendering")

    def ready(self) -> None:
        from openbid.tendering import tasks  # noqa: F401  (registers the clock-loop handlers)
