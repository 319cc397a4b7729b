from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BiddingConfig(AppConfig):
    name = "openbid.bidding"
    label = "bidding"
    verbose_name = _("Bidding")

    def ready(self) -> None:
        from openbid.bidding import tasks  # noqa: F401  (registers the clock-loop handlers)
