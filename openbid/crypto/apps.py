from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CryptoConfig(AppConfig):
    name = "openbid.crypto"
    label = "crypto"
    verbose_name = _("Certificates and trusted CAs (CA 互认)")
