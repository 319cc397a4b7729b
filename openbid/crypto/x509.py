"""X.509 certificates of people, from several CAs (CA 互认): trust store, path validation, identity.

Mutual recognition (《电子招标投标办法》 art. 45; the 2024 fair-competition rules forbid forcing a
particular CA or bidding tool on bidders): the trading centre's staff add the root certificate of
every CA they recognise (each region's CA, say) to one :class:`TrustStore`, and a certificate
that chains to *any* of them is accepted everywhere on the platform. This module is pure: no
models, no database; a later layer keeps the trust anchors and binds certificates to people.

:func:`verify_certificate` implements the subset of RFC 5280 §6 (path validation) and §6.3 (CRL
validation) the platform needs, in this order:

1. **Path building.** From the certificate, issuers are looked up by name (``issuer`` of the child
   equal to ``subject`` of the parent; attribute values compared exactly, string types ignored)
   and, when both are present, by key identifier (authorityKeyIdentifier of the child equal to
   subjectKeyIdentifier of the parent), among the store's roots, the store's intermediates and
   the ``intermediates`` the holder presents, up to :data:`MAX_INTERMEDIATES` intermediates.
   Every candidate path that ends at a trust anchor is validated; the first that passes wins.
   If none ends at a trust anchor: :class:`UntrustedCertificate`. If all fail, the error of the
   first path is raised, preferring any other error to ``bad_signature`` (which usually only
   means "wrong candidate issuer", e.g. a re-keyed CA).
2. **Structure, anchor first** (for each link): the signature on the certificate verifies with
   the issuer's public key, with an accepted algorithm (:data:`ACCEPTED_SIGNATURE_ALGORITHMS`,
   outer and inner signature algorithm identical); the issuer is a CA (basicConstraints ``cA``
   TRUE, keyUsage, if present, includes keyCertSign) and its pathLenConstraint, if any, is not
   exceeded by the non-self-issued intermediates below it; the certificate is valid at ``at``
   (``notBefore <= at <= notAfter``; the trust anchor's own validity period is checked too, by
   policy); no critical extension the platform does not process
   (:data:`PROCESSED_CRITICAL_EXTENSIONS`: it does not implement name constraints or policy
   constraints, so a path that relies on them is refused rather than half-checked).
3. **The person's certificate**: not a CA certificate; keyUsage present (platform policy; RFC
   5280 would treat an absent keyUsage as "any use") and fit for ``purpose``:
   ``KeyUse.SIGNING`` needs digitalSignature and a signature key (Ed25519, ECDSA P-256/P-384,
   RSA, SM2); ``KeyUse.ENCRYPTION`` needs keyAgreement (X25519 per RFC 8410 §5, ECDH P-256/P-384)
   or keyEncipherment (RSA; SM2 takes either). extendedKeyUsage is not enforced: the CAs differ
   in what they put there.
4. **Revocation, anchor first**, for every certificate except the trust anchor (staff withdraw a
   CA by removing its root): a CRL is needed from the issuer, whose keyUsage (if present) allows
   cRLSign, signed by the issuer's key, complete for the certificate (not a delta CRL, not
   indirect, no reason partition, scope and distribution point matching the certificate, no
   critical extension the platform does not process), and current at ``at``
   (``thisUpdate <= at <= nextUpdate``). If the certificate's serial number is on the newest such
   CRL it is revoked, whatever the revocation date (RFC 5280 §6.3.3 (i); certificateHold too).
   **Platform policy: no current CRL is an error**, never a pass: :class:`CrlMissing` when no
   usable CRL was supplied, :class:`CrlStale` when the supplied ones are not current at ``at``.
   Structure is checked before revocation, so a broken certificate is reported as broken even
   when its CRL is also missing. Delta CRLs, indirect CRLs, CRLs signed with a separate CRL
   signing key and OCSP are not supported.

Every refusal is a :class:`CertificateError` with a stable ``reason`` code (:data:`REASONS`):
``expired``, ``not_yet_valid``, ``untrusted``, ``revoked``, ``bad_signature``, ``wrong_usage``
(also: an issuer that is not a CA, or exceeds its pathLenConstraint), ``crl_missing``,
``crl_stale``, ``malformed``, and ``unsupported`` (an algorithm, key type or critical extension
the platform does not accept: SHA-1/MD5 signatures, RSA under 2048 bits, DSA, ...). Messages are
English and name the certificate; the service layer turns the reason into the user's language.

Why not ``cryptography.x509.verification``: the installed ``cryptography`` has it (``Store``,
``PolicyBuilder``, ``ClientVerifier``, custom ``ExtensionPolicy``), but its policy is the CA/B
Forum Web PKI profile: Ed25519 keys are a "Forbidden public key algorithm", SM2 is unknown, the
client verifier needs a subjectAltName unless the extension policies are replaced, there is no
revocation checking at all (no CRL, no OCSP), and failures are one ``VerificationError`` with a
free-text message, not a reason. So path validation is done here, and ``cryptography`` does the
parsing and the signature primitives (Ed25519, ECDSA, RSA); SM2 goes through
:mod:`openbid.crypto.sm`.

**SM2 certificates** (GB/T 35276-2017 / GM/T 0015): ``cryptography`` parses them (names,
extensions, validity, ``tbs_certificate_bytes``, ``signature``, ``signature_algorithm_oid``), but
``public_key()`` raises ``UnsupportedAlgorithm`` ("Curve 1.2.156.10197.1.301 is not supported")
and it cannot verify SM3withSM2 (1.2.156.10197.1.501) signatures. Here the subjectPublicKeyInfo
is read from the to-be-signed bytes (``id-ecPublicKey`` with the named curve ``sm2p256v1``),
giving an :class:`SM2PublicKey`, and SM3withSM2 signatures on certificates and CRLs are verified
with :func:`openbid.crypto.sm.verify` over the DER ``SEQUENCE { r, s }`` and the default user id
``1234567812345678`` (GB/T 35276-2017 §10, which OpenSSL also uses for certificates).

**Identity** (:class:`IdentityMapping`, per trust anchor, because each CA has its habits): the
person's name from the subject's commonName; the organisation's name from organizationName; the
unified social credit code (统一社会信用代码, GB 32100) from, by default and in this order:

* the subject's ``organizationIdentifier`` (2.5.4.97), as ETSI EN 319 412-1 §5.1.4 writes it
  (``NTRCN-`` + code) or bare — what the built-in test CA writes;
* the subject's organizationalUnitName values (some Chinese CAs put the code there);
* the extension 1.2.156.10260.4.1.4 (GM/T 0015-2012 organisation code, 组织机构代码), which
  the client software of several provincial CAs reads for the organisation's code — since the
  2015 "three certificates in one" reform, the credit code, whose positions 9–17 are the old
  organisation code (a bare 9-character organisation code is not taken for a credit code).

A value counts only if it contains an 18-character code whose GB 32100 check character is right
(:func:`openbid.accounts.credit_code.check_character`); two different codes in one certificate is
``malformed``. The subject's serialNumber (2.5.4.5) is *not* read by default: Chinese personal
certificates often carry the holder's identity card number there, and one in 31 of those passes
the credit-code check character. A CA that uses another place (e.g. GM/T 0015-2023's extension,
listed by some toolkits as 1.2.156.10260.4.4) gets its own mapping with :class:`CreditCodeSource`.
The code found is *not* checked against the registry here; the binding service does that.
"""

