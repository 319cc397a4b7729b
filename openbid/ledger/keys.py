"""The log's signing key and the witness key of this platform.

Keys are C2SP signed-note signer keys (``PRIVATE+KEY+<name>+<id>+<base64>``). They come from the
environment (``OPENBID_LEDGER_SIGNING_KEY``, ``OPENBID_WITNESS_SIGNING_KEY``) or, on a platform
that has none configured, are generated once into ``OPENBID_HOME`` with mode 0600. The key names
are the log origin and the witness name; a key whose name differs from the configured name is
refused, since verifiers look keys up by name.
"""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
import threading
from pathlib import Path

from django.conf import settings

from openbid.core import clock
from openbid.ledger.checkpoint import CosignatureV1Signer
from openbid.ledger.note import Ed25519Signer, Signer, parse_signer_key


class KeyConfigurationError(RuntimeError):
    pass


def _unix_now() -> int:
    # Cosignature timestamps come from the platform clock like every other time.
    return int(clock.now().timestamp())


def origin() -> str:
    return str(settings.OPENBID_LEDGER_ORIGIN)


def witness_name() -> str:
    return str(settings.OPENBID_WITNESS_NAME)


_create_lock = threading.Lock()


def _stored(path: Path, generate: str) -> str:
    """The key kept at ``path``, created once with ``generate`` if missing.

    The key is written to a private temporary file and linked into place, so a reader never sees
    a half-written key and, when several threads or processes start at once, exactly one key wins.
    """
    with _create_lock:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key-")
            try:
                with os.fdopen(fd, "w") as handle:
                    handle.write(generate + "\n")
                    handle.flush()
                    os.fsync(handle.fileno())
                os.chmod(tmp, 0o600)
                # If another process created it first, theirs is the key.
                with contextlib.suppress(FileExistsError):
                    os.link(tmp, path)
            finally:
                os.unlink(tmp)
    return path.read_text().strip()


def _check_name(signer: Signer, expected: str, variable: str) -> Signer:
    if signer.name != expected:
        raise KeyConfigurationError(
            f"{variable} is a key for {signer.name!r}, but this platform is {expected!r}"
        )
    return signer


@functools.cache
def log_signer() -> Signer:
    """The Ed25519 key that signs this log's checkpoints."""
    text = os.environ.get("OPENBID_LEDGER_SIGNING_KEY") or _stored(
        Path(settings.OPENBID_HOME) / "ledger-signing.key",
        Ed25519Signer.generate(origin()).signer_key(),
    )
    return _check_name(parse_signer_key(text), origin(), "OPENBID_LEDGER_SIGNING_KEY")


@functools.cache
def witness_signer() -> CosignatureV1Signer:
    """The key this platform cosigns other logs' checkpoints with (tlog-cosignature/v1)."""
    text = os.environ.get("OPENBID_WITNESS_SIGNING_KEY") or _stored(
        Path(settings.OPENBID_HOME) / "witness-signing.key",
        CosignatureV1Signer.generate(witness_name(), clock=_unix_now).signer_key(),
    )
    signer = CosignatureV1Signer.from_signer_key(text, clock=_unix_now)
    _check_name(signer, witness_name(), "OPENBID_WITNESS_SIGNING_KEY")
    return signer


def log_verifier_key() -> str:
    return log_signer().verifier().verifier_key()


def witness_verifier_key() -> str:
    return witness_signer().verifier().verifier_key()
