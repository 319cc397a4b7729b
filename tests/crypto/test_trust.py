"""CA mutual recognition (CA 互认): trusted CAs, CRLs, people's certificates, and the signing-key
check bidding relies on. Every certificate here is real, issued by the built-in test CA."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass

import pytest
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import serialization

from openbid.accounts.models import Organisation, User
from openbid.core import clock as platform_clock
from openbid.core.errors import Conflict, InvalidInput, NotAllowed
from openbid.core.models import DomainEvent
from openbid.crypto import services
from openbid.crypto.models import PersonCertificate, RevocationList, TrustedCA
from openbid.crypto.services import CertificateRefused
from openbid.crypto.testca import CreditCodeLocation, TestCA, TestPerson, to_pem
from openbid.crypto.x509 import KeyType
from tests.factories import centre_with_staff, credit_code, market_entity

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


@dataclass
class Region:
    """A regional CA: its root, the CA that issues people's certificates (the root itself, or
    an intermediate below it), and its trusted rows once staff added them."""

    root: TestCA
    issuing: TestCA


@pytest.fixture
def zhejiang() -> Region:
    root = TestCA.create_root(
        "浙江CA Root", seed="zhejiang-root", not_before=T0, organisation="浙江测试CA"
    )
    issuing = root.create_intermediate("浙江CA 签发", seed="zhejiang-issuing", not_before=T0)
    return Region(root, issuing)


@pytest.fixture
def guangdong() -> Region:
    root = TestCA.create_root(
        "广东CA Root",
        seed="guangdong-root",
        not_before=T0,
        organisation="广东测试CA",
        key_type=KeyType.P256,
    )
    return Region(root, root)


@pytest.fixture
def staff(clock) -> User:
    return centre_with_staff()[1]


@pytest.fixture
def bidder(clock) -> tuple[Organisation, User]:
    return market_entity()


def crl_pem(ca: TestCA, at: dt.datetime, days: int = 7) -> str:
    return to_pem(ca.crl(this_update=at - DAY, next_update=at - DAY + dt.timedelta(days=days)))


def trust(staff: User, region: Region, name: str, region_code: str, *, crls: bool = True) -> None:
    """Staff add the region's root (and issuing CA) with a current CRL of each."""
    cas = [
        services.add_trusted_ca(
            staff,
            name=name,
            region_code=region_code,
            certificate_pem=to_pem(region.root.certificate),
        )
    ]
    if region.issuing is not region.root:
        cas.append(
            services.add_trusted_ca(
                staff,
                name=f"{name} 签发",
                region_code=region_code,
                certificate_pem=to_pem(region.issuing.certificate),
            )
        )
    if crls:
        for row, ca in zip(cas, [region.root, region.issuing], strict=False):
            services.add_crl(staff, ca=row, crl_pem_or_der=crl_pem(ca, platform_clock.now()))


def person(region: Region, org: Organisation, seed: str = "zhang", **kwargs) -> TestPerson:
    return region.issuing.issue_person(
        "张三", org.credit_code, seed=seed, not_before=T0, organisation=org.name, **kwargs
    )


def refused(reason: str, call, *args, **kwargs) -> CertificateRefused:
    with pytest.raises(CertificateRefused) as info:
        call(*args, **kwargs)
    assert info.value.reason == reason, info.value
    assert info.value.rule == f"certificate_{reason}"
    return info.value


def register(user: User, holder: TestPerson, purpose: str = "signing", **kwargs):
    pem = (
        holder.signing_certificate_pem
        if purpose == "signing"
        else holder.encryption_certificate_pem
    )
    return services.register_certificate(user, certificate_pem=pem, purpose=purpose, **kwargs)


# --- mutual recognition ------------------------------------------------------------------------


