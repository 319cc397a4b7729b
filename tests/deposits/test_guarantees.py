"""E-guarantees: issuers with certificates, signed guarantees verified and refused with reasons,
one-stop issuance through the built-in test issuer, verification at the opening, claims."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation

from openbid.core.errors import Conflict, InvalidInput, NotAllowed
from openbid.crypto.services import CertificateRefused
from openbid.crypto.testca import TestCA, derive_keypair
from openbid.crypto.x509 import KeyType
from openbid.deposits import guarantees, services, testissuer
from openbid.deposits.models import Guarantee, GuaranteeApplication, GuaranteeIssuer
from openbid.ledger import keys
from openbid.ledger.note import verify_note
from openbid.tendering.models import Tender
from tests.certificates import test_ca, trust_test_ca
from tests.deposits.helpers import deposit_rows, tender
from tests.factories import credit_code
from tests.opening.helpers import at_deadline, bid_package, bidder, submit

pytestmark = pytest.mark.django_db

ISSUER_NAME = "测试担保有限公司"


def _issuer(staff, clock, *, fee_percent="0.5") -> GuaranteeIssuer:
    trust_test_ca()
    person = testissuer.issue_certificate(
        test_ca(),
        name=ISSUER_NAME,
        credit_code=credit_code(),
        not_before=clock.now() - dt.timedelta(days=30),
    )
    return guarantees.register_issuer(
        staff,
        name=ISSUER_NAME,
        kind="guarantor",
        certificate_pem=person.signing_certificate_pem,
        api_url=guarantees.BUILTIN_TEST,
        fee_percent=fee_percent,
    )


@pytest.fixture
def setting(clock, staff):
    t, manager = tender()
    org, user = bidder(t, clock)
    issuer = _issuer(staff, clock)
    return t, manager, org, user, issuer


def document(t, org, issuer, **changes):
    section = t.sections.get()
    doc = {
        "type": "openbid-bid-guarantee",
        "version": 1,
        "number": "BG-2026-0001",
        "issuer": {"credit_code": issuer.credit_code, "name": issuer.name},
        "beneficiary": {
            "credit_code": t.project.tenderer.credit_code,
            "name": t.project.tenderer.name,
        },
        "tender": {"id": t.pk, "title": t.title},
        "section": {"id": section.pk, "number": section.number},
        "bidder": {"credit_code": org.credit_code, "name": org.name},
        "amount": "200000.00",
        "currency": "CNY",
        "valid_from": "2026-03-02",
        "valid_until": "2026-06-30",  # deadline 27 March + 90 days = 25 June
        "issued_at": "2026-03-02T10:00:00+08:00",
    }
    doc.update(changes)
    return doc


def signed(doc):
    return testissuer.sign(doc, testissuer.signing_key())


def test_an_issuer_needs_a_trusted_certificate(clock, staff):
    stranger = TestCA.create_root(
        "Untrusted CA", seed="untrusted", not_before=clock.now() - dt.timedelta(days=365)
    )
    person = stranger.issue_person(
        ISSUER_NAME, credit_code(), seed="x", not_before=clock.now() - dt.timedelta(days=1)
    )
    trust_test_ca()
    before = deposit_rows()
    with pytest.raises(CertificateRefused) as refused:
        guarantees.register_issuer(
            staff, name="x", kind="bank", certificate_pem=person.signing_certificate_pem
        )
    assert refused.value.reason == "untrusted"
    assert deposit_rows() == before


def test_a_valid_guarantee_is_registered_and_verified(setting, clock):
    t, _manager, org, user, issuer = setting
    guarantee = guarantees.register_guarantee(user, signed(document(t, org, issuer)))
    assert guarantee.amount == Decimal("200000.00") and guarantee.number == "BG-2026-0001"
    check = guarantees.verify_guarantee(t.sections.get(), org, t.bid_deadline)
    assert check.ok and check.guarantee.pk == guarantee.pk
    status = services.status_for(t.sections.get(), org)
    assert status.status == "guaranteed" and status.ok
    # The same guarantee twice: refused.
    before = deposit_rows()
    with pytest.raises(Conflict):
        guarantees.register_guarantee(user, signed(document(t, org, issuer)))
    assert deposit_rows() == before


@pytest.mark.parametrize(
    ("case", "rule", "words"),
    [
        ("bad_signature", "guarantee_bad_signature", "signature does not verify"),
        ("wrong_key", "guarantee_bad_signature", "signature does not verify"),
        ("wrong_amount", "guarantee_amount", "less than the 200000.00 yuan"),
        ("expired", "guarantee_validity", "expired on 2026-03-01"),
        ("short_validity", "guarantee_validity", "to 2026-06-25"),
        ("wrong_bidder", "guarantee_bidder", "not for"),
    ],
)
def test_bad_guarantees_are_refused_with_the_reason(setting, case, rule, words):
    t, _manager, org, user, issuer = setting
    if case == "bad_signature":
        envelope = signed(document(t, org, issuer))
        envelope = copy.deepcopy(envelope)
        envelope["guarantee"]["amount"] = "400000.00"  # altered after signing
    elif case == "wrong_key":
        forger = derive_keypair(b"forger/signing", KeyType.ED25519)
        envelope = testissuer.sign(document(t, org, issuer), forger)
    elif case == "wrong_amount":
        envelope = signed(document(t, org, issuer, amount="100000.00"))
    elif case == "expired":
        envelope = signed(
            document(t, org, issuer, valid_from="2026-01-01", valid_until="2026-03-01")
        )
    elif case == "short_validity":
        envelope = signed(document(t, org, issuer, valid_until="2026-04-30"))
    else:
        envelope = signed(
            document(t, org, issuer, bidder={"credit_code": credit_code(), "name": "别的公司"})
        )
    before = deposit_rows()
    with translation.override("en"), pytest.raises(InvalidInput) as refused:
        guarantees.register_guarantee(user, envelope)
    assert refused.value.rule == rule
    assert words in str(refused.value)
    assert deposit_rows() == before


def test_verification_at_the_opening_rechecks_the_issuer(setting, clock):
    t, _manager, org, user, issuer = setting
    sealed = submit(user, org, t.sections.get(), bid_package())
    guarantees.register_guarantee(user, signed(document(t, org, issuer)))
    at_deadline(clock, t, minutes=1)
    assert guarantees.verify_guarantee(sealed.bid).ok
    assert services.deposit_status(sealed.bid).status == "guaranteed"
    GuaranteeIssuer.objects.filter(pk=issuer.pk).update(active=False)  # the centre withdrew it
    check = guarantees.verify_guarantee(sealed.bid)
    assert not check.ok and [p.code for p in check.problems] == ["issuer"]
    status = services.deposit_status(sealed.bid)
    assert status.status == "missing" and not status.ok


def test_one_stop_issuance_through_the_test_issuer(setting, clock):
    t, _manager, org, user, issuer = setting
    app = guarantees.apply_for_guarantee(user, t.sections.get(), issuer)
    # 0.5% of the 200,000.00 yuan required = 1,000.00 yuan.
    assert app.amount == Decimal("200000.00") and app.fee == Decimal("1000.00")
    assert app.valid_until == dt.date(2026, 6, 25)
    # The application is a note signed by the platform's log key.
    verified = verify_note(app.request_note.encode(), [keys.log_signer().verifier()])
    assert verified.text.startswith(guarantees.APPLICATION_HEADER)
    before = deposit_rows()
    with pytest.raises(Conflict):
        guarantees.issue_guarantee(user, app)  # the fee first
    assert deposit_rows() == before
    guarantees.pay_guarantee_fee(user, app, payment_reference="PAY-001")
    app = guarantees.issue_guarantee(user, app)
    assert app.status == GuaranteeApplication.Status.ISSUED
    assert app.invoice_number.startswith("INV-TEST-") and app.invoice_amount == Decimal("1000.00")
    guarantee = Guarantee.objects.get(application=app)
    assert guarantees.verify_guarantee(t.sections.get(), org).ok
    assert guarantee.issuer == issuer


def test_no_application_for_another_bidders_application_or_a_waived_tender(setting, clock):
    t, _manager, _org, user, issuer = setting
    app = guarantees.apply_for_guarantee(user, t.sections.get(), issuer)
    _other_org, other = bidder(t, clock)
    before = deposit_rows()
    with pytest.raises(NotAllowed):
        guarantees.pay_guarantee_fee(other, app, payment_reference="X")
    assert deposit_rows() == before
    waived, _m = tender(
        deposit_form=Tender.DepositForm.WAIVED,
        sections=[{"name": "一标段", "estimated_price": "20000000", "deposit": "0"}],
    )
    _o, waived_user = bidder(waived, clock)
    with pytest.raises(Conflict) as refused:
        guarantees.apply_for_guarantee(waived_user, waived.sections.get(), issuer)
    assert refused.value.rule == "deposit_form"


def test_claims_by_the_tenderer_and_the_issuers_answer(setting, clock, staff):
    t, manager, org, user, issuer = setting
    guarantee = guarantees.register_guarantee(user, signed(document(t, org, issuer)))
    before = deposit_rows()
    with pytest.raises(Conflict):
        guarantees.claim_guarantee(manager, guarantee, amount="200000.00", reason="撤回投标")
    with pytest.raises(NotAllowed):
        guarantees.claim_guarantee(user, guarantee, amount="200000.00", reason="x")
    assert deposit_rows() == before
    at_deadline(clock, t, days=40)
    with pytest.raises(InvalidInput):
        guarantees.claim_guarantee(manager, guarantee, amount="200000.01", reason="x")
    claim = guarantees.claim_guarantee(
        manager, guarantee, amount="200000.00", reason="中标人无正当理由不与招标人订立合同"
    )
    guarantee.refresh_from_db()
    assert guarantee.status == "claimed"
    answered = guarantees.answer_claim(staff, claim, outcome="paid", answer="已于当日赔付")
    assert answered.outcome == "paid"
    with pytest.raises(Conflict):
        guarantees.answer_claim(staff, claim, outcome="refused", answer="x")


def test_an_sm2_issuer(clock, staff):
    """An issuer with an SM2 certificate (suite sm-2026) signs with SM2; one-stop issuance works."""
    t, _manager = tender()
    _org, user = bidder(t, clock)
    trust_test_ca()
    person = testissuer.issue_certificate(
        test_ca(),
        name="测试银行股份有限公司",
        credit_code=credit_code(),
        not_before=clock.now() - dt.timedelta(days=30),
        suite="sm-2026",
    )
    issuer = guarantees.register_issuer(
        staff,
        name="测试银行股份有限公司",
        kind="bank",
        certificate_pem=person.signing_certificate_pem,
        api_url=guarantees.BUILTIN_TEST,
    )
    assert issuer.suite == "sm-2026"
    app = guarantees.apply_for_guarantee(user, t.sections.get(), issuer)
    assert app.fee == Decimal("0.00")
    guarantees.pay_guarantee_fee(user, app, payment_reference="free")
    assert guarantees.issue_guarantee(user, app).status == "issued"
    assert guarantees.verify_guarantee(t.sections.get(), app.organisation).ok
