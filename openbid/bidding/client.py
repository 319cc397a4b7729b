"""``openbid-bidder``: the bidder's client — keys, CSR, pack, seal, submit, withdraw, verify, open.

Everything secret stays on the bidder's machine: the bid is packed and sealed here, the platform
receives only ciphertext, and at the opening the bidder releases the data key of its envelope.

    openbid-bidder keygen --suite intl-2026 --out keys/
    openbid-bidder csr --suite intl-2026 --key keys/signing.key --name 张三 \\
        --credit-code 91330100MA0000001X --org-name 某某建设有限公司 --out keys/signing.csr
    openbid-bidder sealing --url https://bid.example.cn --tender 9 --escrow-out escrow.pub
    openbid-bidder pack bid-files/ --form form.json --out bid.zip
    openbid-bidder seal bid.zip --suite intl-2026 --to keys/encryption.pub [--to escrow.pub] \\
        --sign keys/signing.key --section-aad 42 --out bid.obenv
    openbid-bidder submit bid.obenv --url https://bid.example.cn --section 42 --sign keys/signing.key
    openbid-bidder verify-receipt bid.receipt --url https://bid.example.cn
    openbid-bidder withdraw --bid 7 --url https://bid.example.cn
    openbid-bidder open bid.obenv --key keys/encryption.key --url https://bid.example.cn

The API token comes from ``--token`` or the ``OPENBID_TOKEN`` environment variable (better: it
does not show in the process list). Files written next to the envelope ``bid.obenv``:

* ``bid.obenv.json`` (by ``seal``): suite, section, commitment (the suite hash of the package),
  ciphertext SHA-256 and size, recipients' key ids, the signer's public key and a signature over
  the commitment. Nothing in it is secret; ``submit`` needs it.
* ``bid.obenv.upload.json`` (by ``submit``): the upload id, so a killed client resumes where the
  platform says it stopped; then the bid id once committed.
* ``bid.receipt`` (by ``submit``): the platform's receipt (回执), a C2SP signed note naming the bid,
  section, bidder, ciphertext hash, commitment, server time and ledger index.
* ``bid.obenv.datakey.json`` (by ``open``, mode 0600): the released data key.

It needs no Django settings and no database: it runs on a bidder's machine with only the package
installed.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import http.client
import json
import os
import platform
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519
from cryptography.x509.oid import NameOID

from openbid.accounts.credit_code import ALPHABET as CREDIT_CODE_ALPHABET
from openbid.accounts.credit_code import check_character
from openbid.bidding import package
from openbid.crypto import _der, sm
from openbid.crypto import x509 as certificates
from openbid.crypto.document_message import signing_message
from openbid.crypto.errors import CryptoError
from openbid.crypto.suites import (
    ENVELOPE_MAGIC,
    ENVELOPE_VERSION,
    SUITES,
    KeyUse,
    Suite,
    get_suite,
)
from openbid.ledger.note import NoteError, parse_verifier_key, verify_note
from openbid.opening.aad import bid_aad

PROG = "openbid-bidder"
SEALED_FORMAT = "openbid-sealed-bid/1"
DEFAULT_SUITE = "intl-2026"
MAX_FORM_BYTES = 1024 * 1024
T = TypeVar("T")


def tool_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{PROG} {version('openbid')}"
    except PackageNotFoundError:  # run from a source tree
        from openbid import __version__

        return f"{PROG} {__version__}"


# --- errors ------------------------------------------------------------------------------------


class ClientError(Exception):
    """A refusal or failure, reported on stderr; ``exit_code`` is the process status."""

    exit_code = 1


class UsageError(ClientError):
    exit_code = 2


class Interrupted(ClientError):
    """The network failed; running the same command again resumes."""

    exit_code = 3


class ApiError(ClientError):
    """The platform refused, with its error object (code, message, field, rule, article, at)."""

    def __init__(self, status: int, error: dict[str, Any]) -> None:
        self.status = status
        self.error = error
        message = str(error.get("message") or f"HTTP {status}")
        where = ", ".join(
            f"{name} {error[name]}" for name in ("field", "rule", "at") if error.get(name)
        )
        super().__init__(f"{message} ({where})" if where else message)

    @property
    def rule(self) -> str | None:
        return self.error.get("rule")


# --- what the bidder signs, and what binds a bid to its section --------------------------------


def commitment_message(
    tender_id: int,
    section_id: int,
    bidder_credit_code: str,
    ciphertext_sha256: str,
    commitment: str,
) -> bytes:
    """The bytes the bidder signs at submission: the same text as
    ``openbid.bidding.services.commitment_message`` (a test keeps the two equal)."""
    return (
        "openbid bid commitment v1\n"
        f"tender {tender_id}\nsection {section_id}\nbidder {bidder_credit_code}\n"
        f"ciphertext-sha256 {ciphertext_sha256}\ncommitment {commitment}\n"
    ).encode()


def seal_statement(suite: str, section_id: int, commitment: str) -> bytes:
    """What ``seal --sign`` signs: the bidder's own record that it sealed this plaintext."""
    return (
        f"openbid sealed bid v1\nsuite {suite}\nsection {section_id}\ncommitment {commitment}\n"
    ).encode()