def test_certificates_from_two_independent_regional_cas_both_register(staff, zhejiang, guangdong):
    trust(staff, zhejiang, "浙江CA", "330000")
    trust(staff, guangdong, "广东CA", "440000")
    hz_org, hz_user = market_entity()
    sz_org, sz_user = market_entity()
    zhang = person(zhejiang, hz_org)
    li = guangdong.issuing.issue_person(
        "李四",
        sz_org.credit_code,
        seed="li",
        not_before=T0,
        credit_code_location=CreditCodeLocation.GMT0015_EXTENSION,
    )

    first = register(hz_user, zhang)
    second = register(sz_user, li)

    assert first.organisation == hz_org and second.organisation == sz_org
    assert first.issuer_ca.name == "浙江CA" and first.issuer_ca.kind == TrustedCA.Kind.ROOT
    assert second.issuer_ca.name == "广东CA"
    assert first.status == second.status == PersonCertificate.Status.ACTIVE
    assert first.suite == "intl-2026" and first.key_type == "ed25519"
    assert base64.b64decode(first.public_key) == zhang.signing_key.public
    assert first.not_after == zhang.signing_certificate.not_valid_after_utc
    assert "签发" in first.issuer and first.intermediates_pem.startswith("-----BEGIN")
    events = DomainEvent.objects.filter(type="crypto.certificate.registered").order_by("id")
    assert [e.payload["credit_code"] for e in events] == [hz_org.credit_code, sz_org.credit_code]
    for event, certificate in zip(events, [first, second], strict=True):
        assert event.payload["fingerprint"] == certificate.fingerprint
        assert event.payload["issuer"] == certificate.issuer
        assert "张三" not in str(event.payload) and "李四" not in str(event.payload)


def test_an_sm2_certificate_registers_for_the_sm_suite(staff, bidder):
    org, user = bidder
    root = TestCA.create_root("SM2 Root", seed="sm2-root", not_before=T0, key_type=KeyType.SM2)
    trust(staff, Region(root, root), "国密CA", "110000")
    holder = root.issue_person("王五", org.credit_code, seed="wang", not_before=T0, suite="sm-2026")
    registered = register(user, holder)
    assert registered.suite == "sm-2026" and registered.key_type == "sm2"
    assert (
        services.require_signing_key(user, org, holder.signing_key.public, registered.registered_at)
        == registered
    )


def test_encryption_certificates_register_for_encryption_only(staff, bidder, zhejiang):
    trust(staff, zhejiang, "浙江CA", "330000")
    org, user = bidder
    holder = person(zhejiang, org)
    encryption = register(user, holder, "encryption")
    assert encryption.purpose == "encryption" and encryption.key_type == "x25519"
    error = refused(
        "wrong_usage",
        services.register_certificate,
        user,
        certificate_pem=holder.signing_certificate_pem,
        purpose="encryption",
    )
    assert error.field == "certificate_pem"
    with pytest.raises(InvalidInput) as info:
        register(user, holder, "authentication")
    assert info.value.field == "purpose"


# --- refusals ----------------------------------------------------------------------------------


def _nothing_registered() -> None:
    assert not PersonCertificate.objects.exists()
    assert not DomainEvent.objects.filter(type__startswith="crypto.certificate").exists()


def test_a_certificate_from_an_untrusted_ca_is_refused(staff, bidder, zhejiang):
    trust(staff, zhejiang, "浙江CA", "330000")
    org, user = bidder
    elsewhere = TestCA.create_root("未认可CA", seed="unknown-root", not_before=T0)
    error = refused("untrusted", register, user, person(Region(elsewhere, elsewhere), org))
    assert error.field == "certificate_pem"
    assert "未认可CA" in str(error)
    _nothing_registered()


def test_an_expired_certificate_is_refused(staff, bidder, zhejiang, clock):
    trust(staff, zhejiang, "浙江CA", "330000")
    org, user = bidder
    old = person(zhejiang, org, not_after=clock.now() - DAY)
    refused("expired", register, user, old)
    _nothing_registered()


def test_a_revoked_certificate_is_refused(staff, bidder, zhejiang, clock):
    trust(staff, zhejiang, "浙江CA", "330000")
    org, user = bidder
    holder = person(zhejiang, org)
    zhejiang.issuing.revoke(holder.signing_certificate, at=clock.now() - 2 * DAY)
    issuing = TrustedCA.objects.get(name="浙江CA 签发")
    services.add_crl(
        staff,
        ca=issuing,
        crl_pem_or_der=to_pem(zhejiang.issuing.crl(this_update=clock.now() - DAY / 2)),
    )
    refused("revoked", register, user, holder)
    _nothing_registered()


