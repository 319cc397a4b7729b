"""Certificates from several CAs (CA 互认): path validation, revocation, identity, SM2."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from openbid.crypto import suites
from openbid.crypto.suites import KeyUse
from openbid.crypto.testca import (
    KEY_AGREEMENT_USAGE,
    SIGNING_USAGE,
    CreditCodeLocation,
    TestCA,
    TestPerson,
    derive_keypair,
    derive_private_key,
    public_key_of,
    to_pem,
)
from openbid.crypto.x509 import (
    REASONS,
    BadCertificateSignature,
    CertificateError,
    CertificateExpired,
    CertificateNotYetValid,
    CertificateRevoked,
    CreditCodeSource,
    CrlMissing,
    CrlStale,
    IdentityMapping,
    KeyType,
    MalformedCertificate,
    TrustStore,
    UnsupportedCertificate,
    UntrustedCertificate,
    WrongKeyUsage,
    extract_identity,
    load_certificate,
    load_crl,
    verify_certificate,
)

UTC = dt.UTC
T0 = dt.datetime(2025, 1, 1, tzinfo=UTC)
AT = dt.datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
FUJIAN_CODE = "91350100M00010006A"  # valid GB 32100 check characters
SHENZHEN_CODE = "91440300MA5F0000X1"
UNTIL = T0 + dt.timedelta(days=730)


def crl_of(ca: TestCA, *, this_update: dt.datetime = AT - dt.timedelta(days=1)):
    return ca.crl(this_update=this_update, next_update=this_update + dt.timedelta(days=7))


@dataclass
class Region:
    """A regional CA: root, issuing CA (or none), and one person."""

    root: TestCA
    issuing: TestCA
    person: TestPerson


@pytest.fixture
def fujian() -> Region:
    """Fujian's CA: Ed25519 root and issuing intermediate (the built-in test CA's default)."""
    root = TestCA.create_root(
        "Fujian Test Root CA", seed="fujian-root", not_before=T0, organisation="福建测试CA"
    )
    issuing = root.create_intermediate("Fujian Test Issuing CA", seed="fujian-1", not_before=T0)
    person = issuing.issue_person(
        "张三", FUJIAN_CODE, seed="zhang", not_before=T0, organisation="测试建设有限公司"
    )
    return Region(root, issuing, person)


@pytest.fixture
def guangdong() -> Region:
    """Guangdong's CA: an independent ECDSA P-256 root issuing directly."""
    root = TestCA.create_root(
        "Guangdong Test Root CA",
        seed="guangdong-root",
        not_before=T0,
        organisation="广东测试CA",
        key_type=KeyType.P256,
    )
    person = root.issue_person(
        "李四",
        SHENZHEN_CODE,
        seed="li",
        not_before=T0,
        organisation="深圳测试工程有限公司",
        credit_code_location=CreditCodeLocation.GMT0015_EXTENSION,
    )
    return Region(root, root, person)


@pytest.fixture
def store(fujian: Region, guangdong: Region) -> TrustStore:
    return TrustStore([fujian.root.certificate, guangdong.root.certificate])


@pytest.fixture
def crls(fujian: Region, guangdong: Region) -> list[x509.CertificateRevocationList]:
    return [crl_of(fujian.root), crl_of(fujian.issuing), crl_of(guangdong.root)]


def verify(certificate: x509.Certificate, store: TrustStore, crls, **kwargs):
    kwargs.setdefault("at", AT)
    return verify_certificate(certificate, store=store, crls=crls, **kwargs)


def tampered(certificate: x509.Certificate, old: bytes, new: bytes) -> x509.Certificate:
    der = certificate.public_bytes(serialization.Encoding.DER)
    assert der.count(old) == 1 and len(old) == len(new)
    return x509.load_der_x509_certificate(der.replace(old, new))


# --- mutual recognition and identity -------------------------------------------------------------