from __future__ import annotations

import enum
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeAlias, TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, x25519
from cryptography.x509.oid import ExtensionOID, NameOID, SignatureAlgorithmOID

from openbid.accounts.credit_code import ALPHABET as CREDIT_CODE_ALPHABET
from openbid.accounts.credit_code import check_character
from openbid.crypto import _der, sm
from openbid.crypto.errors import CryptoError, InvalidKey
from openbid.crypto.suites import KeyUse

__all__ = [
    "ACCEPTED_SIGNATURE_ALGORITHMS",
    "DEFAULT_IDENTITY",
    "GMT0015_ORGANISATION_CODE",
    "MAX_INTERMEDIATES",
    "PROCESSED_CRITICAL_EXTENSIONS",
    "REASONS",
    "SM2P256V1_CURVE",
    "SM2_WITH_SM3",
    "BadCertificateSignature",
    "CertificateError",
    "CertificateExpired",
    "CertificateNotYetValid",
    "CertificateRevoked",
    "CreditCodeSource",
    "CrlMissing",
    "CrlStale",
    "Identity",
    "IdentityMapping",
    "KeyType",
    "KeyUse",
    "MalformedCertificate",
    "PublicKey",
    "SM2PublicKey",
    "TrustStore",
    "UnsupportedCertificate",
    "UntrustedCertificate",
    "VerifiedCertificate",
    "WrongKeyUsage",
    "certificate_public_key",
    "extract_identity",
    "load_certificate",
    "load_certificates",
    "load_crl",
    "public_key_bytes",
    "verify_certificate",
]

#: SM3withSM2 signature algorithm (GB/T 33560-2017, GM/T 0006).
SM2_WITH_SM3 = x509.ObjectIdentifier("1.2.156.10197.1.501")
#: The SM2 recommended curve ``sm2p256v1``, named in ``id-ecPublicKey`` parameters.
SM2P256V1_CURVE = x509.ObjectIdentifier("1.2.156.10197.1.301")
#: GM/T 0015-2012 certificate extension for the organisation code (组织机构代码).
GMT0015_ORGANISATION_CODE = x509.ObjectIdentifier("1.2.156.10260.4.1.4")

#: Most intermediate CA certificates accepted between a person's certificate and the anchor.
MAX_INTERMEDIATES = 4
_MAX_PATHS = 32
_MIN_RSA_BITS = 2048

# DER content of the OBJECT IDENTIFIERs in an SM2 subjectPublicKeyInfo.
_ID_EC_PUBLIC_KEY = bytes.fromhex("2a8648ce3d0201")
_SM2P256V1 = bytes.fromhex("2a811ccf5501822d")


# --- errors --------------------------------------------------------------------------------------


class CertificateError(CryptoError):
    """A certificate (or its CRL) was refused; ``reason`` says why, as a stable code."""

    reason: ClassVar[str] = "malformed"

    def __init__(self, message: str, *, certificate: x509.Certificate | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.subject = _describe_name(certificate.subject) if certificate is not None else None
        self.serial_number = certificate.serial_number if certificate is not None else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "message": self.message,
            "subject": self.subject,
            "serial_number": None if self.serial_number is None else f"{self.serial_number:X}",
        }


class CertificateExpired(CertificateError):
    reason = "expired"


class CertificateNotYetValid(CertificateError):
    reason = "not_yet_valid"


class UntrustedCertificate(CertificateError):
    reason = "untrusted"


class CertificateRevoked(CertificateError):
    reason = "revoked"

    def __init__(
        self,
        message: str,
        *,
        certificate: x509.Certificate | None = None,
        revoked_at: datetime | None = None,
        crl_reason: str | None = None,
    ) -> None:
        super().__init__(message, certificate=certificate)
        self.revoked_at = revoked_at
        self.crl_reason = crl_reason


class BadCertificateSignature(CertificateError):
    reason = "bad_signature"


class WrongKeyUsage(CertificateError):
    reason = "wrong_usage"


class CrlMissing(CertificateError):
    reason = "crl_missing"


class CrlStale(CertificateError):
    reason = "crl_stale"


class MalformedCertificate(CertificateError):
    reason = "malformed"


class UnsupportedCertificate(CertificateError):
    reason = "unsupported"


REASONS: tuple[str, ...] = (
    "expired",
    "not_yet_valid",
    "untrusted",
    "revoked",
    "bad_signature",
    "wrong_usage",
    "crl_missing",
    "crl_stale",
    "malformed",
    "unsupported",
)


# --- keys ----------------------------------------------------------------------------------------


class KeyType(enum.StrEnum):
    """The kind of public key a certificate certifies."""

    ED25519 = "ed25519"
    X25519 = "x25519"
    P256 = "p256"
    P384 = "p384"
    RSA = "rsa"
    SM2 = "sm2"


#: The crypto suite (``openbid.crypto.suites``) whose keys a certificate's key can serve, if any.
_SUITE_OF_KEY_TYPE = {
    KeyType.ED25519: "intl-2026",
    KeyType.X25519: "intl-2026",
    KeyType.SM2: "sm-2026",
}


@dataclass(frozen=True)
class SM2PublicKey:
    """An SM2 public key on ``sm2p256v1``: the 65-byte uncompressed point ``04 || x || y``,
    validated (on the curve, of order n) when made."""

    point: bytes

    def __post_init__(self) -> None:
        try:
            canonical = sm.public_key_uncompressed(self.point)
        except InvalidKey as exc:
            raise ValueError(f"not an SM2 public key: {exc}") from exc
        object.__setattr__(self, "point", canonical)

    def subject_public_key_info(self) -> bytes:
        """DER SubjectPublicKeyInfo (``id-ecPublicKey``, ``sm2p256v1``; GB/T 35276-2017)."""
        return _der.from_pem(sm.public_key_to_pem(self.point), "PUBLIC KEY")


