from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationConfig(AppConfig):
    name = "openbid.evaluation"
    label = "evaluation"
    verbose_name = _("Evaluation")

    def ready(self) -> None:
        # Registers the clock-loop handler, what happens when a committee draw, a coefficient
        # draw or a tie draw is performed, and the documents members sign.
        from openbid.crypto import document_signatures
        from openbid.evaluation import committee, session, tasks  # noqa: F401

        document_signatures.register(session.SIGN_IN_KIND, session.sign_in_signable)
        document_signatures.register(session.SCORES_KIND, session.sheet_signable)
        document_signatures.register(session.REPORT_KIND, session.report_signable)