def test_certificates_of_two_independent_cas_are_accepted_by_one_store(
    fujian, guangdong, store, crls
):
    zhang = verify(
        fujian.person.signing_certificate,
        store,
        crls,
        intermediates=[fujian.issuing.certificate],
    )
    li = verify(guangdong.person.signing_certificate, store, crls)

    assert zhang.trust_anchor == fujian.root.certificate
    assert zhang.chain == (
        fujian.person.signing_certificate,
        fujian.issuing.certificate,
        fujian.root.certificate,
    )
    assert li.trust_anchor == guangdong.root.certificate
    assert len(li.chain) == 2
    assert (zhang.person_name, zhang.organisation_name, zhang.credit_code) == (
        "张三",
        "测试建设有限公司",
        FUJIAN_CODE,
    )
    # Guangdong's CA writes the code in the GM/T 0015 extension, not the subject.
    assert (li.person_name, li.organisation_name, li.credit_code) == (
        "李四",
        "深圳测试工程有限公司",
        SHENZHEN_CODE,
    )


def test_intermediates_may_come_from_the_store(fujian, crls):
    store = TrustStore([fujian.root.certificate], [fujian.issuing.certificate])
    assert verify(fujian.person.signing_certificate, store, crls).person_name == "张三"


def test_the_verified_key_is_the_suites_key(fujian, store, crls):
    person = fujian.person
    signing = verify(
        person.signing_certificate, store, crls, intermediates=[fujian.issuing.certificate]
    )
    encryption = verify(
        person.encryption_certificate,
        store,
        crls,
        intermediates=[fujian.issuing.certificate],
        purpose=KeyUse.ENCRYPTION,
    )
    assert signing.key_type is KeyType.ED25519 and signing.suite == "intl-2026"
    assert signing.public_key_bytes == person.signing_key.public
    assert encryption.key_type is KeyType.X25519 and encryption.suite == "intl-2026"
    assert encryption.public_key_bytes == person.encryption_key.public
    assert {signing.suite, "sm-2026"} <= set(suites.SUITES)
    assert signing.fingerprint == person.signing_certificate.fingerprint(hashes.SHA256()).hex()
    assert signing.subject.startswith("CN=张三")
    assert signing.not_after == T0 + dt.timedelta(days=730)


@pytest.mark.parametrize("location", list(CreditCodeLocation))
def test_credit_code_is_found_wherever_the_ca_puts_it(fujian, location):
    certificate = fujian.issuing.issue_person_certificate(
        name="王五",
        public_key=public_key_of(derive_private_key("wang", KeyType.ED25519)),
        credit_code=FUJIAN_CODE,
        not_before=T0,
        credit_code_location=location,
    )
    assert extract_identity(certificate).credit_code == FUJIAN_CODE


def test_identity_without_or_with_a_wrong_credit_code(fujian):
    key = public_key_of(derive_private_key("wang", KeyType.ED25519))
    issue = fujian.issuing.issue_person_certificate
    none = issue(name="王五", public_key=key, credit_code=None, not_before=T0)
    typo = issue(name="王五", public_key=key, credit_code="91350100M00010006B", not_before=T0)
    assert extract_identity(none).credit_code is None
    assert extract_identity(typo).credit_code is None  # check character wrong: not a code
    assert extract_identity(none).organisation_name is None


def test_two_different_credit_codes_are_malformed(fujian):
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, f"NTRCN-{FUJIAN_CODE}"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, SHENZHEN_CODE),
            x509.NameAttribute(NameOID.COMMON_NAME, "王五"),
        ]
    )
    certificate = fujian.issuing.issue(
        subject,
        public_key_of(derive_private_key("wang", KeyType.ED25519)),
        key_usage=SIGNING_USAGE,
        not_before=T0,
        not_after=UNTIL,
    )
    with pytest.raises(MalformedCertificate, match="more than one unified social credit code"):
        extract_identity(certificate)