PublicKey: TypeAlias = (
    ed25519.Ed25519PublicKey
    | x25519.X25519PublicKey
    | ec.EllipticCurvePublicKey
    | rsa.RSAPublicKey
    | SM2PublicKey
)

_EC_KEY_TYPES = {"secp256r1": KeyType.P256, "secp384r1": KeyType.P384}
_SIGNING_KEY_TYPES = {KeyType.ED25519, KeyType.P256, KeyType.P384, KeyType.RSA, KeyType.SM2}


def _key_type(key: PublicKey) -> KeyType:
    if isinstance(key, ed25519.Ed25519PublicKey):
        return KeyType.ED25519
    if isinstance(key, x25519.X25519PublicKey):
        return KeyType.X25519
    if isinstance(key, SM2PublicKey):
        return KeyType.SM2
    if isinstance(key, ec.EllipticCurvePublicKey):
        return _EC_KEY_TYPES[key.curve.name]
    return KeyType.RSA


def public_key_bytes(key: PublicKey) -> bytes:
    """The key as :mod:`openbid.crypto.suites` holds keys: Ed25519 and X25519 raw (32 bytes),
    SM2 and ECDSA the uncompressed point; RSA its DER SubjectPublicKeyInfo."""
    if isinstance(key, SM2PublicKey):
        return key.point
    if isinstance(key, ed25519.Ed25519PublicKey | x25519.X25519PublicKey):
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    if isinstance(key, ec.EllipticCurvePublicKey):
        return key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _tbs_fields(tbs: bytes) -> list[tuple[int, bytes]]:
    """The elements of a TBSCertificate, without the optional ``[0] version``."""
    fields = _der.children(_der.parse(tbs, _der.SEQUENCE))
    if fields and fields[0][0] == 0xA0:
        fields = fields[1:]
    return fields


def _subject_public_key_info(certificate: x509.Certificate) -> bytes:
    """The DER subjectPublicKeyInfo, read from the to-be-signed bytes (serialNumber, signature,
    issuer, validity, subject come first: RFC 5280 §4.1)."""
    try:
        fields = _tbs_fields(certificate.tbs_certificate_bytes)
        tag, content = fields[5]
        if tag != _der.SEQUENCE:
            raise _der.DERError("subjectPublicKeyInfo is not a SEQUENCE")
    except (_der.DERError, IndexError) as exc:
        raise MalformedCertificate(
            f"Cannot read the public key of {_describe(certificate)}: {exc}.",
            certificate=certificate,
        ) from exc
    return _der.encode(tag, content)


def _sm2_key_from_spki(spki: bytes) -> SM2PublicKey | None:
    """The SM2 key in a subjectPublicKeyInfo, or None if it is not ``id-ecPublicKey`` on
    ``sm2p256v1``."""
    items = _der.children(_der.parse(spki, _der.SEQUENCE))
    if len(items) != 2 or items[0][0] != _der.SEQUENCE or items[1][0] != _der.BIT_STRING:
        raise _der.DERError("not a subjectPublicKeyInfo")
    algorithm = _der.children(items[0][1])
    if [tag for tag, _ in algorithm] != [_der.OBJECT_IDENTIFIER, _der.OBJECT_IDENTIFIER]:
        return None
    if algorithm[0][1] != _ID_EC_PUBLIC_KEY or algorithm[1][1] != _SM2P256V1:
        return None
    bits = items[1][1]
    if not bits or bits[0] != 0:
        raise _der.DERError("subjectPublicKey has unused bits")
    return SM2PublicKey(bits[1:])


def certificate_public_key(certificate: x509.Certificate) -> PublicKey:
    """The certified public key; SM2 keys (which ``cryptography`` cannot load) as
    :class:`SM2PublicKey`. Refuses key types the platform does not accept."""
    try:
        key: Any = certificate.public_key()
    except UnsupportedAlgorithm as exc:
        spki = _subject_public_key_info(certificate)
        try:
            sm2_key = _sm2_key_from_spki(spki)
        except (_der.DERError, ValueError) as der_exc:
            raise MalformedCertificate(
                f"The public key of {_describe(certificate)} is malformed: {der_exc}.",
                certificate=certificate,
            ) from der_exc
        if sm2_key is None:
            raise UnsupportedCertificate(
                f"The public key algorithm of {_describe(certificate)} is not supported ({exc}).",
                certificate=certificate,
            ) from exc
        return sm2_key
    except ValueError as exc:
        raise MalformedCertificate(
            f"The public key of {_describe(certificate)} is malformed: {exc}.",
            certificate=certificate,
        ) from exc
    if isinstance(key, ed25519.Ed25519PublicKey | x25519.X25519PublicKey):
        return key
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in _EC_KEY_TYPES:
        return key
    if isinstance(key, rsa.RSAPublicKey) and key.key_size >= _MIN_RSA_BITS:
        return key
    raise UnsupportedCertificate(
        f"The public key of {_describe(certificate)} ({_key_description(key)}) is not accepted: "
        "the platform accepts Ed25519, X25519, ECDSA/ECDH P-256 and P-384, RSA of at least "
        f"{_MIN_RSA_BITS} bits, and SM2.",
        certificate=certificate,
    )


def _key_description(key: object) -> str:
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}"
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size} bits"
    return type(key).__name__


# --- signatures ----------------------------------------------------------------------------------

#: Signature algorithms accepted on certificates and CRLs, with the key type each needs.
ACCEPTED_SIGNATURE_ALGORITHMS: dict[x509.ObjectIdentifier, str] = {
    SignatureAlgorithmOID.ED25519: "ed25519",
    SignatureAlgorithmOID.ECDSA_WITH_SHA256: "ecdsa",
    SignatureAlgorithmOID.ECDSA_WITH_SHA384: "ecdsa",
    SignatureAlgorithmOID.ECDSA_WITH_SHA512: "ecdsa",
    SignatureAlgorithmOID.RSA_WITH_SHA256: "rsa",
    SignatureAlgorithmOID.RSA_WITH_SHA384: "rsa",
    SignatureAlgorithmOID.RSA_WITH_SHA512: "rsa",
    SignatureAlgorithmOID.RSASSA_PSS: "rsa",
    SM2_WITH_SM3: "sm2",
}

_Signed: TypeAlias = x509.Certificate | x509.CertificateRevocationList