def machine_fingerprint() -> str:
    """SHA-256 of stable identifiers of this machine and its system (never the raw values): the
    systemd/D-Bus machine id where there is one, the host name, the OS and architecture. The
    same machine gives the same fingerprint in every bid it packs."""
    parts = ["openbid machine fingerprint v1"]
    for candidate in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        with contextlib.suppress(OSError):
            value = Path(candidate).read_text().strip()
            if value:
                parts.append(f"machine-id {value}")
                break
    parts.append(f"host {socket.gethostname().lower()}")
    parts.append(f"system {platform.system()} {platform.machine()}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


# --- files -------------------------------------------------------------------------------------


def _write_atomic(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write via a temporary file and rename, so a killed client never leaves half a file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def _write_json(path: Path, value: dict[str, Any], *, mode: int = 0o644) -> None:
    text = json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    _write_atomic(path, text.encode(), mode=mode)


def _write_new(path: Path, data: bytes, *, mode: int, force: bool) -> None:
    if path.exists() and not force:
        raise UsageError(f"{path} exists; use --force to replace it")
    _write_atomic(path, data, mode=mode)


def _read(path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(_read(path))
    except ValueError as exc:
        raise UsageError(f"{path} is not JSON") from exc
    if not isinstance(value, dict):
        raise UsageError(f"{path} is not a JSON object")
    return value


def _file_digest(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


def sidecar_path(envelope: Path) -> Path:
    return envelope.with_name(envelope.name + ".json")


def state_path(envelope: Path) -> Path:
    return envelope.with_name(envelope.name + ".upload.json")


def receipt_path(envelope: Path) -> Path:
    return envelope.with_suffix(".receipt")


def datakey_path(envelope: Path) -> Path:
    return envelope.with_name(envelope.name + ".datakey.json")


def _envelope_suite(path: Path) -> str:
    """The suite named in an envelope's header (magic, version, suite name)."""
    with path.open("rb") as handle:
        head = handle.read(7 + 255)
    if head[:5] != ENVELOPE_MAGIC or len(head) < 7 or head[5] != ENVELOPE_VERSION:
        raise UsageError(f"{path} is not a sealed envelope")
    name = head[7 : 7 + head[6]].decode("ascii", "replace")
    if name not in SUITES:
        raise UsageError(f"{path} is sealed with an unknown suite {name!r}")
    return name


# --- keys --------------------------------------------------------------------------------------


def _load_private(path: str, suite: Suite, use: KeyUse) -> bytes:
    try:
        return suite.private_key_from_pem(_read(path), use)
    except CryptoError as exc:
        raise UsageError(f"{path}: not a {suite.name} {use.value} private key ({exc})") from exc


def _load_encryption_public(path: str, suite: Suite) -> bytes:
    """An encryption public key from a PEM public key or an X.509 certificate (an escrow
    custodian's, say)."""
    data = _read(path)
    try:
        if b"-----BEGIN CERTIFICATE-----" not in data and data.lstrip().startswith(b"-----"):
            return suite.public_key_from_pem(data, KeyUse.ENCRYPTION)
        key = certificates.certificate_public_key(certificates.load_certificate(data))
    except (CryptoError, ValueError) as exc:
        raise UsageError(f"{path}: not a {suite.name} encryption public key ({exc})") from exc
    wanted = x25519.X25519PublicKey if suite.name == "intl-2026" else certificates.SM2PublicKey
    if not isinstance(key, wanted):
        raise UsageError(f"{path}: the certificate does not hold a {suite.name} encryption key")
    return certificates.public_key_bytes(key)


def cmd_keygen(args: argparse.Namespace) -> int:
    suite = get_suite(args.suite)
    out = Path(args.out)
    signing, encryption = suite.generate_signing_key(), suite.generate_encryption_key()
    files = {
        out / "signing.key": suite.private_key_to_pem(signing.private, KeyUse.SIGNING),
        out / "signing.pub": suite.public_key_to_pem(signing.public, KeyUse.SIGNING),
        out / "encryption.key": suite.private_key_to_pem(encryption.private, KeyUse.ENCRYPTION),
        out / "encryption.pub": suite.public_key_to_pem(encryption.public, KeyUse.ENCRYPTION),
    }
    existing = [str(path) for path in files if path.exists()]
    if existing and not args.force:
        raise UsageError(f"{', '.join(existing)} exist; use --force to replace them")
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    for path, pem in files.items():
        _write_atomic(path, pem, mode=0o600 if path.suffix == ".key" else 0o644)
        print(f"  {path}")
    print(f"suite {suite.name}")
    print(f"signing public key (base64) {base64.b64encode(signing.public).decode()}")
    print(f"encryption key id {suite.key_id(encryption.public).hex()}")
    print(
        "Keep the .key files secret and backed up: without encryption.key no bid sealed to it opens."
    )
    return 0


def cmd_csr(args: argparse.Namespace) -> int:
    code = args.credit_code.strip().upper()
    if (
        len(code) != 18
        or any(c not in CREDIT_CODE_ALPHABET for c in code)
        or check_character(code[:17]) != code[17]
    ):
        raise UsageError(f"{args.credit_code} is not a unified social credit code (GB 32100)")
    suite = get_suite(args.suite)
    private = _load_private(args.key, suite, KeyUse.SIGNING)
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "CN")]
    if args.org_name:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, args.org_name))
    attributes += [
        # ETSI EN 319 412-1 §5.1.4, as openbid.crypto.x509 reads the credit code by default.
        x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, f"NTRCN-{code}"),
        x509.NameAttribute(NameOID.COMMON_NAME, args.name),
    ]
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    builder = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name(attributes))
        .add_extension(usage, critical=True)
    )
    if suite.name == "intl-2026":
        request = builder.sign(ed25519.Ed25519PrivateKey.from_private_bytes(private), None)
        der = request.public_bytes(serialization.Encoding.DER)
    else:
        der = _sm2_csr(builder, private, suite.public_key(private, KeyUse.SIGNING))
    _write_new(
        Path(args.out), _der.to_pem(der, "CERTIFICATE REQUEST"), mode=0o644, force=args.force
    )
    print(f"{args.out}: certificate request for {args.name}, {code} ({suite.name})")
    return 0


