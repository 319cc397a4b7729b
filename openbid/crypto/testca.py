"""A small built-in certification authority for tests and the demo. Never for real certificates.

It issues real X.509 v3 certificates and CRLs (RFC 5280) with ``cryptography``'s builders, so the
demo and the tests exercise :mod:`openbid.crypto.x509` the way a regional CA's certificates
would, and a trading centre can trust its root like any other CA's (CA 互认).

* :meth:`TestCA.create_root` and :meth:`TestCA.create_intermediate` make CAs;
* :meth:`TestCA.issue_person` gives a person a signing key and certificate (digitalSignature,
  nonRepudiation) and an encryption key and certificate (keyAgreement), with the organisation's
  unified social credit code in the subject (:class:`CreditCodeLocation`);
* :meth:`TestCA.issue` issues anything else (the tests' broken certificates);
* :meth:`TestCA.revoke` and :meth:`TestCA.crl` publish CRLs (with CRL number and authority key
  identifier; reason codes as CRL entry extensions);
* :func:`to_pem`, :func:`private_key_pem`, :attr:`TestCA.chain_pem`: PEM for files and forms.

**Signature algorithm of the CA: Ed25519 by default** (RFC 8410 in certificates). Ed25519
signatures are deterministic (RFC 8032), so the same seed, names, times and serial numbers give
byte-identical certificates and CRLs, run after run — the tests and the demo data are
reproducible; it is the primitive the platform already uses (suite ``intl-2026``); it has no
parameters to get wrong (no hash choice, no curve choice). An X25519 key cannot sign, so an
encryption certificate is always signed by the CA's Ed25519 (or other) key — X.509 carries the
X25519 key (RFC 8410 §4, keyUsage keyAgreement per §5) but never self-signs with it.
``KeyType.P256`` (ECDSA with SHA-256) is available for tools that reject Ed25519 in certificates
(``cryptography``'s own Web PKI verifier, browsers); its signatures are randomised, so only the
content, not the bytes, repeats. ``KeyType.SM2`` makes an SM2 CA (SM3withSM2, GB/T 35276-2017)
for the ``sm-2026`` suite: ``cryptography`` cannot sign with SM2, so the certificate or CRL is
built by ``cryptography`` (names, validity, extensions — all the encoding), then its
to-be-signed part is re-signed: the signature AlgorithmIdentifier (and, for an SM2 subject key,
the subjectPublicKeyInfo) elements are swapped for the SM2 ones and the whole is signed with
:func:`openbid.crypto.sm.sign` (default user id). SM2 signatures are randomised too.

Determinism: keys come from a ``seed`` through HKDF-SHA256 (:func:`derive_private_key`), serial
numbers from a hash of the certificate's content unless given, and every time is given by the
caller (nothing reads the clock). Private keys here are test keys: they are derivable from their
seed by anyone who reads the seed.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import NameOID

from openbid.crypto import _der, sm
from openbid.crypto.suites import KeyPair
from openbid.crypto.x509 import (
    GMT0015_ORGANISATION_CODE,
    KeyType,
    PublicKey,
    SM2PublicKey,
    public_key_bytes,
)

__all__ = [
    "CaPrivateKey",
    "CreditCodeLocation",
    "PrivateKey",
    "SM2PrivateKey",
    "TestCA",
    "TestPerson",
    "derive_keypair",
    "derive_private_key",
    "private_key_pem",
    "public_key_of",
    "to_pem",
]

ROOT_LIFETIME = timedelta(days=20 * 365)
INTERMEDIATE_LIFETIME = timedelta(days=10 * 365)
PERSON_LIFETIME = timedelta(days=2 * 365)
CRL_LIFETIME = timedelta(days=7)

SIGNING_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=True,  # nonRepudiation
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)
KEY_AGREEMENT_USAGE = x509.KeyUsage(
    digital_signature=False,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=True,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)
# SM2 encryption certificates of Chinese CAs: SM2 encryption is key transport, so
# keyEncipherment and dataEncipherment, with keyAgreement for SM2 key exchange.
SM2_ENCRYPTION_USAGE = x509.KeyUsage(
    digital_signature=False,
    content_commitment=False,
    key_encipherment=True,
    data_encipherment=True,
    key_agreement=True,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)
CA_USAGE = x509.KeyUsage(
    digital_signature=False,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)

# AlgorithmIdentifier DER of the CA signature algorithms (no parameters: RFC 8410 §3, RFC 5758
# §3.2, GB/T 35276-2017 as OpenSSL writes it).
_ALGORITHM_IDENTIFIERS = {
    KeyType.ED25519: _der.encode_sequence(_der.encode(_der.OBJECT_IDENTIFIER, b"\x2b\x65\x70")),
    KeyType.P256: _der.encode_sequence(
        _der.encode(_der.OBJECT_IDENTIFIER, bytes.fromhex("2a8648ce3d040302"))
    ),
    KeyType.SM2: _der.encode_sequence(
        _der.encode(_der.OBJECT_IDENTIFIER, bytes.fromhex("2a811ccf55018375"))
    ),
}


@dataclass(frozen=True)
class SM2PrivateKey:
    """An SM2 private key: the 32-byte scalar of :mod:`openbid.crypto.sm`."""

    scalar: bytes = field(repr=False)

    def public_key(self) -> SM2PublicKey:
        return SM2PublicKey(sm.public_key_from_private(self.scalar))


CaPrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | SM2PrivateKey
PrivateKey = CaPrivateKey | x25519.X25519PrivateKey


# --- keys ----------------------------------------------------------------------------------------


def _seed_bytes(seed: str | bytes) -> bytes:
    return seed.encode("utf-8") if isinstance(seed, str) else bytes(seed)


def _derive(seed: str | bytes, label: str, length: int) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=length,
        salt=None,
        info=f"openbid testca v1 {label}".encode(),
    ).derive(_seed_bytes(seed))


def derive_private_key(seed: str | bytes, key_type: KeyType) -> PrivateKey:
    """A test private key of ``key_type`` (Ed25519, X25519, P256 or SM2) derived from ``seed``
    with HKDF-SHA256: the same seed always gives the same key. Test keys only."""
    if key_type is KeyType.ED25519:
        return ed25519.Ed25519PrivateKey.from_private_bytes(_derive(seed, "ed25519", 32))
    if key_type is KeyType.X25519:
        return x25519.X25519PrivateKey.from_private_bytes(_derive(seed, "x25519", 32))
    if key_type is KeyType.P256:
        order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
        value = int.from_bytes(_derive(seed, "p256", 48), "big") % (order - 1) + 1
        return ec.derive_private_key(value, ec.SECP256R1())
    if key_type is KeyType.SM2:
        n = sm.SM2P256V1.n
        value = int.from_bytes(_derive(seed, "sm2", 48), "big") % (n - 2) + 1
        return SM2PrivateKey(value.to_bytes(32, "big"))
    raise ValueError(f"the test CA does not make {key_type} keys")


def public_key_of(private_key: PrivateKey) -> PublicKey:
    """The public key of a private key."""
    return private_key.public_key()


def _key_type_of(key: PrivateKey | PublicKey) -> KeyType:
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return KeyType.ED25519
    if isinstance(key, x25519.X25519PrivateKey | x25519.X25519PublicKey):
        return KeyType.X25519
    if isinstance(key, SM2PrivateKey | SM2PublicKey):
        return KeyType.SM2
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) and isinstance(
        key.curve, ec.SECP256R1
    ):
        return KeyType.P256
    raise ValueError(f"the test CA does not handle {type(key).__name__} keys")


def _private_bytes(key: PrivateKey) -> bytes:
    if isinstance(key, SM2PrivateKey):
        return key.scalar
    if isinstance(key, ed25519.Ed25519PrivateKey | x25519.X25519PrivateKey):
        return key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
    return key.private_numbers().private_value.to_bytes(32, "big")


def derive_keypair(seed: str | bytes, key_type: KeyType) -> KeyPair:
    """:func:`derive_private_key` as the suites' :class:`~openbid.crypto.suites.KeyPair` (raw
    Ed25519/X25519 keys, SM2 scalar and uncompressed point)."""
    private = derive_private_key(seed, key_type)
    return KeyPair(private=_private_bytes(private), public=public_key_bytes(public_key_of(private)))


def _public_key_from_pair(pair: KeyPair, key_type: KeyType) -> PublicKey:
    if key_type is KeyType.ED25519:
        return ed25519.Ed25519PublicKey.from_public_bytes(pair.public)
    if key_type is KeyType.X25519:
        return x25519.X25519PublicKey.from_public_bytes(pair.public)
    if key_type is KeyType.SM2:
        return SM2PublicKey(pair.public)
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), pair.public)


# --- PEM -----------------------------------------------------------------------------------------


def to_pem(item: x509.Certificate | x509.CertificateRevocationList) -> str:
    """A certificate or CRL as PEM text."""
    return item.public_bytes(serialization.Encoding.PEM).decode("ascii")


def private_key_pem(key: PrivateKey) -> str:
    """An unencrypted PKCS#8 PEM of a test private key (SM2 as :mod:`openbid.crypto.sm` writes
    it). Test keys only: the PEM is not protected."""
    if isinstance(key, SM2PrivateKey):
        return sm.private_key_to_pem(key.scalar).decode("ascii")
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


# --- signing -------------------------------------------------------------------------------------


def _utc_second(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("times must be timezone-aware")
    return moment.astimezone(UTC).replace(microsecond=0)


def _subject_key_identifier(key: PublicKey) -> x509.SubjectKeyIdentifier:
    """RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING value."""
    if isinstance(key, SM2PublicKey):
        return x509.SubjectKeyIdentifier(hashlib.sha1(key.point, usedforsecurity=False).digest())
    return x509.SubjectKeyIdentifier.from_public_key(key)


_PLACEHOLDER = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


def _raw_signature(key: CaPrivateKey, message: bytes) -> bytes:
    if isinstance(key, SM2PrivateKey):
        return sm.signature_to_der(sm.sign(key.scalar, message))
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(message)
    return key.sign(message, ec.ECDSA(hashes.SHA256()))


def _resign(draft: bytes, issuer_key: CaPrivateKey, spki: bytes | None) -> bytes:
    """A certificate or CRL (DER) with the to-be-signed part of ``draft`` re-signed by
    ``issuer_key``: the signature AlgorithmIdentifier inside the signed part (and, if ``spki``
    is given, the subjectPublicKeyInfo of a certificate) replaced, then signed."""
    outer = _der.children(_der.parse(draft, _der.SEQUENCE))
    fields = [_der.encode(tag, content) for tag, content in _der.children(outer[0][1])]
    index = 0
    if fields[index][0] == 0xA0:  # TBSCertificate [0] version
        index += 1
    if fields[index][0] == _der.INTEGER:  # TBSCertificate serialNumber, TBSCertList version
        index += 1
    algorithm = _ALGORITHM_IDENTIFIERS[_key_type_of(issuer_key)]
    fields[index] = algorithm
    if spki is not None:
        fields[index + 4] = spki  # signature, issuer, validity, subject, subjectPublicKeyInfo
    tbs = _der.encode_sequence(*fields)
    signature = _raw_signature(issuer_key, tbs)
    return _der.encode_sequence(tbs, algorithm, _der.encode(_der.BIT_STRING, b"\x00" + signature))


def _sign_certificate(
    builder: x509.CertificateBuilder, subject_key: PublicKey, issuer_key: CaPrivateKey
) -> x509.Certificate:
    if not isinstance(subject_key, SM2PublicKey) and not isinstance(issuer_key, SM2PrivateKey):
        builder = builder.public_key(subject_key)
        if isinstance(issuer_key, ed25519.Ed25519PrivateKey):
            return builder.sign(issuer_key, None)
        return builder.sign(issuer_key, hashes.SHA256())
    spki = None
    if isinstance(subject_key, SM2PublicKey):
        spki = subject_key.subject_public_key_info()
        builder = builder.public_key(_PLACEHOLDER.public_key())
    else:
        builder = builder.public_key(subject_key)
    draft = builder.sign(_PLACEHOLDER, None).public_bytes(serialization.Encoding.DER)
    return x509.load_der_x509_certificate(_resign(draft, issuer_key, spki))


def _sign_crl(
    builder: x509.CertificateRevocationListBuilder, issuer_key: CaPrivateKey
) -> x509.CertificateRevocationList:
    if isinstance(issuer_key, ed25519.Ed25519PrivateKey):
        return builder.sign(issuer_key, None)
    if isinstance(issuer_key, ec.EllipticCurvePrivateKey):
        return builder.sign(issuer_key, hashes.SHA256())
    draft = builder.sign(_PLACEHOLDER, None).public_bytes(serialization.Encoding.DER)
    return x509.load_der_x509_crl(_resign(draft, issuer_key, None))


# --- the CA --------------------------------------------------------------------------------------


class CreditCodeLocation(enum.StrEnum):
    """Where :meth:`TestCA.issue_person` writes the credit code, imitating different CAs."""

    #: subject organizationIdentifier ``NTRCN-<code>`` (ETSI EN 319 412-1 §5.1.4).
    ORGANIZATION_IDENTIFIER = "organization_identifier"
    #: a subject organizationalUnitName.
    ORGANIZATIONAL_UNIT = "organizational_unit"
    #: the GM/T 0015-2012 extension 1.2.156.10260.4.1.4, as a PrintableString.
    GMT0015_EXTENSION = "gmt0015_extension"


@dataclass(frozen=True)
class TestPerson:
    """A person's two key pairs (as the suites hold keys) and their certificates."""

    __test__ = False

    name: str
    credit_code: str | None
    suite: str
    signing_key: KeyPair
    signing_certificate: x509.Certificate
    encryption_key: KeyPair
    encryption_certificate: x509.Certificate

    @property
    def signing_certificate_pem(self) -> str:
        return to_pem(self.signing_certificate)

    @property
    def encryption_certificate_pem(self) -> str:
        return to_pem(self.encryption_certificate)