def _signed_parts(item: _Signed) -> tuple[bytes, bytes]:
    """(to-be-signed bytes, DER of the outer signatureAlgorithm), checking that the signature
    algorithm inside the signed part is the same (RFC 5280 §4.1.1.2, §5.1.1.2)."""
    outer = _der.children(_der.parse(item.public_bytes(serialization.Encoding.DER), _der.SEQUENCE))
    if len(outer) != 3 or outer[1][0] != _der.SEQUENCE:
        raise _der.DERError("not SEQUENCE { tbs, signatureAlgorithm, signature }")
    tbs = _der.encode(*outer[0])
    outer_algorithm = _der.encode(*outer[1])
    inner = _der.children(_der.parse(tbs, _der.SEQUENCE))
    # TBSCertificate: [0] version, serialNumber, signature, ...
    # TBSCertList: version (absent in v1), signature, ...
    if inner and inner[0][0] == 0xA0:
        inner = inner[1:]
    if inner and inner[0][0] == _der.INTEGER:
        inner = inner[1:]
    if not inner or _der.encode(*inner[0]) != outer_algorithm:
        raise _der.DERError("the signature algorithm inside and outside the signed part differ")
    return tbs, outer_algorithm


def _signature_valid(item: _Signed, key: PublicKey) -> bool:
    """Whether ``item`` carries a valid signature by ``key``. Raises
    :class:`UnsupportedCertificate` for an algorithm outside the accepted list."""
    algorithm = item.signature_algorithm_oid
    family = ACCEPTED_SIGNATURE_ALGORITHMS.get(algorithm)
    if family is None:
        raise UnsupportedCertificate(
            f"The signature algorithm {algorithm.dotted_string} ({algorithm._name}) of "
            f"{_describe_signed(item)} is not accepted (accepted: Ed25519, ECDSA and RSA with "
            "SHA-256/384/512, RSA-PSS, SM3withSM2)."
        )
    tbs, _ = _signed_parts(item)
    signature = item.signature
    try:
        if family == "sm2":
            if not isinstance(key, SM2PublicKey):
                return False
            try:
                raw = sm.signature_from_der(signature)
            except ValueError:
                return False
            return sm.verify(key.point, tbs, raw, user_id=sm.DEFAULT_USER_ID)
        if family == "ed25519" and isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, tbs)
            return True
        if family == "ecdsa" and isinstance(key, ec.EllipticCurvePublicKey):
            parameters = item.signature_algorithm_parameters
            if not isinstance(parameters, ec.ECDSA):
                return False
            key.verify(signature, tbs, parameters)
            return True
        if family == "rsa" and isinstance(key, rsa.RSAPublicKey):
            parameters = item.signature_algorithm_parameters
            hash_algorithm = item.signature_hash_algorithm
            if not isinstance(parameters, padding.PKCS1v15 | padding.PSS) or hash_algorithm is None:
                return False
            key.verify(signature, tbs, parameters, hash_algorithm)
            return True
    except InvalidSignature:
        return False
    return False


# --- names and extensions ------------------------------------------------------------------------


def _describe_name(name: x509.Name) -> str:
    try:
        return name.rfc4514_string()
    except ValueError:
        return repr(name)


def _describe(certificate: x509.Certificate) -> str:
    return (
        f"certificate “{_describe_name(certificate.subject)}” "
        f"(serial {certificate.serial_number:X})"
    )


def _describe_signed(item: _Signed) -> str:
    if isinstance(item, x509.Certificate):
        return "the " + _describe(item)
    return f"the CRL of “{_describe_name(item.issuer)}”"


def _extensions(certificate: x509.Certificate) -> x509.Extensions:
    try:
        return certificate.extensions
    except ValueError as exc:
        raise MalformedCertificate(
            f"The extensions of {_describe(certificate)} cannot be read: {exc}.",
            certificate=certificate,
        ) from exc


_E = TypeVar("_E", bound=x509.ExtensionType)


def _extension(extensions: x509.Extensions, kind: type[_E]) -> _E | None:
    try:
        return extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


#: Critical certificate extensions the validation processes (or that need no processing);
#: any other critical extension makes the certificate ``unsupported`` (RFC 5280 §4.2).
PROCESSED_CRITICAL_EXTENSIONS = frozenset(
    {
        ExtensionOID.BASIC_CONSTRAINTS,
        ExtensionOID.KEY_USAGE,
        ExtensionOID.EXTENDED_KEY_USAGE,
        ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
        ExtensionOID.SUBJECT_KEY_IDENTIFIER,
        ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
        ExtensionOID.CRL_DISTRIBUTION_POINTS,
        ExtensionOID.AUTHORITY_INFORMATION_ACCESS,
        # Accepted without policy processing: the platform's initial policy set is anyPolicy and
        # it requires no explicit policy (RFC 5280 §6.1.1 (c), (f)).
        ExtensionOID.CERTIFICATE_POLICIES,
    }
)

_PROCESSED_CRITICAL_CRL_EXTENSIONS = frozenset(
    {
        ExtensionOID.CRL_NUMBER,
        ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
        ExtensionOID.ISSUING_DISTRIBUTION_POINT,
        ExtensionOID.DELTA_CRL_INDICATOR,
        ExtensionOID.FRESHEST_CRL,
        ExtensionOID.AUTHORITY_INFORMATION_ACCESS,
    }
)
_PROCESSED_CRITICAL_ENTRY_EXTENSIONS = frozenset({x509.CRLEntryExtensionOID.CRL_REASON})


def _check_critical_extensions(certificate: x509.Certificate) -> None:
    for extension in _extensions(certificate):
        if extension.critical and extension.oid not in PROCESSED_CRITICAL_EXTENSIONS:
            raise UnsupportedCertificate(
                f"The {_describe(certificate)} has a critical extension the platform does "
                f"not process ({extension.oid.dotted_string}, {extension.oid._name}); RFC 5280 "
                "§4.2 requires refusing it.",
                certificate=certificate,
            )


def _self_issued(certificate: x509.Certificate) -> bool:
    return certificate.issuer == certificate.subject


def _key_ids_compatible(child: x509.Certificate, parent: x509.Certificate) -> bool:
    try:
        aki = _extension(child.extensions, x509.AuthorityKeyIdentifier)
        ski = _extension(parent.extensions, x509.SubjectKeyIdentifier)
    except ValueError:
        return True  # reported properly when the path is validated
    if aki is None or aki.key_identifier is None or ski is None:
        return True
    return aki.key_identifier == ski.digest


def _fingerprint(certificate: x509.Certificate) -> bytes:
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).digest()


