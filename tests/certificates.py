"""Signing certificates for tests that commit bids: a bid's signing key must belong to a
registered, currently valid signing certificate of the submitting person for the bidding
organisation (``openbid.crypto.services.require_signing_key``).

:func:`trust_test_ca` makes the centre staff trust a built-in test CA (with a fresh CRL) once per
test database; :func:`certify` issues a certificate for a given signing key and registers it
through the services, as the person would."""

from __future__ import annotations

import base64
import datetime as dt
import functools

from openbid.accounts.models import Organisation, User
from openbid.core import clock
from openbid.crypto import services
from openbid.crypto.models import PersonCertificate, TrustedCA
from openbid.crypto.suites import KeyPair
from openbid.crypto.testca import _SUITE_KEY_TYPES, TestCA, _public_key_from_pair, to_pem
from tests.factories import centre_with_staff

#: When the test CA's root starts to be valid (the test clock starts in March 2026).
CA_START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


@functools.cache
def test_ca() -> TestCA:
    """The test CA (deterministic, made once per process)."""
    return TestCA.create_root(
        "测试CA（测试用）", seed="tests-signing-ca", not_before=CA_START, organisation="测试CA"
    )


test_ca.__test__ = False  # type: ignore[attr-defined]


def ca_staff() -> User:
    """The centre staff member who manages the trusted CAs in tests."""
    return User.objects.filter(username="ca-staff").first() or centre_with_staff("ca-staff")[1]


def trust_test_ca() -> TrustedCA:
    """The test CA as a trusted CA, added with a CRL current for a long while by the centre
    staff if it is not trusted yet."""
    ca = test_ca()
    fingerprint = services.fingerprint(ca.certificate)
    row = TrustedCA.objects.filter(fingerprint=fingerprint).first()
    if row is not None:
        return row
    staff = ca_staff()
    row = services.add_trusted_ca(
        staff, name="测试CA", region_code="330000", certificate_pem=to_pem(ca.certificate)
    )
    now = clock.now()
    services.add_crl(
        staff,
        ca=row,
        crl_pem_or_der=to_pem(
            ca.crl(this_update=now - dt.timedelta(days=1), next_update=now + dt.timedelta(days=400))
        ),
    )
    return row


def certify(
    user: User, organisation: Organisation, suite: str, signing_key: KeyPair | bytes
) -> PersonCertificate:
    """Issue ``user`` a signing certificate for ``organisation`` certifying ``signing_key`` (a key
    pair or the raw public key, as the suite holds it) and register it as ``user``."""
    trust_test_ca()
    public = signing_key.public if isinstance(signing_key, KeyPair) else bytes(signing_key)
    existing = PersonCertificate.objects.filter(
        user=user,
        organisation=organisation,
        purpose=PersonCertificate.Purpose.SIGNING,
        status=PersonCertificate.Status.ACTIVE,
        public_key=base64.b64encode(public).decode("ascii"),
    ).first()
    if existing is not None:
        return existing
    key_type = _SUITE_KEY_TYPES[suite][0]
    certificate = test_ca().issue_person_certificate(
        name=user.get_full_name() or user.get_username(),
        public_key=_public_key_from_pair(KeyPair(private=b"", public=public), key_type),
        credit_code=organisation.credit_code,
        organisation=organisation.name,
        not_before=clock.now() - dt.timedelta(days=30),
    )
    return services.register_certificate(
        user, certificate_pem=to_pem(certificate), purpose="signing"
    )
