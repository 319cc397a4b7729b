"""Virtual sub-account numbers (虚拟子账号) and their check digit.

Format (all digits; docs/operators/deposits.md)::

    PPPPPP  SSSSSSSS  RRRRR  C
    prefix  section   random check

* ``PPPPPP`` — the collecting bank's prefix for the centre's deposit account
  (``OPENBID_DEPOSIT_ACCOUNT_PREFIX``, 4 to 12 digits, default ``621700``);
* ``SSSSSSSS`` — the section's id, zero-padded to 8 digits;
* ``RRRRR`` — 5 random digits, unique within the section. Deliberately not a serial: a serial would
  tell a bidder how many others opened a sub-account before it, and the number of bidders is
  secret until the opening (Law art. 22);
* ``C`` — the Luhn check digit (ISO/IEC 7812-1 Annex B, the check digit of bank card numbers) over
  everything before it: it catches every single mistyped digit and every swap of two adjacent
  digits except 09/90, so a payment to a mistyped number is refused by the bank's own check or
  lands as "unmatched" rather than on someone else's sub-account.
"""

from __future__ import annotations

import re
import secrets

from django.conf import settings

_DIGITS = re.compile(r"\d+")
SECTION_DIGITS = 8
RANDOM_DIGITS = 5


def luhn_check_digit(digits: str) -> str:
    """The Luhn check digit to append to ``digits``."""
    if not _DIGITS.fullmatch(digits):
        raise ValueError("the Luhn check digit is computed over digits only")
    total = 0
    # From the right, the digit next to the check digit is doubled.
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    """Whether ``number`` (digits, its last one the check digit) passes the Luhn check."""
    if not _DIGITS.fullmatch(number or "") or len(number) < 2:
        return False
    return luhn_check_digit(number[:-1]) == number[-1]


def prefix() -> str:
    value = str(getattr(settings, "OPENBID_DEPOSIT_ACCOUNT_PREFIX", "621700"))
    if not re.fullmatch(r"\d{4,12}", value):
        raise ValueError("OPENBID_DEPOSIT_ACCOUNT_PREFIX must be 4 to 12 digits")
    return value


def new_number(section_id: int, random_part: int | None = None) -> str:
    """A sub-account number for a section (``random_part`` for tests; random otherwise)."""
    if not 0 < section_id < 10**SECTION_DIGITS:
        raise ValueError("section id out of range for the sub-account format")
    r = secrets.randbelow(10**RANDOM_DIGITS) if random_part is None else random_part
    body = f"{prefix()}{section_id:0{SECTION_DIGITS}d}{r:0{RANDOM_DIGITS}d}"
    return body + luhn_check_digit(body)


def normalise_account(value: str) -> str:
    """An account number as banks print it, without spaces or dashes."""
    return re.sub(r"[\s\-]", "", str(value or ""))