# SM3withSM2 (1.2.156.10197.1.501), no parameters, as GB/T 35276-2017 and OpenSSL write it.
_SM3_WITH_SM2 = bytes.fromhex("300a06082a811ccf55018375")


def _sm2_csr(builder: Any, private: bytes, public: bytes) -> bytes:
    """A PKCS#10 request signed with SM2. ``cryptography`` cannot sign with SM2 or encode an SM2
    key, so the request is built with a placeholder Ed25519 key, then its subjectPublicKeyInfo
    is replaced by the SM2 one and the CertificationRequestInfo re-signed (SM3withSM2, default
    user id, DER ``SEQUENCE { r, s }``) — as ``openbid.crypto.testca`` does for certificates."""
    draft = builder.sign(ed25519.Ed25519PrivateKey.generate(), None).public_bytes(
        serialization.Encoding.DER
    )
    info = _der.children(_der.parse(draft, _der.SEQUENCE))[0]
    fields = [_der.encode(tag, content) for tag, content in _der.children(info[1])]
    fields[2] = certificates.SM2PublicKey(
        public
    ).subject_public_key_info()  # version, subject, spki, [0]
    signed = _der.encode_sequence(*fields)
    signature = sm.signature_to_der(sm.sign(private, signed))
    return _der.encode_sequence(
        signed, _SM3_WITH_SM2, _der.encode(_der.BIT_STRING, b"\0" + signature)
    )


# --- pack and seal -----------------------------------------------------------------------------


def _bid_files(folder: Path) -> dict[str, bytes]:
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder")
    files = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            raise UsageError(f"{path} is a symbolic link; copy the file into the folder")
        if path.is_file():
            files[path.relative_to(folder).as_posix()] = path.read_bytes()
    return files