# --- identity ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreditCodeSource:
    """Where a CA writes the organisation's unified social credit code: a subject attribute
    (``in_extension=False``) or a certificate extension whose value is a DER string (UTF8String,
    PrintableString, IA5String, BMPString or OCTET STRING) or bare ASCII."""

    oid: x509.ObjectIdentifier
    in_extension: bool = False


@dataclass(frozen=True)
class IdentityMapping:
    """Where a CA puts the person's name, the organisation's name and its credit code."""

    person_name: tuple[x509.ObjectIdentifier, ...] = (NameOID.COMMON_NAME,)
    organisation_name: tuple[x509.ObjectIdentifier, ...] = (NameOID.ORGANIZATION_NAME,)
    credit_code: tuple[CreditCodeSource, ...] = (
        CreditCodeSource(NameOID.ORGANIZATION_IDENTIFIER),
        CreditCodeSource(NameOID.ORGANIZATIONAL_UNIT_NAME),
        CreditCodeSource(GMT0015_ORGANISATION_CODE, in_extension=True),
    )


DEFAULT_IDENTITY = IdentityMapping()

_CODE_CHAR = "[" + re.escape(CREDIT_CODE_ALPHABET) + "]"
_CREDIT_CODE_TOKEN = re.compile(
    rf"(?<![0-9A-Z])({_CODE_CHAR}{{2}}[0-9]{{6}}{_CODE_CHAR}{{10}})(?![0-9A-Z])"
)
_DER_STRING_TAGS = {0x0C: "utf-8", 0x13: "ascii", 0x16: "ascii", 0x04: "ascii", 0x1E: "utf-16-be"}


def _credit_codes_in(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).upper()
    return [
        token
        for token in _CREDIT_CODE_TOKEN.findall(text)
        if check_character(token[:17]) == token[17]
    ]


def _extension_text(value: bytes) -> str:
    """An extension value that is one DER string, decoded; otherwise the bytes as ASCII."""
    try:
        items = _der.children(value)
        if len(items) == 1 and items[0][0] in _DER_STRING_TAGS:
            tag, content = items[0]
            return content.decode(_DER_STRING_TAGS[tag])
    except (_der.DERError, UnicodeDecodeError):
        pass
    return value.decode("ascii", errors="replace")


def _attribute(name: x509.Name, oids: Sequence[x509.ObjectIdentifier]) -> str | None:
    for oid in oids:
        for attribute in name.get_attributes_for_oid(oid):
            value = attribute.value
            text = value if isinstance(value, str) else value.decode("utf-8", errors="replace")
            if text.strip():
                return text.strip()
    return None


@dataclass(frozen=True)
class Identity:
    """What a certificate says about its holder (see :class:`IdentityMapping`)."""

    person_name: str | None
    organisation_name: str | None
    credit_code: str | None


def extract_identity(
    certificate: x509.Certificate, mapping: IdentityMapping = DEFAULT_IDENTITY
) -> Identity:
    """The person's name, organisation name and credit code in a certificate (each None if the
    mapping finds none). Raises :class:`MalformedCertificate` if two different valid credit codes
    are found."""
    codes: list[str] = []
    extensions = _extensions(certificate)
    for source in mapping.credit_code:
        if source.in_extension:
            try:
                extension = extensions.get_extension_for_oid(source.oid)
            except x509.ExtensionNotFound:
                continue
            value = extension.value
            if isinstance(value, x509.UnrecognizedExtension):
                codes += _credit_codes_in(_extension_text(value.value))
        else:
            for attribute in certificate.subject.get_attributes_for_oid(source.oid):
                if isinstance(attribute.value, str):
                    codes += _credit_codes_in(attribute.value)
    distinct = list(dict.fromkeys(codes))
    if len(distinct) > 1:
        raise MalformedCertificate(
            f"The {_describe(certificate)} names more than one unified social credit code "
            f"({', '.join(distinct)}); the organisation cannot be identified.",
            certificate=certificate,
        )
    return Identity(
        person_name=_attribute(certificate.subject, mapping.person_name),
        organisation_name=_attribute(certificate.subject, mapping.organisation_name),
        credit_code=distinct[0] if distinct else None,
    )


# --- loading -------------------------------------------------------------------------------------


def _as_bytes(data: bytes | str) -> bytes:
    return data.encode("ascii", errors="replace") if isinstance(data, str) else bytes(data)


def load_certificate(data: bytes | str) -> x509.Certificate:
    """One certificate, PEM or DER; :class:`MalformedCertificate` if it is neither."""
    raw = _as_bytes(data)
    try:
        if b"-----BEGIN" in raw:
            return x509.load_pem_x509_certificate(raw)
        return x509.load_der_x509_certificate(raw)
    except ValueError as exc:
        raise MalformedCertificate(f"Not an X.509 certificate: {exc}.") from exc


def load_certificates(data: bytes | str) -> list[x509.Certificate]:
    """Every certificate in a PEM bundle (or the one DER certificate)."""
    raw = _as_bytes(data)
    if b"-----BEGIN" not in raw:
        return [load_certificate(raw)]
    try:
        return x509.load_pem_x509_certificates(raw)
    except ValueError as exc:
        raise MalformedCertificate(f"Not a bundle of X.509 certificates: {exc}.") from exc


def load_crl(data: bytes | str) -> x509.CertificateRevocationList:
    """One CRL, PEM or DER; :class:`MalformedCertificate` if it is neither."""
    raw = _as_bytes(data)
    try:
        if b"-----BEGIN" in raw:
            return x509.load_pem_x509_crl(raw)
        return x509.load_der_x509_crl(raw)
    except ValueError as exc:
        raise MalformedCertificate(f"Not an X.509 CRL: {exc}.") from exc


# --- trust store ---------------------------------------------------------------------------------


def _check_ca_certificate(certificate: x509.Certificate, *, role: str) -> None:
    extensions = _extensions(certificate)
    constraints = _extension(extensions, x509.BasicConstraints)
    if constraints is None or not constraints.ca:
        raise WrongKeyUsage(
            f"The {_describe(certificate)} cannot be a {role}: it is not a CA certificate "
            "(basicConstraints cA is not TRUE).",
            certificate=certificate,
        )
    usage = _extension(extensions, x509.KeyUsage)
    if usage is not None and not usage.key_cert_sign:
        raise WrongKeyUsage(
            f"The {_describe(certificate)} cannot be a {role}: its keyUsage does not "
            "include keyCertSign.",
            certificate=certificate,
        )
    _check_critical_extensions(certificate)
    key = certificate_public_key(certificate)
    if _key_type(key) not in _SIGNING_KEY_TYPES:
        raise WrongKeyUsage(
            f"The {_describe(certificate)} cannot be a {role}: its key cannot sign.",
            certificate=certificate,
        )


