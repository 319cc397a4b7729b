"""Cryptography for sealed bids: two suites behind one small interface.

* :mod:`openbid.crypto.suites` — the interface (:class:`~openbid.crypto.suites.Suite`), the sealed
  envelope format, and the two suites ``intl-2026`` (Ed25519, HPKE X25519/HKDF-SHA256/AES-256-GCM,
  SHA-256) and ``sm-2026`` (SM2 with SM3, SM2 encryption, SM4-GCM, SM3).
* :mod:`openbid.crypto.sm` — SM2 over ``gmalg``, SM3 and SM4 over ``cryptography``.
* :mod:`openbid.crypto.x509` and :mod:`openbid.crypto.testca` — certificate path validation with
  CRLs across several trusted CAs (CA 互认), and a small CA for demos and tests.
* :mod:`openbid.crypto.escrow` — k-of-n custodians holding SLIP-0039 shares of an escrow key.

Those modules are pure Python. The Django app (``models``, ``services``) keeps the trust store
and the certificates people register.
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
