"""Cryptography for sealed bids: two suites behind one small interface.

* :mod:`openbid.crypto.suites` — the interface (:class:`~openbid.crypto.suites.Suite`), the sealed
  envelope format, and the two suites ``intl-2026`` (Ed25519, HPKE X25519/HKDF-SHA256/AES-256-GCM,
  SHA-256) and ``sm-2026`` (SM2 with SM3, SM2 encryption, SM4-GCM, SM3).
* :mod:`openbid.crypto.sm` — SM2 over ``gmalg``, SM3 and SM4 over ``cryptography``.

Pure Python modules: no Django models, no app configuration.
"""

from openbid.crypto.errors import CryptoError, DecryptionFailed, InvalidEnvelope, InvalidKey
from openbid.crypto.suites import SUITES, KeyPair, KeyUse, Suite, get_suite

__all__ = [
    "SUITES",
    "CryptoError",
    "DecryptionFailed",
    "InvalidEnvelope",
    "InvalidKey",
    "KeyPair",
    "KeyUse",
    "Suite",
    "get_suite",
]