def test_each_root_can_have_its_own_identity_mapping(fujian, crls):
    """A CA that puts the code in the subject serialNumber (not read by default)."""
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.SERIAL_NUMBER, FUJIAN_CODE),
            x509.NameAttribute(NameOID.PSEUDONYM, "赵六"),
            x509.NameAttribute(NameOID.COMMON_NAME, "zhao6@example.cn"),
        ]
    )
    certificate = fujian.issuing.issue(
        subject,
        public_key_of(derive_private_key("zhao", KeyType.ED25519)),
        key_usage=SIGNING_USAGE,
        not_before=T0,
        not_after=UNTIL,
    )
    default_store = TrustStore([fujian.root.certificate], [fujian.issuing.certificate])
    assert verify(certificate, default_store, crls).credit_code is None

    mapping = IdentityMapping(
        person_name=(NameOID.PSEUDONYM,),
        credit_code=(CreditCodeSource(NameOID.SERIAL_NUMBER),),
    )
    store = TrustStore(intermediates=[fujian.issuing.certificate])
    store.add_root(fujian.root.certificate, identity=mapping)
    verified = verify(certificate, store, crls)
    assert (verified.person_name, verified.credit_code) == ("赵六", FUJIAN_CODE)


# --- refusals ------------------------------------------------------------------------------------


def test_expired_and_not_yet_valid(fujian, store, crls):
    chain = {"intermediates": [fujian.issuing.certificate]}
    certificate = fujian.person.signing_certificate
    with pytest.raises(CertificateExpired, match="expired at 2027-01-01") as expired:
        verify(certificate, store, crls, at=dt.datetime(2027, 1, 2, tzinfo=UTC), **chain)
    with pytest.raises(CertificateNotYetValid) as early:
        verify(certificate, store, crls, at=dt.datetime(2024, 12, 31, tzinfo=UTC), **chain)
    assert expired.value.reason == "expired" and early.value.reason == "not_yet_valid"
    assert expired.value.subject == certificate.subject.rfc4514_string()


def test_expired_intermediate(fujian, store):
    issuing = fujian.root.create_intermediate(
        "Short-lived CA", seed="short", not_before=T0, not_after=T0 + dt.timedelta(days=30)
    )
    person = issuing.issue_person("张三", FUJIAN_CODE, seed="zhang", not_before=T0)
    with pytest.raises(CertificateExpired, match="intermediate CA certificate") as info:
        verify(
            person.signing_certificate,
            store,
            [crl_of(fujian.root), crl_of(issuing)],
            intermediates=[issuing.certificate],
        )
    assert info.value.subject == issuing.certificate.subject.rfc4514_string()


def test_certificate_of_an_unrecognised_ca_is_untrusted(fujian, store):
    other = TestCA.create_root("Fujian Test Root CA", seed="not-fujian", not_before=T0)
    person = other.issue_person("张三", FUJIAN_CODE, seed="zhang", not_before=T0)
    unknown = TestCA.create_root("Somewhere Else CA", seed="elsewhere", not_before=T0)
    stranger = unknown.issue_person("钱七", FUJIAN_CODE, seed="qian", not_before=T0)
    # Same name as a trusted root but another key: not a path (key identifiers differ).
    with pytest.raises(UntrustedCertificate):
        verify(person.signing_certificate, store, [crl_of(other)])
    with pytest.raises(UntrustedCertificate, match="does not chain to any CA") as info:
        verify(stranger.signing_certificate, store, [crl_of(unknown)])
    assert info.value.reason == "untrusted"
    with pytest.raises(UntrustedCertificate, match="trust store is empty"):
        verify(stranger.signing_certificate, TrustStore(), [crl_of(unknown)])


def test_revoked_certificate(fujian, store):
    certificate = fujian.person.signing_certificate
    revoked_at = AT - dt.timedelta(days=3)
    fujian.issuing.revoke(certificate, at=revoked_at, reason=x509.ReasonFlags.key_compromise)
    with pytest.raises(CertificateRevoked, match="keyCompromise") as info:
        verify(
            certificate,
            store,
            [crl_of(fujian.root), crl_of(fujian.issuing)],
            intermediates=[fujian.issuing.certificate],
        )
    assert info.value.reason == "revoked"
    assert info.value.revoked_at == revoked_at
    assert info.value.crl_reason == "keyCompromise"
    # The encryption certificate is still good.
    verify(
        fujian.person.encryption_certificate,
        store,
        [crl_of(fujian.root), crl_of(fujian.issuing)],
        intermediates=[fujian.issuing.certificate],
        purpose=KeyUse.ENCRYPTION,
    )


