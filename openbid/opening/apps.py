from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpeningConfig(AppConfig):
    name = "openbid.opening"
    label = "opening"
    verbose_name = _("Opening")

    def ready(self) -> None:
        from openbid.crypto import document_signatures
        from openbid.opening import services, tasks  # noqa: F401  (tasks: the clock-loop handler)

        document_signatures.register(services.RECORD_KIND, services.record_signable)