class TrustStore:
    """The trust anchors (root certificates of every recognised CA) and known intermediate CA
    certificates. Adding checks that each is a CA certificate; a self-issued root's own
    signature must verify. Each root may have its own :class:`IdentityMapping`."""

    def __init__(
        self,
        roots: Iterable[x509.Certificate] = (),
        intermediates: Iterable[x509.Certificate] = (),
    ) -> None:
        self._roots: dict[bytes, x509.Certificate] = {}
        self._intermediates: dict[bytes, x509.Certificate] = {}
        self._identity: dict[bytes, IdentityMapping] = {}
        for root in roots:
            self.add_root(root)
        for intermediate in intermediates:
            self.add_intermediate(intermediate)

    @classmethod
    def from_pem(cls, roots: bytes | str, intermediates: bytes | str = b"") -> TrustStore:
        """A store from PEM bundles of roots and (optionally) intermediates."""
        return cls(
            load_certificates(roots),
            load_certificates(intermediates) if _as_bytes(intermediates).strip() else (),
        )

    def add_root(
        self, certificate: x509.Certificate, *, identity: IdentityMapping | None = None
    ) -> None:
        """Trust ``certificate`` as a root (trust anchor); ``identity`` says where this CA puts
        names and credit codes (default :data:`DEFAULT_IDENTITY`)."""
        _check_ca_certificate(certificate, role="trust anchor")
        if _self_issued(certificate):
            valid = False
            try:
                valid = _signature_valid(certificate, certificate_public_key(certificate))
            except _der.DERError as exc:
                raise MalformedCertificate(
                    f"The {_describe(certificate)} is malformed: {exc}.",
                    certificate=certificate,
                ) from exc
            if not valid:
                raise BadCertificateSignature(
                    f"The self-signature of the root {_describe(certificate)} does not verify.",
                    certificate=certificate,
                )
        key = _fingerprint(certificate)
        self._roots[key] = certificate
        self._identity[key] = identity or DEFAULT_IDENTITY

    def add_intermediate(self, certificate: x509.Certificate) -> None:
        """Know ``certificate`` as an intermediate CA: it is used to build paths, never trusted
        by itself."""
        _check_ca_certificate(certificate, role="intermediate CA")
        self._intermediates[_fingerprint(certificate)] = certificate

    @property
    def roots(self) -> tuple[x509.Certificate, ...]:
        return tuple(self._roots.values())

    @property
    def intermediates(self) -> tuple[x509.Certificate, ...]:
        return tuple(self._intermediates.values())

    def identity_for(self, anchor: x509.Certificate) -> IdentityMapping:
        return self._identity.get(_fingerprint(anchor), DEFAULT_IDENTITY)

    def is_anchor(self, certificate: x509.Certificate) -> bool:
        return _fingerprint(certificate) in self._roots

    def __len__(self) -> int:
        return len(self._roots)