def cmd_pack(args: argparse.Namespace) -> int:
    files = _bid_files(Path(args.folder))
    raw_form = _read(args.form)
    if len(raw_form) > MAX_FORM_BYTES:
        raise UsageError(f"{args.form} is larger than {MAX_FORM_BYTES} bytes")
    try:
        # Decimals stay as written (no binary floats in a price).
        form = json.loads(raw_form, parse_float=str)
    except ValueError as exc:
        raise UsageError(f"{args.form} is not JSON") from exc
    if not isinstance(form, dict):
        raise UsageError(f"{args.form} must hold a JSON object of the bid form's values")
    try:
        data = package.build(files, form, tool=tool_version(), machine=machine_fingerprint())
    except package.PackageError as exc:
        raise UsageError(str(exc)) from exc
    _write_new(Path(args.out), data, mode=0o600, force=args.force)
    manifest = package.read(data).manifest
    print(f"{args.out}: {len(files)} files, {len(data)} bytes, price {manifest['form']['price']}")
    for entry in manifest["files"]:
        print(f"  {entry['sha256']}  {entry['size']:>10}  {entry['name']}")
    return 0


def cmd_seal(args: argparse.Namespace) -> int:
    suite = get_suite(args.suite)
    plaintext = _read(args.package)
    try:
        package.read(plaintext)
    except package.PackageError as exc:
        raise UsageError(f"{args.package} is not a bid package: {exc}") from exc
    recipients = [_load_encryption_public(path, suite) for path in args.to]
    key_ids = [suite.key_id(public).hex() for public in recipients]
    if len(set(key_ids)) != len(key_ids):
        raise UsageError("the same recipient key is given twice")
    try:
        envelope = suite.seal(recipients, plaintext, bid_aad(args.section))
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    commitment = suite.hash(plaintext).hex()
    out = Path(args.out)
    _write_new(out, envelope, mode=0o644, force=args.force)
    sidecar: dict[str, Any] = {
        "format": SEALED_FORMAT,
        "suite": suite.name,
        "section": args.section,
        "aad": bid_aad(args.section).decode("ascii"),
        "commitment": commitment,
        "ciphertext_sha256": hashlib.sha256(envelope).hexdigest(),
        "size": len(envelope),
        "recipients": key_ids,
        "to_sign": (
            "at submission, openbid-bidder submit signs 'openbid bid commitment v1' naming the "
            "tender, this section, the bidder's credit code, ciphertext-sha256 and commitment"
        ),
    }
    if args.sign:
        private = _load_private(args.sign, suite, KeyUse.SIGNING)
        statement = seal_statement(suite.name, args.section, commitment)
        sidecar["signer_public_key"] = base64.b64encode(
            suite.public_key(private, KeyUse.SIGNING)
        ).decode()
        sidecar["seal_signature"] = base64.b64encode(suite.sign(private, statement)).decode()
    _write_json(sidecar_path(out), sidecar)
    print(
        f"{out}: {len(envelope)} bytes sealed for section {args.section} to {len(key_ids)} key(s)"
    )
    print(f"commitment ({suite.name} hash of the package) {commitment}")
    print(f"ciphertext SHA-256 {sidecar['ciphertext_sha256']}")
    return 0


# --- the platform's API ------------------------------------------------------------------------


class Api:
    """JSON over HTTP(S) to ``<url>/api/v1`` with a bearer token."""

    def __init__(self, url: str, token: str | None, *, timeout: float = 120) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise UsageError(f"{url} is not an http(s) address of the platform")
        base = url.rstrip("/")
        self.base = base if base.endswith("/api/v1") else base + "/api/v1"
        self.token = token
        self.timeout = timeout

    def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        data: bytes | None = None,
        authenticated: bool = True,
    ) -> Any:
        headers = {"Accept": "application/json"}
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif data is not None:
            headers["Content-Type"] = "application/octet-stream"
        if authenticated:
            if not self.token:
                raise UsageError("give an API token with --token or OPENBID_TOKEN")
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            self.base + path, data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                payload = response.read()
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                error = json.loads(raw)["error"]
            except (ValueError, KeyError, TypeError):
                error = {"message": f"HTTP {exc.code} {exc.reason}"}
            raise ApiError(exc.code, error) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            raise Interrupted(f"the connection to {self.base} failed: {exc}") from exc
        return json.loads(payload) if payload else None


