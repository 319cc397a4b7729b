from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "openbid.ledger"
    label = "ledger"
    verbose_name = _("Ledger (transparency log)")

    def ready(self) -> None:
        from openbid.core.events import on_event
        from openbid.ledger import store, tasks  # noqa: F401  (tasks registers clock handlers)

        on_event(store.append_event)