def test_no_crl_or_an_out_of_date_crl_is_refused(staff, bidder, guangdong, clock):
    org, user = bidder
    trust(staff, guangdong, "广东CA", "440000", crls=False)
    holder = person(guangdong, org)
    error = refused("crl_missing", register, user, holder)
    assert "CRL" in str(error)
    ca = TrustedCA.objects.get()
    old = guangdong.root.crl(this_update=clock.now() - 10 * DAY)  # current for 7 days only
    services.add_crl(staff, ca=ca, crl_pem_or_der=old.public_bytes(serialization.Encoding.DER))
    refused("crl_stale", register, user, holder)
    _nothing_registered()
    services.add_crl(staff, ca=ca, crl_pem_or_der=crl_pem(guangdong.root, clock.now()))
    assert register(user, holder).status == "active"


def test_a_certificate_for_another_organisation_is_refused_naming_both_codes(
    staff, bidder, zhejiang
):
    trust(staff, zhejiang, "浙江CA", "330000")
    org, user = bidder
    other = credit_code()
    holder = zhejiang.issuing.issue_person("张三", other, seed="zhang", not_before=T0)
    error = refused("wrong_organisation", register, user, holder)
    assert other in str(error) and org.credit_code in str(error)
    nameless = zhejiang.issuing.issue_person("张三", None, seed="zhang2", not_before=T0)
    refused("no_credit_code", register, user, nameless)
    _nothing_registered()


def test_the_same_certificate_cannot_be_registered_twice(staff, bidder, zhejiang):
    trust(staff, zhejiang, "浙江CA", "330000")
    org, user = bidder
    holder = person(zhejiang, org)
    register(user, holder)
    with pytest.raises(Conflict) as info:
        register(user, holder)
    assert info.value.rule == "unique_fingerprint"
    assert PersonCertificate.objects.count() == 1


def test_garbage_is_refused_as_malformed(staff, bidder):
    _, user = bidder
    refused(
        "malformed",
        services.register_certificate,
        user,
        certificate_pem="-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        purpose="signing",
    )
    with pytest.raises(InvalidInput) as info:
        services.register_certificate(user, certificate_pem="  ", purpose="signing")
    assert info.value.rule == "required"


def test_signing_in_is_needed_to_register(zhejiang, bidder):
    org, _ = bidder
    with pytest.raises(NotAllowed):
        register(None, person(zhejiang, org))


# --- replacement and the signing-key check -----------------------------------------------------


def test_a_new_certificate_replaces_the_old_one_for_the_same_purpose(staff, bidder, zhejiang):
    trust(staff, zhejiang, "浙江CA", "330000")
    org, user = bidder
    old_holder = person(zhejiang, org, seed="zhang-2025")
    new_holder = person(zhejiang, org, seed="zhang-2026")
    old = register(user, old_holder)
    encryption = register(user, old_holder, "encryption")
    new = register(user, new_holder)
    old.refresh_from_db()
    encryption.refresh_from_db()
    assert old.status == PersonCertificate.Status.REPLACED and old.status_changed_at
    assert new.status == encryption.status == PersonCertificate.Status.ACTIVE
    event = DomainEvent.objects.filter(type="crypto.certificate.registered").last()
    assert event.payload["replaces"] == [old.fingerprint]
    at = new.registered_at
    assert services.require_signing_key(user, org, new_holder.signing_key.public, at) == new
    refused("replaced", services.require_signing_key, user, org, old_holder.signing_key.public, at)


