from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationConfig(AppConfig):
    name = "openbid.evaluation"
    label = "evaluation"
    verbose_name = _("Evaluation")

    def ready(self) -> None:
        # Registers the clock-loop handler and what happens when a committee draw is performed.
        from openbid.evaluation import committee, tasks  # noqa: F401
