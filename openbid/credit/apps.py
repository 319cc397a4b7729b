from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreditConfig(AppConfig):
    name = "openbid.credit"
    label = "credit"
    verbose_name = _("Credit")

    def ready(self) -> None:
        from openbid.accounts.home import NOTIFICATION_SOURCES
        from openbid.core.fields import FIELD_LABELS
        from openbid.credit import notifications
        from openbid.credit.labels import CREDIT_FIELD_LABELS

        # Refusals about credit fields name them as people read them (openbid.core.fields).
        for field, label in CREDIT_FIELD_LABELS.items():
            FIELD_LABELS.setdefault(field, label)
        if notifications.for_person not in NOTIFICATION_SOURCES:
            NOTIFICATION_SOURCES.append(notifications.for_person)