def test_require_signing_key_accepts_the_registered_key_and_refuses_others(
    staff, zhejiang, guangdong, clock
):
    trust(staff, zhejiang, "浙江CA", "330000")
    org, user = market_entity()
    other_org, other_user = market_entity()
    holder = person(zhejiang, org)
    certificate = register(user, holder)
    now = clock.now()
    key = holder.signing_key.public

    assert services.require_signing_key(user, org, key, now) == certificate
    error = refused("not_registered", services.require_signing_key, user, org, b"\x01" * 32, now)
    assert error.field == "public_key"
    refused("not_registered", services.require_signing_key, other_user, org, key, now)
    refused("not_registered", services.require_signing_key, user, other_org, key, now)
    # the encryption key is not a signing key, even when registered
    register(user, holder, "encryption")
    refused(
        "not_registered",
        services.require_signing_key,
        user,
        org,
        holder.encryption_key.public,
        now,
        field="signature",
    )


def test_require_signing_key_refuses_a_key_revoked_by_a_later_crl(staff, bidder, zhejiang, clock):
    trust(staff, zhejiang, "浙江CA", "330000")
    org, user = bidder
    holder = person(zhejiang, org)
    certificate = register(user, holder)
    clock.advance(hours=2)
    zhejiang.issuing.revoke(
        holder.signing_certificate, at=clock.now(), reason=cx509.ReasonFlags.key_compromise
    )
    issuing = TrustedCA.objects.get(name="浙江CA 签发")
    services.add_crl(
        staff, ca=issuing, crl_pem_or_der=to_pem(zhejiang.issuing.crl(this_update=clock.now()))
    )
    certificate.refresh_from_db()
    assert certificate.status == PersonCertificate.Status.REVOKED
    event = DomainEvent.objects.filter(type="crypto.crl.added").last()
    assert event.payload["registered_certificates_revoked"] == [certificate.fingerprint]
    error = refused(
        "revoked", services.require_signing_key, user, org, holder.signing_key.public, clock.now()
    )
    assert error.field == "public_key"


def test_a_certificate_on_hold_is_refused_while_listed_but_not_marked_revoked(
    staff, bidder, zhejiang, clock
):
    """A hold (certificateHold) may be lifted, so the status stays active; the signing-key check
    reads the CRL itself and refuses while the hold is on the CRL current at that time."""
    trust(staff, zhejiang, "浙江CA", "330000")
    org, user = bidder
    holder = person(zhejiang, org)
    certificate = register(user, holder)
    zhejiang.issuing.revoke(
        holder.signing_certificate, at=clock.now(), reason=cx509.ReasonFlags.certificate_hold
    )
    issuing = TrustedCA.objects.get(name="浙江CA 签发")
    later = clock.now() + DAY
    services.add_crl(
        staff, ca=issuing, crl_pem_or_der=to_pem(zhejiang.issuing.crl(this_update=later))
    )
    certificate.refresh_from_db()
    assert certificate.status == PersonCertificate.Status.ACTIVE
    key = holder.signing_key.public
    # before the new CRL's thisUpdate the older CRL is the current one
    assert services.require_signing_key(user, org, key, clock.now()) == certificate
    error = refused("revoked", services.require_signing_key, user, org, key, later + DAY)
    assert "certificateHold" in str(error) or "certificate_hold" in str(error)


def test_require_signing_key_refuses_an_expired_certificate_and_a_stale_crl(
    staff, bidder, guangdong, clock
):
    trust(staff, guangdong, "广东CA", "440000")
    org, user = bidder
    holder = person(guangdong, org)
    register(user, holder)
    key = holder.signing_key.public
    # a week later without a new CRL: revocation status unknown
    clock.advance(days=8)
    refused("crl_stale", services.require_signing_key, user, org, key, clock.now())
    # after the certificate's end (two years from T0), with a current CRL
    clock.set(holder.signing_certificate.not_valid_after_utc + DAY)
    services.add_crl(
        staff, ca=TrustedCA.objects.get(), crl_pem_or_der=crl_pem(guangdong.root, clock.now())
    )
    error = refused("expired", services.require_signing_key, user, org, key, clock.now())
    assert "expired" in str(error)