# --- result --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifiedCertificate:
    """A certificate that passed :func:`verify_certificate`, and what it says.

    ``person_name``, ``organisation_name`` and ``credit_code`` are None when the trust anchor's
    :class:`IdentityMapping` finds nothing; a service binding the certificate to a person must
    refuse that.
    """

    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]  # the certificate first, the trust anchor last
    purpose: KeyUse
    verified_at: datetime
    key_type: KeyType
    public_key: PublicKey = field(repr=False)
    person_name: str | None
    organisation_name: str | None
    credit_code: str | None

    @property
    def trust_anchor(self) -> x509.Certificate:
        return self.chain[-1]

    @property
    def public_key_bytes(self) -> bytes:
        """The key as :mod:`openbid.crypto.suites` takes it (see :func:`public_key_bytes`)."""
        return public_key_bytes(self.public_key)

    @property
    def suite(self) -> str | None:
        """The crypto suite this key belongs to (``intl-2026``, ``sm-2026``), or None."""
        return _SUITE_OF_KEY_TYPE.get(self.key_type)

    @property
    def serial_number(self) -> int:
        return self.certificate.serial_number

    @property
    def subject(self) -> str:
        return _describe_name(self.certificate.subject)

    @property
    def issuer(self) -> str:
        return _describe_name(self.certificate.issuer)

    @property
    def not_before(self) -> datetime:
        return self.certificate.not_valid_before_utc

    @property
    def not_after(self) -> datetime:
        return self.certificate.not_valid_after_utc

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the DER certificate, lower-case hex."""
        return _fingerprint(self.certificate).hex()


# --- path validation -----------------------------------------------------------------------------


def _candidate_paths(
    certificate: x509.Certificate, store: TrustStore, presented: Sequence[x509.Certificate]
) -> Iterator[list[x509.Certificate]]:
    """Paths from ``certificate`` to a trust anchor, by name and key identifier, shortest
    branches first; no certificate twice in one path."""
    pool = list({_fingerprint(c): c for c in (*store.intermediates, *presented)}.values())
    count = 0

    def walk(path: list[x509.Certificate], seen: set[bytes]) -> Iterator[list[x509.Certificate]]:
        nonlocal count
        current = path[-1]
        for anchor in store.roots:
            if (
                count < _MAX_PATHS
                and anchor.subject == current.issuer
                and _key_ids_compatible(current, anchor)
                and _fingerprint(anchor) not in seen
            ):
                count += 1
                yield [*path, anchor]
        if len(path) > MAX_INTERMEDIATES:
            return
        for candidate in pool:
            fingerprint = _fingerprint(candidate)
            if (
                count < _MAX_PATHS
                and fingerprint not in seen
                and not store.is_anchor(candidate)
                and candidate.subject == current.issuer
                and _key_ids_compatible(current, candidate)
            ):
                yield from walk([*path, candidate], seen | {fingerprint})

    yield from walk([certificate], {_fingerprint(certificate)})


def _check_validity(certificate: x509.Certificate, at: datetime, *, role: str = "") -> None:
    not_before = certificate.not_valid_before_utc
    not_after = certificate.not_valid_after_utc
    if at < not_before:
        raise CertificateNotYetValid(
            f"The {role}{_describe(certificate)} is not valid until {not_before.isoformat()}; "
            f"it was checked for {at.isoformat()}.",
            certificate=certificate,
        )
    if at > not_after:
        raise CertificateExpired(
            f"The {role}{_describe(certificate)} expired at {not_after.isoformat()}; it was "
            f"checked for {at.isoformat()}.",
            certificate=certificate,
        )


def _check_signature(certificate: x509.Certificate, issuer: x509.Certificate) -> None:
    try:
        valid = _signature_valid(certificate, certificate_public_key(issuer))
    except _der.DERError as exc:
        raise MalformedCertificate(
            f"The {_describe(certificate)} is malformed: {exc}.", certificate=certificate
        ) from exc
    if not valid:
        raise BadCertificateSignature(
            f"The signature on {_describe(certificate)} does not verify with the key of its "
            f"issuer {_describe(issuer)}: the certificate was altered or was not issued by that "
            "CA.",
            certificate=certificate,
        )


def _check_issuer(path: Sequence[x509.Certificate], index: int) -> None:
    """``path[index]`` issues ``path[index - 1]``: it must be a CA, allowed to sign
    certificates, within its pathLenConstraint."""
    issuer = path[index]
    child = path[index - 1]
    extensions = _extensions(issuer)
    constraints = _extension(extensions, x509.BasicConstraints)
    if constraints is None or not constraints.ca:
        raise WrongKeyUsage(
            f"The {_describe(issuer)} issued {_describe(child)} but is not a CA "
            "certificate (basicConstraints cA is not TRUE), so it may not issue certificates.",
            certificate=issuer,
        )
    usage = _extension(extensions, x509.KeyUsage)
    if usage is not None and not usage.key_cert_sign:
        raise WrongKeyUsage(
            f"The {_describe(issuer)} issued {_describe(child)} but its keyUsage does not "
            "include keyCertSign.",
            certificate=issuer,
        )
    if constraints.path_length is not None:
        below = sum(1 for c in path[1:index] if not _self_issued(c))
        if below > constraints.path_length:
            raise WrongKeyUsage(
                f"The {_describe(issuer)} allows at most {constraints.path_length} "
                f"intermediate CA certificate(s) below it (pathLenConstraint); this chain has "
                f"{below}.",
                certificate=issuer,
            )


def _check_end_entity(certificate: x509.Certificate, key: PublicKey, purpose: KeyUse) -> None:
    extensions = _extensions(certificate)
    constraints = _extension(extensions, x509.BasicConstraints)
    if constraints is not None and constraints.ca:
        raise WrongKeyUsage(
            f"The {_describe(certificate)} is a CA certificate, not a person's certificate.",
            certificate=certificate,
        )
    usage = _extension(extensions, x509.KeyUsage)
    if usage is None:
        raise WrongKeyUsage(
            f"The {_describe(certificate)} has no keyUsage extension; the platform requires "
            "it to tell signing from encryption certificates.",
            certificate=certificate,
        )
    key_type = _key_type(key)
    if purpose is KeyUse.SIGNING:
        if key_type not in _SIGNING_KEY_TYPES:
            raise WrongKeyUsage(
                f"The {_describe(certificate)} certifies an {key_type} key, which cannot "
                "sign: it is an encryption certificate.",
                certificate=certificate,
            )
        if not usage.digital_signature:
            raise WrongKeyUsage(
                f"The {_describe(certificate)} is not for signing: its keyUsage does not "
                "include digitalSignature.",
                certificate=certificate,
            )
        return
    if key_type is KeyType.ED25519:
        raise WrongKeyUsage(
            f"The {_describe(certificate)} certifies an Ed25519 key, which cannot encrypt: "
            "it is a signing certificate.",
            certificate=certificate,
        )
    allowed = {
        KeyType.X25519: usage.key_agreement,
        KeyType.P256: usage.key_agreement,
        KeyType.P384: usage.key_agreement,
        KeyType.RSA: usage.key_encipherment,
        KeyType.SM2: usage.key_agreement or usage.key_encipherment,
    }[key_type]
    if not allowed:
        needed = {KeyType.RSA: "keyEncipherment", KeyType.SM2: "keyEncipherment or keyAgreement"}
        raise WrongKeyUsage(
            f"The {_describe(certificate)} is not for encryption: its keyUsage does not "
            f"include {needed.get(key_type, 'keyAgreement')}.",
            certificate=certificate,
        )


_CRL_REASON_NAMES = {flag: flag.value for flag in x509.ReasonFlags}


def _crl_scope_problem(
    crl: x509.CertificateRevocationList, certificate: x509.Certificate
) -> str | None:
    """Why ``crl`` cannot decide whether ``certificate`` is revoked, or None if it can."""
    try:
        extensions = crl.extensions
        entries = list(crl)
        for entry in entries:
            for extension in entry.extensions:
                if extension.critical and extension.oid not in _PROCESSED_CRITICAL_ENTRY_EXTENSIONS:
                    return f"an entry has an unprocessed critical extension ({extension.oid.dotted_string})"
    except ValueError as exc:
        return f"it cannot be read ({exc})"
    for extension in extensions:
        if extension.critical and extension.oid not in _PROCESSED_CRITICAL_CRL_EXTENSIONS:
            return f"it has an unprocessed critical extension ({extension.oid.dotted_string})"
    if _extension(extensions, x509.DeltaCRLIndicator) is not None:
        return "it is a delta CRL, not a complete one"
    point = _extension(extensions, x509.IssuingDistributionPoint)
    if point is None:
        return None
    is_ca = False
    cert_points: list[x509.GeneralName] = []
    try:
        cert_extensions = certificate.extensions
        constraints = _extension(cert_extensions, x509.BasicConstraints)
        is_ca = constraints is not None and constraints.ca
        distribution = _extension(cert_extensions, x509.CRLDistributionPoints)
        for dp in distribution or ():
            cert_points += dp.full_name or []
    except ValueError:
        pass
    if point.indirect_crl:
        return "it is an indirect CRL"
    if point.only_some_reasons:
        return "it covers only some revocation reasons"
    if point.only_contains_attribute_certs:
        return "it covers only attribute certificates"
    if point.only_contains_user_certs and is_ca:
        return "it covers only end-entity certificates"
    if point.only_contains_ca_certs and not is_ca:
        return "it covers only CA certificates"
    if point.full_name and not set(point.full_name) & set(cert_points):
        return "it is the CRL of another distribution point"
    if point.relative_name is not None:
        return "it names its distribution point relative to the issuer (not supported)"
    return None


def _check_revocation(
    certificate: x509.Certificate,
    issuer: x509.Certificate,
    at: datetime,
    crls: Sequence[x509.CertificateRevocationList],
) -> None:
    issuer_name = _describe_name(issuer.subject)
    named = [crl for crl in crls if crl.issuer == issuer.subject]
    policy = (
        "the platform does not accept a certificate whose revocation status is unknown "
        "(platform policy)"
    )
    if not named:
        raise CrlMissing(
            f"No CRL of “{issuer_name}” was supplied, so whether {_describe(certificate)} is "
            f"revoked cannot be checked; {policy}.",
            certificate=certificate,
        )
    usage = _extension(_extensions(issuer), x509.KeyUsage)
    if usage is not None and not usage.crl_sign:
        raise WrongKeyUsage(
            f"The {_describe(issuer)} may not sign CRLs (its keyUsage does not include "
            f"cRLSign), so its CRLs cannot show whether the {_describe(certificate)} is revoked.",
            certificate=issuer,
        )
    issuer_key = certificate_public_key(issuer)
    authentic = []
    for crl in named:
        try:
            if _signature_valid(crl, issuer_key):
                authentic.append(crl)
        except _der.DERError as exc:
            raise MalformedCertificate(f"A CRL of “{issuer_name}” is malformed: {exc}.") from exc
    if not authentic:
        raise BadCertificateSignature(
            f"The signature on the CRL of “{issuer_name}” does not verify with that CA's key "
            f"({_describe(issuer)}); the CRL was altered or is not that CA's.",
            certificate=certificate,
        )
    applicable = []
    problems = []
    for crl in authentic:
        problem = _crl_scope_problem(crl, certificate)
        if problem is None:
            applicable.append(crl)
        else:
            problems.append(problem)
    if not applicable:
        raise CrlMissing(
            f"No complete CRL of “{issuer_name}” for {_describe(certificate)} was supplied "
            f"({'; '.join(problems)}); {policy}.",
            certificate=certificate,
        )
    current = [
        crl
        for crl in applicable
        if crl.next_update_utc is not None and crl.last_update_utc <= at <= crl.next_update_utc
    ]
    if not current:
        newest = max(applicable, key=lambda crl: crl.last_update_utc)
        if all(crl.last_update_utc > at for crl in applicable):
            detail = (
                f"the oldest one supplied was issued at "
                f"{min(crl.last_update_utc for crl in applicable).isoformat()}, after that time"
            )
        elif newest.next_update_utc is None:
            detail = "the newest one supplied has no nextUpdate, so its freshness is unknown"
        else:
            detail = (
                f"the newest one supplied (issued {newest.last_update_utc.isoformat()}) was "
                f"current only until {newest.next_update_utc.isoformat()}"
            )
        raise CrlStale(
            f"No CRL of “{issuer_name}” current at {at.isoformat()} was supplied: {detail}; "
            f"{policy}.",
            certificate=certificate,
        )
    crl = max(current, key=lambda c: c.last_update_utc)
    entry = crl.get_revoked_certificate_by_serial_number(certificate.serial_number)
    if entry is None:
        return
    try:
        reason_flag = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
        crl_reason: str | None = _CRL_REASON_NAMES[reason_flag]
    except (x509.ExtensionNotFound, ValueError):
        crl_reason = None
    revoked_at = entry.revocation_date_utc
    because = f" ({crl_reason})" if crl_reason else ""
    raise CertificateRevoked(
        f"The {_describe(certificate)} was revoked by “{issuer_name}” at "
        f"{revoked_at.isoformat()}{because}, according to its CRL issued "
        f"{crl.last_update_utc.isoformat()}.",
        certificate=certificate,
        revoked_at=revoked_at,
        crl_reason=crl_reason,
    )


def _validate_path(
    path: Sequence[x509.Certificate],
    at: datetime,
    crls: Sequence[x509.CertificateRevocationList],
    purpose: KeyUse,
) -> PublicKey:
    anchor = path[-1]
    _check_validity(anchor, at, role="trust anchor (root CA) ")
    for index in range(len(path) - 2, -1, -1):
        certificate = path[index]
        _check_critical_extensions(certificate)
        _check_signature(certificate, path[index + 1])
        _check_issuer(path, index + 1)
        _check_validity(certificate, at, role="" if index == 0 else "intermediate CA ")
    key = certificate_public_key(path[0])
    _check_end_entity(path[0], key, purpose)
    for index in range(len(path) - 2, -1, -1):
        _check_revocation(path[index], path[index + 1], at, crls)
    return key


def verify_certificate(
    certificate: x509.Certificate,
    *,
    store: TrustStore,
    at: datetime,
    crls: Iterable[x509.CertificateRevocationList] = (),
    purpose: KeyUse = KeyUse.SIGNING,
    intermediates: Iterable[x509.Certificate] = (),
    identity: IdentityMapping | None = None,
) -> VerifiedCertificate:
    """Validates ``certificate`` for ``purpose`` at the time ``at`` (timezone-aware) against the
    trust anchors of ``store``, with ``crls`` (one per CA in the chain) and any ``intermediates``
    the holder presents; returns what it certifies, or raises a :class:`CertificateError`.
    ``identity`` overrides the trust anchor's :class:`IdentityMapping`. See the module
    documentation for the checks and their order."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("`at` must be timezone-aware")
    at = at.astimezone(UTC)
    crl_list = list(crls)
    presented = list(intermediates)
    if store.is_anchor(certificate):
        raise WrongKeyUsage(
            f"The {_describe(certificate)} is a trust anchor (a CA root), not a person's "
            "certificate.",
            certificate=certificate,
        )
    errors: list[CertificateError] = []
    for path in _candidate_paths(certificate, store, presented):
        try:
            key = _validate_path(path, at, crl_list, purpose)
        except CertificateError as exc:
            errors.append(exc)
            continue
        mapping = identity or store.identity_for(path[-1])
        found = extract_identity(certificate, mapping)
        return VerifiedCertificate(
            certificate=certificate,
            chain=tuple(path),
            purpose=purpose,
            verified_at=at,
            key_type=_key_type(key),
            public_key=key,
            person_name=found.person_name,
            organisation_name=found.organisation_name,
            credit_code=found.credit_code,
        )
    if errors:
        for error in errors:
            if not isinstance(error, BadCertificateSignature):
                raise error
        raise errors[0]
    raise UntrustedCertificate(
        f"The {_describe(certificate)}, issued by “{_describe_name(certificate.issuer)}”, "
        "does not chain to any CA the platform trusts"
        + (
            " (no trusted CA root or known intermediate CA certificate has that name)."
            if len(store)
            else " (the trust store is empty)."
        ),
        certificate=certificate,
    )
