"""The errors of :mod:`openbid.crypto`; each says what was refused, never any secret."""

from __future__ import annotations


class CryptoError(Exception):
    """Base class of every error raised by :mod:`openbid.crypto`."""


class InvalidKey(CryptoError, ValueError):
    """A key is malformed, of the wrong length or type, or not a valid point of the curve."""


class InvalidEnvelope(CryptoError, ValueError):
    """A sealed envelope is not well formed (bad magic, version, suite, lengths or layout)."""


class DecryptionFailed(CryptoError):
    """Decryption or authentication failed: wrong key, or ciphertext, envelope or aad changed."""


class NotARecipient(DecryptionFailed):
    """The envelope holds no data key wrapped for the given private key."""