def test_deactivating_a_ca_stops_its_certificates(staff, bidder, zhejiang, clock):
    trust(staff, zhejiang, "浙江CA", "330000")
    org, user = bidder
    holder = person(zhejiang, org)
    register(user, holder)
    key = holder.signing_key.public
    root = TrustedCA.objects.get(name="浙江CA")
    issuing = TrustedCA.objects.get(name="浙江CA 签发")
    services.deactivate_trusted_ca(staff, root, reason="不再认可")
    refused("untrusted", services.require_signing_key, user, org, key, clock.now())
    with pytest.raises(Conflict):
        services.deactivate_trusted_ca(staff, root)
    # the issuing CA withdrawn too: refused even though the holder's chain presents it
    services.deactivate_trusted_ca(staff, issuing, reason="签发CA密钥泄露")
    error = refused("ca_withdrawn", services.require_signing_key, user, org, key, clock.now())
    assert issuing.fingerprint in str(error)
    assert DomainEvent.objects.filter(type="crypto.trusted_ca.deactivated").count() == 2


def test_withdrawing_only_the_issuing_ca_stops_its_certificates(staff, bidder, zhejiang, clock):
    trust(staff, zhejiang, "浙江CA", "330000")
    org, user = bidder
    holder = person(zhejiang, org)
    register(user, holder)
    issuing = TrustedCA.objects.get(name="浙江CA 签发")
    services.deactivate_trusted_ca(staff, issuing)
    refused(
        "ca_withdrawn",
        services.require_signing_key,
        user,
        org,
        holder.signing_key.public,
        clock.now(),
    )
    other_org, other_user = market_entity()
    refused("untrusted", register, other_user, person(zhejiang, other_org, seed="li"))


def test_an_intermediate_presented_by_the_holder_still_needs_its_crl(
    staff, bidder, zhejiang, clock
):
    org, user = bidder
    root = services.add_trusted_ca(
        staff, name="浙江CA", region_code="330000", certificate_pem=zhejiang.root.certificate_pem
    )
    services.add_crl(staff, ca=root, crl_pem_or_der=crl_pem(zhejiang.root, clock.now()))
    holder = person(zhejiang, org)
    refused("untrusted", register, user, holder)
    refused(
        "crl_missing",
        register,
        user,
        holder,
        intermediates_pem=[zhejiang.issuing.certificate_pem],
    )
    _nothing_registered()


def test_a_pasted_chain_counts_as_presented_intermediates(staff, bidder, zhejiang, clock):
    org, user = bidder
    root = services.add_trusted_ca(
        staff, name="浙江CA", region_code="330000", certificate_pem=zhejiang.root.certificate_pem
    )
    services.add_crl(staff, ca=root, crl_pem_or_der=crl_pem(zhejiang.root, clock.now()))
    holder = person(zhejiang, org)
    chain = holder.signing_certificate_pem + zhejiang.issuing.chain_pem
    # the issuing CA is found through the pasted chain, but its CRL is not on the platform
    refused(
        "crl_missing", services.register_certificate, user, certificate_pem=chain, purpose="signing"
    )
    issuing = services.add_trusted_ca(
        staff,
        name="浙江CA 签发",
        region_code="330000",
        certificate_pem=zhejiang.issuing.certificate_pem,
    )
    services.add_crl(staff, ca=issuing, crl_pem_or_der=crl_pem(zhejiang.issuing, clock.now()))
    registered = services.register_certificate(user, certificate_pem=chain, purpose="signing")
    assert registered.fingerprint == services.fingerprint(holder.signing_certificate)
    assert registered.intermediates_pem == zhejiang.issuing.certificate_pem
    assert registered.issuer_ca == root
    with pytest.raises(InvalidInput) as info:
        services.register_certificate(
            user, certificate_pem=chain, purpose="signing", intermediates_pem=[chain] * 4
        )
    assert info.value.rule == "max_length" and info.value.field == "intermediates_pem"


# --- trusted CAs and CRLs ----------------------------------------------------------------------


