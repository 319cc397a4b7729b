from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisputesConfig(AppConfig):
    name = "openbid.disputes"
    label = "disputes"
    verbose_name = _("Objections and complaints")

    def ready(self) -> None:
        from openbid.accounts.home import NOTIFICATION_SOURCES
        from openbid.core import holds
        from openbid.disputes import home, notifications, services, tasks  # noqa: F401 - registers

        home.register()
        holds.register_source(services.holds_of)
        if notifications.for_person not in NOTIFICATION_SOURCES:
            NOTIFICATION_SOURCES.append(notifications.for_person)