def cmd_sealing(args: argparse.Namespace) -> int:
    """Print how the tender's bids are sealed; save the escrow public key, if it has one."""
    sealing = _api(args).call("GET", f"/tenders/{args.tender}/sealing", authenticated=False)
    print(f"suite: {sealing['suite']}")
    print(f"decryption window: {sealing['decryption_window_minutes']} minutes")
    escrow = sealing.get("escrow")
    if escrow is None:
        print("key escrow: none (seal to your own encryption key only)")
        if args.escrow_out:
            raise UsageError("this tender has no key escrow: there is no escrow key to save")
        return 0
    custodians = ", ".join(f"{c['name'] or c['credit_code']}" for c in escrow["custodians"])
    print(f"key escrow: {escrow['threshold']} of {escrow['count']} custodians ({custodians})")
    print(f"escrow key id: {escrow['key_id']}")
    if args.escrow_out:
        _write_new(
            Path(args.escrow_out), escrow["public_key_pem"].encode(), mode=0o644, force=args.force
        )
        print(f"escrow public key saved to {args.escrow_out}: seal with --to {args.escrow_out}")
    return 0


def _api(args: argparse.Namespace) -> Api:
    return Api(args.url, args.token or os.environ.get("OPENBID_TOKEN"))


class Progress:
    """A textual progress bar on stderr (no dependency)."""

    def __init__(self, total: int, stream: IO[str] | None = None, width: int = 32) -> None:
        self.total = max(total, 1)
        self.stream = stream if stream is not None else sys.stderr
        self.width = width

    def show(self, done: int) -> None:
        share = min(done / self.total, 1.0)
        filled = int(self.width * share)
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(
            f"\r[{bar}] {share:6.1%}  {done / 1048576:.2f}/{self.total / 1048576:.2f} MiB"
        )
        self.stream.flush()

    def end(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def _retrying(call: Callable[[], T], retries: int, what: str) -> T:
    for attempt in range(retries + 1):
        try:
            return call()
        except Interrupted:
            if attempt == retries:
                raise
            print(f"\n{what}: connection failed, retrying", file=sys.stderr)
            time.sleep(min(2**attempt, 30))
    raise AssertionError("unreachable")


def _chunks(path: Path, start: int, size: int, chunk: int) -> Iterator[tuple[int, bytes]]:
    with path.open("rb") as handle:
        handle.seek(start)
        offset = start
        while offset < size:
            data = handle.read(min(chunk, size - offset))
            if not data:
                raise ClientError(f"{path} is shorter than when it was sealed")
            yield offset, data
            offset += len(data)


def _send(api: Api, path: Path, upload: dict[str, Any], chunk: int, retries: int) -> None:
    """Send the rest of the envelope from the offset the platform has; on a network failure, ask
    the platform where it stands and go on from there (at most ``retries`` times in a row)."""
    upload_id, size = upload["upload_id"], upload["size"]
    received = upload["received"]
    progress = Progress(size)
    progress.show(received)
    failures = conflicts = 0
    while received < size:
        try:
            for offset, data in _chunks(path, received, size, chunk):
                answer = api.call("PUT", f"/uploads/{upload_id}?offset={offset}", data=data)
                received = answer["received"]
                failures = 0
                progress.show(received)
        except Interrupted as exc:
            failures += 1
            if failures > retries:
                progress.end()
                raise Interrupted(
                    f"{exc}. The platform has {received} of {size} bytes; run the same submit "
                    "command again to resume."
                ) from exc
            time.sleep(min(2**failures, 30))
            received = _retrying(
                lambda: api.call("GET", f"/uploads/{upload_id}"), retries, "resume"
            )["received"]
        except ApiError as exc:
            conflicts += 1
            if exc.rule != "upload_offset" or conflicts > 3:
                progress.end()
                raise
            received = api.call("GET", f"/uploads/{upload_id}")["received"]
    progress.end()


def _find_upload(api: Api, state_file: Path, key: dict[str, Any]) -> dict[str, Any] | None:
    """The upload this envelope already started on this platform, if it is still there."""
    if not state_file.exists():
        return None
    state = _read_json(state_file)
    if any(state.get(name) != value for name, value in key.items()) or not state.get("upload_id"):
        return None
    try:
        upload: dict[str, Any] = api.call("GET", f"/uploads/{state['upload_id']}")
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise
    return upload


def cmd_submit(args: argparse.Namespace) -> int:
    envelope = Path(args.envelope)
    if not envelope.is_file():
        raise UsageError(f"{envelope} is not a file")
    sidecar = _read_json(sidecar_path(envelope)) if sidecar_path(envelope).exists() else None
    if sidecar is None or sidecar.get("format") != SEALED_FORMAT:
        raise UsageError(f"{sidecar_path(envelope)} (written by seal) is missing or not readable")
    section = args.section if args.section is not None else sidecar["section"]
    if section != sidecar["section"]:
        raise UsageError(
            f"{envelope} is sealed for section {sidecar['section']}, not {section}: it would not "
            "open at the opening. Seal the package again for this section."
        )
    suite = get_suite(_envelope_suite(envelope))
    size, sha256 = _file_digest(envelope)
    if sha256 != sidecar["ciphertext_sha256"] or suite.name != sidecar["suite"]:
        raise UsageError(f"{envelope} changed since it was sealed")
    private = _load_private(args.sign, suite, KeyUse.SIGNING)
    public = suite.public_key(private, KeyUse.SIGNING)
    recorded = sidecar.get("signer_public_key")
    if recorded and base64.b64decode(recorded) != public:
        raise UsageError(f"{args.sign} is not the key that signed when the bid was sealed")

    api = _api(args)
    info = _retrying(lambda: api.call("GET", f"/sections/{section}"), args.retries, "section")
    bidder = args.bidder or info.get("bidder")
    if not bidder:
        raise UsageError(
            "the platform does not take this token for a bidder's staff: check --token or "
            "OPENBID_TOKEN (an API token of a person in the bidding organisation)"
        )
    if info.get("bidder") and bidder != info["bidder"]:
        raise UsageError(f"the token acts for {info['bidder']}, not {bidder}")
    print(
        f"section {section} ({info['name']}) of tender {info['tender']}; deadline "
        f"{info['bid_deadline']}, server time {info['server_time']}",
        file=sys.stderr,
    )

    state_file = state_path(envelope)
    key = {"url": api.base, "section": section, "sha256": sha256, "size": size}
    upload = _find_upload(api, state_file, key)
    if upload is None:
        upload = _retrying(
            lambda: api.call(
                "POST", f"/sections/{section}/uploads", {"size": size, "sha256": sha256}
            ),
            args.retries,
            "start",
        )
        _write_json(state_file, {**key, "upload_id": upload["upload_id"]})
    elif upload["received"]:
        print(f"resuming at byte {upload['received']} of {size}", file=sys.stderr)
    chunk = min(args.chunk_bytes or upload["chunk_bytes"], upload["chunk_bytes"])
    _send(api, envelope, upload, chunk, args.retries)

    message = commitment_message(info["tender"], section, bidder, sha256, sidecar["commitment"])
    body = {
        "suite": suite.name,
        "commitment": sidecar["commitment"],
        "signature": base64.b64encode(suite.sign(private, message)).decode(),
        "public_key": base64.b64encode(public).decode(),
    }
    bid = _retrying(
        lambda: api.call("POST", f"/uploads/{upload['upload_id']}/commit", body),
        args.retries,
        "commit",
    )
    receipt = Path(args.receipt) if args.receipt else receipt_path(envelope)
    _write_atomic(receipt, bid["receipt"].encode())
    _write_json(state_file, {**key, "upload_id": upload["upload_id"], "bid": bid["bid"]})
    print(
        f"bid {bid['bid']} (submission {bid['version']}) received at {bid['committed_at']}, "
        f"ledger index {bid['ledger_index']}; receipt saved to {receipt}"
    )
    print(bid["receipt"], end="")
    return 0


def cmd_sign(args: argparse.Namespace) -> int:
    """Sign a document of the platform (an opening record, a report …) with your certified key."""
    api = _api(args)
    suite = get_suite(args.suite)
    private = _load_private(args.key, suite, KeyUse.SIGNING)
    path = f"/documents/{urllib.parse.quote(args.kind)}/{args.document}"
    document = api.call("GET", path + "/signing")
    sha256 = str(document["sha256"])
    # Sign what this client builds from the digest, not a message the server sends.
    message = signing_message(args.kind, args.document, sha256)
    if document["message"].encode() != message:
        raise UsageError("the platform asks to sign an unexpected message; nothing was signed")
    print(f"{document['title']}\nSHA-256 {sha256}  (signing for {document['organisation']})")
    if args.expect_sha256 and args.expect_sha256.lower() != sha256:
        raise UsageError(
            f"the document's SHA-256 is {sha256}, not {args.expect_sha256}: not signed"
        )
    body = {
        "sha256": sha256,
        "signature": base64.b64encode(suite.sign(private, message)).decode(),
        "public_key": base64.b64encode(suite.public_key(private, KeyUse.SIGNING)).decode(),
    }
    signed = api.call("POST", path + "/signatures", body)
    print(f"signed at {signed['signed_at']} with certificate {signed['certificate']}")
    return 0


def cmd_withdraw(args: argparse.Namespace) -> int:
    bid = _api(args).call("POST", f"/bids/{args.bid}/withdraw", {})
    print(f"bid {bid['bid']} (submission {bid['version']}) withdrawn at {bid['withdrawn_at']}")
    return 0


def cmd_verify_receipt(args: argparse.Namespace) -> int:
    """Exit 0: genuine (and, if asked online, the bid that counts); 1: not genuine; 2: genuine
    but the bid was replaced or withdrawn, or does not match what the platform stored."""

    text = _read(args.receipt).decode("utf-8", "replace")
    api = _api(args)
    verifier_key = args.key or api.call("GET", "/ledger/key", authenticated=False)["verifier_key"]
    try:
        verified = verify_note(text, [parse_verifier_key(verifier_key)])
    except NoteError as exc:
        print(f"NOT GENUINE: the receipt does not verify with {verifier_key} ({exc})")
        return 1
    print(f"genuine: signed by {verifier_key}")
    print(verified.text, end="")
    token = args.token or os.environ.get("OPENBID_TOKEN")
    if not token:
        return 0
    check = Api(args.url, token).call("POST", "/receipts/verify", {"receipt": text})
    print(f"platform: {check['message']}")
    if check["matches_stored_bid"] is None:
        return 0
    return 0 if check["counts"] else 2


def cmd_open(args: argparse.Namespace) -> int:
    """At the opening: unwrap the envelope's data key with the encryption private key, check here
    that it opens the bid to the package that was committed to, save it as a key file, and
    release it to the platform, which decrypts and reads out the bid (唱标).

    Exit 0 when the platform opened the bid (or, without ``--url``, when the key file is
    written), 1 when the platform rejected it."""
    envelope = Path(args.envelope)
    suite = get_suite(_envelope_suite(envelope))
    private = _load_private(args.key, suite, KeyUse.ENCRYPTION)
    data = _read(envelope)
    sidecar = _read_json(sidecar_path(envelope)) if sidecar_path(envelope).exists() else {}
    state = _read_json(state_path(envelope)) if state_path(envelope).exists() else {}
    section = args.section if args.section is not None else sidecar.get("section")
    if section is None:
        raise UsageError("give --section (the section the bid was sealed for)")
    bid = args.bid if args.bid is not None else state.get("bid")
    try:
        data_key = suite.unwrap(private, data)
        plaintext = suite.open_with_data_key(data_key, data, bid_aad(section))
    except CryptoError as exc:
        raise ClientError(f"{envelope} does not open with {args.key}: {exc}") from exc
    commitment = suite.hash(plaintext).hex()
    if sidecar.get("commitment") and commitment != sidecar["commitment"]:
        raise ClientError(f"{envelope} opens, but not to the package whose commitment was signed")
    encoded = base64.b64encode(data_key).decode()
    record = {"data_key": encoded, "bid": bid, "section": section, "commitment": commitment}
    _write_json(datakey_path(envelope), record, mode=0o600)
    print(f"data key checked and saved to {datakey_path(envelope)}")
    if args.url is None:
        print("give --url (and --bid) to release it to the platform, or upload the key file there")
        return 0
    if bid is None:
        raise UsageError("give --bid: the bid whose key this is")
    opened = _api(args).call("POST", f"/bids/{bid}/release-key", {"data_key": encoded})
    if opened["status"] == "opened":
        print(f"bid {bid} opened: price {opened['price']}, duration {opened['duration_days']} days")
        return 0
    print(f"bid {bid}: {opened['status']}. {opened['reason']} {opened['treatment']}".rstrip())
    return 1


# --- the command line --------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Seal and submit bids to an openbid platform."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, func: Callable[[argparse.Namespace], int], text: str) -> Any:
        command = sub.add_parser(name, help=text, description=text)
        command.set_defaults(func=func)
        return command

    def network(command: Any, *, url_required: bool = True) -> None:
        command.add_argument("--url", required=url_required, help="the platform's address")
        command.add_argument("--token", help="API token (default: $OPENBID_TOKEN)")

    suites = sorted(SUITES)
    c = add("keygen", cmd_keygen, "make a signing and an encryption key pair (PEM)")
    c.add_argument("--suite", choices=suites, default=DEFAULT_SUITE)
    c.add_argument("--out", required=True, help="folder for the key files")
    c.add_argument("--force", action="store_true", help="replace existing key files")

    c = add("sealing", cmd_sealing, "how a tender's bids are sealed, and its escrow public key")
    c.add_argument("--tender", type=int, required=True, help="the tender id")
    c.add_argument("--escrow-out", help="save the escrow public key (PEM) here")
    c.add_argument("--force", action="store_true")
    network(c)

    c = add("sign", cmd_sign, "sign a document of the platform with your certified signing key")
    c.add_argument("kind", help="e.g. opening-record")
    c.add_argument(
        "document", type=int, help="the document's id (for an opening record: the tender)"
    )
    c.add_argument("--key", required=True, help="the signing private key (PEM)")
    c.add_argument("--suite", choices=suites, default=DEFAULT_SUITE)
    c.add_argument("--expect-sha256", help="refuse unless the document has this SHA-256")
    network(c)

    c = add("csr", cmd_csr, "a certificate request (PKCS#10) for the signing key, for your CA")
    c.add_argument("--suite", choices=suites, default=DEFAULT_SUITE)
    c.add_argument("--key", required=True, help="the signing private key (PEM)")
    c.add_argument("--name", required=True, help="the person's name")
    c.add_argument("--credit-code", required=True, help="the organisation's credit code")
    c.add_argument("--org-name", help="the organisation's name")
    c.add_argument("--out", required=True)
    c.add_argument("--force", action="store_true")

    c = add("pack", cmd_pack, "pack a folder of bid files and the bid form into one package")
    c.add_argument("folder")
    c.add_argument("--form", required=True, help='JSON: {"price": "12345678.00", ...}')
    c.add_argument("--out", required=True)
    c.add_argument("--force", action="store_true")

    c = add("seal", cmd_seal, "encrypt a package for a section to the given keys")
    c.add_argument("package")
    c.add_argument("--suite", choices=suites, default=DEFAULT_SUITE)
    c.add_argument(
        "--to", action="append", required=True, help="encryption public key or certificate"
    )
    c.add_argument("--sign", help="signing private key: records who sealed it")
    c.add_argument(
        "--section-aad", "--section", dest="section", type=int, required=True, help="section id"
    )
    c.add_argument("--out", required=True)
    c.add_argument("--force", action="store_true")

    c = add("submit", cmd_submit, "upload a sealed bid (resumable) and commit it")
    c.add_argument("envelope")
    network(c)
    c.add_argument("--section", type=int, help="section id (default: the one it was sealed for)")
    c.add_argument("--sign", required=True, help="signing private key (PEM)")
    c.add_argument("--bidder", help="your credit code (default: the token's organisation)")
    c.add_argument("--receipt", help="where to save the receipt (default: next to the envelope)")
    c.add_argument("--chunk-bytes", type=int, help="send smaller chunks than the platform allows")
    c.add_argument("--retries", type=int, default=5, help="network retries in a row")

    c = add("withdraw", cmd_withdraw, "withdraw a bid before the deadline")
    c.add_argument("--bid", type=int, required=True)
    network(c)

    c = add("verify-receipt", cmd_verify_receipt, "check a receipt's signature (and status)")
    c.add_argument("receipt")
    network(c)
    c.add_argument("--key", help="the platform's verifier key (default: fetched from --url)")

    c = add("open", cmd_open, "at the opening: unwrap the data key and release it")
    c.add_argument("envelope")
    c.add_argument("--key", required=True, help="encryption private key (PEM)")
    c.add_argument("--bid", type=int, help="default: the bid submit recorded")
    c.add_argument("--section", type=int, help="default: the section it was sealed for")
    network(c, url_required=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        return int(args.func(args))
    except ClientError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted; run the same command again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