def test_revoked_intermediate_revokes_everything_below(fujian, store):
    fujian.root.revoke(fujian.issuing.certificate, at=AT - dt.timedelta(days=1))
    with pytest.raises(CertificateRevoked) as info:
        verify(
            fujian.person.signing_certificate,
            store,
            [crl_of(fujian.root), crl_of(fujian.issuing)],
            intermediates=[fujian.issuing.certificate],
        )
    assert info.value.subject == fujian.issuing.certificate.subject.rfc4514_string()
    assert info.value.crl_reason is None


def test_stale_crl_is_refused(fujian, store):
    chain = {"intermediates": [fujian.issuing.certificate]}
    old = crl_of(fujian.issuing, this_update=AT - dt.timedelta(days=10))  # until AT - 3 days
    with pytest.raises(CrlStale, match="current only until") as info:
        verify(fujian.person.signing_certificate, store, [crl_of(fujian.root), old], **chain)
    assert info.value.reason == "crl_stale"
    future = crl_of(fujian.issuing, this_update=AT + dt.timedelta(hours=1))
    with pytest.raises(CrlStale, match="after that time"):
        verify(fujian.person.signing_certificate, store, [crl_of(fujian.root), future], **chain)
    # An old one next to a current one is fine: the current one is used.
    verify(
        fujian.person.signing_certificate,
        store,
        [crl_of(fujian.root), old, crl_of(fujian.issuing)],
        **chain,
    )


def test_missing_crl_is_refused(fujian, store):
    chain = {"intermediates": [fujian.issuing.certificate]}
    with pytest.raises(CrlMissing, match="platform policy") as info:
        verify(fujian.person.signing_certificate, store, [], **chain)
    assert info.value.reason == "crl_missing"
    # The root's CRL covers the intermediate, not the person: the issuing CA's is missing.
    with pytest.raises(CrlMissing, match="Fujian Test Issuing CA"):
        verify(fujian.person.signing_certificate, store, [crl_of(fujian.root)], **chain)


def test_crl_with_a_bad_signature_is_refused(fujian, store):
    forger = TestCA.create_root("Fujian Test Issuing CA", seed="forger", not_before=T0)
    with pytest.raises(BadCertificateSignature, match="CRL"):
        verify(
            fujian.person.signing_certificate,
            store,
            [crl_of(fujian.root), crl_of(forger)],
            intermediates=[fujian.issuing.certificate],
        )


def test_wrong_key_usage(fujian, store, crls):
    chain = {"intermediates": [fujian.issuing.certificate]}
    person = fujian.person
    with pytest.raises(WrongKeyUsage, match="cannot sign") as info:
        verify(person.encryption_certificate, store, crls, purpose=KeyUse.SIGNING, **chain)
    assert info.value.reason == "wrong_usage"
    with pytest.raises(WrongKeyUsage, match="cannot encrypt"):
        verify(person.signing_certificate, store, crls, purpose=KeyUse.ENCRYPTION, **chain)
    # An Ed25519 key certified for key agreement only may not sign.
    odd = fujian.issuing.issue(
        person.signing_certificate.subject,
        public_key_of(derive_private_key("odd", KeyType.ED25519)),
        key_usage=KEY_AGREEMENT_USAGE,
        not_before=T0,
        not_after=UNTIL,
    )
    with pytest.raises(WrongKeyUsage, match="digitalSignature"):
        verify(odd, store, crls, **chain)
    # A CA certificate is no person's certificate.
    with pytest.raises(WrongKeyUsage, match="trust anchor"):
        verify(fujian.root.certificate, store, crls)
    with pytest.raises(WrongKeyUsage, match="CA certificate, not a person's"):
        verify(fujian.issuing.certificate, store, crls)


