"""People's identity card numbers (GB 11643-1999), kept only as a keyed digest.

One digest for the whole platform, so that the credit context and the expert pool recognise the
same person: ``person_digest`` is an HMAC-SHA256 under a key derived from the platform's secret
key (Django's ``salted_hmac``). A plain hash would not do: identity numbers are few enough (region,
birth date, sequence) to be found from their SHA-256 by trying them all. Rotating the secret key
changes every digest; see ``docs/operators/keys.md``.
"""

from __future__ import annotations

from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from openbid.core.errors import InvalidInput
from openbid.core.fields import label

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def check_character(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits of an identity number."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def normalise_id_number(value: str, field: str = "id_number") -> str:
    """An 18-character resident identity card number with a valid check character, upper case."""
    text = (value or "").strip().upper()
    if len(text) != 18 or not text[:17].isdigit() or text[17] not in "0123456789X":
        raise InvalidInput(
            _("The %(field)s has 18 characters: 17 digits and a check digit (0–9 or X).")
            % {"field": label(field)},
            field=field,
            rule="gb11643",
        )
    if text[17] != check_character(text[:17]):
        raise InvalidInput(
            _("The %(field)s has a wrong check digit.") % {"field": label(field)},
            field=field,
            rule="gb11643",
        )
    return text


def person_digest(id_number: str, field: str = "id_number") -> str:
    """The platform's keyed digest of an identity card number (checked first)."""
    number = normalise_id_number(id_number, field)
    return salted_hmac("openbid.person", number, algorithm="sha256").hexdigest()