def test_staff_add_cas_and_only_ca_certificates(staff, bidder, zhejiang, clock):
    root = services.add_trusted_ca(
        staff, name="浙江CA", region_code="330000", certificate_pem=zhejiang.root.certificate_pem
    )
    assert root.kind == TrustedCA.Kind.ROOT and root.active and root.added_by == staff
    assert root.valid_from == T0 and root.subject.endswith("C=CN")
    event = DomainEvent.objects.get(type="crypto.trusted_ca.added")
    assert event.payload["fingerprint"] == root.fingerprint
    assert event.payload["region_code"] == "330000"

    org, _ = bidder
    holder = person(zhejiang, org)
    with pytest.raises(InvalidInput) as info:
        services.add_trusted_ca(
            staff,
            name="个人证书",
            region_code="330000",
            certificate_pem=holder.signing_certificate_pem,
        )
    assert info.value.rule == "ca_certificate" and info.value.field == "certificate_pem"
    with pytest.raises(Conflict) as conflict:
        services.add_trusted_ca(
            staff, name="again", region_code="330000", certificate_pem=zhejiang.root.certificate_pem
        )
    assert conflict.value.rule == "unique_fingerprint"
    with pytest.raises(InvalidInput) as region:
        services.add_trusted_ca(
            staff, name="x", region_code="999999", certificate_pem=zhejiang.root.certificate_pem
        )
    assert region.value.field == "region_code"
    other = TestCA.create_root("Other", seed="other", not_before=T0)
    orphan = other.create_intermediate("Orphan issuing", seed="orphan", not_before=T0)
    with pytest.raises(InvalidInput) as unknown:
        services.add_trusted_ca(
            staff, name="orphan", region_code="330000", certificate_pem=orphan.certificate_pem
        )
    assert unknown.value.rule == "ca_issuer_unknown"
    expired = TestCA.create_root(
        "Expired", seed="expired", not_before=T0, not_after=clock.now() - DAY
    )
    with pytest.raises(InvalidInput) as old:
        services.add_trusted_ca(
            staff, name="old", region_code="330000", certificate_pem=expired.certificate_pem
        )
    assert old.value.rule == "certificate_expired"
    assert TrustedCA.objects.count() == 1
    assert DomainEvent.objects.filter(type="crypto.trusted_ca.added").count() == 1


def test_a_bidder_cannot_add_or_withdraw_a_ca_or_upload_a_crl(staff, bidder, zhejiang, clock):
    _, user = bidder
    with pytest.raises(NotAllowed) as info:
        services.add_trusted_ca(
            user, name="浙江CA", region_code="330000", certificate_pem=zhejiang.root.certificate_pem
        )
    assert info.value.rule == "role_required"
    assert not TrustedCA.objects.exists()
    ca = services.add_trusted_ca(
        staff, name="浙江CA", region_code="330000", certificate_pem=zhejiang.root.certificate_pem
    )
    with pytest.raises(NotAllowed):
        services.add_crl(user, ca=ca, crl_pem_or_der=crl_pem(zhejiang.root, clock.now()))
    with pytest.raises(NotAllowed):
        services.deactivate_trusted_ca(user, ca)
    with pytest.raises(NotAllowed):
        services.add_trusted_ca(
            None, name="x", region_code="330000", certificate_pem=zhejiang.issuing.certificate_pem
        )
    assert not RevocationList.objects.exists()
    assert TrustedCA.objects.get().active


def test_crls_must_be_the_cas_own(staff, zhejiang, guangdong, clock):
    ca = services.add_trusted_ca(
        staff, name="浙江CA", region_code="330000", certificate_pem=zhejiang.root.certificate_pem
    )
    now = clock.now()

    def refused_crl(rule: str, value) -> None:
        with pytest.raises((InvalidInput, Conflict)) as info:
            services.add_crl(staff, ca=ca, crl_pem_or_der=value)
        assert info.value.rule == rule, info.value
        assert info.value.field == "crl"

    refused_crl("crl_issuer", crl_pem(guangdong.root, now))
    impostor = TestCA.create_root(
        "浙江CA Root", seed="impostor", not_before=T0, organisation="浙江测试CA"
    )
    refused_crl("crl_signature", crl_pem(impostor, now))
    refused_crl("crl_format", "not a crl")
    refused_crl("crl_format", b"\x30\x03\x02\x01\x00")
    assert not RevocationList.objects.exists()

    der = zhejiang.root.crl(this_update=now - DAY).public_bytes(serialization.Encoding.DER)
    row = services.add_crl(staff, ca=ca, crl_pem_or_der=base64.b64encode(der).decode())
    assert bytes(row.crl_der) == der and row.next_update == row.this_update + 7 * DAY
    assert row.number == str(int((now - DAY).timestamp()))
    refused_crl("unique_crl", der)
    event = DomainEvent.objects.get(type="crypto.crl.added")
    assert event.payload["ca"] == ca.fingerprint and event.payload["revoked_count"] == 0