def test_tampered_certificate_is_refused(fujian, store, crls):
    chain = {"intermediates": [fujian.issuing.certificate]}
    original = fujian.person.signing_certificate
    bad_signature = tampered(original, original.signature[-4:], bytes(4))
    with pytest.raises(BadCertificateSignature, match="does not verify") as info:
        verify(bad_signature, store, crls, **chain)
    assert info.value.reason == "bad_signature"
    other_name = tampered(original, "张三".encode(), "李四".encode())
    with pytest.raises(BadCertificateSignature):
        verify(other_name, store, crls, **chain)


def test_intermediate_without_ca_flag_is_refused(fujian, store):
    not_a_ca = fujian.root.create_intermediate("Not a CA", seed="not-ca", not_before=T0, ca=False)
    person = not_a_ca.issue_person("张三", FUJIAN_CODE, seed="zhang", not_before=T0)
    with pytest.raises(WrongKeyUsage, match="not a CA certificate") as info:
        verify(
            person.signing_certificate,
            store,
            [crl_of(fujian.root), crl_of(not_a_ca)],
            intermediates=[not_a_ca.certificate],
        )
    assert info.value.subject == not_a_ca.certificate.subject.rfc4514_string()
    with pytest.raises(WrongKeyUsage):
        TrustStore().add_intermediate(not_a_ca.certificate)


def test_path_length_constraint(store):
    root = TestCA.create_root("Strict Root", seed="strict", not_before=T0, path_length=0)
    issuing = root.create_intermediate("Strict Issuing", seed="strict-1", not_before=T0)
    person = issuing.issue_person("张三", FUJIAN_CODE, seed="zhang", not_before=T0)
    with pytest.raises(WrongKeyUsage, match="pathLenConstraint"):
        verify(
            person.signing_certificate,
            TrustStore([root.certificate]),
            [crl_of(root), crl_of(issuing)],
            intermediates=[issuing.certificate],
        )


def test_unknown_critical_extension_is_unsupported(fujian, store, crls):
    certificate = fujian.issuing.issue(
        fujian.person.signing_certificate.subject,
        public_key_of(derive_private_key("ext", KeyType.ED25519)),
        key_usage=SIGNING_USAGE,
        not_before=T0,
        not_after=UNTIL,
        extensions=[
            (x509.UnrecognizedExtension(x509.ObjectIdentifier("1.2.3.4"), b"\x05\x00"), True)
        ],
    )
    with pytest.raises(UnsupportedCertificate, match=r"1\.2\.3\.4") as info:
        verify(certificate, store, crls, intermediates=[fujian.issuing.certificate])
    assert info.value.reason == "unsupported"


def test_trust_store_refuses_what_is_not_a_root(fujian):
    store = TrustStore()
    with pytest.raises(WrongKeyUsage, match="not a CA certificate"):
        store.add_root(fujian.person.signing_certificate)
    root = fujian.root.certificate
    with pytest.raises(BadCertificateSignature, match="self-signature"):
        store.add_root(tampered(root, root.signature[-4:], bytes(4)))
    assert len(store) == 0
    store.add_root(root)
    store.add_root(root)  # idempotent
    assert store.roots == (root,)


def test_errors_are_typed_and_time_must_be_aware(fujian, store):
    assert set(REASONS) >= {
        "expired",
        "not_yet_valid",
        "untrusted",
        "revoked",
        "bad_signature",
        "wrong_usage",
        "crl_missing",
        "crl_stale",
        "malformed",
    }
    with pytest.raises(ValueError, match="timezone-aware"):
        verify_certificate(
            fujian.person.signing_certificate, store=store, at=dt.datetime(2026, 3, 1)
        )
    with pytest.raises(MalformedCertificate) as info:
        load_certificate(b"not a certificate")
    assert (
        isinstance(info.value, CertificateError) and info.value.as_dict()["reason"] == "malformed"
    )


# --- the test CA ---------------------------------------------------------------------------------