_SUITE_KEY_TYPES = {
    "intl-2026": (KeyType.ED25519, KeyType.X25519),
    "sm-2026": (KeyType.SM2, KeyType.SM2),
}


class TestCA:
    """A certification authority for tests and the demo: its certificate, its private key and,
    for an intermediate, its parent. Keeps the revocations it has made, for :meth:`crl`."""

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        certificate: x509.Certificate,
        private_key: CaPrivateKey,
        *,
        parent: TestCA | None = None,
    ) -> None:
        self.certificate = certificate
        self.private_key = private_key
        self.parent = parent
        self._revoked: dict[int, tuple[datetime, x509.ReasonFlags]] = {}

    # construction

    @classmethod
    def create_root(
        cls,
        common_name: str,
        *,
        seed: str | bytes,
        not_before: datetime,
        not_after: datetime | None = None,
        organisation: str | None = None,
        key_type: KeyType = KeyType.ED25519,
        path_length: int | None = None,
        serial_number: int | None = None,
    ) -> TestCA:
        """A self-signed root CA (basicConstraints cA, keyCertSign and cRLSign)."""
        key = _ca_key(seed, key_type)
        name = _ca_name(common_name, organisation)
        public = public_key_of(key)
        start = _utc_second(not_before)
        end = _utc_second(not_after) if not_after else start + ROOT_LIFETIME
        builder = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .serial_number(serial_number or _serial(name, name, public, start, "root"))
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
            .add_extension(CA_USAGE, critical=True)
            .add_extension(_subject_key_identifier(public), critical=False)
        )
        return cls(_sign_certificate(builder, public, key), key)

    def create_intermediate(
        self,
        common_name: str,
        *,
        seed: str | bytes,
        not_before: datetime,
        not_after: datetime | None = None,
        organisation: str | None = None,
        key_type: KeyType | None = None,
        path_length: int | None = 0,
        ca: bool = True,
        serial_number: int | None = None,
    ) -> TestCA:
        """An intermediate CA under this one (same key type unless given). ``ca=False`` makes
        the broken kind whose certificate lacks the CA flag, for tests."""
        key = _ca_key(seed, key_type or _key_type_of(self.private_key))
        start = _utc_second(not_before)
        certificate = self.issue(
            _ca_name(common_name, organisation),
            public_key_of(key),
            key_usage=CA_USAGE,
            ca=ca,
            path_length=path_length if ca else None,
            not_before=start,
            not_after=not_after or start + INTERMEDIATE_LIFETIME,
            serial_number=serial_number,
        )
        return TestCA(certificate, key, parent=self)

    # issuing

    def issue(
        self,
        subject: x509.Name,
        public_key: PublicKey,
        *,
        key_usage: x509.KeyUsage,
        not_before: datetime,
        not_after: datetime,
        ca: bool = False,
        path_length: int | None = None,
        serial_number: int | None = None,
        extensions: Sequence[tuple[x509.ExtensionType, bool]] = (),
    ) -> x509.Certificate:
        """Any certificate: basicConstraints (critical), keyUsage (critical), subject and
        authority key identifiers, then ``extensions`` as (value, critical) pairs."""
        start = _utc_second(not_before)
        end = _utc_second(not_after)
        issuer_ski = self.certificate.extensions.get_extension_for_class(
            x509.SubjectKeyIdentifier
        ).value
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.certificate.subject)
            .serial_number(
                serial_number
                or _serial(self.certificate.subject, subject, public_key, start, str(key_usage))
            )
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
            .add_extension(key_usage, critical=True)
            .add_extension(_subject_key_identifier(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski),
                critical=False,
            )
        )
        for value, critical in extensions:
            builder = builder.add_extension(value, critical=critical)
        return _sign_certificate(builder, public_key, self.private_key)

    def issue_person_certificate(
        self,
        *,
        name: str,
        public_key: PublicKey,
        credit_code: str | None,
        not_before: datetime,
        not_after: datetime | None = None,
        organisation: str | None = None,
        encryption: bool = False,
        credit_code_location: CreditCodeLocation = CreditCodeLocation.ORGANIZATION_IDENTIFIER,
        serial_number: int | None = None,
    ) -> x509.Certificate:
        """A person's signing certificate (digitalSignature and nonRepudiation) or, with
        ``encryption``, encryption certificate (keyAgreement; for SM2 also keyEncipherment and
        dataEncipherment). Subject: C=CN, O=organisation, the credit code where
        ``credit_code_location`` says, CN=name. The code is not validated here."""
        attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "CN")]
        if organisation:
            attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
        extensions: list[tuple[x509.ExtensionType, bool]] = []
        if credit_code:
            if credit_code_location is CreditCodeLocation.ORGANIZATION_IDENTIFIER:
                attributes.append(
                    x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, f"NTRCN-{credit_code}")
                )
            elif credit_code_location is CreditCodeLocation.ORGANIZATIONAL_UNIT:
                attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, credit_code))
            else:
                value = _der.encode(0x13, credit_code.encode("ascii"))  # PrintableString
                extensions.append(
                    (x509.UnrecognizedExtension(GMT0015_ORGANISATION_CODE, value), False)
                )
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, name))
        key_type = _key_type_of(public_key)
        if not encryption:
            usage = SIGNING_USAGE
        elif key_type is KeyType.SM2:
            usage = SM2_ENCRYPTION_USAGE
        else:
            usage = KEY_AGREEMENT_USAGE
        start = _utc_second(not_before)
        return self.issue(
            x509.Name(attributes),
            public_key,
            key_usage=usage,
            not_before=start,
            not_after=not_after or start + PERSON_LIFETIME,
            serial_number=serial_number,
            extensions=extensions,
        )

    def issue_person(
        self,
        name: str,
        credit_code: str | None,
        *,
        seed: str | bytes,
        not_before: datetime,
        not_after: datetime | None = None,
        organisation: str | None = None,
        suite: str = "intl-2026",
        credit_code_location: CreditCodeLocation = CreditCodeLocation.ORGANIZATION_IDENTIFIER,
    ) -> TestPerson:
        """A person with keys derived from ``seed`` for ``suite`` (``intl-2026``: Ed25519 and
        X25519; ``sm-2026``: SM2 and SM2) and a certificate for each."""
        signing_type, encryption_type = _SUITE_KEY_TYPES[suite]
        signing = derive_keypair(_seed_bytes(seed) + b"/signing", signing_type)
        encryption = derive_keypair(_seed_bytes(seed) + b"/encryption", encryption_type)

        def certificate(pair: KeyPair, key_type: KeyType, *, encryption: bool) -> x509.Certificate:
            return self.issue_person_certificate(
                name=name,
                public_key=_public_key_from_pair(pair, key_type),
                credit_code=credit_code,
                not_before=not_before,
                not_after=not_after,
                organisation=organisation,
                encryption=encryption,
                credit_code_location=credit_code_location,
            )

        return TestPerson(
            name=name,
            credit_code=credit_code,
            suite=suite,
            signing_key=signing,
            signing_certificate=certificate(signing, signing_type, encryption=False),
            encryption_key=encryption,
            encryption_certificate=certificate(encryption, encryption_type, encryption=True),
        )

    # revocation

    def revoke(
        self,
        certificate: x509.Certificate | int,
        *,
        at: datetime,
        reason: x509.ReasonFlags = x509.ReasonFlags.unspecified,
    ) -> None:
        """Revoke a certificate (or serial number) this CA issued, from ``at``."""
        serial = certificate if isinstance(certificate, int) else certificate.serial_number
        self._revoked[serial] = (_utc_second(at), reason)

    def crl(
        self,
        *,
        this_update: datetime,
        next_update: datetime | None = None,
        number: int | None = None,
    ) -> x509.CertificateRevocationList:
        """A complete CRL of this CA listing every revocation so far, current from
        ``this_update`` to ``next_update`` (default a week). CRL number: ``number``, or the
        seconds since 1970 of ``this_update`` (increasing with time, as RFC 5280 §5.2.3 asks)."""
        start = _utc_second(this_update)
        end = _utc_second(next_update) if next_update else start + CRL_LIFETIME
        issuer_ski = self.certificate.extensions.get_extension_for_class(
            x509.SubjectKeyIdentifier
        ).value
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.certificate.subject)
            .last_update(start)
            .next_update(end)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski),
                critical=False,
            )
            .add_extension(x509.CRLNumber(number or int(start.timestamp())), critical=False)
        )
        for serial, (revoked_at, reason) in sorted(self._revoked.items()):
            entry = (
                x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(revoked_at)
            )
            if reason is not x509.ReasonFlags.unspecified:
                # RFC 5280 §5.3.1: the reason code "unspecified" SHOULD be absent.
                entry = entry.add_extension(x509.CRLReason(reason), critical=False)
            builder = builder.add_revoked_certificate(entry.build())
        return _sign_crl(builder, self.private_key)

    # views

    @property
    def key_type(self) -> KeyType:
        return _key_type_of(self.private_key)

    @property
    def root(self) -> TestCA:
        return self.parent.root if self.parent else self

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        """This CA's certificate, then its parents' up to the root."""
        return (self.certificate, *(self.parent.chain if self.parent else ()))

    @property
    def certificate_pem(self) -> str:
        return to_pem(self.certificate)

    @property
    def chain_pem(self) -> str:
        return "".join(to_pem(c) for c in self.chain)

    @property
    def private_key_pem(self) -> str:
        return private_key_pem(self.private_key)


def _ca_key(seed: str | bytes, key_type: KeyType) -> CaPrivateKey:
    key = derive_private_key(seed, key_type)
    if isinstance(key, x25519.X25519PrivateKey):
        raise ValueError("a CA key must be able to sign: Ed25519, P256 or SM2")
    return key


def _ca_name(common_name: str, organisation: str | None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "CN")]
    if organisation:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _serial(
    issuer: x509.Name, subject: x509.Name, key: PublicKey, start: datetime, kind: str
) -> int:
    """A positive serial number of at most 127 bits from the certificate's content (RFC 5280
    §4.1.2.2: unique per CA, at most 20 octets)."""
    digest = hashlib.sha256(
        b"\0".join(
            [
                issuer.public_bytes(),
                subject.public_bytes(),
                public_key_bytes(key),
                start.isoformat().encode(),
                kind.encode(),
            ]
        )
    ).digest()
    return (int.from_bytes(digest[:16], "big") >> 1) or 1