def test_every_crl_is_kept_and_the_newest_current_one_is_used(staff, zhejiang, clock):
    ca = services.add_trusted_ca(
        staff, name="浙江CA", region_code="330000", certificate_pem=zhejiang.root.certificate_pem
    )
    now = clock.now()
    first = zhejiang.root.crl(this_update=now - 3 * DAY)
    second = zhejiang.root.crl(this_update=now - DAY)
    for crl in (second, first):  # the order of upload does not matter
        services.add_crl(staff, ca=ca, crl_pem_or_der=to_pem(crl))
    assert RevocationList.objects.count() == 2
    assert services.revocation_lists(now) == [second]
    assert services.revocation_lists(now - 2 * DAY) == [first]
    # none current: the newest before that time, so that verification says "stale"
    assert services.revocation_lists(now + 30 * DAY) == [second]
    assert services.revocation_lists(now - 30 * DAY) == [first]
    services.deactivate_trusted_ca(staff, ca)
    assert services.revocation_lists(now) == []
    assert len(services.trust_store()) == 0


def test_the_trust_store_holds_active_roots_and_issuing_cas(staff, zhejiang, guangdong):
    trust(staff, zhejiang, "浙江CA", "330000")
    trust(staff, guangdong, "广东CA", "440000")
    store = services.trust_store()
    assert len(store) == 2
    assert set(store.roots) == {zhejiang.root.certificate, guangdong.root.certificate}
    assert store.intermediates == (zhejiang.issuing.certificate,)


# --- admin -------------------------------------------------------------------------------------


def test_staff_add_a_ca_and_a_crl_in_the_admin(client, staff, zhejiang, clock):
    client.force_login(staff)
    bad = client.post(
        "/admin/crypto/trustedca/add/",
        {"name": "浙江CA", "region_code": "330000", "certificate_pem": "nonsense"},
    )
    assert bad.status_code == 200 and "errorlist" in bad.content.decode()
    assert not TrustedCA.objects.exists()
    ok = client.post(
        "/admin/crypto/trustedca/add/",
        {
            "name": "浙江CA",
            "region_code": "330000",
            "certificate_pem": zhejiang.root.certificate_pem,
        },
    )
    assert ok.status_code == 302, ok.content.decode()[:3000]
    ca = TrustedCA.objects.get()
    assert ca.added_by == staff
    assert client.get(f"/admin/crypto/trustedca/{ca.pk}/change/").status_code == 200

    from django.core.files.uploadedfile import SimpleUploadedFile

    der = zhejiang.root.crl(this_update=clock.now() - DAY).public_bytes(serialization.Encoding.DER)
    uploaded = client.post(
        "/admin/crypto/revocationlist/add/",
        {"ca": ca.pk, "crl": "", "crl_file": SimpleUploadedFile("zj.crl", der)},
    )
    assert uploaded.status_code == 302, uploaded.content.decode()[:3000]
    assert bytes(RevocationList.objects.get().crl_der) == der
    wrong = client.post("/admin/crypto/revocationlist/add/", {"ca": ca.pk, "crl": "garbage"})
    assert wrong.status_code == 200 and "errorlist" in wrong.content.decode()
    assert RevocationList.objects.count() == 1
    assert client.get("/admin/crypto/personcertificate/").status_code == 200
    assert client.get("/admin/crypto/personcertificate/add/").status_code == 403


def test_bidders_cannot_open_the_certificate_admin(client, bidder):
    _, user = bidder
    client.force_login(user)
    assert client.get("/admin/crypto/trustedca/add/").status_code == 302