def test_test_ca_is_deterministic():
    def make() -> tuple[bytes, bytes, bytes]:
        root = TestCA.create_root("Demo Root", seed="demo", not_before=T0)
        person = root.issue_person("张三", FUJIAN_CODE, seed="zhang", not_before=T0)
        root.revoke(person.encryption_certificate, at=T0 + dt.timedelta(days=1))
        return (
            root.certificate.public_bytes(serialization.Encoding.DER),
            person.signing_certificate.public_bytes(serialization.Encoding.DER),
            root.crl(this_update=AT).public_bytes(serialization.Encoding.DER),
        )

    assert make() == make()
    assert derive_keypair("x", KeyType.SM2) == derive_keypair("x", KeyType.SM2)
    assert derive_keypair("x", KeyType.SM2) != derive_keypair("y", KeyType.SM2)


def test_pem_round_trip(fujian):
    person = fujian.person
    store = TrustStore.from_pem(fujian.root.certificate_pem, fujian.issuing.certificate_pem)
    crls = [load_crl(to_pem(crl_of(fujian.root))), load_crl(to_pem(crl_of(fujian.issuing)))]
    verified = verify(load_certificate(person.signing_certificate_pem), store, crls)
    assert verified.credit_code == FUJIAN_CODE
    assert fujian.issuing.chain_pem.count("BEGIN CERTIFICATE") == 2
    assert "BEGIN PRIVATE KEY" in fujian.issuing.private_key_pem


# --- SM2 -----------------------------------------------------------------------------------------


def test_sm2_test_ca_and_person(fujian):
    root = TestCA.create_root("SM2 Root", seed="sm2-root", not_before=T0, key_type=KeyType.SM2)
    person = root.issue_person("张三", FUJIAN_CODE, seed="zhang", not_before=T0, suite="sm-2026")
    store = TrustStore([root.certificate, fujian.root.certificate])
    crls = [crl_of(root)]
    signing = verify(person.signing_certificate, store, crls)
    encryption = verify(person.encryption_certificate, store, crls, purpose=KeyUse.ENCRYPTION)
    assert signing.key_type is KeyType.SM2 and signing.suite == "sm-2026"
    assert signing.public_key_bytes == person.signing_key.public
    assert encryption.public_key_bytes == person.encryption_key.public
    # An SM2 key certified by an Ed25519 CA, and an Ed25519 key by an SM2 CA.
    mixed = fujian.issuing.issue_person(
        "李四", FUJIAN_CODE, seed="li", not_before=T0, suite="sm-2026"
    )
    assert (
        verify(
            mixed.signing_certificate,
            store,
            [crl_of(fujian.root), crl_of(fujian.issuing)],
            intermediates=[fujian.issuing.certificate],
        ).key_type
        is KeyType.SM2
    )
    intl = root.issue_person("王五", FUJIAN_CODE, seed="wang", not_before=T0)
    assert verify(intl.signing_certificate, store, crls).key_type is KeyType.ED25519
    revoked = person.signing_certificate
    root.revoke(revoked, at=AT - dt.timedelta(days=1))
    with pytest.raises(CertificateRevoked):
        verify(revoked, store, [crl_of(root)])
    with pytest.raises(BadCertificateSignature):
        verify(tampered(revoked, revoked.signature[-4:], bytes(4)), store, crls)


