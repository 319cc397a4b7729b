from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AwardConfig(AppConfig):
    name = "openbid.award"
    label = "award"
    verbose_name = _("Award and contract")

    def ready(self) -> None:
        from openbid.award import services, signing, tasks  # noqa: F401  (tasks: clock loop)
        from openbid.crypto import document_signatures

        document_signatures.register(signing.NOTICE_KIND, signing.notice_signable)
        document_signatures.register(signing.CONTRACT_KIND, signing.contract_signable)

        from openbid.award import evaluation_link

        evaluation_link.connect()
