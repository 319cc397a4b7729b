"""The demo's completed tender: a deposit paid by each bidder and one e-guarantee from the test
issuer, and the findings recorded for the opening."""

from __future__ import annotations

from decimal import Decimal

import pytest

from openbid.demo import run_demo
from openbid.deposits.models import CreditLine, DepositFinding, Guarantee, SubAccount
from openbid.tendering.models import Tender
from tests.core.test_demo import COMPLETED_CODE

pytestmark = pytest.mark.django_db


def test_demo_bidders_put_up_their_deposits(clock):
    list(run_demo())
    tender = Tender.objects.get(project__code=COMPLETED_CODE)
    subs = SubAccount.objects.filter(section__tender=tender)
    assert subs.count() == 5
    # 300,000.00 yuan less the AA reduction of 50%.
    assert {s.amount_due for s in subs} == {Decimal("150000.00")}
    lines = CreditLine.objects.filter(sub_account__section__tender=tender)
    assert lines.count() == 4 and {line.match for line in lines} == {"accepted"}
    assert all(line.booked_at < tender.bid_deadline for line in lines)
    guarantee = Guarantee.objects.get(section__tender=tender)
    assert guarantee.application is not None and guarantee.application.invoice_number
    findings = DepositFinding.objects.filter(bid__section__tender=tender)
    assert sorted(f.status for f in findings) == ["guaranteed", "paid", "paid", "paid", "paid"]