# Made with OpenSSL 3.0 (an independent SM2 implementation), SM3withSM2 with the default user id:
#   openssl genpkey -algorithm SM2 -out root.key   (and zhang.key, li.key)
#   openssl req -new -key root.key -sm3 -sigopt distid:1234567812345678 ... -out root.csr
#   openssl ca -selfsign ... -md sm3 -sigopt distid:1234567812345678
#       -vfyopt distid:1234567812345678 -startdate 20250101000000Z -enddate 20450101000000Z
#   (zhang and li: -subj "/C=CN/O=测试建设有限公司/organizationIdentifier=NTRCN-<code>/CN=..",
#    keyUsage critical digitalSignature,nonRepudiation, 2025-01-01 to 2035-01-01)
#   openssl ca -revoke li.pem -crl_reason keyCompromise
#   openssl ca -gencrl -crl_lastupdate 20250601000000Z -crl_nextupdate 20450101000000Z -md sm3 ..
OPENSSL_SM2_ROOT = """-----BEGIN CERTIFICATE-----
MIIByTCCAW+gAwIBAgIBATAKBggqgRzPVQGDdTBMMQswCQYDVQQGEwJDTjEbMBkG
A1UECgwSU00yIFRlc3QgUmVnaW9uIENBMSAwHgYDVQQDDBdTTTIgVGVzdCBSZWdp
b24gUm9vdCBDQTAeFw0yNTAxMDEwMDAwMDBaFw00NTAxMDEwMDAwMDBaMEwxCzAJ
BgNVBAYTAkNOMRswGQYDVQQKDBJTTTIgVGVzdCBSZWdpb24gQ0ExIDAeBgNVBAMM
F1NNMiBUZXN0IFJlZ2lvbiBSb290IENBMFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0D
QgAEQ/iVd4+0Lj0rn1TiAVH5nunCmQp8pxzhecc2ZlP2oYzrOaNP0JbqCMrCQ2aF
GQkX+g3GWpazd81niRKaYfOS6qNCMEAwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8B
Af8EBAMCAQYwHQYDVR0OBBYEFAe4y5vTk1ZwA/GYQxr4Iy+WkJghMAoGCCqBHM9V
AYN1A0gAMEUCIQD1VMi7wir+8fJf0qLKq9kt1F9RdnFss2KYARdgS/dL6wIgH0Sn
c7+iJA9qwGzJ8YDSxUxrZHUNOBbYNd7DbDyYJKU=
-----END CERTIFICATE-----
"""
OPENSSL_SM2_ZHANG = """-----BEGIN CERTIFICATE-----
MIIB/zCCAaWgAwIBAgIBAjAKBggqgRzPVQGDdTBMMQswCQYDVQQGEwJDTjEbMBkG
A1UECgwSU00yIFRlc3QgUmVnaW9uIENBMSAwHgYDVQQDDBdTTTIgVGVzdCBSZWdp
b24gUm9vdCBDQTAeFw0yNTAxMDEwMDAwMDBaFw0zNTAxMDEwMDAwMDBaMGQxCzAJ
BgNVBAYTAkNOMSEwHwYDVQQKDBjmtYvor5Xlu7rorr7mnInpmZDlhazlj7gxITAf
BgNVBGEMGE5UUkNOLTkxMzUwMTAwTTAwMDEwMDA2QTEPMA0GA1UEAwwG5byg5LiJ
MFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAEpzFe3n6BCh1S5oOykPvqlqn3qs8R
JwS8jRPgQ0Nm6PlrmTRsldCBr0DHmXs9zcCjseNRdMN7xWQqQsjDsTH4YaNgMF4w
DAYDVR0TAQH/BAIwADAOBgNVHQ8BAf8EBAMCBsAwHQYDVR0OBBYEFFgvz4VcTyxV
tsHRzXqYWc72llSoMB8GA1UdIwQYMBaAFAe4y5vTk1ZwA/GYQxr4Iy+WkJghMAoG
CCqBHM9VAYN1A0gAMEUCIQD1KMt/8woSkuzWmNdLVtM8zx1ZRNm830kd6G/Uvvmh
gQIgC6z37+PXWtuKVhXx8o1ij3CeZOp4TBVYV+Gw4Loj+8A=
-----END CERTIFICATE-----
"""
OPENSSL_SM2_LI_REVOKED = """-----BEGIN CERTIFICATE-----
MIICADCCAaWgAwIBAgIBAzAKBggqgRzPVQGDdTBMMQswCQYDVQQGEwJDTjEbMBkG
A1UECgwSU00yIFRlc3QgUmVnaW9uIENBMSAwHgYDVQQDDBdTTTIgVGVzdCBSZWdp
b24gUm9vdCBDQTAeFw0yNTAxMDEwMDAwMDBaFw0zNTAxMDEwMDAwMDBaMGQxCzAJ
BgNVBAYTAkNOMSEwHwYDVQQKDBjmtYvor5Xlu7rorr7mnInpmZDlhazlj7gxITAf
BgNVBGEMGE5UUkNOLTkxMzUwMTAwTTAwMDEwMDA2QTEPMA0GA1UEAwwG5p2O5Zub
MFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAESvFf0IkijJ9aRIruXM9VnnX3zMok
XN1oLI2HLksq4No9YnGVj2vjCAxlIQSWZnA3Zuepdayt+umCqdQTGVaU2qNgMF4w
DAYDVR0TAQH/BAIwADAOBgNVHQ8BAf8EBAMCBsAwHQYDVR0OBBYEFMkHcoYrIhmz
pejXbBaf08jN3aO3MB8GA1UdIwQYMBaAFAe4y5vTk1ZwA/GYQxr4Iy+WkJghMAoG
CCqBHM9VAYN1A0kAMEYCIQD2uwkCmYr2k6dj6FSpEX0MUFSwk1zydu8U3NcpmiYu
rAIhALOJSkrQpwfAXVnTMfbQitAVaVn072illf2zwY6xgtvk
-----END CERTIFICATE-----
"""
OPENSSL_SM2_CRL = """-----BEGIN X509 CRL-----
MIIBKjCB0QIBATAKBggqgRzPVQGDdTBMMQswCQYDVQQGEwJDTjEbMBkGA1UECgwS
U00yIFRlc3QgUmVnaW9uIENBMSAwHgYDVQQDDBdTTTIgVGVzdCBSZWdpb24gUm9v
dCBDQRcNMjUwNjAxMDAwMDAwWhcNNDUwMTAxMDAwMDAwWjAiMCACAQMXDTI2MTEy
MzEzMTkwMVowDDAKBgNVHRUEAwoBAaAwMC4wHwYDVR0jBBgwFoAUB7jLm9OTVnAD
8ZhDGvgjL5aQmCEwCwYDVR0UBAQCAhAAMAoGCCqBHM9VAYN1A0gAMEUCIHZMQmaq
jCTRAH4oktc/21rOKSEA+QMJ2qfGCAtRfhSjAiEA3srAErNnTi/PEdCjuX+K5/df
BU+QUT+zy2HV5Pjr5PI=
-----END X509 CRL-----
"""
SM2_AT = dt.datetime(2027, 6, 1, tzinfo=UTC)


