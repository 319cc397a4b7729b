from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DepositsConfig(AppConfig):
    name = "openbid.deposits"
    label = "deposits"
    verbose_name = _("Deposits and guarantees")

    def ready(self) -> None:
        from openbid.award import hooks
        from openbid.deposits import services, signals, tasks  # noqa: F401  (clock loop, hooks)

        # Refunds start from the award's result and contract (2 working days / 5 days).
        hooks.on_result_published(services.result_published)
        hooks.on_contract_signed(services.contract_signed)