def test_sm2_certificates_made_by_openssl(fujian):
    root = load_certificate(OPENSSL_SM2_ROOT)
    with pytest.raises(Exception, match="not supported"):
        root.public_key()  # what cryptography cannot do by itself
    store = TrustStore([fujian.root.certificate, root])  # an SM2 CA next to an Ed25519 CA
    crls = [load_crl(OPENSSL_SM2_CRL)]
    zhang = verify_certificate(
        load_certificate(OPENSSL_SM2_ZHANG), store=store, at=SM2_AT, crls=crls
    )
    assert zhang.key_type is KeyType.SM2
    assert (zhang.person_name, zhang.credit_code) == ("张三", FUJIAN_CODE)
    assert len(zhang.public_key_bytes) == 65
    with pytest.raises(CertificateRevoked, match="keyCompromise"):
        verify_certificate(
            load_certificate(OPENSSL_SM2_LI_REVOKED), store=store, at=SM2_AT, crls=crls
        )
    original = load_certificate(OPENSSL_SM2_ZHANG)
    with pytest.raises(BadCertificateSignature):
        verify_certificate(
            tampered(original, "张三".encode(), "李四".encode()), store=store, at=SM2_AT, crls=crls
        )
    crl_der = crls[0].public_bytes(serialization.Encoding.DER)
    forged_crl = x509.load_der_x509_crl(crl_der[:-4] + bytes(4))
    with pytest.raises(BadCertificateSignature, match="CRL"):
        verify_certificate(original, store=store, at=SM2_AT, crls=[forged_crl])
